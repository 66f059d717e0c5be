//! JWT access tokens (RFC 9068).

use crate::{JoseError, PublicJwk, SigningKey};
use josekit::jwk::Jwk;
use josekit::jws::{JwsHeader, JwsVerifier};
use josekit::jwt;
use portcullis_core::SigningAlgorithm;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
    /// The grant (authorization code) the token descends from, so that all
    /// of a grant's tokens can be revoked at once; absent for client
    /// credentials. A token exchanged from a client's own token names that
    /// token's `jti` here, and is revoked with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Not before, seconds since the epoch; never set by this server, but
    /// honoured when present (RFC 7519 §4.1.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
    /// The standard claims the `claims` request parameter asked for at
    /// UserInfo (OpenID Connect Core §5.5), which UserInfo releases to the
    /// bearer of this token beside those its scope releases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub userinfo_claims: Vec<String>,
    /// The key the token is bound to (RFC 7800 §3.1, RFC 9449 §6.1): only
    /// a request with a DPoP proof of that key may use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    /// Who acts for `sub` (RFC 8693 §4.1): the actor's `sub` (and
    /// `client_id`), and the actors before it, nested; on exchanged tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Value>,
}

/// A token's confirmation claim (RFC 7800 §3.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The RFC 7638 thumbprint of the DPoP key (RFC 9449 §6.1).
    pub jkt: String,
}

impl AccessTokenClaims {
    /// Signs the claims with `key` as a compact JWS with `typ: at+jwt`.
    pub fn sign(&self, key: &SigningKey) -> Result<String, JoseError> {
        self.sign_with(key, &[])
    }

    /// Signs the claims with `extra` claims of the client's own beside them
    /// (RFC 9068 §2.2.2 allows them; never in place of one of these).
    pub fn sign_with(&self, key: &SigningKey, extra: &[(&str, &Value)]) -> Result<String, JoseError> {
        let mut header = JwsHeader::new();
        header.set_token_type(ACCESS_TOKEN_TYPE);
        key.sign_json(header, &Beside { claims: self, extra: Extra { extra, own: ACCESS_TOKEN_CLAIMS } })
    }
}

/// The names of an access token's own claims, which no extra claim takes.
const ACCESS_TOKEN_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "client_id",
    "scope",
    "jti",
    "grant_id",
    "iat",
    "nbf",
    "exp",
    "userinfo_claims",
    "cnf",
    "act",
];

/// Claims serialised with extra ones beside them, in one pass.
#[derive(Serialize)]
pub(crate) struct Beside<'a, T: Serialize> {
    #[serde(flatten)]
    pub(crate) claims: &'a T,
    #[serde(flatten)]
    pub(crate) extra: Extra<'a>,
}

/// Extra claims, serialised as members; one named as a claim of `own` is left out.
pub(crate) struct Extra<'a> {
    pub(crate) extra: &'a [(&'a str, &'a Value)],
    pub(crate) own: &'a [&'a str],
}

impl Serialize for Extra<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in self.extra.iter().filter(|(name, _)| !self.own.contains(name)) {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// `claims` as a JSON object, with each of `extra` that names none of
/// theirs: what a token would carry, for previews.
pub fn with_extra(claims: &impl Serialize, extra: &[(&str, &Value)]) -> Map<String, Value> {
    let Ok(Value::Object(mut object)) = serde_json::to_value(claims) else {
        unreachable!("claims serialise to an object")
    };
    for (name, value) in extra {
        object.entry(*name).or_insert_with(|| (*value).clone());
    }
    object
}

/// A published public key, ready to verify signatures (through josekit).
pub struct VerificationKey {
    alg: SigningAlgorithm,
    verifier: Box<dyn JwsVerifier>,
}

impl VerificationKey {
    /// A verifier for a published signing key.
    pub fn from_jwk(jwk: &PublicJwk) -> Result<Self, JoseError> {
        let alg: SigningAlgorithm =
            jwk.alg.parse().map_err(|e: portcullis_core::UnknownValue| JoseError::Generate(e.to_string()))?;
        let jwk = Jwk::from_bytes(serde_json::to_vec(jwk).expect("a JWK serialises"))?;
        Ok(Self { alg, verifier: crate::algorithms::verifier(alg, &jwk)? })
    }
}

impl AccessTokenClaims {
    /// Reads an access token whose signature verifies under the key its
    /// `kid` names, whose `alg` is that key's, and whose `typ` is `at+jwt`
    /// (RFC 9068 §4). Expiry, issuer and revocation are the caller's checks.
    pub fn verify<'k>(token: &str, key_for: impl Fn(&str) -> Option<&'k VerificationKey>) -> Option<Self> {
        let is_access_token = |typ: &str| {
            typ.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE) || typ.eq_ignore_ascii_case("application/at+jwt")
        };
        verify_typed(token, is_access_token, key_for)
    }
}

