ALTER TABLE webhooks DROP COLUMN failing_since;
