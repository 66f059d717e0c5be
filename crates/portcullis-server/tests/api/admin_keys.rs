//! The admin API for signing keys: staged rotation (next → active →
//! retired), rotation in one call, revocation, on every instance (issue 5).

use crate::admin_clients::Admin;
use crate::helpers::{new_kek, settings, spawn_with};
use crate::token::register;
use josekit::jwk::JwkSet;
use josekit::jws::{EdDSA, JwsVerifier, ES256, PS256, RS256};
use portcullis_core::SigningAlgorithm;
use portcullis_oauth::endpoints;
use portcullis_store::backend_tests;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

/// Whether `token` verifies against `jwks` (a JWK Set a verifier cached),
/// with the algorithm its header names.
fn verifies(jwks: &[u8], token: &str) -> bool {
    let jwks = JwkSet::from_bytes(jwks).unwrap();
    let header = josekit::jwt::decode_header(token).unwrap();
    let kid = header.claim("kid").and_then(Value::as_str).unwrap();
    let Some(jwk) = jwks.get(kid).first().copied() else { return false };
    let verifier: Box<dyn JwsVerifier> = match header.claim("alg").and_then(Value::as_str).unwrap() {
        "RS256" => Box::new(RS256.verifier_from_jwk(jwk).unwrap()),
        "ES256" => Box::new(ES256.verifier_from_jwk(jwk).unwrap()),
        "PS256" => Box::new(PS256.verifier_from_jwk(jwk).unwrap()),
        "EdDSA" => Box::new(EdDSA.verifier_from_jwk(jwk).unwrap()),
        other => panic!("unexpected alg {other}"),
    };
    josekit::jwt::decode_with_verifier(token, verifier.as_ref()).is_ok()
}

