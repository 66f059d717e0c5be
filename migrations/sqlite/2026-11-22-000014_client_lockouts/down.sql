DROP TABLE client_lockouts;
