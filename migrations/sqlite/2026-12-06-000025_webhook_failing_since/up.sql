-- When the endpoint's deliveries started failing without one succeeding
-- since (NULL while the last attempt succeeded): an endpoint failing every
-- delivery for long enough is disabled.
ALTER TABLE webhooks ADD COLUMN failing_since TIMESTAMP;
