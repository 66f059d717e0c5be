-- An interaction started from a pushed request (RFC 9126) keeps the hash of
-- its client and request_uri, and when the request_uri expires: reloading
-- /authorize before then, and before the authorization completes, takes the
-- request back from it (one consuming delete, as from pushed_requests),
-- FAPI 2.0 §5.3.2.2 note 3.
ALTER TABLE interactions ADD COLUMN pushed_hash BLOB;
ALTER TABLE interactions ADD COLUMN pushed_until TIMESTAMP;
CREATE INDEX interactions_by_pushed_hash ON interactions (pushed_hash);
