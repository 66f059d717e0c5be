//! The key-encryption key that seals private signing keys at rest.

use crate::JoseError;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::Zeroizing;

const NONCE_LEN: usize = 12;
/// First byte of every sealed value, so the format can evolve.
const FORMAT_V1: u8 = 1;

/// A 256-bit AES-GCM key that encrypts private signing keys in storage.
///
/// It has no `Clone` and its `Debug` is redacted, so it cannot be copied or
/// logged by accident; its bytes are wiped when it is dropped.
pub struct KeyEncryptionKey {
    key: Zeroizing<[u8; 32]>,
    id: String,
}

impl KeyEncryptionKey {
    /// A fresh random key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(key.as_mut());
        Self::from_bytes(key)
    }

    /// Reads a key from base64 (standard or URL-safe, padded or not), ignoring
    /// surrounding white space.
    pub fn from_base64(encoded: &str) -> Result<Self, JoseError> {
        let encoded = encoded.trim();
        let decoded = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(encoded.trim_end_matches('='))
                .or_else(|_| STANDARD.decode(encoded))
                .map_err(|_| JoseError::KekFormat)?,
        );
        let key: [u8; 32] = decoded.as_slice().try_into().map_err(|_| JoseError::KekFormat)?;
        Ok(Self::from_bytes(Zeroizing::new(key)))
    }

    fn from_bytes(key: Zeroizing<[u8; 32]>) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"portcullis key-encryption key id v1\0");
        hasher.update(key.as_ref());
        let id = hasher.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect();
        Self { key, id }
    }

    /// A key for `purpose` derived from this one: HMAC-SHA256 keyed with it
    /// over the purpose (one block of HKDF-Expand, RFC 5869 §2.3). Every
    /// instance holding this key derives the same; nothing derived tells
    /// this key or another purpose's.
    pub fn derive(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_ref()).expect("HMAC takes any key length");
        mac.update(b"portcullis derived key v1\0");
        mac.update(purpose.as_bytes());
        Zeroizing::new(mac.finalize().into_bytes().into())
    }

    /// The key as URL-safe base64, for writing the development key file.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(URL_SAFE_NO_PAD.encode(self.key.as_ref()))
    }

    /// A public fingerprint of the key, stored beside everything it seals so a
    /// wrong key is recognised before any decryption is tried.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Encrypts `plaintext`, binding it to `context` (authenticated, not
    /// encrypted): the result only opens with the same key and context.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher()
            .encrypt(&Nonce::from(nonce), Payload { msg: plaintext, aad: context })
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(FORMAT_V1);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// Decrypts what [`seal`](Self::seal) produced with the same context.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Zeroizing<Vec<u8>>, JoseError> {
        let [FORMAT_V1, rest @ ..] = sealed else { return Err(JoseError::Unseal) };
        let (nonce, ciphertext) = rest.split_first_chunk::<NONCE_LEN>().ok_or(JoseError::Unseal)?;
        self.cipher()
            .decrypt(&Nonce::from(*nonce), Payload { msg: ciphertext, aad: context })
            .map(Zeroizing::new)
            .map_err(|_| JoseError::Unseal)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new_from_slice(self.key.as_ref()).expect("the key is 32 bytes")
    }
}

impl fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyEncryptionKey {{ id: {}, key: [redacted] }}", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_are_the_same_for_one_key_and_purpose_only() {
        let kek = KeyEncryptionKey::generate();
        let again = KeyEncryptionKey::from_base64(&kek.to_base64()).unwrap();
        assert_eq!(*kek.derive("device cookies"), *again.derive("device cookies"));
        assert_ne!(*kek.derive("device cookies"), *kek.derive("identifier digests"));
        assert_ne!(*kek.derive("device cookies"), *KeyEncryptionKey::generate().derive("device cookies"));
        assert_ne!(kek.derive("device cookies").as_slice(), kek.to_base64().as_bytes());
    }

    #[test]
    fn sealed_data_opens_only_with_the_same_key_and_context() {
        let kek = KeyEncryptionKey::generate();
        let sealed = kek.seal(b"private key", b"kid-1");
        assert_eq!(kek.open(&sealed, b"kid-1").unwrap().as_slice(), b"private key");
        assert!(matches!(kek.open(&sealed, b"kid-2"), Err(JoseError::Unseal)));
        assert!(matches!(KeyEncryptionKey::generate().open(&sealed, b"kid-1"), Err(JoseError::Unseal)));
    }

    #[test]
    fn tampered_or_truncated_data_does_not_open() {
        let kek = KeyEncryptionKey::generate();
        let mut sealed = kek.seal(b"private key", b"");
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(kek.open(&sealed, b"").is_err());
        for len in [0, 1, 5, 13] {
            assert!(kek.open(&sealed[..len], b"").is_err());
        }
        let mut other_version = kek.seal(b"x", b"");
        other_version[0] = 2;
        assert!(kek.open(&other_version, b"").is_err());
    }

    #[test]
    fn base64_round_trips_in_every_common_form() {
        let kek = KeyEncryptionKey::generate();
        let url_safe = kek.to_base64();
        let standard = STANDARD.encode(URL_SAFE_NO_PAD.decode(url_safe.as_str()).unwrap());
        for form in [url_safe.to_string(), standard, format!("  {}\n", url_safe.as_str())] {
            assert_eq!(KeyEncryptionKey::from_base64(&form).unwrap().id(), kek.id());
        }
    }

    #[test]
    fn refuses_keys_of_the_wrong_length_or_alphabet() {
        for bad in
            ["", "short", &URL_SAFE_NO_PAD.encode([0u8; 31]), &URL_SAFE_NO_PAD.encode([0u8; 33]), "%%%"]
        {
            assert!(matches!(KeyEncryptionKey::from_base64(bad), Err(JoseError::KekFormat)), "{bad}");
        }
    }

    #[test]
    fn id_identifies_the_key_and_debug_hides_it() {
        let kek = KeyEncryptionKey::generate();
        let same = KeyEncryptionKey::from_base64(&kek.to_base64()).unwrap();
        assert_eq!(kek.id(), same.id());
        assert_ne!(kek.id(), KeyEncryptionKey::generate().id());
        assert_eq!(kek.id().len(), 16);
        let debug = format!("{kek:?}");
        assert!(debug.contains("[redacted]") && !debug.contains(kek.to_base64().as_str()));
    }
}
