ALTER TABLE console_sessions DROP COLUMN second_factor;
ALTER TABLE console_sessions DROP COLUMN kind;
