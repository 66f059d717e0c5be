-- DPoP proofs seen (RFC 9449 §11.1), under the SHA-256 of their key's
-- thumbprint and jti, until they could no longer be accepted: a replayed
-- proof is refused by every instance.
CREATE TABLE dpop_proofs (
    proof_hash BLOB  PRIMARY KEY,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX dpop_proofs_by_expiry ON dpop_proofs (expires_at);
