//! The audit log's hash chain. Each entry carries the SHA-256 of the entry
//! before it and its own hash over that and every field, so an entry that
//! is edited, removed or moved breaks the chain where it was.

use sha2::{Digest, Sha256};

/// The `prev_hash` of the very first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// The fields of an entry that its hash covers, as stored.
#[derive(Clone, Copy, Debug)]
pub struct ChainedFields<'a> {
    /// Its position in the log: one more than the entry before.
    pub seq: i64,
    /// When, RFC 3339 with microseconds, UTC.
    pub at: &'a str,
    /// Who: a client id, a username, or `system`.
    pub actor: &'a str,
    /// What, e.g. `PATCH /admin/v1/clients/{client_id}` or `client.authentication`.
    pub action: &'a str,
    /// On what: a client id, a kid, a user.
    pub target: &'a str,
    /// From where: the caller's address, or empty.
    pub source: &'a str,
    /// `success`, `failure` or `refused`.
    pub outcome: &'a str,
    /// Anything else, as JSON; never a secret.
    pub details: &'a str,
}

/// The hash of an entry with `fields` following the entry whose hash is
/// `prev`: SHA-256 over `prev`, the position and each field length-prefixed,
/// so no two different entries encode alike.
pub fn entry_hash(prev: &[u8], fields: &ChainedFields<'_>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(fields.seq.to_be_bytes());
    for field in
        [fields.at, fields.actor, fields.action, fields.target, fields.source, fields.outcome, fields.details]
    {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(actor: &'a str, action: &'a str) -> ChainedFields<'a> {
        ChainedFields {
            seq: 1,
            at: "2026-11-22T10:00:00.000000Z",
            actor,
            action,
            target: "t",
            source: "",
            outcome: "success",
            details: "{}",
        }
    }

    #[test]
    fn every_field_and_the_previous_hash_change_the_hash() {
        let base = entry_hash(&GENESIS, &fields("admin", "x"));
        assert_ne!(base, entry_hash(&GENESIS, &fields("admin2", "x")));
        assert_ne!(base, entry_hash(&[1; 32], &fields("admin", "x")));
        // Moving a character from one field to the next is not the same entry.
        assert_ne!(entry_hash(&GENESIS, &fields("ab", "c")), entry_hash(&GENESIS, &fields("a", "bc")));
        assert_eq!(base, entry_hash(&GENESIS, &fields("admin", "x")), "deterministic");
    }
}
