-- Signing keys. The private key is sealed (AES-256-GCM) under the key-encryption
-- key named by kek_id; the plaintext never reaches the database.
CREATE TABLE signing_keys (
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

-- One signing key per algorithm: two instances starting at once cannot both
-- install one.
CREATE UNIQUE INDEX signing_keys_one_active_per_alg ON signing_keys (alg) WHERE state = 'active';
