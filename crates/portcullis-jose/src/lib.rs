//! Signing keys and tokens for Portcullis.
//!
//! Key generation uses the `rsa` and `p256` crates (Ed25519 keys, which
//! neither makes, come from OpenSSL through josekit); every private-key
//! operation (signing) is OpenSSL's: RS256, PS256 and ES256 on contexts kept
//! per key (`kept_contexts`), EdDSA through josekit, which also reads and
//! writes the JWTs. The
//! `rsa` crate is never used to sign or decrypt: its private-key operations are
//! open to RUSTSEC-2023-0071 (Marvin) and are about ten times slower.
//!
//! Private keys leave this crate only sealed under a [`KeyEncryptionKey`]
//! (AES-256-GCM); public keys leave it as [`PublicJwk`]s whose `kid` is the
//! RFC 7638 thumbprint.

pub mod access_token;
mod algorithms;
pub mod client_keys;
pub mod dpop;
pub mod error;
pub mod id_token;
pub mod introspection;
pub mod jwk;
pub mod kek;
mod kept_contexts;
pub mod numeric_date;
pub mod pairwise;
pub mod signing_key;

pub use access_token::{AccessTokenClaims, Confirmation, VerificationKey, ACCESS_TOKEN_TYPE};
pub use client_keys::ClientKeys;
pub use error::JoseError;
pub use id_token::{at_hash, sign_claims, IdTokenClaims};
pub use jwk::{Jwks, KeyMaterial, PublicJwk};
pub use kek::KeyEncryptionKey;
pub use pairwise::PairwiseSubjects;
pub use signing_key::{GeneratedKey, SigningKey};
