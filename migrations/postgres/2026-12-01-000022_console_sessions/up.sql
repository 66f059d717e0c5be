-- The console (issue 12). A login session records when its user gave a
-- second factor (the console asks for one). A console session is the
-- console's own sign-in, by a user with admin roles after a second factor:
-- it ends after its idle or absolute timeout, or at sign-out. Its cookie
-- and CSRF token are stored only as SHA-256 hashes.
ALTER TABLE sessions ADD COLUMN second_factor_at TIMESTAMP;

CREATE TABLE console_sessions (
    session_hash BYTEA PRIMARY KEY,
    session_id   TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (user_id),
    csrf_hash    BYTEA NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    ended_at     TIMESTAMP
);
