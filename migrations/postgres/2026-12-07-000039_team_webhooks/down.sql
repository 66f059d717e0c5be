-- A team's endpoint would become the admins' and receive the whole log:
-- it goes, with its deliveries, and so do the deleted ones.
DELETE FROM webhook_deliveries WHERE webhook_id IN (SELECT webhook_id FROM webhooks WHERE team_id IS NOT NULL OR deleted_at IS NOT NULL);
DELETE FROM webhooks WHERE team_id IS NOT NULL OR deleted_at IS NOT NULL;
DROP INDEX initial_access_tokens_by_team;
DROP INDEX webhooks_by_team;
ALTER TABLE webhooks DROP COLUMN deleted_at;
ALTER TABLE webhooks DROP COLUMN team_id;
