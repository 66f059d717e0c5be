-- Browser sessions at this server. The cookie value is stored only as SHA-256;
-- session_id is the public `sid` of ID tokens.
CREATE TABLE sessions (
    session_hash BYTEA PRIMARY KEY,
    session_id   TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL,
    auth_time    TIMESTAMP NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    ended_at     TIMESTAMP
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- An authorization request waiting for login or consent. Its id (in the login
-- and consent URLs) and its CSRF token are stored only as SHA-256.
CREATE TABLE interactions (
    interaction_hash BYTEA PRIMARY KEY,
    request          TEXT NOT NULL,
    csrf_hash        BYTEA NOT NULL,
    session_id       TEXT,
    created_at       TIMESTAMP NOT NULL,
    expires_at       TIMESTAMP NOT NULL
);
CREATE INDEX interactions_by_expiry ON interactions (expires_at);

-- Consent a user gave a client, for a set of scopes.
CREATE TABLE consents (
    user_id    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scope      TEXT NOT NULL,
    granted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
