//! `POST /introspect` (RFC 7662) and `POST /revoke` (RFC 7009).

use crate::helpers::{new_kek, settings, spawn_with, TestApp, ISSUER};
use crate::token::{register, service};
use chrono::Utc;
use portcullis_core::SigningAlgorithm;
use portcullis_jose::{AccessTokenClaims, GeneratedKey, SigningKey};
use portcullis_oauth::endpoints;
use portcullis_server::KeyRing;
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use serde_json::{json, Value};
use std::time::Duration;

impl TestApp {
    pub async fn introspect(&self, (id, secret): (&str, &str), token: &str) -> reqwest::Response {
        let body = format!("token={token}");
        self.post_form(endpoints::INTROSPECT, &body).basic_auth(id, Some(secret)).send().await.unwrap()
    }

    pub async fn is_active(&self, caller: (&str, &str), token: &str) -> bool {
        let response = self.introspect(caller, token).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: Value = response.json().await.unwrap();
        if body["active"] == false {
            assert_eq!(body, json!({"active": false}), "an inactive token reveals nothing");
        }
        body["active"] == true
    }

    pub async fn revoke(&self, (id, secret): (&str, &str), token: &str) -> reqwest::Response {
        let body = format!("token={token}&token_type_hint=access_token");
        self.post_form(endpoints::REVOKE, &body).basic_auth(id, Some(secret)).send().await.unwrap()
    }

    pub async fn access_token(&self, (id, secret): (&str, &str)) -> String {
        let body: Value = self.token(id, secret, "").await.json().await.unwrap();
        body["access_token"].as_str().expect("a token").to_owned()
    }
}

fn claims(iss: &str) -> AccessTokenClaims {
    let now = Utc::now().timestamp();
    AccessTokenClaims {
        iss: iss.to_owned(),
        sub: "x".into(),
        aud: ISSUER.into(),
        client_id: "x".into(),
        scope: None,
        jti: uuid::Uuid::new_v4().to_string(),
        grant_id: None,
        iat: now,
        nbf: None,
        exp: now + 300,
        userinfo_claims: Vec::new(),
        cnf: None,
        act: None,
    }
}

/// The claims of the JWT introspection answer `jwt`, verified by
/// jsonwebtoken with the published keys, for the audience `aud`.
async fn verified(app: &TestApp, jwt: &str, aud: &str) -> Value {
    let jwks: jsonwebtoken::jwk::JwkSet = app.get(endpoints::JWKS).await.json().await.unwrap();
    let header = jsonwebtoken::decode_header(jwt).unwrap();
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[aud]);
    validation.set_issuer(&[ISSUER]);
    validation.required_spec_claims = ["iss", "aud"].into_iter().map(String::from).collect();
    validation.validate_exp = false;
    jsonwebtoken::decode::<Value>(jwt, &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .unwrap()
        .claims
}

async fn error(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    response.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned()
}

