-- Pushed authorization requests (RFC 9126): the request as validated at the
-- pushed authorization request endpoint, under the SHA-256 of its
-- request_uri, until /authorize takes it (once: a consuming delete) or it
-- expires. request is the JSON of the validated request.
CREATE TABLE pushed_requests (
    request_hash BYTEA PRIMARY KEY,
    client_id    TEXT NOT NULL,
    request      TEXT NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX pushed_requests_by_expiry ON pushed_requests (expires_at);
