CREATE TABLE signing_keys_new (
    kid                TEXT PRIMARY KEY,
    alg                TEXT NOT NULL CHECK (alg IN ('RS256', 'ES256')),
    state              TEXT NOT NULL CHECK (state IN ('next', 'active', 'retired', 'revoked')),
    public_jwk         TEXT NOT NULL,
    private_key_sealed BLOB  NOT NULL,
    kek_id             TEXT NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    activated_at       TIMESTAMP,
    retired_at         TIMESTAMP,
    revoked_at         TIMESTAMP
);
INSERT INTO signing_keys_new SELECT * FROM signing_keys WHERE alg IN ('RS256', 'ES256');
DROP TABLE signing_keys;
ALTER TABLE signing_keys_new RENAME TO signing_keys;
CREATE UNIQUE INDEX signing_keys_one_active_per_alg ON signing_keys (alg) WHERE state = 'active';
