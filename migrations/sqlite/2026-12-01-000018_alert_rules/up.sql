-- Alert rules: a kind and its parameters (config, JSON), checked by every
-- instance; alert_states holds each rule's firing subjects, changed by
-- compare-and-swap so that one instance announces each change.
CREATE TABLE alert_rules (
    rule_id     TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    config      TEXT NOT NULL,
    enabled     BOOLEAN NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE alert_states (
    rule_id       TEXT NOT NULL REFERENCES alert_rules (rule_id) ON DELETE CASCADE,
    subject       TEXT NOT NULL,
    firing        BOOLEAN NOT NULL,
    since         TIMESTAMP NOT NULL,
    last_fired_at TIMESTAMP NOT NULL,
    PRIMARY KEY (rule_id, subject)
);
