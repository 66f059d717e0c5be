DROP TABLE token_sightings;
DROP TABLE client_networks;
DROP TABLE network_sightings;
DROP TABLE client_baselines;
