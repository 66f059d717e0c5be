DROP INDEX webhooks_by_team;
-- SQLite drops no column a foreign key names: webhooks.team_id stays, unused.
