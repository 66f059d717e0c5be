//! Pairwise subject identifiers (OpenID Connect Core §8.1): the `sub` a
//! user has at the clients of one sector, different for every sector, so
//! that clients of different sectors cannot tell they share a user.
//!
//! A subject is the user's id encrypted deterministically, bound to the
//! sector: the synthetic-IV construction (Rogaway and Shrimpton's SIV) over
//! AES-256-GCM. The nonce is an HMAC-SHA256 of the sector and the user id,
//! so one user has one subject per sector; AES-GCM encrypts the id with the
//! sector as associated data, so the server maps a subject back to its user
//! (at UserInfo, introspection, an `id_token_hint`) with no table to keep,
//! and a subject of one sector opens under no other. Both keys are derived
//! from the key-encryption key, which an installation never changes, so
//! subjects are stable across restarts and instances.

use crate::KeyEncryptionKey;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use zeroize::Zeroizing;

const NONCE_LEN: usize = 12;

/// Makes and reads the pairwise subjects of an installation.
pub struct PairwiseSubjects {
    nonces: Zeroizing<[u8; 32]>,
    cipher: Aes256Gcm,
}

impl PairwiseSubjects {
    /// The subjects of the installation whose key-encryption key is `kek`.
    pub fn new(kek: &KeyEncryptionKey) -> Self {
        let key = kek.derive("pairwise subjects");
        Self {
            nonces: kek.derive("pairwise subject nonces"),
            cipher: Aes256Gcm::new_from_slice(key.as_ref()).expect("the key is 32 bytes"),
        }
    }

    fn nonce(&self, sector: &str, user_id: &str) -> [u8; NONCE_LEN] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(self.nonces.as_ref()).expect("HMAC takes any key length");
        mac.update(sector.as_bytes());
        mac.update(b"\0");
        mac.update(user_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        digest[..NONCE_LEN].try_into().expect("a SHA-256 digest is longer")
    }

    /// The subject of `user_id` at the clients of `sector` (base64url).
    pub fn subject(&self, sector: &str, user_id: &str) -> String {
        let nonce = self.nonce(sector, user_id);
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: user_id.as_bytes(), aad: sector.as_bytes() })
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut subject = nonce.to_vec();
        subject.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(subject)
    }

    /// The user whose subject at `sector` is `subject`; `None` for anything
    /// else (another sector's subject, a forged or altered one).
    pub fn user_id(&self, sector: &str, subject: &str) -> Option<String> {
        let decoded = URL_SAFE_NO_PAD.decode(subject).ok()?;
        let (nonce, sealed) = decoded.split_first_chunk::<NONCE_LEN>()?;
        let opened = self
            .cipher
            .decrypt(&Nonce::from(*nonce), Payload { msg: sealed, aad: sector.as_bytes() })
            .ok()?;
        let user_id = String::from_utf8(opened).ok()?;
        // Only the subject this server makes for the user: one per sector.
        (self.nonce(sector, &user_id) == *nonce).then_some(user_id)
    }
}

impl fmt::Debug for PairwiseSubjects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PairwiseSubjects { keys: [redacted] }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_subject_per_user_and_sector_that_maps_back_only_there() {
        let kek = KeyEncryptionKey::generate();
        let subjects = PairwiseSubjects::new(&kek);
        let user = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
        let at_shop = subjects.subject("shop.example", user);
        assert_eq!(at_shop, subjects.subject("shop.example", user), "stable");
        assert_eq!(at_shop, PairwiseSubjects::new(&kek).subject("shop.example", user), "on every instance");
        assert_ne!(at_shop, subjects.subject("news.example", user), "another sector, another subject");
        assert_ne!(at_shop, subjects.subject("shop.example", "another-user"));
        assert!(
            !at_shop.contains(user) && at_shop.len() <= 255,
            "OpenID Connect Core §2: at most 255 characters"
        );
        assert_eq!(subjects.user_id("shop.example", &at_shop).as_deref(), Some(user));
        assert_eq!(subjects.user_id("news.example", &at_shop), None, "bound to its sector");
        assert_eq!(
            PairwiseSubjects::new(&KeyEncryptionKey::generate()).user_id("shop.example", &at_shop),
            None
        );
        let mut altered = at_shop.clone().into_bytes();
        altered[20] = if altered[20] == b'A' { b'B' } else { b'A' };
        assert_eq!(subjects.user_id("shop.example", std::str::from_utf8(&altered).unwrap()), None);
        for junk in ["", "a", "not base64!", &"A".repeat(40)] {
            assert_eq!(subjects.user_id("shop.example", junk), None, "{junk}");
        }
        assert_eq!(format!("{subjects:?}"), "PairwiseSubjects { keys: [redacted] }");
    }
}
