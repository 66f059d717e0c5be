//! DPoP proofs (RFC 9449 §4): a JWT the client signs with the key its
//! tokens are bound to, sent in the `DPoP` header of each request. This
//! module checks what the proof says of itself: its type, its algorithm, a
//! public key in its header that verifies its signature, and its claims;
//! and makes the server's nonces (§8). What the proof must say of the
//! request (method, URL, time, access token) and its replay are the engine's.

use crate::jwk::KeyMaterial;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use josekit::jwk::Jwk;
use josekit::jws::JwsVerifier;
use josekit::jwt;
use portcullis_core::SigningAlgorithm;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

/// The `typ` of a proof (§4.2).
pub const PROOF_TYPE: &str = "dpop+jwt";
/// The algorithms proofs may be signed with, as advertised
/// (`dpop_signing_alg_values_supported`, §5.1): asymmetric only (§4.2).
pub const PROOF_ALGORITHMS: [&str; 4] = SigningAlgorithm::NAMES;
/// Members of a JWK that only a private key has (RFC 7518 §6): a proof
/// carrying one gives its key away, and is refused (§4.3).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
/// The longest `jti` kept (a UUID is 36 characters).
const MAX_JTI: usize = 128;

/// The claims of a proof (§4.2).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ProofClaims {
    /// Unique per proof, so a replay can be recognised.
    pub jti: String,
    /// The HTTP method of the request.
    pub htm: String,
    /// The URL of the request, without query and fragment.
    pub htu: String,
    /// When the proof was made.
    #[serde(deserialize_with = "crate::numeric_date::required")]
    pub iat: i64,
    /// The hash of the access token sent with it (at a resource, §4.2).
    #[serde(default)]
    pub ath: Option<String>,
    /// A nonce the server gave (§8).
    #[serde(default)]
    pub nonce: Option<String>,
}

/// A proof whose signature verified with the key it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    /// The RFC 7638 thumbprint of its key: what tokens are bound to (`cnf.jkt`, §6.1).
    pub jkt: String,
    /// The algorithm it is signed with.
    pub alg: SigningAlgorithm,
    /// What it says.
    pub claims: ProofClaims,
}

/// The most keys [`ProofKeys`] keeps; past that it starts over.
const KEPT_KEYS: usize = 10_000;

/// Verifiers of the keys proofs are signed with, by key: a client signs
/// every proof with one key, and reading a key into a verifier (OpenSSL
/// checks an EC point in full) costs more than checking a signature. At
/// most [`KEPT_KEYS`], so a flood of fresh keys costs what no cache would.
#[derive(Default)]
pub struct ProofKeys(Mutex<HashMap<String, Arc<dyn JwsVerifier>>>);

impl ProofKeys {
    /// Reads and verifies the DPoP proof `jwt` (§4.3, items 2 to 6); why
    /// not, in a few words, when it is not one.
    pub fn verify(&self, jwt: &str) -> Result<Proof, &'static str> {
        let header = jwt::decode_header(jwt).map_err(|_| "the DPoP proof is not a JWT")?;
        if header.claim("typ").and_then(Value::as_str) != Some(PROOF_TYPE) {
            return Err("the DPoP proof's typ is not dpop+jwt");
        }
        let Some(Ok(alg)) = header.claim("alg").and_then(Value::as_str).map(str::parse::<SigningAlgorithm>)
        else {
            return Err("the DPoP proof's alg is not one this server accepts");
        };
        let Some(Value::Object(jwk)) = header.claim("jwk") else {
            return Err("the DPoP proof has no jwk");
        };
        if PRIVATE_MEMBERS.iter().any(|member| jwk.contains_key(*member)) {
            return Err("the DPoP proof's jwk is a private key");
        }
        let material: KeyMaterial = serde_json::from_value(Value::Object(jwk.clone()))
            .map_err(|_| "the DPoP proof's jwk is not an RSA, EC or OKP public key")?;
        let jkt = material.thumbprint();
        let verifier = self.verifier(alg, &jkt, jwk)?;
        let (payload, _) = jwt::decode_with_verifier(jwt, verifier.as_ref())
            .map_err(|_| "the DPoP proof's signature does not verify")?;
        let claims: ProofClaims = serde_json::from_value(Value::Object(payload.claims_set().clone()))
            .map_err(|_| "the DPoP proof lacks jti, htm, htu or iat")?;
        if claims.jti.is_empty() || claims.jti.len() > MAX_JTI {
            return Err("the DPoP proof's jti is empty or too long");
        }
        Ok(Proof { jkt, alg, claims })
    }

    /// The verifier of `alg` for the key `jwk`, whose thumbprint is `jkt`.
    fn verifier(
        &self,
        alg: SigningAlgorithm,
        jkt: &str,
        jwk: &serde_json::Map<String, Value>,
    ) -> Result<Arc<dyn JwsVerifier>, &'static str> {
        let name = format!("{alg} {jkt}");
        if let Some(kept) = self.0.lock().expect("proof keys lock").get(&name) {
            return Ok(kept.clone());
        }
        let key = Jwk::from_map(jwk.clone()).map_err(|_| "the DPoP proof's jwk cannot be read")?;
        let verifier: Arc<dyn JwsVerifier> = crate::algorithms::verifier(alg, &key)
            .map_err(|_| "the DPoP proof's jwk is not a key of its alg")?
            .into();
        let mut kept = self.0.lock().expect("proof keys lock");
        if kept.len() >= KEPT_KEYS {
            kept.clear();
        }
        kept.insert(name, verifier.clone());
        Ok(verifier)
    }
}

