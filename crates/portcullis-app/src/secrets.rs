//! Random secrets and how they are checked: 256 bits from the operating
//! system's CSPRNG, stored only as SHA-256 (a 256-bit random value needs no
//! slow hash), compared in constant time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A new 256-bit random value, base64url (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The SHA-256 of a secret, as stored.
pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Whether `secret` hashes to one of `hashes`. Every hash is compared, each
/// in constant time, so the time taken says nothing about which matched.
pub fn matches_any<'a>(secret: &str, hashes: impl IntoIterator<Item = &'a [u8]>) -> bool {
    let presented = hash(secret);
    hashes.into_iter().fold(subtle::Choice::from(0), |found, stored| found | presented.ct_eq(stored)).into()
}

/// A short keyed digest of an identifier that names nothing known, for logs
/// and the audit log: what a caller typed as a client id or a username may
/// be a secret typed in the wrong field, so it is never recorded verbatim.
/// The same text gives the same digest within this process, so repeats can
/// be told apart; the key is random per process, so the digest cannot be
/// reversed by hashing guesses. With a key-encryption key, the application
/// keys it from that instead ([`Sealing::identifier_digest`]), the same on
/// every instance.
///
/// [`Sealing::identifier_digest`]: crate::audit::Sealing::identifier_digest
pub fn identifier_digest(presented: &str) -> String {
    static KEY: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    let key = KEY.get_or_init(|| {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        key
    });
    keyed_digest(key, presented)
}

/// The digest of `presented` under `key`: `#` and 12 hex digits.
pub(crate) fn keyed_digest(key: &[u8; 32], presented: &str) -> String {
    let digest = Sha256::new().chain_update(key).chain_update(presented.as_bytes()).finalize();
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("#{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_and_distinct() {
        let token = random_token();
        assert_eq!(URL_SAFE_NO_PAD.decode(&token).unwrap().len(), 32);
        assert_ne!(token, random_token());
    }

    #[test]
    fn identifier_digests_are_stable_short_and_opaque() {
        let digest = identifier_digest("hunter2hunter2");
        assert_eq!(digest, identifier_digest("hunter2hunter2"));
        assert_ne!(digest, identifier_digest("hunter2hunter3"));
        assert_eq!(digest.len(), 13);
        assert!(!digest.contains("hunter"));
    }

    #[test]
    fn matches_only_a_stored_hash() {
        let (a, b) = (hash("first"), hash("second"));
        assert!(matches_any("second", [a.as_slice(), b.as_slice()]));
        assert!(!matches_any("third", [a.as_slice(), b.as_slice()]));
        assert!(!matches_any("first", []));
        assert!(!matches_any("first", [&a[..31]]), "a truncated hash never matches");
    }
}