backend_tests! {
    #[tokio::test]
    async fn a_resource_server_may_ask_for_a_signed_answer(db) {
        let svc = service(&db);
        let plain = register(&db, json!({"client_name": "RS2", "introspection_allowed": true}));
        let app = spawn_with(settings(&db, &new_kek()));
        let token = app.access_token((&svc.0, &svc.1)).await;
        let jwt_answer = |(id, secret): &(String, String), token: &str| {
            app.post_form(endpoints::INTROSPECT, &format!("token={token}"))
                .basic_auth(id, Some(secret))
                .header("accept", "application/json;q=0.5, Application/Token-Introspection+JWT")
                .send()
        };
        for (alg, expected) in [("ES256", jsonwebtoken::Algorithm::ES256), ("PS256", jsonwebtoken::Algorithm::PS256),
                                ("EdDSA", jsonwebtoken::Algorithm::EdDSA)] {
            let rs = register(&db, json!({"client_name": alg, "introspection_allowed": true, "introspection_signed_response_alg": alg}));
            let response = jwt_answer(&rs, &token).await.unwrap();
            assert_eq!(response.headers()["content-type"], "application/token-introspection+jwt");
            assert_eq!(response.headers()["cache-control"], "no-store");
            let signed = response.text().await.unwrap();
            let header = jsonwebtoken::decode_header(&signed).unwrap();
            assert_eq!((header.typ.as_deref(), header.alg), (Some("token-introspection+jwt"), expected));
            let claims = verified(&app, &signed, &rs.0).await;
            assert_eq!((claims["iss"].as_str(), claims["aud"].as_str()), (Some(ISSUER), Some(rs.0.as_str())));
            assert!(claims["iat"].is_i64() && claims.get("sub").is_none() && claims.get("exp").is_none(), "{claims}");
            let answer = &claims["token_introspection"];
            assert_eq!((answer["active"].as_bool(), answer["client_id"].as_str()), (Some(true), Some(svc.0.as_str())), "{claims}");
        }

        let inactive = verified(&app, &jwt_answer(&plain, "forged").await.unwrap().text().await.unwrap(), &plain.0).await;
        assert_eq!(inactive["token_introspection"], json!({"active": false}));
        let plain_signed = jwt_answer(&plain, &token).await.unwrap().text().await.unwrap();
        assert_eq!(jsonwebtoken::decode_header(&plain_signed).unwrap().alg, jsonwebtoken::Algorithm::RS256, "RS256 by default");
        let json_answer: Value = app.introspect((&plain.0, &plain.1), &token).await.json().await.unwrap();
        assert_eq!(json_answer["active"], true, "JSON unless a JWT is asked for");
        let discovery = app.get_json(endpoints::OPENID_CONFIGURATION).await;
        assert_eq!(discovery["introspection_signing_alg_values_supported"], json!(["RS256", "ES256", "PS256", "EdDSA"]));
    }

    #[tokio::test]
    async fn an_active_token_introspects_with_its_claims(db) {
        let (id, secret) = service(&db);
        let app = spawn_with(settings(&db, &new_kek()));
        let token = app.access_token((&id, &secret)).await;
        let body: Value = app.introspect((&id, &secret), &token).await.json().await.unwrap();
        assert_eq!(body["active"], true);
        for (name, value) in [("scope", json!("read write")), ("client_id", json!(id)), ("sub", json!(id)),
                              ("aud", json!(ISSUER)), ("iss", json!(ISSUER)), ("token_type", json!("Bearer"))] {
            assert_eq!(body[name], value, "{name}");
        }
        for name in ["exp", "iat"] {
            assert!(body[name].is_i64(), "{name}");
        }
        assert!(body["jti"].is_string());
    }

    #[tokio::test]
    async fn every_kind_of_inactive_token_is_only_active_false(db) {
        let caller = service(&db);
        let caller = (caller.0.as_str(), caller.1.as_str());
        let (short, short_secret) = register(&db, json!({"client_name": "short", "access_token_lifetime": 1}));
        let kek = new_kek();
        let app = spawn_with(settings(&db, &kek));
        let expiring = app.access_token((&short, &short_secret)).await;
        let ring = KeyRing::open(&db.connect(), portcullis_jose::KeyEncryptionKey::from_base64(&kek).unwrap()).unwrap();
        let keys = ring.current();
        let ours = keys.signer(SigningAlgorithm::Rs256).unwrap();
        let foreign_issuer = claims("https://evil.example").sign(ours).unwrap();
        let generated = GeneratedKey::generate(SigningAlgorithm::Rs256).unwrap();
        // A stranger's key claiming our kid: the signature does not verify.
        let impostor = SigningKey::from_pkcs8_der(SigningAlgorithm::Rs256, ours.kid().to_owned(), &generated.private_pkcs8).unwrap();
        let wrongly_signed = claims(ISSUER).sign(&impostor).unwrap();
        let unknown_client = claims(ISSUER).sign(ours).unwrap();
        tokio::time::sleep(Duration::from_millis(2100)).await;
        for (kind, token) in [
            ("expired", expiring.as_str()),
            ("foreign issuer", &foreign_issuer),
            ("wrongly signed", &wrongly_signed),
            ("of no client", &unknown_client),
            ("malformed", "not-a-token"),
            ("three garbage parts", "a.b.c"),
        ] {
            assert!(!app.is_active(caller, token).await, "{kind}");
        }
    }

    #[tokio::test]
    async fn only_clients_allowed_to_introspect_may(db) {
        let caller = service(&db);
        let (plain, plain_secret) = register(&db, json!({"client_name": "plain"}));
        let app = spawn_with(settings(&db, &new_kek()));
        let token = app.access_token((&plain, &plain_secret)).await;
        assert_eq!(error(app.introspect((&plain, &plain_secret), &token).await, 403).await, "access_denied");
        assert_eq!(error(app.introspect((&caller.0, "wrong"), &token).await, 401).await, "invalid_client");
        let missing = app.post_form(endpoints::INTROSPECT, "").basic_auth(&caller.0, Some(&caller.1)).send().await.unwrap();
        assert_eq!(error(missing, 400).await, "invalid_request");
        let get = app.client.get(format!("{}{}", app.address, endpoints::INTROSPECT)).send().await.unwrap();
        assert_eq!(get.status(), 405);
    }

    #[tokio::test]
    async fn a_client_revokes_its_own_token_and_it_is_inactive_at_once(db) {
        let (id, secret) = service(&db);
        let app = spawn_with(settings(&db, &new_kek()));
        let token = app.access_token((&id, &secret)).await;
        let other = app.access_token((&id, &secret)).await;
        let response = app.revoke((&id, &secret), &token).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert!(!app.is_active((&id, &secret), &token).await);
        assert!(app.is_active((&id, &secret), &other).await, "only that token is revoked");
        assert_eq!(app.revoke((&id, &secret), &token).await.status(), 200, "revoking twice is fine");
        assert_eq!(app.revoke((&id, &secret), "unknown-token").await.status(), 200, "RFC 7009 §2.2");
    }

    #[tokio::test]
    async fn another_clients_token_is_not_revoked(db) {
        let owner = service(&db);
        let (thief, thief_secret) = register(&db, json!({"client_name": "thief"}));
        let app = spawn_with(settings(&db, &new_kek()));
        let token = app.access_token((&owner.0, &owner.1)).await;
        assert_eq!(error(app.revoke((&thief, &thief_secret), &token).await, 400).await, "unauthorized_client");
        assert!(app.is_active((&owner.0, &owner.1), &token).await);
        assert_eq!(error(app.revoke((&thief, "wrong"), &token).await, 401).await, "invalid_client");
        let missing = app.post_form(endpoints::REVOKE, "").basic_auth(&thief, Some(&thief_secret)).send().await.unwrap();
        assert_eq!(error(missing, 400).await, "invalid_request");
    }

    #[tokio::test]
    async fn a_disabled_clients_tokens_turn_inactive_and_it_cannot_authenticate(db) {
        let caller = service(&db);
        let (id, secret) = register(&db, json!({"client_name": "soon disabled"}));
        let app = spawn_with(settings(&db, &new_kek()));
        let token = app.access_token((&id, &secret)).await;
        assert!(app.is_active((&caller.0, &caller.1), &token).await);
        portcullis_store::clients::set_disabled(&mut db.connect().get().unwrap(), &id, true, false).unwrap();
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert!(!app.is_active((&caller.0, &caller.1), &token).await);
        assert_eq!(error(app.token(&id, &secret, "").await, 401).await, "invalid_client");
    }

    #[tokio::test]
    async fn malformed_introspection_and_revocation_requests_get_invalid_request(db) {
        let (id, secret) = service(&db);
        let app = spawn_with(settings(&db, &new_kek()));
        let token = app.access_token((&id, &secret)).await;
        for path in [endpoints::INTROSPECT, endpoints::REVOKE] {
            let form = |body: String| app.post_form(path, &body).basic_auth(&id, Some(&secret));
            let raw = |content_type: &str, body: Vec<u8>| {
                app.client.post(format!("{}{path}", app.address)).basic_auth(&id, Some(&secret))
                    .header("content-type", content_type).body(body)
            };
            for (case, request) in [
                ("repeated token", form(format!("token={token}&token={token}"))),
                ("oversized", form(format!("token={token}&pad={}", "x".repeat(20_000)))),
                ("not UTF-8", raw("application/x-www-form-urlencoded", b"token=\xff".to_vec())),
                ("JSON body", raw("application/json", format!(r#"{{"token":"{token}"}}"#).into_bytes())),
                ("empty token", form("token=".to_owned())),
            ] {
                let response = request.send().await.unwrap();
                assert_eq!(error(response, 400).await, "invalid_request", "{path}: {case}");
            }
        }
        assert!(app.is_active((&id, &secret), &token).await, "nothing was revoked by the malformed requests");
    }
}

#[tokio::test]
async fn revocations_from_before_a_start_are_honoured() {
    let db = TestDb::sqlite();
    let (id, secret) = service(&db);
    let kek = new_kek();
    let first = spawn_with(settings(&db, &kek));
    let token = first.access_token((&id, &secret)).await;
    assert_eq!(first.revoke((&id, &secret), &token).await.status(), 200);
    let second = spawn_with(settings(&db, &kek));
    assert!(!second.is_active((&id, &secret), &token).await);
}
