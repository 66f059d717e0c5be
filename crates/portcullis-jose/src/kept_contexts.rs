//! RS256, PS256 and ES256 signers and verifiers that prepare an OpenSSL
//! context once per key and keep it between uses, behind josekit's
//! [`JwsSigner`] and [`JwsVerifier`] traits.
//!
//! josekit's own signers start a fresh `EVP_DigestSign` context for every
//! signature: OpenSSL 3 fetches the algorithm from its provider store and
//! copies the key's state each time, which cost a third as much as the ES256
//! signature itself on the token path. Here the message is hashed with
//! SHA-256 (the `sha2` crate: OpenSSL 3's one-shot `SHA256` fetches the
//! digest from the provider store on every call) and the digest signed or verified with `EVP_PKEY_sign` /
//! `EVP_PKEY_verify` on a context made ready once (padding, digest) and
//! reused, as `openssl speed` measures. A context serves one operation at a
//! time, so each key keeps a few idle ones; a thread takes one, or prepares
//! another when all are in use. EdDSA stays with josekit: Ed25519 signs the
//! whole message, not a digest.

use crate::JoseError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jws::{JwsAlgorithm, JwsSigner, JwsVerifier, ES256, PS256, RS256};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::error::ErrorStack;
use openssl::md::Md;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, Id, PKey, Private, Public};
use openssl::pkey_ctx::{PkeyCtx, PkeyCtxRef};
use openssl::rsa::{Padding, Rsa};
use openssl::sign::RsaPssSaltlen;
use portcullis_core::SigningAlgorithm;
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::{Arc, Mutex};

/// Idle contexts kept per key; more are made when more threads sign at once.
const MAX_IDLE: usize = 16;
/// The size of each of ES256's `r` and `s` (RFC 7518 §3.4).
const P256_SCALAR: usize = 32;
/// RFC 7518 §3.3 and §3.5: RSA keys of at least 2048 bits.
const MIN_RSA_BITS: u32 = 2048;

/// How the digest is signed, for the three algorithms kept here.
#[derive(Clone, Copy, Debug)]
enum Scheme {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RS256).
    Pkcs1,
    /// RSASSA-PSS with SHA-256, MGF1 with SHA-256, a 32-byte salt (PS256, RFC 7518 §3.5).
    Pss,
    /// ECDSA on P-256 with SHA-256 (ES256).
    Ecdsa,
}

impl Scheme {
    fn of(alg: SigningAlgorithm) -> Result<Self, JoseError> {
        match alg {
            SigningAlgorithm::Rs256 => Ok(Self::Pkcs1),
            SigningAlgorithm::Ps256 => Ok(Self::Pss),
            SigningAlgorithm::Es256 => Ok(Self::Ecdsa),
            SigningAlgorithm::EdDsa => Err(JoseError::Generate("EdDSA is not signed with a digest".into())),
        }
    }

    fn algorithm(self) -> &'static dyn JwsAlgorithm {
        match self {
            Self::Pkcs1 => &RS256,
            Self::Pss => &PS256,
            Self::Ecdsa => &ES256,
        }
    }

    /// Sets what `EVP_PKEY_sign` / `EVP_PKEY_verify` need beyond the key.
    fn configure<T>(self, ctx: &mut PkeyCtx<T>) -> Result<(), ErrorStack> {
        ctx.set_signature_md(Md::sha256())?;
        match self {
            Self::Pkcs1 => ctx.set_rsa_padding(Padding::PKCS1),
            Self::Pss => {
                ctx.set_rsa_padding(Padding::PKCS1_PSS)?;
                ctx.set_rsa_mgf1_md(Md::sha256())?;
                ctx.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)
            }
            Self::Ecdsa => Ok(()),
        }
    }

    /// Checks that `key` is of this scheme's type and strength.
    fn admits<T: HasPublic>(self, key: &PKey<T>) -> Result<(), String> {
        match self {
            Self::Pkcs1 | Self::Pss if key.id() != Id::RSA => Err("an RSA key is required".into()),
            Self::Pkcs1 | Self::Pss if key.bits() < MIN_RSA_BITS => {
                Err(format!("an RSA key of at least {MIN_RSA_BITS} bits is required"))
            }
            Self::Ecdsa if key.id() != Id::EC || !on_p256(key) => Err("a P-256 key is required".into()),
            _ => Ok(()),
        }
    }
}

fn on_p256<T: HasPublic>(key: &PKey<T>) -> bool {
    key.ec_key().is_ok_and(|ec| ec.group().curve_name() == Some(Nid::X9_62_PRIME256V1))
}

