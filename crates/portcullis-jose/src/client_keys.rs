//! A client's registered public keys (its `jwks`), for checking the
//! signatures of its `private_key_jwt` assertions (RFC 7523) and request
//! objects (RFC 9101).

use crate::JoseError;
use josekit::jwk::Jwk;
use josekit::jws::JwsVerifier;
use josekit::jwt::{self, JwtPayload};
use portcullis_core::SigningAlgorithm;

struct ClientKey {
    kid: Option<String>,
    alg: SigningAlgorithm,
    verifier: Box<dyn JwsVerifier>,
}

/// The keys of one client that can verify signatures of an algorithm this
/// server accepts.
pub struct ClientKeys(Vec<ClientKey>);

impl ClientKeys {
    /// Reads a JWK Set, keeping the keys usable with an accepted algorithm:
    /// those whose `alg` names one, or without `alg`, each algorithm of its
    /// key type ([`SigningAlgorithm::for_key`]). A set with no usable key
    /// is an error.
    pub fn from_jwks(jwks: &serde_json::Value) -> Result<Self, JoseError> {
        let unusable = |why: &str| JoseError::Generate(format!("jwks: {why}"));
        let keys = jwks.get("keys").and_then(|keys| keys.as_array()).ok_or_else(|| unusable("no keys"))?;
        let mut usable = Vec::new();
        for key in keys {
            let jwk = Jwk::from_bytes(serde_json::to_vec(key).expect("JSON serialises"))?;
            let named;
            let algorithms = match jwk.algorithm() {
                Some(alg) => match alg.parse() {
                    Ok(alg) => {
                        named = [alg];
                        &named[..]
                    }
                    Err(_) => continue,
                },
                None => SigningAlgorithm::for_key(jwk.key_type(), jwk.curve()),
            };
            for &alg in algorithms {
                // A key this server cannot use (an Ed448 key named EdDSA) is passed over.
                let Ok(verifier) = crate::algorithms::verifier(alg, &jwk) else { continue };
                usable.push(ClientKey { kid: jwk.key_id().map(str::to_owned), alg, verifier });
            }
        }
        if usable.is_empty() {
            return Err(unusable("no key for an accepted algorithm"));
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
    use josekit::jwk::alg::ed::{EdCurve, EdKeyPair};
    use josekit::jwk::alg::rsa::RsaKeyPair;
    use josekit::jwk::KeyPair;
    use josekit::jws::JwsHeader;

    fn sign(key_pair: &dyn KeyPair, alg: SigningAlgorithm, kid: Option<&str>) -> String {
        let mut payload = JwtPayload::new();
        payload.set_subject("client-1");
        let mut header = JwsHeader::new();
        if let Some(kid) = kid {
            header.set_key_id(kid);
        }
        let signer = crate::algorithms::signer(alg, &key_pair.to_der_private_key()).unwrap();
        jwt::encode_with_signer(&payload, &header, signer.as_ref()).unwrap()
    }

    #[test]
    fn verifies_signatures_of_registered_keys_only() {
        let ec = EcKeyPair::generate(EcCurve::P256).unwrap();
        let rsa = RsaKeyPair::generate(2048).unwrap();
        let ed = EdKeyPair::generate(EdCurve::Ed25519).unwrap();
        let mut ec_public = ec.to_jwk_public_key();
        ec_public.set_key_id("ec-1");
        let jwks = serde_json::json!({"keys": [
            serde_json::to_value(&ec_public).unwrap(),
            serde_json::to_value(rsa.to_jwk_public_key()).unwrap(),
            serde_json::to_value(ed.to_jwk_public_key()).unwrap(),
        ]});
        let keys = ClientKeys::from_jwks(&jwks).unwrap();
        for token in [
            sign(&ec, SigningAlgorithm::Es256, Some("ec-1")),
            sign(&ec, SigningAlgorithm::Es256, None),
            sign(&rsa, SigningAlgorithm::Rs256, None),
            sign(&rsa, SigningAlgorithm::Ps256, None),
            sign(&ed, SigningAlgorithm::EdDsa, None),
        ] {
            assert_eq!(keys.verify(&token).unwrap().subject(), Some("client-1"));
        }
        let stranger = EcKeyPair::generate(EcCurve::P256).unwrap();
        assert!(keys.verify(&sign(&stranger, SigningAlgorithm::Es256, None)).is_none());
        assert!(keys.verify(&sign(&ec, SigningAlgorithm::Es256, Some("other"))).is_none());
        let ed_stranger = EdKeyPair::generate(EdCurve::Ed25519).unwrap();
        assert!(keys.verify(&sign(&ed_stranger, SigningAlgorithm::EdDsa, None)).is_none());
        let unsigned = format!("{}.{}.", "eyJhbGciOiJub25lIn0", "eyJzdWIiOiJjbGllbnQtMSJ9");
        assert!(keys.verify(&unsigned).is_none(), "alg none is refused");
        assert!(keys.verify("garbage").is_none());
    }

    #[test]
    fn a_key_registered_for_one_algorithm_verifies_only_that_one() {
        let rsa = RsaKeyPair::generate(2048).unwrap();
        let mut public = rsa.to_jwk_public_key();
        public.set_algorithm("PS256");
        let keys = ClientKeys::from_jwks(&serde_json::json!({"keys": [public]})).unwrap();
        assert!(keys.verify(&sign(&rsa, SigningAlgorithm::Ps256, None)).is_some());
        assert!(keys.verify(&sign(&rsa, SigningAlgorithm::Rs256, None)).is_none());
    }

    #[test]
    fn a_set_without_usable_keys_is_refused() {
        let symmetric = serde_json::json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]});
        assert!(ClientKeys::from_jwks(&symmetric).is_err());
        assert!(ClientKeys::from_jwks(&serde_json::json!({})).is_err());
        for other in [
            EcKeyPair::generate(EcCurve::P384).unwrap().to_jwk_public_key(),
            EdKeyPair::generate(EdCurve::Ed448).unwrap().to_jwk_public_key(),
        ] {
            let other = serde_json::json!({"keys": [serde_json::to_value(other).unwrap()]});
            assert!(ClientKeys::from_jwks(&other).is_err());
        }
    }
}
