//! Proof Key for Code Exchange (RFC 7636).

use crate::CodeVerifier;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How the challenge was derived from the verifier (RFC 7636 §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodeChallengeMethod {
    /// `BASE64URL(SHA256(verifier))`.
    S256,
    /// The verifier itself; refused unless a client allows it.
    #[serde(rename = "plain")]
    Plain,
}

/// A code challenge sent with an authorization request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeChallenge {
    /// How it was derived.
    pub method: CodeChallengeMethod,
    /// The challenge.
    pub value: String,
}

/// Why a PKCE parameter is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PkceError {
    /// The method is neither `S256` nor `plain`.
    #[error("code_challenge_method must be S256")]
    UnknownMethod,
    /// The challenge does not have the form RFC 7636 §4.2 gives it.
    #[error("code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.2)")]
    MalformedChallenge,
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`.
fn well_formed(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

impl CodeChallenge {
    /// Reads `code_challenge` and `code_challenge_method`; an absent method
    /// means `plain` (RFC 7636 §4.3).
    pub fn parse(value: &str, method: Option<&str>) -> Result<Self, PkceError> {
        let method = match method {
            None | Some("plain") => CodeChallengeMethod::Plain,
            Some("S256") => CodeChallengeMethod::S256,
            Some(_) => return Err(PkceError::UnknownMethod),
        };
        // An S256 challenge is the base64url of 32 bytes: exactly 43 characters.
        let valid = well_formed(value) && (method == CodeChallengeMethod::Plain || value.len() == 43);
        valid.then(|| Self { method, value: value.to_owned() }).ok_or(PkceError::MalformedChallenge)
    }

    /// Whether `verifier` answers this challenge (RFC 7636 §4.6), compared
    /// in constant time.
    pub fn verify(&self, verifier: &CodeVerifier) -> bool {
        let verifier = verifier.expose();
        if !well_formed(verifier) {
            return false;
        }
        let derived = match self.method {
            CodeChallengeMethod::S256 => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
            CodeChallengeMethod::Plain => verifier.to_owned(),
        };
        derived.len() == self.value.len() && bool::from(derived.as_bytes().ct_eq(self.value.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(verifier: impl Into<String>) -> CodeVerifier {
        CodeVerifier::new(verifier.into())
    }

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn verifies_the_rfc_7636_appendix_b_example() {
        let challenge = CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap();
        assert!(challenge.verify(&v(VERIFIER)));
        assert!(!challenge.verify(&v(VERIFIER.replace('d', "e"))));
        assert!(!challenge.verify(&v(CHALLENGE)), "the challenge is not its own verifier");
    }

    #[test]
    fn plain_compares_the_verifier_itself_and_is_the_default_method() {
        let challenge = CodeChallenge::parse(VERIFIER, None).unwrap();
        assert_eq!(challenge.method, CodeChallengeMethod::Plain);
        assert!(challenge.verify(&v(VERIFIER)));
        assert!(!challenge.verify(&v(CHALLENGE)));
    }

    #[test]
    fn refuses_malformed_challenges_verifiers_and_methods() {
        assert_eq!(CodeChallenge::parse(CHALLENGE, Some("S512")), Err(PkceError::UnknownMethod));
        assert_eq!(CodeChallenge::parse(CHALLENGE, Some("s256")), Err(PkceError::UnknownMethod));
        for bad in ["short", &"a".repeat(129), &format!("{}!", &CHALLENGE[..42]), &"a".repeat(44)] {
            assert_eq!(CodeChallenge::parse(bad, Some("S256")), Err(PkceError::MalformedChallenge), "{bad}");
        }
        let challenge = CodeChallenge::parse(CHALLENGE, Some("S256")).unwrap();
        assert!(!challenge.verify(&v("too-short")));
        assert!(!challenge.verify(&v("a".repeat(129))));
    }
}
