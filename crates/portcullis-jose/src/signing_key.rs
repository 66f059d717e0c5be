//! Generating signing keys (rsa, p256; Ed25519 through josekit, which
//! neither crate makes) and signing with them (josekit).

use crate::jwk::{KeyMaterial, PublicJwk};
use crate::JoseError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwk::alg::ed::{EdCurve, EdKeyPair};
use josekit::jwk::KeyPair;
use josekit::jws::{JwsHeader, JwsSigner};
use josekit::jwt::{self, JwtPayload};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use portcullis_core::SigningAlgorithm;
use rand::rngs::OsRng;
use rsa::pkcs8::EncodePrivateKey;
use rsa::traits::PublicKeyParts;
use std::fmt;
use zeroize::Zeroizing;

/// RSA modulus size for RS256 keys (RFC 7518 §3.3 requires at least 2048).
const RSA_BITS: usize = 2048;

/// A freshly generated key pair: the public JWK to publish and the private key
/// as PKCS#8 DER, to be sealed before it is stored.
pub struct GeneratedKey {
    /// The public key, with its thumbprint as `kid`.
    pub public_jwk: PublicJwk,
    /// The private key, PKCS#8 DER; wiped on drop.
    pub private_pkcs8: Zeroizing<Vec<u8>>,
}

impl GeneratedKey {
    /// Generates a key for `alg` from the operating system's CSPRNG: RSA-2048
    /// for RS256 and PS256 (one key per algorithm, never shared), P-256 for
    /// ES256, Ed25519 for EdDSA (OpenSSL's generator, through josekit). Only
    /// key generation uses the `rsa` crate.
    pub fn generate(alg: SigningAlgorithm) -> Result<Self, JoseError> {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let encoding = |e: rsa::pkcs8::Error| JoseError::Generate(e.to_string());
        let (material, der) = match alg {
            SigningAlgorithm::Rs256 | SigningAlgorithm::Ps256 => {
                let key = rsa::RsaPrivateKey::new(&mut OsRng, RSA_BITS)
                    .map_err(|e| JoseError::Generate(e.to_string()))?;
                let material =
                    KeyMaterial::Rsa { n: b64(&key.n().to_bytes_be()), e: b64(&key.e().to_bytes_be()) };
                (material, Zeroizing::new(key.to_pkcs8_der().map_err(encoding)?.as_bytes().to_vec()))
            }
            SigningAlgorithm::Es256 => {
                let key = p256::SecretKey::random(&mut OsRng);
                let point = key.public_key().to_encoded_point(false);
                let (Some(x), Some(y)) = (point.x(), point.y()) else {
                    return Err(JoseError::Generate("P-256 public point is not uncompressed".into()));
                };
                let material = KeyMaterial::Ec { crv: "P-256".into(), x: b64(x), y: b64(y) };
                (material, Zeroizing::new(key.to_pkcs8_der().map_err(encoding)?.as_bytes().to_vec()))
            }
            SigningAlgorithm::EdDsa => {
                let key = EdKeyPair::generate(EdCurve::Ed25519)?;
                let public = key.to_jwk_public_key();
                let Some(x) = public.parameter("x").and_then(|x| x.as_str()) else {
                    return Err(JoseError::Generate("an Ed25519 public key has no x".into()));
                };
                let material = KeyMaterial::Okp { crv: "Ed25519".into(), x: x.to_owned() };
                (material, Zeroizing::new(key.to_der_private_key()))
            }
        };
        Ok(Self { public_jwk: PublicJwk::new(alg, material), private_pkcs8: der })
    }
}

/// A private key ready to sign, held by josekit (OpenSSL).
pub struct SigningKey {
    kid: String,
    alg: SigningAlgorithm,
    signer: Box<dyn JwsSigner>,
}

impl SigningKey {
    /// Loads a PKCS#8 DER private key for `alg`, identified by `kid`.
    pub fn from_pkcs8_der(alg: SigningAlgorithm, kid: String, der: &[u8]) -> Result<Self, JoseError> {
        Ok(Self { kid, alg, signer: crate::algorithms::signer(alg, der)? })
    }

    /// The key id, published as `kid` in the JWKS and in every JWS header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key signs with.
    pub fn alg(&self) -> SigningAlgorithm {
        self.alg
    }

    /// Signs `payload` as a compact JWS; `alg` and `kid` are set in `header`.
    pub fn sign_jwt(&self, mut header: JwsHeader, payload: &JwtPayload) -> Result<String, JoseError> {
        header.set_key_id(&self.kid);
        Ok(jwt::encode_with_signer(payload, &header, self.signer.as_ref())?)
    }

