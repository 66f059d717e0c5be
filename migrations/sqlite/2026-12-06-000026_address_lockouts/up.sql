-- Addresses (an IPv4 address, an IPv6 /64) locked out of a client after
-- repeated failed authentications, shared by every instance: their failures
-- are counted in auth_failures, and each instance mirrors the lockouts in
-- force with its client. lockouts: how many times, so the next one doubles.
CREATE TABLE address_lockouts (
    client_id    TEXT NOT NULL,
    address      TEXT NOT NULL,
    lockouts     BIGINT NOT NULL,
    locked_until TIMESTAMP NOT NULL,
    PRIMARY KEY (client_id, address)
);
CREATE INDEX address_lockouts_by_end ON address_lockouts (locked_until);