/// One key's prepared contexts for one operation (signing or verifying).
struct Contexts<T> {
    key: PKey<T>,
    scheme: Scheme,
    idle: Mutex<Vec<PkeyCtx<T>>>,
}

impl<T> fmt::Debug for Contexts<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Contexts {{ scheme: {:?}, key: [redacted] }}", self.scheme)
    }
}

impl<T> Contexts<T> {
    fn new(key: PKey<T>, scheme: Scheme) -> Self {
        Self { key, scheme, idle: Mutex::new(Vec::new()) }
    }

    /// Runs `operation` on an idle context, or on one prepared by `init`
    /// (`EVP_PKEY_sign_init` or `_verify_init`) and [`Scheme::configure`].
    /// A context that failed is dropped rather than kept.
    fn with<R>(
        &self,
        init: fn(&mut PkeyCtxRef<T>) -> Result<(), ErrorStack>,
        operation: impl FnOnce(&mut PkeyCtx<T>) -> Result<R, ErrorStack>,
    ) -> Result<R, ErrorStack> {
        let idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
        let mut ctx = match idle {
            Some(ctx) => ctx,
            None => {
                let mut ctx = PkeyCtx::new(&self.key)?;
                init(&mut ctx)?;
                self.scheme.configure(&mut ctx)?;
                ctx
            }
        };
        let result = operation(&mut ctx)?;
        let mut idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(ctx);
        }
        Ok(result)
    }
}

/// Signs RS256, PS256 or ES256 with a private key's kept contexts.
#[derive(Clone, Debug)]
pub(crate) struct KeptSigner(Arc<Contexts<Private>>);

impl KeptSigner {
    /// A signer for `alg` (not EdDSA) from a PKCS#8 DER private key of the
    /// matching type.
    pub(crate) fn from_pkcs8_der(alg: SigningAlgorithm, der: &[u8]) -> Result<Self, JoseError> {
        let scheme = Scheme::of(alg)?;
        let key = PKey::private_key_from_der(der).map_err(|e| JoseError::Generate(e.to_string()))?;
        scheme.admits(&key).map_err(JoseError::Generate)?;
        Ok(Self(Arc::new(Contexts::new(key, scheme))))
    }
}

impl JwsSigner for KeptSigner {
    fn algorithm(&self) -> &dyn JwsAlgorithm {
        self.0.scheme.algorithm()
    }

    fn key_id(&self) -> Option<&str> {
        None
    }

