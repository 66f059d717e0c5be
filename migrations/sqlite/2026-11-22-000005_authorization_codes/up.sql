-- Authorization codes, stored only as SHA-256. A code is consumed at most once
-- (consumed_at); a replay is recognised and names its grant, so that every
-- token issued from the code can be revoked (RFC 6749 §4.1.2). details is the
-- JSON the token endpoint needs (user, scope, nonce, PKCE challenge, ...).
CREATE TABLE authorization_codes (
    code_hash   BLOB  PRIMARY KEY,
    grant_id    TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    details     TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    consumed_at TIMESTAMP
);
CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires_at);
