//! `private_key_jwt` client authentication (RFC 7523).

use crate::helpers::{spawn_app, TestApp, ISSUER};
use crate::token::register;
use chrono::Utc;
use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
use josekit::jwk::alg::rsa::RsaKeyPair;
use josekit::jws::{JwsHeader, ES256, RS256};
use josekit::jwt::{self, JwtPayload};
use portcullis_oauth::endpoints;
use portcullis_store::backend_tests;
use serde_json::{json, Value};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A client's key pair, as the client holds it.
pub enum ClientKey {
    Ec(EcKeyPair),
    Rsa(RsaKeyPair),
}

impl ClientKey {
    pub fn public_jwks(&self) -> Value {
        let jwk = match self {
            ClientKey::Ec(pair) => pair.to_jwk_public_key(),
            ClientKey::Rsa(pair) => pair.to_jwk_public_key(),
        };
        json!({"keys": [serde_json::to_value(jwk).unwrap()]})
    }

    pub fn sign(&self, claims: Value) -> String {
        self.sign_with(&JwsHeader::new(), claims)
    }

    /// `claims` signed under `header` (josekit adds `alg`).
    pub fn sign_with(&self, header: &JwsHeader, claims: Value) -> String {
        let Value::Object(claims) = claims else { unreachable!() };
        let payload = JwtPayload::from_map(claims).unwrap();
        match self {
            ClientKey::Ec(pair) => jwt::encode_with_signer(
                &payload,
                header,
                &ES256.signer_from_jwk(&pair.to_jwk_key_pair()).unwrap(),
            ),
            ClientKey::Rsa(pair) => jwt::encode_with_signer(
                &payload,
                header,
                &RS256.signer_from_jwk(&pair.to_jwk_key_pair()).unwrap(),
            ),
        }
        .unwrap()
    }
}

fn claims(client_id: &str, aud: Value) -> Value {
    let now = Utc::now().timestamp();
    json!({"iss": client_id, "sub": client_id, "aud": aud, "exp": now + 60, "iat": now, "jti": uuid::Uuid::new_v4().to_string()})
}

async fn with_assertion(app: &TestApp, path: &str, assertion: &str, extra: &str) -> reqwest::Response {
    let body = format!("client_assertion_type={JWT_BEARER}&client_assertion={assertion}{extra}");
    app.post_form(path, &body).send().await.unwrap()
}

async fn status_and_error(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (status, body["error"].as_str().unwrap_or_default().to_owned())
}

fn register_jwt_client(db: &portcullis_store::test_support::TestDb, key: &ClientKey) -> String {
    let metadata = json!({"client_name": "jwt", "token_endpoint_auth_method": "private_key_jwt",
                          "jwks": key.public_jwks(), "introspection_allowed": true, "scope": "read"});
    register(db, metadata).0
}

