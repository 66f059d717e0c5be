-- The jti of every private_key_jwt client assertion until it expires, so that
-- a replayed assertion is refused by every instance (RFC 7523 §3, item 7).
CREATE TABLE client_assertion_jtis (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (client_id, jti)
);
