-- A fourth kind of change: the signing keys changed (a key added, activated,
-- retired or revoked), so every instance reloads its key ring. SQLite cannot
-- alter a CHECK constraint, so the table is rebuilt with its rows and positions.
CREATE TABLE change_log_new (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('client', 'token', 'grant', 'key')),
    subject    TEXT NOT NULL,
    expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO change_log_new (seq, kind, subject, expires_at, created_at)
    SELECT seq, kind, subject, expires_at, created_at FROM change_log;
DROP TABLE change_log;
ALTER TABLE change_log_new RENAME TO change_log;
CREATE INDEX change_log_by_kind_and_expiry ON change_log (kind, expires_at);