/// The `ath` of a proof sent with `access_token` (§4.2): the base64url
/// SHA-256 of its ASCII.
pub fn access_token_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// The server's nonces (§8): stateless, so every instance with the same
/// key makes and accepts the same ones. A nonce names a step of
/// [`DpopNonces::STEP`] seconds and carries a MAC of it; the current step's
/// nonce, those of the [`DpopNonces::ACCEPTED_STEPS`] before and the next
/// (an instance whose clock turned first) are accepted.
pub struct DpopNonces {
    key: Zeroizing<[u8; 32]>,
}

/// Never printed: the key makes nonces.
impl std::fmt::Debug for DpopNonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DpopNonces([redacted])")
    }
}

impl DpopNonces {
    /// How long each nonce is the current one, in seconds.
    pub const STEP: i64 = 60;
    /// How many steps back a nonce is still accepted.
    pub const ACCEPTED_STEPS: i64 = 2;

    /// Nonces made with `key` (derived from the key-encryption key).
    pub fn new(key: Zeroizing<[u8; 32]>) -> Self {
        Self { key }
    }

    fn mac(&self, step: i64) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_ref()).expect("HMAC takes any key length");
        mac.update(b"dpop nonce\0");
        mac.update(&step.to_be_bytes());
        mac
    }

    /// The nonce current at `now` (seconds since the epoch).
    pub fn current(&self, now: i64) -> String {
        let step = now.div_euclid(Self::STEP);
        let tag = self.mac(step).finalize().into_bytes();
        let mut bytes = step.to_be_bytes().to_vec();
        bytes.extend_from_slice(&tag[..16]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Whether `nonce` is one of ours, current at `now`, at most
    /// [`Self::ACCEPTED_STEPS`] steps old or one step ahead (compared in
    /// constant time).
    pub fn accepts(&self, nonce: &str, now: i64) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(nonce) else { return false };
        if bytes.len() != 24 {
            return false;
        }
        let step = i64::from_be_bytes(bytes[..8].try_into().expect("eight bytes"));
        let current = now.div_euclid(Self::STEP);
        // One step ahead too: another instance's clock may have turned the step first.
        (current - Self::ACCEPTED_STEPS..=current + 1).contains(&step)
            && self.mac(step).verify_truncated_left(&bytes[8..]).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
    use josekit::jwk::alg::ed::{EdCurve, EdKeyPair};
    use josekit::jwk::KeyPair;
    use josekit::jws::{EdDSA, JwsHeader};
    use josekit::jwt::JwtPayload;

    fn proof(pair: &EcKeyPair, typ: &str, jwk: Value, claims: Value) -> String {
        proof_by(pair, SigningAlgorithm::Es256, typ, jwk, claims)
    }

    fn proof_by(pair: &dyn KeyPair, alg: SigningAlgorithm, typ: &str, jwk: Value, claims: Value) -> String {
        let mut header = JwsHeader::new();
        header.set_token_type(typ);
        header.set_claim("jwk", Some(jwk)).unwrap();
        let Value::Object(claims) = claims else { unreachable!() };
        let signer = crate::algorithms::signer(alg, &pair.to_der_private_key()).unwrap();
        jwt::encode_with_signer(&JwtPayload::from_map(claims).unwrap(), &header, signer.as_ref()).unwrap()
    }

    #[test]
    fn proofs_signed_with_ed25519_are_verified_and_ed448_refused() {
        let keys = ProofKeys::default();
        let ed = EdKeyPair::generate(EdCurve::Ed25519).unwrap();
        let public = serde_json::to_value(ed.to_jwk_public_key()).unwrap();
        let checked =
            keys.verify(&proof_by(&ed, SigningAlgorithm::EdDsa, PROOF_TYPE, public.clone(), claims()));
        let material: KeyMaterial = serde_json::from_value(public).unwrap();
        assert_eq!(checked.unwrap().jkt, material.thumbprint());
        let ed448 = EdKeyPair::generate(EdCurve::Ed448).unwrap();
        let mut header = JwsHeader::new();
        header.set_token_type(PROOF_TYPE);
        header.set_claim("jwk", Some(serde_json::to_value(ed448.to_jwk_public_key()).unwrap())).unwrap();
        let Value::Object(claims) = claims() else { unreachable!() };
        let signer = EdDSA.signer_from_der(ed448.to_der_private_key()).unwrap();
        let jwt = jwt::encode_with_signer(&JwtPayload::from_map(claims).unwrap(), &header, &signer).unwrap();
        assert!(keys.verify(&jwt).unwrap_err().contains("not a key of its alg"));
    }

    fn claims() -> Value {
        serde_json::json!({"jti": "j-1", "htm": "POST", "htu": "https://as.example/token", "iat": 1_700_000_000})
    }

    #[test]
    fn a_proof_is_verified_with_the_key_it_carries() {
        let pair = EcKeyPair::generate(EcCurve::P256).unwrap();
        let public = serde_json::to_value(pair.to_jwk_public_key()).unwrap();
        let keys = ProofKeys::default();
        let checked = keys.verify(&proof(&pair, PROOF_TYPE, public.clone(), claims())).unwrap();
        let material: KeyMaterial = serde_json::from_value(public.clone()).unwrap();
        assert_eq!(checked.jkt, material.thumbprint());
        assert_eq!((checked.claims.htm.as_str(), checked.claims.iat), ("POST", 1_700_000_000));

        let other =
            serde_json::to_value(EcKeyPair::generate(EcCurve::P256).unwrap().to_jwk_public_key()).unwrap();
        let private = serde_json::to_value(pair.to_jwk_private_key()).unwrap();
        let mut no_jti = claims();
        no_jti.as_object_mut().unwrap().remove("jti");
        for (jwt, why) in [
            (proof(&pair, "JWT", public.clone(), claims()), "typ"),
            (proof(&pair, PROOF_TYPE, other, claims()), "signature"),
            (proof(&pair, PROOF_TYPE, private, claims()), "private key"),
            (proof(&pair, PROOF_TYPE, public.clone(), no_jti), "lacks"),
            ("eyJhbGciOiJub25lIiwidHlwIjoiZHBvcCtqd3QifQ.e30.".to_owned(), "alg"),
            ("garbage".to_owned(), "not a JWT"),
        ] {
            let refused = keys.verify(&jwt).unwrap_err();
            assert!(refused.contains(why), "{why}: {refused}");
        }
    }

    #[test]
    fn nonces_are_accepted_for_a_few_steps_and_only_ours() {
        let nonces = DpopNonces::new(Zeroizing::new([7; 32]));
        let now = 1_700_000_000;
        let nonce = nonces.current(now);
        assert!(nonces.accepts(&nonce, now));
        assert!(nonces.accepts(&nonce, now + DpopNonces::STEP * DpopNonces::ACCEPTED_STEPS));
        assert!(!nonces.accepts(&nonce, now + DpopNonces::STEP * (DpopNonces::ACCEPTED_STEPS + 1)));
        assert!(nonces.accepts(&nonces.current(now + DpopNonces::STEP), now), "an instance a step ahead");
        assert!(!nonces.accepts(&nonces.current(now + 2 * DpopNonces::STEP), now), "not from further ahead");
        assert!(!DpopNonces::new(Zeroizing::new([8; 32])).accepts(&nonce, now), "another key's");
        assert!(!nonces.accepts("not-a-nonce", now));
        assert_ne!(nonces.current(now), nonces.current(now + DpopNonces::STEP), "rotated every step");
    }
}
