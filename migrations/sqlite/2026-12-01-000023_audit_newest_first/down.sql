DROP INDEX audit_log_by_outcome;
DROP INDEX audit_log_by_target;
DROP INDEX audit_log_by_actor;
DROP INDEX audit_log_by_action;
CREATE INDEX audit_log_by_action ON audit_log (action, at);
