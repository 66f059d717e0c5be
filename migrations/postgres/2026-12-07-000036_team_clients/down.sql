ALTER TABLE initial_access_tokens DROP COLUMN team_id;
DROP TABLE scope_requests;
DROP INDEX clients_by_team;
ALTER TABLE clients DROP COLUMN disabled_by_team;
ALTER TABLE clients DROP COLUMN team_id;