/// The claims of a JWT whose `typ` passes `typ_ok` and whose signature
/// verifies under the key its `kid` names, with that key's `alg`.
pub(crate) fn verify_typed<'k, T: serde::de::DeserializeOwned>(
    token: &str,
    typ_ok: impl Fn(&str) -> bool,
    key_for: impl Fn(&str) -> Option<&'k VerificationKey>,
) -> Option<T> {
    let header = jwt::decode_header(token).ok()?;
    let claim = |name: &str| header.claim(name).and_then(|value| value.as_str());
    if !typ_ok(claim("typ")?) {
        return None;
    }
    let key = key_for(claim("kid")?)?;
    if claim("alg")? != key.alg.as_str() {
        return None;
    }
    let (payload, _) = jwt::decode_with_verifier(token, key.verifier.as_ref()).ok()?;
    serde_json::from_value(serde_json::Value::Object(payload.claims_set().clone())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GeneratedKey;
    use josekit::jwt::JwtPayload;
    use portcullis_core::SigningAlgorithm;

    fn claims() -> AccessTokenClaims {
        AccessTokenClaims {
            iss: "https://issuer.example".into(),
            sub: "svc".into(),
            aud: "https://api.example".into(),
            client_id: "svc".into(),
            scope: Some("read".into()),
            jti: "j1".into(),
            grant_id: Some("g1".into()),
            iat: 1_700_000_000,
            nbf: None,
            exp: 1_700_000_600,
            userinfo_claims: Vec::new(),
            cnf: None,
            act: None,
        }
    }

    fn key(alg: SigningAlgorithm) -> (SigningKey, VerificationKey) {
        let generated = GeneratedKey::generate(alg).unwrap();
        let signing =
            SigningKey::from_pkcs8_der(alg, generated.public_jwk.kid.clone(), &generated.private_pkcs8)
                .unwrap();
        (signing, VerificationKey::from_jwk(&generated.public_jwk).unwrap())
    }

    #[test]
    fn signs_with_the_rfc_9068_header_and_claims() {
        let (key, _) = key(SigningAlgorithm::Es256);
        let claims = claims();
        let token = claims.sign(&key).unwrap();
        let header = josekit::jwt::decode_header(&token).unwrap();
        assert_eq!(header.claim("typ").and_then(|v| v.as_str()), Some("at+jwt"));
        assert_eq!(header.claim("kid").and_then(|v| v.as_str()), Some(key.kid()));
        let payload = token.split('.').nth(1).unwrap();
        use base64::Engine;
        let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
        assert_eq!(serde_json::from_slice::<AccessTokenClaims>(&decoded).unwrap(), claims);
    }

    #[test]
    fn the_lists_of_own_claims_name_every_claim_of_the_tokens() {
        let keys = |value: serde_json::Value| {
            let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys
        };
        let sorted = |names: &[&str]| {
            let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
            names.sort();
            names
        };
        let full = AccessTokenClaims {
            nbf: Some(1),
            userinfo_claims: vec!["email".into()],
            cnf: Some(Confirmation { jkt: "k".into() }),
            act: Some(serde_json::json!({"sub": "gateway"})),
            ..claims()
        };
        assert_eq!(keys(serde_json::to_value(full).unwrap()), sorted(ACCESS_TOKEN_CLAIMS));
        let id_token = crate::IdTokenClaims {
            iss: "i".into(),
            sub: "s".into(),
            aud: "a".into(),
            exp: 2,
            iat: 1,
            auth_time: 1,
            nonce: Some("n".into()),
            at_hash: Some("h".into()),
            azp: "a".into(),
            sid: Some("s".into()),
            amr: vec!["pwd".into()],
        };
        assert_eq!(keys(serde_json::to_value(id_token).unwrap()), sorted(crate::id_token::ID_TOKEN_CLAIMS));
    }

    #[test]
    fn extra_claims_sit_beside_the_claims_and_never_replace_one() {
        let (key, verifying) = key(SigningAlgorithm::Es256);
        let extra = serde_json::json!({"department": "Research", "sub": "someone else"});
        let token = claims()
            .sign_with(
                &key,
                &extra.as_object().unwrap().iter().map(|(k, v)| (k.as_str(), v)).collect::<Vec<_>>(),
            )
            .unwrap();
        let payload = token.split('.').nth(1).unwrap();
        use base64::Engine;
        let decoded: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap(),
        )
        .unwrap();
        assert_eq!(
            (decoded["department"].as_str(), decoded["sub"].as_str()),
            (Some("Research"), Some("svc"))
        );
        assert_eq!(AccessTokenClaims::verify(&token, |_| Some(&verifying)), Some(claims()));
    }

    #[test]
    fn verifies_only_its_own_tokens_under_the_named_key() {
        for alg in SigningAlgorithm::ALL {
            let (signing, verifying) = key(alg);
            let token = claims().sign(&signing).unwrap();
            let lookup = |kid: &str| (kid == signing.kid()).then_some(&verifying);
            assert_eq!(AccessTokenClaims::verify(&token, lookup), Some(claims()));
            assert_eq!(AccessTokenClaims::verify(&token, |_| None), None, "unknown kid");
            let (_, other) = key(alg);
            assert_eq!(AccessTokenClaims::verify(&token, |_| Some(&other)), None, "another key");
            let mut tampered = token.clone();
            tampered.insert(token.find('.').unwrap() + 2, 'x');
            assert_eq!(AccessTokenClaims::verify(&tampered, lookup), None);
            assert_eq!(AccessTokenClaims::verify("not.a.jwt", lookup), None);
            assert_eq!(AccessTokenClaims::verify("", lookup), None);
        }
    }

    #[test]
    fn refuses_a_plain_jwt_signed_by_the_same_key() {
        let (signing, verifying) = key(SigningAlgorithm::Rs256);
        let payload = JwtPayload::from_map(match serde_json::to_value(claims()).unwrap() {
            serde_json::Value::Object(map) => map,
            _ => unreachable!(),
        })
        .unwrap();
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        let id_token_like = signing.sign_jwt(header, &payload).unwrap();
        assert_eq!(
            AccessTokenClaims::verify(&id_token_like, |_| Some(&verifying)),
            None,
            "RFC 9068 §4: typ must be at+jwt"
        );
    }
}