backend_tests! {
    #[tokio::test]
    async fn a_signed_assertion_authenticates_at_token_and_introspection(db) {
        let key = ClientKey::Ec(EcKeyPair::generate(EcCurve::P256).unwrap());
        let rsa = ClientKey::Rsa(RsaKeyPair::generate(2048).unwrap());
        let id = register_jwt_client(&db, &key);
        let rsa_id = register_jwt_client(&db, &rsa);
        let app = spawn_app(&db);
        let extra = "&grant_type=client_credentials";
        for (id, key, aud) in [(&id, &key, json!(ISSUER)), (&rsa_id, &rsa, json!([format!("{ISSUER}/token"), "https://x"]))] {
            let response = with_assertion(&app, endpoints::TOKEN, &key.sign(claims(id, aud)), extra).await;
            assert_eq!(response.status(), 200);
        }
        let response: Value = with_assertion(&app, endpoints::TOKEN, &key.sign(claims(&id, json!(ISSUER))), extra).await.json().await.unwrap();
        let token = response["access_token"].as_str().unwrap();
        let introspection = format!("&token={token}");
        let aud = json!(format!("{ISSUER}/introspect"));
        let body: Value = with_assertion(&app, endpoints::INTROSPECT, &key.sign(claims(&id, aud)), &introspection).await.json().await.unwrap();
        assert_eq!(body["active"], true);
        let discovery = app.get_json(endpoints::OPENID_CONFIGURATION).await;
        assert!(discovery["token_endpoint_auth_methods_supported"].as_array().unwrap().contains(&json!("private_key_jwt")));
    }

    #[tokio::test]
    async fn bad_assertions_are_refused(db) {
        let key = ClientKey::Ec(EcKeyPair::generate(EcCurve::P256).unwrap());
        let id = register_jwt_client(&db, &key);
        let app = spawn_app(&db);
        let extra = "&grant_type=client_credentials";
        let replayed = key.sign(claims(&id, json!(ISSUER)));
        assert_eq!(with_assertion(&app, endpoints::TOKEN, &replayed, extra).await.status(), 200);
        let stranger = ClientKey::Ec(EcKeyPair::generate(EcCurve::P256).unwrap());
        let now = Utc::now().timestamp();
        let mut expired = claims(&id, json!(ISSUER));
        expired["exp"] = json!(now - 120);
        let mut no_exp = claims(&id, json!(ISSUER));
        no_exp.as_object_mut().unwrap().remove("exp");
        let mut no_jti = claims(&id, json!(ISSUER));
        no_jti.as_object_mut().unwrap().remove("jti");
        let mut long_lived = claims(&id, json!(ISSUER));
        long_lived["exp"] = json!(now + 86_400);
        let mut other_sub = claims(&id, json!(ISSUER));
        other_sub["iss"] = json!("someone-else");
        let unsigned = format!("eyJhbGciOiJub25lIn0.{}.", base64_url(&claims(&id, json!(ISSUER))));
        for (case, assertion) in [
            ("replayed", replayed),
            ("foreign audience", key.sign(claims(&id, json!("https://rp.example")))),
            ("expired", key.sign(expired)),
            ("no exp", key.sign(no_exp)),
            ("no jti", key.sign(no_jti)),
            ("valid for a day", key.sign(long_lived)),
            ("iss is not the client", key.sign(other_sub)),
            ("signed by a stranger", stranger.sign(claims(&id, json!(ISSUER)))),
            ("alg none", unsigned),
            ("garbage", "not-a-jwt".to_owned()),
        ] {
            let (status, error) = status_and_error(with_assertion(&app, endpoints::TOKEN, &assertion, extra).await).await;
            assert_eq!((status, error.as_str()), (401, "invalid_client"), "{case}");
        }
        let fresh = key.sign(claims(&id, json!(ISSUER)));
        let wrong_type = format!("grant_type=client_credentials&client_assertion_type=urn:other&client_assertion={fresh}");
        let (status, error) = status_and_error(app.post_form(endpoints::TOKEN, &wrong_type).send().await.unwrap()).await;
        assert_eq!((status, error.as_str()), (400, "invalid_request"));
        let no_type = format!("grant_type=client_credentials&client_assertion={fresh}");
        let (status, error) = status_and_error(app.post_form(endpoints::TOKEN, &no_type).send().await.unwrap()).await;
        assert_eq!((status, error.as_str()), (400, "invalid_request"));
    }

    #[tokio::test]
    async fn a_client_may_use_only_its_registered_method(db) {
        let key = ClientKey::Ec(EcKeyPair::generate(EcCurve::P256).unwrap());
        let jwt_client = register_jwt_client(&db, &key);
        let (secret_client, secret) = crate::token::service(&db);
        let app = spawn_app(&db);
        let extra = "&grant_type=client_credentials";
        // A secret client presenting an assertion signed with a key it never registered.
        let (status, _) = status_and_error(with_assertion(&app, endpoints::TOKEN, &key.sign(claims(&secret_client, json!(ISSUER))), extra).await).await;
        assert_eq!(status, 401);
        let body = format!("grant_type=client_credentials&client_id={jwt_client}&client_secret={secret}");
        let (status, _) = status_and_error(app.post_form(endpoints::TOKEN, &body).send().await.unwrap()).await;
        assert_eq!(status, 401);
        let both = format!("&grant_type=client_credentials&client_secret={secret}");
        let (status, error) = status_and_error(with_assertion(&app, endpoints::TOKEN, &key.sign(claims(&jwt_client, json!(ISSUER))), &both).await).await;
        assert_eq!((status, error.as_str()), (400, "invalid_request"), "two methods at once");
    }
}

