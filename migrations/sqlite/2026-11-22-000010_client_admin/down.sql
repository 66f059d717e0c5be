DROP TABLE server_settings;
ALTER TABLE clients DROP COLUMN deleted_at;
