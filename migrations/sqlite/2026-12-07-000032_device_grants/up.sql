-- Device authorization grants (RFC 8628): under the SHA-256 of the device
-- code, with the user code the user types (unique while stored), until the
-- client redeems the approved grant once or it expires. details is the JSON
-- of what the user approved (user, scope, authentication), once approved.
CREATE TABLE device_grants (
    device_code_hash BLOB PRIMARY KEY,
    user_code        TEXT NOT NULL UNIQUE,
    grant_id         TEXT NOT NULL,
    client_id        TEXT NOT NULL,
    scope            TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'redeemed')),
    details          TEXT,
    interval_seconds INTEGER NOT NULL,
    polled_at        TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    expires_at       TIMESTAMP NOT NULL
);
CREATE INDEX device_grants_by_expiry ON device_grants (expires_at);
