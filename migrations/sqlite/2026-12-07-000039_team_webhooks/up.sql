-- A webhook endpoint belongs to a team, or to none (the admins'): a team's
-- endpoint receives only what its members may read of the team's events.
ALTER TABLE webhooks ADD COLUMN team_id TEXT REFERENCES teams (team_id);
CREATE INDEX webhooks_by_team ON webhooks (team_id);
