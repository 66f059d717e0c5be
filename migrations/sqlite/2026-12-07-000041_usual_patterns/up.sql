-- What is usual for each client (issue 25): per signal, a decaying mean and
-- spread of its hourly value per hour of the week and of the day (the JSON
-- of portcullis_core::baseline::Baseline), learnt through `learnt_through`
-- (the start of the last hour learnt), which each learning compares and swaps.
CREATE TABLE client_baselines (
    client_id TEXT NOT NULL,
    signal TEXT NOT NULL,
    learnt_through TIMESTAMP NOT NULL,
    model TEXT NOT NULL,
    PRIMARY KEY (client_id, signal)
);

-- The networks (IPv4 /24, IPv6 /48) each client authenticated from, per
-- minute, as each instance saw them (so a network may appear once per
-- instance): kept a few hours, for the distinct-networks signal and for
-- first sightings. `judged` moves from 0 to 1 once an instance has compared
-- the row with the client's known networks.
CREATE TABLE network_sightings (
    sighting_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    minute TIMESTAMP NOT NULL,
    network TEXT NOT NULL,
    judged BIGINT NOT NULL
);
CREATE INDEX network_sightings_by_minute ON network_sightings (minute, client_id);
CREATE INDEX network_sightings_unjudged ON network_sightings (judged, minute);

-- Every network a client authenticated from within the retained history,
-- with its country (with a country database) and when it was first and
-- last seen: a network (or country) not here is new. A first sighting that
-- was announced keeps what it was announced as (`network` or `country`) and
-- when, for the rules that count them.
CREATE TABLE client_networks (
    client_id TEXT NOT NULL,
    network TEXT NOT NULL,
    country TEXT,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    announced TEXT,
    announced_at TIMESTAMP,
    PRIMARY KEY (client_id, network)
);
CREATE INDEX client_networks_announced ON client_networks (announced_at);

-- Where each refresh-token family and access token was used (with a City
-- database): the place, not the address. `judged` moves from 0 to 1 once an
-- instance has compared it with the use before it, to 2 when that use was
-- announced as impossible travel (once per token); `judged_at` is when.
CREATE TABLE token_sightings (
    sighting_id TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    token_kind TEXT NOT NULL,
    client_id TEXT NOT NULL,
    seen_at TIMESTAMP NOT NULL,
    country TEXT NOT NULL,
    latitude_e6 BIGINT NOT NULL,
    longitude_e6 BIGINT NOT NULL,
    radius_km BIGINT NOT NULL,
    judged BIGINT NOT NULL,
    judged_at TIMESTAMP
);
CREATE INDEX token_sightings_by_token ON token_sightings (token, seen_at);
CREATE INDEX token_sightings_unjudged ON token_sightings (judged, seen_at);
