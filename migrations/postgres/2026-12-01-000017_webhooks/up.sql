-- Endpoints that receive events, signed with a secret sealed under the
-- key-encryption key (Standard Webhooks). events: a JSON array of event
-- names and prefixes ("client.*"); empty: every event. since_seq: the audit
-- position when it was registered; it receives only what came after.
CREATE TABLE webhooks (
    webhook_id    TEXT PRIMARY KEY,
    url           TEXT NOT NULL,
    description   TEXT NOT NULL,
    events        TEXT NOT NULL,
    secret_sealed BYTEA NOT NULL,
    kek_id        TEXT NOT NULL,
    enabled       BOOLEAN NOT NULL,
    since_seq     BIGINT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);

-- The durable outbox: one row per event and endpoint, retried until
-- delivered or out of attempts. next_attempt_at is NULL once done.
CREATE TABLE webhook_deliveries (
    delivery_id     TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (webhook_id) ON DELETE CASCADE,
    event           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at TIMESTAMP,
    last_attempt_at TIMESTAMP,
    last_status     BIGINT,
    last_error      TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, created_at);

-- How far through the audit log events have been handed to the outbox.
CREATE TABLE webhook_cursor (
    name TEXT PRIMARY KEY,
    seq  BIGINT NOT NULL
);
INSERT INTO webhook_cursor (name, seq) SELECT 'audit', seq FROM audit_head;
