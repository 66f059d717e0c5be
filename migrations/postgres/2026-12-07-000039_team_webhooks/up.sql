-- A webhook endpoint belongs to a team, or to none (the admins'): a team's
-- endpoint receives only what its members may read of the team's events.
ALTER TABLE webhooks ADD COLUMN team_id TEXT REFERENCES teams (team_id);
CREATE INDEX webhooks_by_team ON webhooks (team_id);
-- A deleted endpoint is kept, marked, with its deliveries gone: its
-- events stay the team's in the log.
ALTER TABLE webhooks ADD COLUMN deleted_at TIMESTAMP;
-- The log's team filter finds a team's registration tokens by it.
CREATE INDEX initial_access_tokens_by_team ON initial_access_tokens (team_id);
