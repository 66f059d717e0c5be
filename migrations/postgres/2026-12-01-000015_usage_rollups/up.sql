-- Usage per client and minute, as each instance counted it: every instance
-- writes its own rows in batches, so readers add them up. The latency is a
-- histogram (a JSON array of counts per bucket), which adds up too.
CREATE TABLE usage_rollups (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL,
    minute        TIMESTAMP NOT NULL,
    requests      BIGINT NOT NULL,
    auth_errors   BIGINT NOT NULL,
    other_errors  BIGINT NOT NULL,
    server_errors BIGINT NOT NULL,
    tokens_issued BIGINT NOT NULL,
    latency       TEXT NOT NULL
);
CREATE INDEX usage_rollups_by_client ON usage_rollups (client_id, minute);
CREATE INDEX usage_rollups_by_minute ON usage_rollups (minute);
