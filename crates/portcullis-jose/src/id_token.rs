//! ID tokens (OpenID Connect Core §2) and the `at_hash` that binds one to
//! its access token (§3.1.3.6).

use crate::{JoseError, SigningKey};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jws::JwsHeader;
use portcullis_core::SigningAlgorithm;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha512};

/// The claims of an ID token issued by the authorization code flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    /// The issuer.
    pub iss: String,
    /// The user.
    pub sub: String,
    /// The client the token is for.
    pub aud: String,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// When the user authenticated.
    pub auth_time: i64,
    /// The request's `nonce`, when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The hash of the access token issued with this ID token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    /// The authorized party: the client (OpenID Connect Core §2).
    pub azp: String,
    /// The session the user authenticated in (Front-Channel Logout §3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// How the user authenticated (OpenID Connect Core §2, RFC 8176 values).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
}

impl IdTokenClaims {
    /// Signs the claims as a compact JWS with `typ: JWT`, with `extra`
    /// claims of the client's own beside them (never in place of one).
    pub fn sign(&self, key: &SigningKey, extra: &[(&str, &Value)]) -> Result<String, JoseError> {
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        let extra = crate::access_token::Extra { extra, own: ID_TOKEN_CLAIMS };
        key.sign_json(header, &crate::access_token::Beside { claims: self, extra })
    }
}

/// Signs `claims` as a compact JWS with `typ: JWT`: a signed UserInfo
/// answer (OpenID Connect Core §5.3.2).
pub fn sign_claims(key: &SigningKey, claims: &Map<String, Value>) -> Result<String, JoseError> {
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    key.sign_json(header, claims)
}

/// The names of an ID token's own claims, which no extra claim takes.
pub(crate) const ID_TOKEN_CLAIMS: &[&str] =
    &["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "sid", "amr"];

impl IdTokenClaims {
    /// Reads an ID token this server signed (`typ: JWT`), whether or not it
    /// has expired: an `id_token_hint` may be an old one (OpenID Connect
    /// Core §3.1.2.1).
    pub fn verify<'k>(
        token: &str,
        key_for: impl Fn(&str) -> Option<&'k crate::VerificationKey>,
    ) -> Option<Self> {
        crate::access_token::verify_typed(token, |typ| typ.eq_ignore_ascii_case("JWT"), key_for)
    }
}

/// `at_hash` (OpenID Connect Core §3.1.3.6): the base64url of the left half
/// of the hash of the access token, with the hash of the ID token's `alg`:
/// SHA-256 for RS256, ES256 and PS256, SHA-512 for EdDSA on Ed25519 (the
/// working group's answer in connect issue 1125, as node-oidc-provider and
/// the OpenID Token Hash Algorithms guide have it).
pub fn at_hash(access_token: &str, alg: SigningAlgorithm) -> String {
    let bytes = access_token.as_bytes();
    match alg {
        SigningAlgorithm::Rs256 | SigningAlgorithm::Es256 | SigningAlgorithm::Ps256 => {
            URL_SAFE_NO_PAD.encode(&Sha256::digest(bytes)[..16])
        }
        SigningAlgorithm::EdDsa => URL_SAFE_NO_PAD.encode(&Sha512::digest(bytes)[..32]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GeneratedKey, VerificationKey};

    /// The expected values were computed independently, with Python's
    /// hashlib and base64 (the examples printed in OpenID Connect Core are
    /// not consistent with their own access tokens).
    #[test]
    fn at_hash_is_the_left_half_of_sha_256_in_base64url() {
        assert_eq!(
            at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNSpXiYqrkd", SigningAlgorithm::Rs256),
            "OOGhgasdcp2nTJ3GnZs6Fg"
        );
        assert_eq!(
            at_hash("dNZX1hEZ9wBCzNL40Upu646bdzQA", SigningAlgorithm::Es256),
            "wfgvmE9VxjAudsl9lc6TqA"
        );
    }

    /// The PS256 and EdDSA values are those of panva's `oidc-token-hash`.
    #[test]
    fn at_hash_follows_the_hash_of_each_algorithm() {
        let token = "YmJiZTAwYmYtMzgyOC00NzhkLTkyOTItNjJjNDM3MGYzOWIy9sFhvH8K_x8UIHj1osisS57f5DduL-ar_qw5jl3lthwpMjm283aVMQXDmoqqqydDSqJfbhptzw8rUVwkuQbolw";
        assert_eq!(at_hash(token, SigningAlgorithm::Ps256), "x7vk7f6BvQj0jQHYFIk4ag");
        assert_eq!(at_hash(token, SigningAlgorithm::EdDsa), "EGEAhGYyfuwDaVTifvrWSoD5MSy_5hZPy6I7Vm-7pTQ");
    }

    #[test]
    fn an_id_token_is_a_signed_jwt_with_its_claims() {
        let generated = GeneratedKey::generate(SigningAlgorithm::Es256).unwrap();
        let key = SigningKey::from_pkcs8_der(
            SigningAlgorithm::Es256,
            generated.public_jwk.kid.clone(),
            &generated.private_pkcs8,
        )
        .unwrap();
        let claims = IdTokenClaims {
            iss: "https://as.example".into(),
            sub: "user-1".into(),
            aud: "client-1".into(),
            exp: 1_700_000_300,
            iat: 1_700_000_000,
            auth_time: 1_699_999_990,
            nonce: Some("n-0S6_WzA2Mj".into()),
            at_hash: Some(at_hash("token", SigningAlgorithm::Es256)),
            azp: "client-1".into(),
            sid: Some("session-1".into()),
            amr: vec!["pwd".into(), "otp".into()],
        };
        let token = claims.sign(&key, &[]).unwrap();
        let header = josekit::jwt::decode_header(&token).unwrap();
        assert_eq!(header.claim("typ").and_then(|v| v.as_str()), Some("JWT"));
        let verifier = VerificationKey::from_jwk(&generated.public_jwk).unwrap();
        // An ID token is never accepted as an access token (RFC 9068 §4), and back.
        assert!(crate::AccessTokenClaims::verify(&token, |_| Some(&verifier)).is_none());
        assert_eq!(IdTokenClaims::verify(&token, |_| Some(&verifier)), Some(claims.clone()));
        let other = GeneratedKey::generate(SigningAlgorithm::Es256).unwrap();
        let stranger = VerificationKey::from_jwk(&other.public_jwk).unwrap();
        assert_eq!(IdTokenClaims::verify(&token, |_| Some(&stranger)), None);
        let payload = token.split('.').nth(1).unwrap();
        let decoded: IdTokenClaims =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(decoded, claims);
    }
}
