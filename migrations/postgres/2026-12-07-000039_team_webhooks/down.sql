DROP INDEX webhooks_by_team;
ALTER TABLE webhooks DROP COLUMN team_id;