    /// Signs the JSON object `payload`, serialised once, as a compact JWS;
    /// `alg` and `kid` are set in `header`.
    pub fn sign_json(
        &self,
        mut header: JwsHeader,
        payload: &impl serde::Serialize,
    ) -> Result<String, JoseError> {
        header.set_key_id(&self.kid);
        let payload = serde_json::to_vec(payload).map_err(|e| JoseError::Generate(e.to_string()))?;
        Ok(josekit::jws::serialize_compact(&payload, &header, self.signer.as_ref())?)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey {{ kid: {}, alg: {}, key: [redacted] }}", self.kid, self.alg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use josekit::jwk::Jwk;

    fn verify(token: &str, jwk: &PublicJwk) -> Result<JwtPayload, JoseError> {
        let alg = jwk.alg.parse().unwrap();
        let jwk = Jwk::from_bytes(serde_json::to_vec(jwk).unwrap())?;
        let verifier = crate::algorithms::verifier(alg, &jwk)?;
        Ok(jwt::decode_with_verifier(token, verifier.as_ref()).map(|(payload, _)| payload)?)
    }

    #[test]
    fn generated_keys_sign_tokens_that_their_public_jwk_verifies() {
        for alg in SigningAlgorithm::ALL {
            let generated = GeneratedKey::generate(alg).unwrap();
            let jwk = &generated.public_jwk;
            assert_eq!(jwk.kid, jwk.material.thumbprint());
            assert_eq!(jwk.alg, alg.as_str());
            let key = SigningKey::from_pkcs8_der(alg, jwk.kid.clone(), &generated.private_pkcs8).unwrap();
            let mut payload = JwtPayload::new();
            payload.set_subject("alice");
            let mut header = JwsHeader::new();
            header.set_token_type("JWT");
            let token = key.sign_jwt(header, &payload).unwrap();
            let header = jwt::decode_header(&token).unwrap();
            assert_eq!(header.claim("kid").and_then(|v| v.as_str()), Some(jwk.kid.as_str()));
            assert_eq!(header.claim("alg").and_then(|v| v.as_str()), Some(alg.as_str()));
            assert_eq!(verify(&token, jwk).unwrap().subject(), Some("alice"));
            let other = GeneratedKey::generate(alg).unwrap().public_jwk;
            assert!(verify(&token, &other).is_err(), "{alg}: verified under another key");
        }
    }

    #[test]
    fn generated_keys_have_the_required_strength_and_are_distinct() {
        let rsa = GeneratedKey::generate(SigningAlgorithm::Rs256).unwrap();
        let KeyMaterial::Rsa { n, e } = &rsa.public_jwk.material else { panic!("not RSA") };
        assert_eq!(URL_SAFE_NO_PAD.decode(n).unwrap().len() * 8, RSA_BITS);
        assert_eq!(e, "AQAB");
        let ec = GeneratedKey::generate(SigningAlgorithm::Es256).unwrap();
        let KeyMaterial::Ec { crv, x, y } = &ec.public_jwk.material else { panic!("not EC") };
        assert_eq!(
            (
                crv.as_str(),
                URL_SAFE_NO_PAD.decode(x).unwrap().len(),
                URL_SAFE_NO_PAD.decode(y).unwrap().len()
            ),
            ("P-256", 32, 32)
        );
        assert_ne!(
            ec.public_jwk.kid,
            GeneratedKey::generate(SigningAlgorithm::Es256).unwrap().public_jwk.kid
        );
        let ed = GeneratedKey::generate(SigningAlgorithm::EdDsa).unwrap();
        let KeyMaterial::Okp { crv, x } = &ed.public_jwk.material else { panic!("not OKP") };
        assert_eq!((crv.as_str(), URL_SAFE_NO_PAD.decode(x).unwrap().len()), ("Ed25519", 32));
        let ps = GeneratedKey::generate(SigningAlgorithm::Ps256).unwrap();
        let KeyMaterial::Rsa { n, .. } = &ps.public_jwk.material else { panic!("not RSA") };
        assert_eq!(URL_SAFE_NO_PAD.decode(n).unwrap().len() * 8, RSA_BITS);
        assert_eq!(ps.public_jwk.alg, "PS256");
    }

    #[test]
    fn a_key_of_the_wrong_type_or_garbage_is_refused() {
        let ec = GeneratedKey::generate(SigningAlgorithm::Es256).unwrap();
        assert!(SigningKey::from_pkcs8_der(SigningAlgorithm::Rs256, "k".into(), &ec.private_pkcs8).is_err());
        assert!(SigningKey::from_pkcs8_der(SigningAlgorithm::Es256, "k".into(), b"not a key").is_err());
        assert!(SigningKey::from_pkcs8_der(SigningAlgorithm::EdDsa, "k".into(), &ec.private_pkcs8).is_err());
    }

    #[test]
    fn debug_never_shows_key_material() {
        let generated = GeneratedKey::generate(SigningAlgorithm::Es256).unwrap();
        let key =
            SigningKey::from_pkcs8_der(SigningAlgorithm::Es256, "kid-1".into(), &generated.private_pkcs8)
                .unwrap();
        assert_eq!(format!("{key:?}"), "SigningKey { kid: kid-1, alg: ES256, key: [redacted] }");
    }
}
