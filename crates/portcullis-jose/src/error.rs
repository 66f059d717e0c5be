//! Errors of key handling.

/// What can go wrong generating, sealing, opening or using a key.
#[derive(Debug, thiserror::Error)]
pub enum JoseError {
    /// A key-encryption key in configuration is not 32 bytes of base64.
    #[error(
        "the key-encryption key must be 32 bytes encoded as base64 (44 characters, or 43 without padding)"
    )]
    KekFormat,
    /// Sealed data failed authentication: wrong key-encryption key, or tampering.
    #[error("decryption failed: the key-encryption key is wrong or the sealed data was altered")]
    Unseal,
    /// Key generation or encoding failed.
    #[error("key generation failed: {0}")]
    Generate(String),
    /// josekit (OpenSSL) refused a key or failed to sign.
    #[error("JOSE operation failed: {0}")]
    Josekit(#[from] josekit::JoseError),
}