    fn signature_len(&self) -> usize {
        match self.0.scheme {
            Scheme::Ecdsa => 2 * P256_SCALAR,
            Scheme::Pkcs1 | Scheme::Pss => self.0.key.size(),
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, josekit::JoseError> {
        let digest = Sha256::digest(message);
        let signature = (|| {
            let mut signature = Vec::with_capacity(self.0.key.size());
            self.0.with(PkeyCtxRef::sign_init, |ctx| ctx.sign_to_vec(&digest, &mut signature))?;
            match self.0.scheme {
                // RFC 7518 §3.4: R and S, each 32 bytes, not the DER OpenSSL writes.
                Scheme::Ecdsa => {
                    let der = EcdsaSig::from_der(&signature)?;
                    let mut raw = der.r().to_vec_padded(P256_SCALAR as i32)?;
                    raw.extend(der.s().to_vec_padded(P256_SCALAR as i32)?);
                    Ok(raw)
                }
                Scheme::Pkcs1 | Scheme::Pss => Ok(signature),
            }
        })();
        signature.map_err(|e: ErrorStack| josekit::JoseError::InvalidSignature(e.into()))
    }

    fn box_clone(&self) -> Box<dyn JwsSigner> {
        Box::new(self.clone())
    }
}

/// Verifies RS256, PS256 or ES256 with a public key's kept contexts.
#[derive(Clone, Debug)]
pub(crate) struct KeptVerifier(Arc<Contexts<Public>>);

impl KeptVerifier {
    /// A verifier for `alg` (not EdDSA) from the `n`/`e` (RSA) or `x`/`y`
    /// (P-256) of a JWK that josekit has already checked for `alg`.
    pub(crate) fn from_jwk(alg: SigningAlgorithm, jwk: &josekit::jwk::Jwk) -> Result<Self, JoseError> {
        let scheme = Scheme::of(alg)?;
        {
            let number = |name: &str| -> Result<BigNum, JoseError> {
                let text = jwk.parameter(name).and_then(|value| value.as_str());
                let bytes = text
                    .and_then(|text| URL_SAFE_NO_PAD.decode(text).ok())
                    .ok_or_else(|| JoseError::Generate(format!("the key has no valid {name}")))?;
                BigNum::from_slice(&bytes).map_err(|e| JoseError::Generate(e.to_string()))
            };
            let openssl = |e: ErrorStack| JoseError::Generate(e.to_string());
            let key = match scheme {
                Scheme::Pkcs1 | Scheme::Pss => {
                    PKey::from_rsa(Rsa::from_public_components(number("n")?, number("e")?).map_err(openssl)?)
                }
                Scheme::Ecdsa => {
                    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(openssl)?;
                    let (x, y) = (number("x")?, number("y")?);
                    let key = EcKey::from_public_key_affine_coordinates(&group, &x, &y).map_err(openssl)?;
                    key.check_key().map_err(openssl)?;
                    PKey::from_ec_key(key)
                }
            }
            .map_err(openssl)?;
            scheme.admits(&key).map_err(JoseError::Generate)?;
            Ok(Self(Arc::new(Contexts::new(key, scheme))))
        }
    }
}

impl JwsVerifier for KeptVerifier {
    fn algorithm(&self) -> &dyn JwsAlgorithm {
        self.0.scheme.algorithm()
    }

    fn key_id(&self) -> Option<&str> {
        None
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), josekit::JoseError> {
        let invalid = |why: &str| josekit::JoseError::InvalidSignature(anyhow::anyhow!("{why}"));
        let signature = match self.0.scheme {
            // RFC 7518 §3.4: exactly R and S, 32 bytes each.
            Scheme::Ecdsa => {
                if signature.len() != 2 * P256_SCALAR {
                    return Err(invalid("an ES256 signature is 64 bytes"));
                }
                let (r, s) = signature.split_at(P256_SCALAR);
                let der = (|| {
                    EcdsaSig::from_private_components(BigNum::from_slice(r)?, BigNum::from_slice(s)?)?
                        .to_der()
                })();
                der.map_err(|_| invalid("the signature is not an ECDSA signature"))?
            }
            Scheme::Pkcs1 | Scheme::Pss => signature.to_vec(),
        };
        let digest = Sha256::digest(message);
        match self.0.with(PkeyCtxRef::verify_init, |ctx| ctx.verify(&digest, &signature)) {
            Ok(true) => Ok(()),
            Ok(false) | Err(_) => Err(invalid("the signature does not match")),
        }
    }

    fn box_clone(&self) -> Box<dyn JwsVerifier> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing_key::GeneratedKey;
    use josekit::jwk::Jwk;

    /// A key for `alg`: its PKCS#8 DER and public JWK.
    fn key(alg: SigningAlgorithm) -> (Vec<u8>, Jwk) {
        let generated = GeneratedKey::generate(alg).unwrap();
        let jwk = Jwk::from_bytes(serde_json::to_vec(&generated.public_jwk).unwrap()).unwrap();
        (generated.private_pkcs8.to_vec(), jwk)
    }

    fn josekit_signer(alg: SigningAlgorithm, der: &[u8]) -> Box<dyn JwsSigner> {
        match alg {
            SigningAlgorithm::Rs256 => Box::new(RS256.signer_from_der(der).unwrap()),
            SigningAlgorithm::Ps256 => Box::new(PS256.signer_from_der(der).unwrap()),
            SigningAlgorithm::Es256 => Box::new(ES256.signer_from_der(der).unwrap()),
            SigningAlgorithm::EdDsa => unreachable!(),
        }
    }

    fn josekit_verifier(alg: SigningAlgorithm, jwk: &Jwk) -> Box<dyn JwsVerifier> {
        match alg {
            SigningAlgorithm::Rs256 => Box::new(RS256.verifier_from_jwk(jwk).unwrap()),
            SigningAlgorithm::Ps256 => Box::new(PS256.verifier_from_jwk(jwk).unwrap()),
            SigningAlgorithm::Es256 => Box::new(ES256.verifier_from_jwk(jwk).unwrap()),
            SigningAlgorithm::EdDsa => unreachable!(),
        }
    }

    const KEPT: [SigningAlgorithm; 3] =
        [SigningAlgorithm::Rs256, SigningAlgorithm::Ps256, SigningAlgorithm::Es256];

    #[test]
    fn kept_signatures_verify_with_josekit_and_josekit_signatures_with_kept_contexts() {
        for alg in KEPT {
            let (der, jwk) = key(alg);
            let kept_signer = KeptSigner::from_pkcs8_der(alg, &der).unwrap();
            let kept_verifier = KeptVerifier::from_jwk(alg, &jwk).unwrap();
            assert_eq!(kept_signer.algorithm().name(), alg.to_string());
            // Several messages through the same kept contexts, each checked both ways.
            for message in [&b"header.payload"[..], b"", b"another.message"] {
                let signature = kept_signer.sign(message).unwrap();
                assert_eq!(signature.len(), kept_signer.signature_len(), "{alg}");
                josekit_verifier(alg, &jwk).verify(message, &signature).unwrap();
                kept_verifier.verify(message, &signature).unwrap();
                let theirs = josekit_signer(alg, &der).sign(message).unwrap();
                kept_verifier.verify(message, &theirs).unwrap();
            }
        }
    }

    #[test]
    fn altered_messages_and_signatures_are_refused_and_the_verifier_stays_usable() {
        for alg in KEPT {
            let (der, jwk) = key(alg);
            let signer = KeptSigner::from_pkcs8_der(alg, &der).unwrap();
            let verifier = KeptVerifier::from_jwk(alg, &jwk).unwrap();
            let signature = signer.sign(b"message").unwrap();
            assert!(verifier.verify(b"messagf", &signature).is_err(), "{alg}");
            let mut flipped = signature.clone();
            flipped[5] ^= 1;
            assert!(verifier.verify(b"message", &flipped).is_err(), "{alg}");
            assert!(verifier.verify(b"message", &signature[1..]).is_err(), "{alg}");
            assert!(verifier.verify(b"message", &[]).is_err(), "{alg}");
            assert!(verifier.verify(b"message", &[0; 64]).is_err(), "{alg}");
            verifier.verify(b"message", &signature).unwrap();
            // Another key's signature.
            let (other, _) = key(alg);
            let theirs = KeptSigner::from_pkcs8_der(alg, &other).unwrap().sign(b"message").unwrap();
            assert!(verifier.verify(b"message", &theirs).is_err(), "{alg}");
        }
    }

    #[test]
    fn keys_of_another_type_are_refused() {
        let (rsa, rsa_jwk) = key(SigningAlgorithm::Rs256);
        let (ec, ec_jwk) = key(SigningAlgorithm::Es256);
        let (ed, _) = key(SigningAlgorithm::EdDsa);
        assert!(KeptSigner::from_pkcs8_der(SigningAlgorithm::Es256, &rsa).is_err());
        assert!(KeptSigner::from_pkcs8_der(SigningAlgorithm::Rs256, &ec).is_err());
        assert!(KeptSigner::from_pkcs8_der(SigningAlgorithm::Ps256, &ed).is_err());
        assert!(KeptSigner::from_pkcs8_der(SigningAlgorithm::EdDsa, &ed).is_err());
        assert!(KeptSigner::from_pkcs8_der(SigningAlgorithm::Es256, b"garbage").is_err());
        assert!(KeptVerifier::from_jwk(SigningAlgorithm::Es256, &rsa_jwk).is_err());
        assert!(KeptVerifier::from_jwk(SigningAlgorithm::Rs256, &ec_jwk).is_err());
        // A point off the curve.
        let mut off = ec_jwk.clone();
        off.set_parameter("y", Some(serde_json::json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE")))
            .unwrap();
        assert!(KeptVerifier::from_jwk(SigningAlgorithm::Es256, &off).is_err());
    }

    #[test]
    fn threads_signing_at_once_each_get_a_context_and_no_more_are_kept_than_the_bound() {
        let (der, jwk) = key(SigningAlgorithm::Es256);
        let signer = KeptSigner::from_pkcs8_der(SigningAlgorithm::Es256, &der).unwrap();
        let verifier = KeptVerifier::from_jwk(SigningAlgorithm::Es256, &jwk).unwrap();
        std::thread::scope(|scope| {
            for thread in 0..2 * MAX_IDLE {
                let (signer, verifier) = (&signer, &verifier);
                scope.spawn(move || {
                    for i in 0..20 {
                        let message = format!("{thread}.{i}");
                        verifier
                            .verify(message.as_bytes(), &signer.sign(message.as_bytes()).unwrap())
                            .unwrap();
                    }
                });
            }
        });
        assert!(signer.0.idle.lock().unwrap().len() <= MAX_IDLE);
        assert!(!verifier.0.idle.lock().unwrap().is_empty());
    }

    #[test]
    fn debug_shows_no_key() {
        let (der, _) = key(SigningAlgorithm::Es256);
        let shown = format!("{:?}", KeptSigner::from_pkcs8_der(SigningAlgorithm::Es256, &der).unwrap());
        assert_eq!(shown, "KeptSigner(Contexts { scheme: Ecdsa, key: [redacted] })");
    }
}
