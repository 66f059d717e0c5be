//! The JWK Set.

use crate::helpers::{new_kek, settings, spawn_app, spawn_with, JWKS_MAX_AGE};
use josekit::jwk::Jwk;
use josekit::jws::{EdDSA, JwsHeader, JwsVerifier, ES256, PS256, RS256};
use josekit::jwt::{self, JwtPayload};
use portcullis_core::SigningAlgorithm;
use portcullis_jose::PublicJwk;
use portcullis_oauth::endpoints;
use portcullis_server::KeyRing;
use portcullis_store::backend_tests;
use std::collections::BTreeSet;

backend_tests! {
    #[tokio::test]
    async fn publishes_one_public_key_per_algorithm_with_thumbprint_kids(db) {
        let app = spawn_app(&db);
        let response = app.get(endpoints::JWKS).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.headers()["cache-control"], format!("public, max-age={JWKS_MAX_AGE}"));
        let jwks: serde_json::Value = response.json().await.unwrap();
        let keys = jwks["keys"].as_array().unwrap();
        let algs: BTreeSet<_> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
        assert_eq!(algs, BTreeSet::from(["ES256", "EdDSA", "PS256", "RS256"]));
        let public_members = BTreeSet::from(["kty", "kid", "alg", "use", "n", "e", "crv", "x", "y"]);
        for key in keys {
            let members: BTreeSet<_> = key.as_object().unwrap().keys().map(String::as_str).collect();
            assert!(members.is_subset(&public_members), "non-public members in {key}");
            assert_eq!(key["use"], "sig");
            let jwk: PublicJwk = serde_json::from_value(key.clone()).unwrap();
            assert_eq!(jwk.kid, jwk.material.thumbprint(), "kid is not the RFC 7638 thumbprint");
        }
    }

    #[tokio::test]
    async fn tokens_signed_with_the_stored_keys_verify_with_the_published_jwks(db) {
        let kek = new_kek();
        let app = spawn_with(settings(&db, &kek));
        let jwks = josekit::jwk::JwkSet::from_bytes(app.get(endpoints::JWKS).await.bytes().await.unwrap()).unwrap();
        let ring = KeyRing::open(&db.connect(), portcullis_jose::KeyEncryptionKey::from_base64(&kek).unwrap()).unwrap();
        for alg in SigningAlgorithm::ALL {
            let keys = ring.current();
            let signer = keys.signer(alg).expect("an active key per algorithm");
            let mut payload = JwtPayload::new();
            payload.set_subject("verified");
            let token = signer.sign_jwt(JwsHeader::new(), &payload).unwrap();
            let header = jwt::decode_header(&token).unwrap();
            let kid = header.claim("kid").and_then(|v| v.as_str()).unwrap();
            let jwk: &Jwk = jwks.get(kid).first().copied().unwrap_or_else(|| panic!("{kid} is not published"));
            let verifier: Box<dyn JwsVerifier> = match alg {
                SigningAlgorithm::Rs256 => Box::new(RS256.verifier_from_jwk(jwk).unwrap()),
                SigningAlgorithm::Es256 => Box::new(ES256.verifier_from_jwk(jwk).unwrap()),
                SigningAlgorithm::Ps256 => Box::new(PS256.verifier_from_jwk(jwk).unwrap()),
                SigningAlgorithm::EdDsa => Box::new(EdDSA.verifier_from_jwk(jwk).unwrap()),
            };
            let (verified, _) = jwt::decode_with_verifier(&token, verifier.as_ref()).unwrap();
            assert_eq!(verified.subject(), Some("verified"));
        }
    }

    #[tokio::test]
    async fn other_methods_are_refused_with_allow(db) {
        let app = spawn_app(&db);
        let response = app.client.post(format!("{}{}", app.address, endpoints::JWKS)).body("x").send().await.unwrap();
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "GET, HEAD");
        let head = app.client.head(format!("{}{}", app.address, endpoints::JWKS)).send().await.unwrap();
        assert_eq!(head.status(), 200);
    }
}
