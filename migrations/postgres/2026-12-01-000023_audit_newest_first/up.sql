-- The audit log is read newest first, filtered by action, actor, target or
-- outcome: each filter walks its index by position from the newest entry
-- and stops at a page, instead of sorting every match. Time ranges become
-- positions first (see portcullis_store::audit), so reads of one action
-- since a time (the alert rules') use the action's index too.
DROP INDEX audit_log_by_action;
CREATE INDEX audit_log_by_action ON audit_log (action, seq);
CREATE INDEX audit_log_by_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_by_target ON audit_log (target, seq);
CREATE INDEX audit_log_by_outcome ON audit_log (outcome, seq);
