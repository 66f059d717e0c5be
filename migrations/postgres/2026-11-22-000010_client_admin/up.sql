-- A deleted client keeps its history (versions, for the audit trail) but is
-- gone for every other purpose.
ALTER TABLE clients ADD COLUMN deleted_at TIMESTAMP;

-- Facts about this installation, by name (the bootstrap admin client).
CREATE TABLE server_settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
