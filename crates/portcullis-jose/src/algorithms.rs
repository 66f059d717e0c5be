//! The one place a [`SigningAlgorithm`] becomes a josekit (OpenSSL) signer
//! or verifier, so every key type is read the same way everywhere: the
//! server's own keys, clients' assertion and request-object keys, and DPoP
//! proof keys. RS256, PS256 and ES256 sign and verify with kept OpenSSL
//! contexts ([`crate::kept_contexts`]); josekit still checks each JWK.

use crate::kept_contexts::{KeptSigner, KeptVerifier};
use crate::JoseError;
use josekit::jwk::Jwk;
use josekit::jws::{EdDSA, JwsSigner, JwsVerifier, ES256, PS256, RS256};
use portcullis_core::SigningAlgorithm;

/// The only Edwards curve accepted for EdDSA (RFC 8037 §3.1).
const ED25519: &str = "Ed25519";

/// A signer for `alg` from a PKCS#8 DER private key of the matching type.
pub(crate) fn signer(alg: SigningAlgorithm, der: &[u8]) -> Result<Box<dyn JwsSigner>, JoseError> {
    if alg != SigningAlgorithm::EdDsa {
        return Ok(Box::new(KeptSigner::from_pkcs8_der(alg, der)?));
    }
    let signer = EdDSA.signer_from_der(der)?;
    if EdDSA.key_pair_from_der(der)?.curve().name() != ED25519 {
        return Err(JoseError::Generate("EdDSA keys are Ed25519 keys".into()));
    }
    Ok(Box::new(signer))
}

/// A verifier for `alg` from the public key `jwk`, without the key's `kid`:
/// which key a token names is matched by the caller (josekit would refuse a
/// token that names none). josekit checks the JWK against `alg` (type, `use`,
/// `key_ops`, `alg`, RSA size) in every case. An EdDSA key must be on Ed25519.
pub(crate) fn verifier(alg: SigningAlgorithm, jwk: &Jwk) -> Result<Box<dyn JwsVerifier>, JoseError> {
    match alg {
        SigningAlgorithm::Rs256 => drop(RS256.verifier_from_jwk(jwk)?),
        SigningAlgorithm::Es256 => drop(ES256.verifier_from_jwk(jwk)?),
        SigningAlgorithm::Ps256 => drop(PS256.verifier_from_jwk(jwk)?),
        SigningAlgorithm::EdDsa => {
            if jwk.curve() != Some(ED25519) {
                return Err(JoseError::Generate("EdDSA keys are Ed25519 keys".into()));
            }
            let mut verifier = EdDSA.verifier_from_jwk(jwk)?;
            verifier.remove_key_id();
            return Ok(Box::new(verifier));
        }
    }
    Ok(Box::new(KeptVerifier::from_jwk(alg, jwk)?))
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
