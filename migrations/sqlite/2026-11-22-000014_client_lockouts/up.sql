-- Consecutive failed authentications of each client, and its lockouts: after
-- too many failures the client is locked until locked_until, for a cooldown
-- that doubles with each lockout.
CREATE TABLE client_lockouts (
    client_id    TEXT PRIMARY KEY REFERENCES clients (client_id) ON DELETE CASCADE,
    failures     BIGINT NOT NULL,
    lockouts     BIGINT NOT NULL,
    locked_until TIMESTAMP
);
INSERT INTO client_lockouts (client_id, failures, lockouts) SELECT client_id, 0, 0 FROM clients;
