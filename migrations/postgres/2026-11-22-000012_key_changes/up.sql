-- A fourth kind of change: the signing keys changed (a key added, activated,
-- retired or revoked), so every instance reloads its key ring.
ALTER TABLE change_log DROP CONSTRAINT change_log_kind_check;
ALTER TABLE change_log ADD CONSTRAINT change_log_kind_check CHECK (kind IN ('client', 'token', 'grant', 'key'));
