//! The one place a [`SigningAlgorithm`] becomes a josekit (OpenSSL) signer
//! or verifier, so every key type is read the same way everywhere: the
//! server's own keys, clients' assertion and request-object keys, and DPoP
//! proof keys.

use crate::JoseError;
use josekit::jwk::Jwk;
use josekit::jws::{EdDSA, JwsSigner, JwsVerifier, ES256, PS256, RS256};
use portcullis_core::SigningAlgorithm;

/// The only Edwards curve accepted for EdDSA (RFC 8037 §3.1).
const ED25519: &str = "Ed25519";

/// A signer for `alg` from a PKCS#8 DER private key of the matching type.
pub(crate) fn signer(alg: SigningAlgorithm, der: &[u8]) -> Result<Box<dyn JwsSigner>, JoseError> {
    Ok(match alg {
        SigningAlgorithm::Rs256 => Box::new(RS256.signer_from_der(der)?),
        SigningAlgorithm::Es256 => Box::new(ES256.signer_from_der(der)?),
        SigningAlgorithm::Ps256 => Box::new(PS256.signer_from_der(der)?),
        SigningAlgorithm::EdDsa => {
            let signer = EdDSA.signer_from_der(der)?;
            if EdDSA.key_pair_from_der(der)?.curve().name() != ED25519 {
                return Err(JoseError::Generate("EdDSA keys are Ed25519 keys".into()));
            }
            Box::new(signer)
        }
    })
}

/// A verifier for `alg` from the public key `jwk`, without the key's `kid`:
/// which key a token names is matched by the caller (josekit would refuse a
/// token that names none). An EdDSA key must be on Ed25519.
pub(crate) fn verifier(alg: SigningAlgorithm, jwk: &Jwk) -> Result<Box<dyn JwsVerifier>, JoseError> {
    Ok(match alg {
        SigningAlgorithm::Rs256 => {
            let mut verifier = RS256.verifier_from_jwk(jwk)?;
            verifier.remove_key_id();
            Box::new(verifier)
        }
        SigningAlgorithm::Es256 => {
            let mut verifier = ES256.verifier_from_jwk(jwk)?;
            verifier.remove_key_id();
            Box::new(verifier)
        }
        SigningAlgorithm::Ps256 => {
            let mut verifier = PS256.verifier_from_jwk(jwk)?;
            verifier.remove_key_id();
            Box::new(verifier)
        }
        SigningAlgorithm::EdDsa => {
            if jwk.curve() != Some(ED25519) {
                return Err(JoseError::Generate("EdDSA keys are Ed25519 keys".into()));
            }
            let mut verifier = EdDSA.verifier_from_jwk(jwk)?;
            verifier.remove_key_id();
            Box::new(verifier)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use josekit::jwk::alg::ed::{EdCurve, EdKeyPair};
    use josekit::jwk::KeyPair;

    #[test]
    fn eddsa_takes_ed25519_keys_only() {
        let ed448 = EdKeyPair::generate(EdCurve::Ed448).unwrap();
        assert!(signer(SigningAlgorithm::EdDsa, &ed448.to_der_private_key()).is_err());
        assert!(verifier(SigningAlgorithm::EdDsa, &ed448.to_jwk_public_key()).is_err());
        let ed25519 = EdKeyPair::generate(EdCurve::Ed25519).unwrap();
        assert!(signer(SigningAlgorithm::EdDsa, &ed25519.to_der_private_key()).is_ok());
        assert!(verifier(SigningAlgorithm::EdDsa, &ed25519.to_jwk_public_key()).is_ok());
        assert!(verifier(SigningAlgorithm::Es256, &ed25519.to_jwk_public_key()).is_err());
    }
}
