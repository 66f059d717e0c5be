-- Recent failed authentications, shared by every instance so that a limit
-- holds across all of them. The subject ("account:…", "address:…") is stored
-- only as SHA-256: a mistyped username may be a password.
CREATE TABLE auth_failures (
    id           TEXT PRIMARY KEY,
    subject_hash BYTEA NOT NULL,
    failed_at    TIMESTAMP NOT NULL
);
CREATE INDEX auth_failures_by_subject ON auth_failures (subject_hash, failed_at);
CREATE INDEX auth_failures_by_time ON auth_failures (failed_at);
