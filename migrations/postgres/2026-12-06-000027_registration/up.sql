-- Initial access tokens (RFC 7591 §3): an admin issues one for a party to
-- register clients with. Stored only as SHA-256; policy is the JSON
-- registration policy the clients it admits must follow; uses counts the
-- registrations it admitted, at most max_uses (none: unlimited).
CREATE TABLE initial_access_tokens (
    token_id    TEXT PRIMARY KEY,
    token_hash  BYTEA NOT NULL UNIQUE,
    description TEXT NOT NULL,
    policy      TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP,
    max_uses    BIGINT,
    uses        BIGINT NOT NULL DEFAULT 0,
    revoked_at  TIMESTAMP
);

-- Clients that registered themselves (RFC 7592): what admitted them, the
-- policy their updates follow, and the SHA-256 of their registration access
-- token, replaced on each update. A row goes with its client's deletion.
CREATE TABLE client_registrations (
    client_id       TEXT PRIMARY KEY REFERENCES clients (client_id) ON DELETE CASCADE,
    token_hash      BYTEA NOT NULL UNIQUE,
    admitted_by     TEXT NOT NULL,
    policy          TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    token_issued_at TIMESTAMP NOT NULL
);
