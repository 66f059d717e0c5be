//! `POST /token` with client credentials.

use crate::helpers::{spawn_app, TestApp, ISSUER};
use josekit::jwk::JwkSet;
use josekit::jws::{JwsVerifier, ES256, RS256};
use portcullis_app::{Actor, App};
use portcullis_core::ClientSecret;
use portcullis_oauth::endpoints;
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use serde_json::{json, Value};

/// The application over `db`, as the CLI has it.
pub fn operations(db: &TestDb) -> App {
    App::with_defaults(db.connect())
}

/// Registers a client on `db` with the metadata in `json`.
pub fn register(db: &TestDb, json: Value) -> (String, String) {
    let created = operations(db)
        .create_client(
            &Actor::operator(),
            portcullis_core::ClientMetadata::parse(json.as_object().unwrap().clone()).unwrap(),
        )
        .unwrap();
    (
        created.client.client_id,
        created.secret.as_ref().map(ClientSecret::expose).unwrap_or_default().to_owned(),
    )
}

pub fn service(db: &TestDb) -> (String, String) {
    register(db, json!({"client_name": "svc", "scope": "read write", "introspection_allowed": true}))
}

impl TestApp {
    pub fn post_form(&self, path: &str, body: &str) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
    }

    /// A client-credentials token request with HTTP Basic authentication.
    pub async fn token(&self, id: &str, secret: &str, extra: &str) -> reqwest::Response {
        let body = format!("grant_type=client_credentials{extra}");
        self.post_form(endpoints::TOKEN, &body).basic_auth(id, Some(secret)).send().await.unwrap()
    }

    /// The claims of `token`, verified with the published JWKS by josekit.
    pub async fn verified_claims(&self, token: &str) -> Value {
        let jwks = JwkSet::from_bytes(self.get(endpoints::JWKS).await.bytes().await.unwrap()).unwrap();
        let header = josekit::jwt::decode_header(token).unwrap();
        let claim = |name: &str| header.claim(name).and_then(Value::as_str).unwrap().to_owned();
        assert_eq!(claim("typ"), "at+jwt", "RFC 9068 §2.1");
        let jwk = jwks.get(&claim("kid"))[0];
        let verifier: Box<dyn JwsVerifier> = match claim("alg").as_str() {
            "RS256" => Box::new(RS256.verifier_from_jwk(jwk).unwrap()),
            "ES256" => Box::new(ES256.verifier_from_jwk(jwk).unwrap()),
            other => panic!("unexpected alg {other}"),
        };
        let (payload, _) = josekit::jwt::decode_with_verifier(token, verifier.as_ref()).unwrap();
        Value::Object(payload.claims_set().clone())
    }
}

async fn assert_error(response: reqwest::Response, status: u16, error: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    assert!(body["error_description"].as_str().is_some_and(|d| !d.is_empty()));
    body
}

