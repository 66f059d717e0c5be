//! A client's registered public keys (its `jwks`), for checking the
//! signatures of its `private_key_jwt` assertions (RFC 7523).

use crate::JoseError;
use josekit::jwk::Jwk;
use josekit::jws::{JwsVerifier, ES256, RS256};
use josekit::jwt::{self, JwtPayload};
use portcullis_core::SigningAlgorithm;

struct ClientKey {
    kid: Option<String>,
    alg: SigningAlgorithm,
    verifier: Box<dyn JwsVerifier>,
}

/// The keys of one client that can verify RS256 or ES256 signatures.
pub struct ClientKeys(Vec<ClientKey>);

impl ClientKeys {
    /// Reads a JWK Set, keeping the keys usable with RS256 or ES256: those
    /// whose `alg` names one, or without `alg`, RSA keys (RS256) and P-256
    /// keys (ES256). A set with no usable key is an error.
    pub fn from_jwks(jwks: &serde_json::Value) -> Result<Self, JoseError> {
        let unusable = |why: &str| JoseError::Generate(format!("jwks: {why}"));
        let keys = jwks.get("keys").and_then(|keys| keys.as_array()).ok_or_else(|| unusable("no keys"))?;
        let mut usable = Vec::new();
        for key in keys {
            let jwk = Jwk::from_bytes(serde_json::to_vec(key).expect("JSON serialises"))?;
            let alg = match (jwk.algorithm(), jwk.key_type(), jwk.curve()) {
                (Some(alg), _, _) => match alg.parse() {
                    Ok(alg) => alg,
                    Err(_) => continue,
                },
                (None, "RSA", _) => SigningAlgorithm::Rs256,
                (None, "EC", Some("P-256")) => SigningAlgorithm::Es256,
                _ => continue,
            };
            // `kid` is matched here, not by josekit, which would refuse a token without one.
            let verifier: Box<dyn JwsVerifier> = match alg {
                SigningAlgorithm::Rs256 => {
                    let mut verifier = RS256.verifier_from_jwk(&jwk)?;
                    verifier.remove_key_id();
                    Box::new(verifier)
                }
                SigningAlgorithm::Es256 => {
                    let mut verifier = ES256.verifier_from_jwk(&jwk)?;
                    verifier.remove_key_id();
                    Box::new(verifier)
                }
            };
            usable.push(ClientKey { kid: jwk.key_id().map(str::to_owned), alg, verifier });
        }
        if usable.is_empty() {
            return Err(unusable("no RS256 or ES256 key"));
        }
        Ok(Self(usable))
    }

    /// The payload of a JWT signed by one of these keys: the one its `kid`
    /// names, or without `kid`, any key of its `alg`. `none` and every other
    /// algorithm are refused.
    pub fn verify(&self, token: &str) -> Option<JwtPayload> {
        let header = jwt::decode_header(token).ok()?;
        let alg: SigningAlgorithm = header.claim("alg")?.as_str()?.parse().ok()?;
        let kid = header.claim("kid").and_then(|kid| kid.as_str());
        self.0
            .iter()
            .filter(|key| key.alg == alg && kid.is_none_or(|kid| key.kid.as_deref() == Some(kid)))
            .find_map(|key| jwt::decode_with_verifier(token, key.verifier.as_ref()).ok())
            .map(|(payload, _)| payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
    use josekit::jwk::alg::rsa::RsaKeyPair;
    use josekit::jws::JwsHeader;

    fn sign(key_pair_jwk: &Jwk, alg: SigningAlgorithm, kid: Option<&str>) -> String {
        let mut payload = JwtPayload::new();
        payload.set_subject("client-1");
        let header = JwsHeader::new();
        // josekit takes the header's kid from the signing key.
        let mut key_pair_jwk = key_pair_jwk.clone();
        if let Some(kid) = kid {
            key_pair_jwk.set_key_id(kid);
        }
        let key_pair_jwk = &key_pair_jwk;
        match alg {
            SigningAlgorithm::Rs256 => {
                jwt::encode_with_signer(&payload, &header, &RS256.signer_from_jwk(key_pair_jwk).unwrap())
            }
            SigningAlgorithm::Es256 => {
                jwt::encode_with_signer(&payload, &header, &ES256.signer_from_jwk(key_pair_jwk).unwrap())
            }
        }
        .unwrap()
    }

    #[test]
    fn verifies_signatures_of_registered_keys_only() {
        let ec = EcKeyPair::generate(EcCurve::P256).unwrap();
        let rsa = RsaKeyPair::generate(2048).unwrap();
        let mut ec_public = ec.to_jwk_public_key();
        ec_public.set_key_id("ec-1");
        let jwks = serde_json::json!({"keys": [
            serde_json::to_value(&ec_public).unwrap(),
            serde_json::to_value(rsa.to_jwk_public_key()).unwrap(),
        ]});
        let keys = ClientKeys::from_jwks(&jwks).unwrap();
        for token in [
            sign(&ec.to_jwk_private_key(), SigningAlgorithm::Es256, Some("ec-1")),
            sign(&ec.to_jwk_private_key(), SigningAlgorithm::Es256, None),
            sign(&rsa.to_jwk_private_key(), SigningAlgorithm::Rs256, None),
        ] {
            assert_eq!(keys.verify(&token).unwrap().subject(), Some("client-1"));
        }
        let stranger = EcKeyPair::generate(EcCurve::P256).unwrap();
        assert!(keys.verify(&sign(&stranger.to_jwk_private_key(), SigningAlgorithm::Es256, None)).is_none());
        assert!(keys
            .verify(&sign(&ec.to_jwk_private_key(), SigningAlgorithm::Es256, Some("other")))
            .is_none());
        let unsigned = format!("{}.{}.", "eyJhbGciOiJub25lIn0", "eyJzdWIiOiJjbGllbnQtMSJ9");
        assert!(keys.verify(&unsigned).is_none(), "alg none is refused");
        assert!(keys.verify("garbage").is_none());
    }

    #[test]
    fn a_set_without_usable_keys_is_refused() {
        let symmetric = serde_json::json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]});
        assert!(ClientKeys::from_jwks(&symmetric).is_err());
        assert!(ClientKeys::from_jwks(&serde_json::json!({})).is_err());
        let other_alg = serde_json::json!({"keys": [serde_json::to_value(EcKeyPair::generate(EcCurve::P384).unwrap().to_jwk_public_key()).unwrap()]});
        assert!(ClientKeys::from_jwks(&other_alg).is_err());
    }
}