/// The first token `app` issues to `caller` signed by `kid`: a new key
/// signs once published for `PUBLISHED_BEFORE_SIGNING`, the key it replaced
/// until then.
async fn signed_by(app: &crate::helpers::TestApp, caller: (&str, &str), kid: &str) -> String {
    let waited = std::time::Instant::now();
    loop {
        let token = app.access_token(caller).await;
        if kid_of(&token) == kid {
            return token;
        }
        assert!(waited.elapsed() < Duration::from_secs(5), "{kid} never signed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn kid_of(token: &str) -> String {
    josekit::jwt::decode_header(token).unwrap().claim("kid").and_then(Value::as_str).unwrap().to_owned()
}

async fn json_of(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.unwrap()
}

backend_tests! {
    #[tokio::test]
    async fn the_rotation_job_stages_each_next_key_when_it_is_due(db) {
        use portcullis_app::audit::Query;
        let mut at = settings(&db, &new_kek());
        // The keys made at start are 30 days old by the server's clock.
        at.clock = portcullis_app::Clock::manual(chrono::Utc::now() + chrono::TimeDelta::days(30));
        at.key_rotation = Some(Duration::from_secs(30 * 86_400));
        let _app = spawn_with(at);
        let operations = portcullis_app::App::with_defaults(db.connect());
        let staged = || {
            let page = operations.audit_entries(&portcullis_app::Actor::operator(), Query { limit: 50, ..Query::default() }).unwrap();
            page.entries.into_iter().filter(|e| e.actor == "system:key_rotation" && e.action == "key.staged").count()
        };
        for _ in 0..50 {
            if staged() == 2 { break }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(staged(), 2, "one next key per algorithm, staged by the job");
    }

    #[tokio::test]
    async fn a_staged_key_verifies_with_a_jwks_cached_before_it_signed(db) {
        let caller = register(&db, json!({"client_name": "rs", "introspection_allowed": true}));
        let service = crate::token::service(&db);
        let admin = Admin::start(&db).await;
        let listed = json_of(admin.send(Method::GET, "/keys", None).await, 200).await;
        let keys = listed["keys"].as_array().unwrap();
        assert_eq!(keys.len(), SigningAlgorithm::ALL.len());
        assert!(keys.iter().all(|k| k["state"] == "active" && k["published"] == true));
        for private in ["\"d\"", "private", "sealed", "\"p\""] {
            assert!(!listed.to_string().contains(private), "a private part is shown: {private}");
        }
        let old_token = admin.app.access_token((&service.0, &service.1)).await;
        let old_kid = kid_of(&old_token);

        let next = json_of(admin.send(Method::POST, "/keys", Some(json!({"alg": "RS256"}))).await, 201).await;
        assert_eq!(next["state"], "next");
        let next_kid = next["kid"].as_str().unwrap().to_owned();
        let cached = admin.app.get(endpoints::JWKS).await.bytes().await.unwrap();
        assert!(String::from_utf8_lossy(&cached).contains(&next_kid), "a next key is published before it signs");
        assert_eq!(kid_of(&admin.app.access_token((&service.0, &service.1)).await), old_kid, "a next key does not sign");

        let activated = json_of(admin.send(Method::POST, &format!("/keys/{next_kid}/activate"), None).await, 200).await;
        let state_of = |kid: &str| activated["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid).unwrap()["state"].clone();
        assert_eq!((state_of(&next_kid), state_of(&old_kid)), (json!("active"), json!("retired")));
        let new_token = signed_by(&admin.app, (&service.0, &service.1), &next_kid).await;
        assert!(verifies(&cached, &new_token), "the JWKS cached before activation verifies the new key's tokens");
        let current = admin.app.get(endpoints::JWKS).await.bytes().await.unwrap();
        assert!(verifies(&current, &old_token), "a retired key stays published while its tokens live");
        assert!(admin.app.is_active((&caller.0, &caller.1), &old_token).await);

        // Revoking the retired key: gone from the JWKS, its tokens inactive at once.
        assert_eq!(admin.send(Method::DELETE, &format!("/keys/{old_kid}"), None).await.status(), 200);
        let after = admin.app.get(endpoints::JWKS).await.bytes().await.unwrap();
        assert!(!String::from_utf8_lossy(&after).contains(&old_kid));
        assert!(!admin.app.is_active((&caller.0, &caller.1), &old_token).await);
        assert!(admin.app.is_active((&caller.0, &caller.1), &new_token).await);
    }

    #[tokio::test]
    async fn rotating_or_revoking_the_active_key_never_stops_signing(db) {
        let service = crate::token::service(&db);
        let admin = Admin::start(&db).await;
        let first = kid_of(&admin.app.access_token((&service.0, &service.1)).await);
        let rotated = json_of(admin.send(Method::POST, "/keys/rotate", Some(json!({"alg": "RS256"}))).await, 200).await;
        assert_eq!(rotated["state"], "active");
        let second = rotated["kid"].as_str().unwrap().to_owned();
        assert_eq!(kid_of(&admin.app.access_token((&service.0, &service.1)).await), first, "until published everywhere");
        signed_by(&admin.app, (&service.0, &service.1), &second).await;
        let revoked = json_of(admin.send(Method::DELETE, &format!("/keys/{second}"), None).await, 200).await;
        let third = revoked["replacement"]["kid"].as_str().unwrap().to_owned();
        assert_eq!(revoked["replacement"]["state"], "active");
        // A revoked key never signs again: its replacement signs at once.
        assert_eq!(kid_of(&admin.app.access_token((&service.0, &service.1)).await), third);
        let jwks = String::from_utf8(admin.app.get(endpoints::JWKS).await.bytes().await.unwrap().to_vec()).unwrap();
        assert!(jwks.contains(&first) && jwks.contains(&third) && !jwks.contains(&second));
    }

    #[tokio::test]
    async fn ps256_and_eddsa_keys_sign_for_the_clients_that_chose_them_and_rotate(db) {
        let admin = Admin::start(&db).await;
        for alg in ["PS256", "EdDSA"] {
            let client = register(&db, json!({"client_name": alg, "access_token_signed_response_alg": alg, "introspection_allowed": true}));
            let before = admin.app.access_token((&client.0, &client.1)).await;
            let header = josekit::jwt::decode_header(&before).unwrap();
            assert_eq!(header.claim("alg").and_then(Value::as_str), Some(alg));
            let rotated = json_of(admin.send(Method::POST, "/keys/rotate", Some(json!({"alg": alg}))).await, 200).await;
            assert_eq!(rotated["alg"], alg);
            let after = signed_by(&admin.app, (&client.0, &client.1), rotated["kid"].as_str().unwrap()).await;
            assert_ne!(kid_of(&after), kid_of(&before));
            let jwks = admin.app.get(endpoints::JWKS).await.bytes().await.unwrap();
            assert!(verifies(&jwks, &before) && verifies(&jwks, &after), "{alg}: both published and verifying");
            assert!(admin.app.is_active((&client.0, &client.1), &after).await);
        }
    }

    #[tokio::test]
    async fn key_requests_are_checked(db) {
        let clients_admin = register(&db, json!({"client_name": "clients only", "scope": "admin:clients"}));
        let admin = Admin::start(&db).await;
        for bad in [json!({}), json!({"alg": "HS256"}), json!({"alg": "none"}), json!({"alg": "RS256", "size": 4096})] {
            assert_eq!(admin.send(Method::POST, "/keys", Some(bad.clone())).await.status(), 400, "{bad}");
            assert_eq!(admin.send(Method::POST, "/keys/rotate", Some(bad.clone())).await.status(), 400, "{bad}");
        }
        assert_eq!(admin.send(Method::POST, "/keys/nope/activate", None).await.status(), 404);
        assert_eq!(admin.send(Method::DELETE, "/keys/nope", None).await.status(), 404);
        let active = json_of(admin.send(Method::GET, "/keys", None).await, 200).await["keys"][0]["kid"].as_str().unwrap().to_owned();
        let conflict = json_of(admin.send(Method::POST, &format!("/keys/{active}/activate"), None).await, 409).await;
        assert!(conflict["error_description"].as_str().unwrap().contains("only a next key"));
        let token = admin.app.access_token((&clients_admin.0, &clients_admin.1)).await;
        let refused = admin.app.client.get(format!("{}/admin/v1/keys", admin.app.address)).bearer_auth(token).send().await.unwrap();
        assert_eq!(refused.status(), 403);
    }

    #[tokio::test]
    async fn a_key_made_to_sign_at_once_is_published_everywhere_before_it_signs_anywhere(db) {
        let service = crate::token::service(&db);
        let kek = new_kek();
        let admin = Admin::on(&db, settings(&db, &kek)).await;
        let other = spawn_with(settings(&db, &kek));
        let asked = std::time::Instant::now();
        let rotated = json_of(admin.send(Method::POST, "/keys/rotate", Some(json!({"alg": "RS256"}))).await, 200).await;
        let kid = rotated["kid"].as_str().unwrap().to_owned();
        while !String::from_utf8_lossy(&other.get(endpoints::JWKS).await.bytes().await.unwrap()).contains(&kid) {
            assert!(asked.elapsed() < Duration::from_secs(1), "the key took over a second to be published everywhere");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let mut signed_on = Vec::new();
        for instance in [&admin.app, &other] {
            signed_by(instance, (&service.0, &service.1), &kid).await;
            signed_on.push(asked.elapsed());
        }
        let published_for = portcullis_oauth::key_ring::PUBLISHED_BEFORE_SIGNING.to_std().unwrap();
        assert!(signed_on.iter().all(|at| *at >= published_for), "no instance signed before it was published for long enough: {signed_on:?}");
        assert!(signed_on.iter().all(|at| *at < published_for + Duration::from_secs(1)), "every instance signs with it within a second after: {signed_on:?}");
    }
}