backend_tests! {
    #[tokio::test]
    async fn basic_authentication_gets_a_verifiable_rfc_9068_token(db) {
        let (id, secret) = service(&db);
        let app = spawn_app(&db);
        let response = app.token(&id, &secret, "").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(response.headers()["pragma"], "no-cache");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 300);
        assert_eq!(body["scope"], "read write");
        assert!(body.get("refresh_token").is_none(), "RFC 6749 §4.4.3");
        let claims = app.verified_claims(body["access_token"].as_str().unwrap()).await;
        assert_eq!(claims["iss"], ISSUER);
        assert_eq!(claims["sub"], id.as_str());
        assert_eq!(claims["client_id"], id.as_str());
        assert_eq!(claims["aud"], ISSUER);
        assert_eq!(claims["scope"], "read write");
        assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 300);
        assert!(claims["jti"].as_str().is_some_and(|jti| jti.len() >= 32));
    }

    #[tokio::test]
    async fn tokens_verify_with_an_independent_library_and_the_published_jwks(db) {
        let (rs, rs_secret) = service(&db);
        let (es, es_secret) = register(&db, json!({"client_name": "es", "access_token_signed_response_alg": "ES256"}));
        let app = spawn_app(&db);
        let jwks: jsonwebtoken::jwk::JwkSet = app.get(endpoints::JWKS).await.json().await.unwrap();
        for ((id, secret), alg) in [((rs, rs_secret), jsonwebtoken::Algorithm::RS256), ((es, es_secret), jsonwebtoken::Algorithm::ES256)] {
            let body: Value = app.token(&id, &secret, "").await.json().await.unwrap();
            let token = body["access_token"].as_str().unwrap();
            let header = jsonwebtoken::decode_header(token).unwrap();
            assert_eq!((header.alg, header.typ.as_deref()), (alg, Some("at+jwt")));
            let jwk = jwks.find(header.kid.as_deref().unwrap()).expect("the kid is published");
            let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
            let mut validation = jsonwebtoken::Validation::new(alg);
            validation.set_issuer(&[ISSUER]);
            validation.set_audience(&[ISSUER]);
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            let verified = jsonwebtoken::decode::<Value>(token, &key, &validation).expect("jsonwebtoken verifies it");
            assert_eq!(verified.claims["client_id"], id.as_str());
        }
    }

    #[tokio::test]
    async fn post_authentication_and_per_client_algorithm_lifetime_and_audience(db) {
        let (id, secret) = register(&db, json!({
            "client_name": "es", "token_endpoint_auth_method": "client_secret_post",
            "access_token_signed_response_alg": "ES256", "access_token_lifetime": 60,
            "resources": ["https://api.example/", "https://other.example/"], "default_resource": "https://api.example/"
        }));
        let app = spawn_app(&db);
        let body = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
        let response: Value = app.post_form(endpoints::TOKEN, &body).send().await.unwrap().json().await.unwrap();
        assert_eq!(response["expires_in"], 60);
        let token = response["access_token"].as_str().unwrap();
        assert_eq!(josekit::jwt::decode_header(token).unwrap().claim("alg").unwrap(), "ES256");
        assert_eq!(app.verified_claims(token).await["aud"], "https://api.example/");
        let with_resource = format!("{body}&resource=https%3A%2F%2Fother.example%2F");
        let response: Value = app.post_form(endpoints::TOKEN, &with_resource).send().await.unwrap().json().await.unwrap();
        assert_eq!(app.verified_claims(response["access_token"].as_str().unwrap()).await["aud"], "https://other.example/");
        let unknown = format!("{body}&resource=https%3A%2F%2Fevil.example%2F");
        assert_error(app.post_form(endpoints::TOKEN, &unknown).send().await.unwrap(), 400, "invalid_target").await;
    }

    #[tokio::test]
    async fn scope_may_be_narrowed_but_not_widened(db) {
        let (id, secret) = service(&db);
        let app = spawn_app(&db);
        let narrowed: Value = app.token(&id, &secret, "&scope=read").await.json().await.unwrap();
        assert_eq!(narrowed["scope"], "read");
        assert_error(app.token(&id, &secret, "&scope=read+admin").await, 400, "invalid_scope").await;
        assert_error(app.token(&id, &secret, "&scope=%22bad%22").await, 400, "invalid_scope").await;
    }

    #[tokio::test]
    async fn failed_authentication_is_401_with_a_challenge_and_says_nothing_more(db) {
        let (id, secret) = service(&db);
        let app = spawn_app(&db);
        for response in [
            app.token(&id, "wrong", "").await,
            app.token("no-such-client", &secret, "").await,
            // Registered for client_secret_basic, so client_secret_post is refused.
            app.post_form(endpoints::TOKEN, &format!("grant_type=client_credentials&client_id={id}&client_secret={secret}")).send().await.unwrap(),
            app.post_form(endpoints::TOKEN, "grant_type=client_credentials").send().await.unwrap(),
            app.post_form(endpoints::TOKEN, "grant_type=client_credentials").header("authorization", "Basic !!!").send().await.unwrap(),
        ] {
            assert_eq!(response.headers()["www-authenticate"], r#"Basic realm="portcullis""#);
            let body = assert_error(response, 401, "invalid_client").await;
            assert_eq!(body["error_description"], "client authentication failed");
        }
    }

    #[tokio::test]
    async fn malformed_requests_get_invalid_request_never_a_panic(db) {
        let (id, secret) = service(&db);
        let app = spawn_app(&db);
        let basic = |body: &str| app.post_form(endpoints::TOKEN, body).basic_auth(&id, Some(&secret));
        let cases = [
            basic(""),
            basic("scope=read"),
            basic("grant_type=client_credentials&grant_type=client_credentials"),
            basic(&format!("grant_type=client_credentials&client_id={id}&client_secret={secret}")),
            basic("grant_type=client_credentials&client_id=someone-else"),
            basic("grant_type=client_credentials").header("content-type", "application/json"),
            app.client.post(format!("{}{}", app.address, endpoints::TOKEN)).basic_auth(&id, Some(&secret))
                .header("content-type", "application/json").body("grant_type=client_credentials"),
            basic(&format!("grant_type=client_credentials&pad={}", "x".repeat(20_000))),
            basic("grant_type=client_credentials&scope=%FF"),
            app.client.post(format!("{}{}", app.address, endpoints::TOKEN)).basic_auth(&id, Some(&secret)).body(b"grant_type=\xff".to_vec()).header("content-type", "application/x-www-form-urlencoded"),
        ];
        for (i, request) in cases.into_iter().enumerate() {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 400, "case {i}");
            assert_error(response, 400, "invalid_request").await;
        }
        assert_error(basic("grant_type=password").send().await.unwrap(), 400, "unsupported_grant_type").await;
        let get = app.client.get(format!("{}{}", app.address, endpoints::TOKEN)).send().await.unwrap();
        assert_eq!(get.status(), 405);
        assert_eq!(get.headers()["allow"], "POST");
    }

    #[tokio::test]
    async fn several_secrets_are_valid_at_once(db) {
        let (id, first) = service(&db);
        let second = operations(&db).add_client_secret(&Actor::operator(), &id, None).unwrap().secret;
        let app = spawn_app(&db);
        assert_eq!(app.token(&id, &first, "").await.status(), 200);
        assert_eq!(app.token(&id, second.expose(), "").await.status(), 200);
        let third = operations(&db).add_client_secret(&Actor::operator(), &id, None).unwrap().secret;
        tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
        assert_eq!(app.token(&id, third.expose(), "").await.status(), 200, "a secret added later is seen within a second");
        assert_eq!(app.token(&id, &first, "").await.status(), 200);
        assert!(operations(&db).add_client_secret(&Actor::operator(), "nobody", None).is_err());
    }

    #[tokio::test]
    async fn a_client_without_the_grant_is_unauthorized(db) {
        let (id, secret) = register(&db, json!({"client_name": "web", "grant_types": ["authorization_code"], "redirect_uris": ["https://web.example/cb"]}));
        let app = spawn_app(&db);
        assert_error(app.token(&id, &secret, "").await, 400, "unauthorized_client").await;
    }

    #[tokio::test]
    async fn allowed_cidrs_refuse_other_addresses_with_403(db) {
        let (far, far_secret) = register(&db, json!({"client_name": "far", "allowed_cidrs": ["10.0.0.0/8"]}));
        let (near, near_secret) = register(&db, json!({"client_name": "near", "allowed_cidrs": ["10.0.0.0/8", "127.0.0.0/8"]}));
        let app = spawn_app(&db);
        assert_error(app.token(&far, &far_secret, "").await, 403, "access_denied").await;
        // X-Forwarded-For is ignored unless the peer is a trusted proxy.
        let spoofed = app.post_form(endpoints::TOKEN, "grant_type=client_credentials")
            .basic_auth(&far, Some(&far_secret)).header("x-forwarded-for", "10.1.2.3").send().await.unwrap();
        assert_error(spoofed, 403, "access_denied").await;
        assert_eq!(app.token(&near, &near_secret, "").await.status(), 200);
    }

    #[tokio::test]
    async fn a_client_created_after_start_is_usable_within_a_second(db) {
        let app = spawn_app(&db);
        let (id, secret) = service(&db);
        tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
        assert_eq!(app.token(&id, &secret, "").await.status(), 200);
    }
}
