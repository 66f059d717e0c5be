-- Alert rules read the latest entries of one action (the failure summaries)
-- every 30 seconds on every instance.
CREATE INDEX audit_log_by_action ON audit_log (action, at);
