DROP TABLE console_sessions;
ALTER TABLE sessions DROP COLUMN second_factor_at;
