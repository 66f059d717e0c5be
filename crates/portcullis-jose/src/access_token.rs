//! JWT access tokens (RFC 9068).

use crate::{JoseError, SigningKey};
use josekit::jws::JwsHeader;
use josekit::jwt::JwtPayload;
use serde::{Deserialize, Serialize};

/// The `typ` header of an RFC 9068 access token (§2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The claims of an access token (RFC 9068 §2.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// The issuer.
    pub iss: String,
    /// The resource owner, or the client itself for client credentials.
    pub sub: String,
    /// The resource the token is for.
    pub aud: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// The granted scope, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// A unique identifier, used for revocation.
    pub jti: String,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
}

impl AccessTokenClaims {
    /// Signs the claims with `key` as a compact JWS with `typ: at+jwt`.
    pub fn sign(&self, key: &SigningKey) -> Result<String, JoseError> {
        let serde_json::Value::Object(claims) = serde_json::to_value(self).expect("claims serialise") else {
            unreachable!("claims serialise to an object")
        };
        let payload = JwtPayload::from_map(claims)?;
        let mut header = JwsHeader::new();
        header.set_token_type(ACCESS_TOKEN_TYPE);
        key.sign_jwt(header, &payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GeneratedKey;
    use portcullis_core::SigningAlgorithm;

    #[test]
    fn signs_with_the_rfc_9068_header_and_claims() {
        let generated = GeneratedKey::generate(SigningAlgorithm::Es256).unwrap();
        let key =
            SigningKey::from_pkcs8_der(SigningAlgorithm::Es256, "kid-1".into(), &generated.private_pkcs8)
                .unwrap();
        let claims = AccessTokenClaims {
            iss: "https://issuer.example".into(),
            sub: "svc".into(),
            aud: "https://api.example".into(),
            client_id: "svc".into(),
            scope: Some("read".into()),
            jti: "j1".into(),
            iat: 1_700_000_000,
            exp: 1_700_000_600,
        };
        let token = claims.sign(&key).unwrap();
        let header = josekit::jwt::decode_header(&token).unwrap();
        assert_eq!(header.claim("typ").and_then(|v| v.as_str()), Some("at+jwt"));
        assert_eq!(header.claim("kid").and_then(|v| v.as_str()), Some("kid-1"));
        let payload = token.split('.').nth(1).unwrap();
        use base64::Engine;
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
        assert_eq!(serde_json::from_slice::<AccessTokenClaims>(&decoded).unwrap(), claims);
    }
}
