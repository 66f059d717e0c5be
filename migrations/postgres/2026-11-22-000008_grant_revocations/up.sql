-- A third kind of change: a revoked grant (every token issued from one
-- authorization code), recorded when a code is replayed or a refresh-token
-- family is revoked.
ALTER TABLE change_log DROP CONSTRAINT change_log_kind_check;
ALTER TABLE change_log ADD CONSTRAINT change_log_kind_check CHECK (kind IN ('client', 'token', 'grant'));