#[tokio::test]
async fn keys_are_fetched_from_the_jwks_uri_and_refetched_after_rotation() {
    let db = portcullis_store::test_support::TestDb::sqlite();
    let old = ClientKey::Ec(EcKeyPair::generate(EcCurve::P256).unwrap());
    let (url, served) = serve_jwks(old.public_jwks());
    let (id, _) = register(
        &db,
        json!({"client_name": "remote", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": url}),
    );
    let (dead, _) = register(
        &db,
        json!({"client_name": "dead", "token_endpoint_auth_method": "private_key_jwt",
                                         "jwks_uri": "http://127.0.0.1:9/jwks"}),
    );
    let app = spawn_app(&db);
    let extra = "&grant_type=client_credentials";
    assert_eq!(
        with_assertion(&app, endpoints::TOKEN, &old.sign(claims(&id, json!(ISSUER))), extra).await.status(),
        200
    );
    let new = ClientKey::Rsa(RsaKeyPair::generate(2048).unwrap());
    *served.jwks.lock().unwrap() = new.public_jwks();
    // Until the refetch interval has passed, the cached (old) keys are used.
    assert_eq!(
        with_assertion(&app, endpoints::TOKEN, &new.sign(claims(&id, json!(ISSUER))), extra).await.status(),
        401
    );
    tokio::time::sleep(std::time::Duration::from_millis(5100)).await;
    assert_eq!(
        with_assertion(&app, endpoints::TOKEN, &new.sign(claims(&id, json!(ISSUER))), extra).await.status(),
        200
    );
    let unreachable =
        with_assertion(&app, endpoints::TOKEN, &old.sign(claims(&dead, json!(ISSUER))), extra).await;
    assert_eq!(status_and_error(unreachable).await, (401, "invalid_client".to_owned()));
    assert!(served.fetches.load(std::sync::atomic::Ordering::SeqCst) >= 2);
}

#[tokio::test]
async fn keys_are_never_fetched_from_an_address_the_operator_did_not_allow() {
    let db = portcullis_store::test_support::TestDb::sqlite();
    let key = ClientKey::Ec(EcKeyPair::generate(EcCurve::P256).unwrap());
    let (url, served) = serve_jwks(key.public_jwks());
    let (id, _) = register(
        &db,
        json!({"client_name": "inside", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": url}),
    );
    let strict = portcullis_server::Settings {
        outbound_allow: Vec::new(),
        ..crate::helpers::settings(&db, &crate::helpers::new_kek())
    };
    let app = crate::helpers::spawn_with(strict);
    let assertion = key.sign(claims(&id, json!(ISSUER)));
    let refused = with_assertion(&app, endpoints::TOKEN, &assertion, "&grant_type=client_credentials").await;
    assert_eq!(status_and_error(refused).await, (401, "invalid_client".to_owned()));
    assert_eq!(served.fetches.load(std::sync::atomic::Ordering::SeqCst), 0, "the key server was never asked");
}

/// The key set a test serves, and how often it was fetched.
struct Served {
    jwks: std::sync::Mutex<Value>,
    fetches: std::sync::atomic::AtomicUsize,
}

/// Serves a JWK Set at `http://127.0.0.1:PORT/jwks` that the test can change.
fn serve_jwks(jwks: Value) -> (String, std::sync::Arc<Served>) {
    use actix_web::{web, App, HttpResponse, HttpServer};
    let shared =
        std::sync::Arc::new(Served { jwks: std::sync::Mutex::new(jwks), fetches: Default::default() });
    let served = web::Data::from(shared.clone());
    let server = HttpServer::new(move || {
        App::new().app_data(served.clone()).route(
            "/jwks",
            web::get().to(|served: web::Data<Served>| async move {
                served.fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                HttpResponse::Ok().json(&*served.jwks.lock().unwrap())
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let url = format!("http://{}/jwks", server.addrs()[0]);
    tokio::spawn(server.run());
    (url, shared)
}

fn base64_url(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}
