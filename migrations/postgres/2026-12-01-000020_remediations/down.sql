DROP TABLE remediations;
ALTER TABLE clients DROP COLUMN tokens_revoked_before;
