DROP TABLE scope_requests;
DROP INDEX clients_by_team;
ALTER TABLE clients DROP COLUMN disabled_by_team;
-- SQLite drops no column a foreign key names: clients.team_id and
-- initial_access_tokens.team_id stay, unused.
