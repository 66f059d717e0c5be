-- Rate-limit counts each instance shares, per key and one-minute window:
-- every instance writes only its own rows, and adds up the others'. The key
-- (a limit and a client id or address) is stored only as its SHA-256.
CREATE TABLE rate_counts (
    key_hash    BYTEA NOT NULL,
    window_start TIMESTAMP NOT NULL,
    instance_id TEXT NOT NULL,
    count       BIGINT NOT NULL,
    PRIMARY KEY (key_hash, window_start, instance_id)
);
CREATE INDEX rate_counts_by_window ON rate_counts (window_start);
