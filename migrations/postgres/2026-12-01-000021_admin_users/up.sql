-- Admins are people (issue 12): a user holds admin roles, each one admin
-- permission (its scope, e.g. `admin:clients`), and signs in to the console
-- with a TOTP code (RFC 6238). The TOTP secret is sealed under the
-- key-encryption key; last_step is the latest time step accepted, so that
-- each code is accepted once (RFC 6238 §5.2). Recovery codes are kept as
-- SHA-256 hashes and used once.
CREATE TABLE user_admin_roles (
    user_id    TEXT NOT NULL REFERENCES users (user_id),
    permission TEXT NOT NULL,
    granted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, permission)
);

CREATE TABLE user_totp (
    user_id      TEXT PRIMARY KEY REFERENCES users (user_id),
    secret       TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    last_step    BIGINT NOT NULL
);

CREATE TABLE user_recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (user_id),
    code_hash TEXT NOT NULL,
    used_at   TIMESTAMP,
    PRIMARY KEY (user_id, code_hash)
);
