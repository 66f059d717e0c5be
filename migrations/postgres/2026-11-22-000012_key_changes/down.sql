DELETE FROM change_log WHERE kind = 'key';
ALTER TABLE change_log DROP CONSTRAINT change_log_kind_check;
ALTER TABLE change_log ADD CONSTRAINT change_log_kind_check CHECK (kind IN ('client', 'token', 'grant'));
