-- Automated remediation (issue 11): what alert rules did to clients, each
-- undoable by an admin; and a per-client cutoff before which every token
-- the client holds is revoked (set by a rule's `revoke_tokens`, cleared on undo).
ALTER TABLE clients ADD COLUMN tokens_revoked_before TIMESTAMP;

CREATE TABLE remediations (
    remediation_id TEXT PRIMARY KEY,
    rule_id        TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    action         TEXT NOT NULL,
    reason         TEXT NOT NULL,
    applied_at     TIMESTAMP NOT NULL,
    locked_until   TIMESTAMP,
    undone_at      TIMESTAMP,
    undone_by      TEXT
);

CREATE INDEX remediations_by_time ON remediations (applied_at);
