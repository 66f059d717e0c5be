DROP INDEX interactions_by_pushed_hash;
ALTER TABLE interactions DROP COLUMN pushed_until;
ALTER TABLE interactions DROP COLUMN pushed_hash;
