-- Clients: an id plus an append-only list of immutable configuration versions.
CREATE TABLE clients (
    client_id       TEXT PRIMARY KEY,
    current_version BIGINT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    disabled_at     TIMESTAMP
);

-- metadata is the version's RFC 7591 configuration as JSON.
CREATE TABLE client_versions (
    client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    version    BIGINT NOT NULL,
    metadata   TEXT NOT NULL,
    author     TEXT NOT NULL,
    summary    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (client_id, version)
);

-- Client secrets, stored only as SHA-256; several may be valid at once.
CREATE TABLE client_secrets (
    secret_id   TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    secret_hash BLOB  NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP,
    revoked_at  TIMESTAMP
);
CREATE INDEX client_secrets_by_client ON client_secrets (client_id);

-- Every change that each instance mirrors in memory (client changes, token
-- revocations), in order, so that all instances apply it within a second.
-- Revoked tokens stay here until they expire: this is also the deny-list.
CREATE TABLE change_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('client', 'token')),
    subject    TEXT NOT NULL,
    expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX change_log_by_kind_and_expiry ON change_log (kind, expires_at);
