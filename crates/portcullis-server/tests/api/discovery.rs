//! Discovery: OpenID Connect Discovery 1.0 and RFC 8414 metadata.

use crate::helpers::{new_kek, settings, spawn_app, spawn_with, TestApp, ISSUER};
use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
use josekit::jwk::alg::ed::{EdCurve, EdKeyPair};
use josekit::jwk::alg::rsa::RsaKeyPair;
use josekit::jwk::{Jwk, KeyPair};
use josekit::jws::{EdDSA, JwsHeader, JwsSigner, ES256, PS256, RS256};
use josekit::jwt::{self, JwtPayload};
use portcullis_core::Issuer;
use portcullis_oauth::endpoints;
use portcullis_store::backend_tests;
use serde_json::{json, Value};

/// One key pair per key type, as a client holds them: RSA (for RS256 and
/// PS256), P-256 and Ed25519.
struct ClientKeys {
    rsa: Jwk,
    ec: Jwk,
    ed: Jwk,
}

impl ClientKeys {
    fn new() -> Self {
        Self {
            rsa: RsaKeyPair::generate(2048).unwrap().to_jwk_key_pair(),
            ec: EcKeyPair::generate(EcCurve::P256).unwrap().to_jwk_key_pair(),
            ed: EdKeyPair::generate(EdCurve::Ed25519).unwrap().to_jwk_key_pair(),
        }
    }

    /// The public halves, without `alg`: each serves every algorithm of its type.
    fn jwks(&self) -> Value {
        let public = |pair: &Jwk| {
            let mut jwk = serde_json::to_value(pair).unwrap();
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                jwk.as_object_mut().unwrap().remove(private);
            }
            jwk
        };
        json!({"keys": [public(&self.rsa), public(&self.ec), public(&self.ed)]})
    }

    /// The public JWK of the key `alg` signs with.
    fn public(&self, alg: &str) -> Value {
        let jwks = self.jwks();
        let kty = match alg {
            "ES256" => "EC",
            "EdDSA" => "OKP",
            _ => "RSA",
        };
        jwks["keys"].as_array().unwrap().iter().find(|key| key["kty"] == kty).unwrap().clone()
    }

    /// `claims` as a JWT signed with `alg` under `header`.
    fn sign(&self, alg: &str, mut header: JwsHeader, claims: Value) -> String {
        let signer: Box<dyn JwsSigner> = match alg {
            "RS256" => Box::new(RS256.signer_from_jwk(&self.rsa).unwrap()),
            "PS256" => Box::new(PS256.signer_from_jwk(&self.rsa).unwrap()),
            "ES256" => Box::new(ES256.signer_from_jwk(&self.ec).unwrap()),
            "EdDSA" => Box::new(EdDSA.signer_from_jwk(&self.ed).unwrap()),
            other => panic!("a test key for {other} is missing"),
        };
        header.set_algorithm(alg);
        let Value::Object(claims) = claims else { unreachable!() };
        jwt::encode_with_signer(&JwtPayload::from_map(claims).unwrap(), &header, signer.as_ref()).unwrap()
    }
}

/// The strings of the discovery document's list `name`.
fn listed(document: &Value, name: &str) -> Vec<String> {
    let list = document[name].as_array().unwrap_or_else(|| panic!("{name} is not advertised"));
    list.iter().map(|value| value.as_str().unwrap().to_owned()).collect()
}

/// What each endpoint is asked, and its answer to an authenticated caller:
/// the status and `error` (an unknown code is the grant's error, RFC 6749
/// §5.2; an unknown token is inactive or nothing to revoke).
fn endpoint_request(path: &str) -> (&'static [(&'static str, &'static str)], (u16, Value)) {
    match path {
        endpoints::TOKEN => (
            &[
                ("grant_type", "authorization_code"),
                ("code", "unknown"),
                ("redirect_uri", "https://app.example/cb"),
                ("code_verifier", "v-0123456789012345678901234567890123456789012"),
            ],
            (400, json!("invalid_grant")),
        ),
        _ => (&[("token", "unknown")], (200, Value::Null)),
    }
}

/// POSTs `form` to `path` with `auth` (HTTP Basic, or nothing): the status and the JSON answer.
async fn post(app: &TestApp, path: &str, auth: Option<(&str, &str)>, form: &[(&str, &str)]) -> (u16, Value) {
    let mut request = app.client.post(format!("{}{path}", app.address)).form(form);
    if let Some((id, secret)) = auth {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

backend_tests! {
    #[tokio::test]
    async fn both_documents_carry_the_issuer_byte_for_byte(db) {
        let app = spawn_app(&db);
        for path in [endpoints::OPENID_CONFIGURATION, endpoints::OAUTH_AUTHORIZATION_SERVER] {
            let response = app.get(path).await;
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["content-type"], "application/json");
            assert!(response.headers()["cache-control"].to_str().unwrap().contains("max-age="));
            let document: serde_json::Value = response.json().await.unwrap();
            assert_eq!(document["issuer"].as_str(), Some(ISSUER), "{path}");
            assert_eq!(document["jwks_uri"], format!("{ISSUER}/jwks"));
        }
    }

    #[tokio::test]
    async fn a_trailing_slash_in_the_issuer_is_kept_and_not_doubled(db) {
        let mut settings = settings(&db, &new_kek());
        settings.issuer = Issuer::parse("https://issuer.test/").unwrap();
        let app = spawn_with(settings);
        let document = app.get_json(endpoints::OPENID_CONFIGURATION).await;
        assert_eq!(document["issuer"], "https://issuer.test/");
        assert_eq!(document["jwks_uri"], "https://issuer.test/jwks");
    }

    #[tokio::test]
    async fn metadata_states_what_the_server_supports(db) {
        let document = spawn_app(&db).get_json(endpoints::OPENID_CONFIGURATION).await;
        assert_eq!(document["response_types_supported"], serde_json::json!(["code"]));
        assert_eq!(document["subject_types_supported"], serde_json::json!(["public", "pairwise"]));
        assert_eq!(document["userinfo_signing_alg_values_supported"], serde_json::json!(["RS256", "ES256", "PS256", "EdDSA"]));
        assert_eq!(document["id_token_signing_alg_values_supported"], serde_json::json!(["RS256", "ES256", "PS256", "EdDSA"]));
        assert_eq!(document["code_challenge_methods_supported"], serde_json::json!(["S256"]));
        assert_eq!(document["authorization_response_iss_parameter_supported"], true);
        assert_eq!(document["request_uri_parameter_supported"], true);
        assert_eq!(document["request_parameter_supported"], true);
        assert_eq!(document["require_request_uri_registration"], true);
        assert_eq!(document["request_object_signing_alg_values_supported"], serde_json::json!(["RS256", "ES256", "PS256", "EdDSA"]));
        assert_eq!(document["require_pushed_authorization_requests"], false);
        assert_eq!(document["claims_parameter_supported"], true);
        assert_eq!(document["response_modes_supported"], serde_json::json!(["query"]));
        assert_eq!(document["grant_types_supported"], serde_json::json!(["authorization_code", "client_credentials", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:token-exchange"]));
        assert_eq!(document["scopes_supported"], serde_json::json!(["openid", "profile", "email", "address", "phone"]));
        let claims: Vec<&str> = document["claims_supported"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        for claim in ["sub", "auth_time", "nonce", "name", "email_verified", "address", "phone_number", "updated_at"] {
            assert!(claims.contains(&claim), "{claim}");
        }
        for endpoint in ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "introspection_endpoint", "revocation_endpoint"] {
            assert!(document[endpoint].is_string(), "{endpoint}");
        }
    }

    #[tokio::test]
    async fn every_advertised_grant_type_and_signing_algorithm_is_served(db) {
        let app = spawn_app(&db);
        let document = app.get_json(endpoints::OPENID_CONFIGURATION).await;
        let listed = |name: &str| -> Vec<String> {
            document[name].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
        };
        let grants = listed("grant_types_supported");
        let policy = serde_json::json!({"subject_clients": [], "audiences": []});
        let (id, secret) = crate::token::register(&db, serde_json::json!({"client_name": "every grant", "grant_types": grants,
            "redirect_uris": ["https://app.example/cb"], "scope": "openid", "token_exchange": policy}));
        // Each grant type is served: a request missing its parameters is the grant's own
        // invalid_request (or, for client credentials, a token), never unsupported_grant_type.
        for grant in &grants {
            let url = format!("{}{}", app.address, endpoints::TOKEN);
            let response = app.client.post(url).basic_auth(&id, Some(&secret)).form(&[("grant_type", grant)]).send().await.unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();
            let served = status == 200 || body["error"] == "invalid_request";
            assert!(served, "{grant}: {status} {body}");
        }
        // Each signing algorithm advertised has an active key in the JWKS.
        let jwks = app.get_json(endpoints::JWKS).await;
        let published: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["alg"].as_str().unwrap()).collect();
        for list in ["id_token_signing_alg_values_supported", "userinfo_signing_alg_values_supported", "introspection_signing_alg_values_supported"] {
            for alg in listed(list) {
                assert!(published.contains(&alg.as_str()), "{list}: {alg} has no published key");
            }
        }
    }

    #[tokio::test]
    async fn every_advertised_endpoint_answers_as_its_protocol_says(db) {
        use std::collections::{BTreeMap, BTreeSet};
        let app = spawn_app(&db);
        let document = app.get_json(endpoints::OPENID_CONFIGURATION).await;
        let advertised: BTreeMap<&str, &str> = document
            .as_object()
            .unwrap()
            .iter()
            .filter(|(name, _)| name.ends_with("_endpoint") || name.ends_with("_uri"))
            .map(|(name, value)| {
                let url = value.as_str().unwrap_or_else(|| panic!("{name} is not a string"));
                let path = url.strip_prefix(ISSUER).unwrap_or_else(|| panic!("{url} is not under the issuer"));
                (name.as_str(), path)
            })
            .collect();
        assert_eq!(
            advertised,
            BTreeMap::from([
                ("authorization_endpoint", endpoints::AUTHORIZE),
                ("device_authorization_endpoint", endpoints::DEVICE_AUTHORIZATION),
                ("end_session_endpoint", endpoints::END_SESSION),
                ("introspection_endpoint", endpoints::INTROSPECT),
                ("jwks_uri", endpoints::JWKS),
                ("pushed_authorization_request_endpoint", endpoints::PUSHED_AUTHORIZATION_REQUEST),
                ("revocation_endpoint", endpoints::REVOKE),
                ("token_endpoint", endpoints::TOKEN),
                ("userinfo_endpoint", endpoints::USERINFO),
            ]),
            "a newly advertised endpoint needs its check below"
        );

        // Without a client_id nothing can be sent back: a page (RFC 6749 §4.1.2.1).
        let response = app.get(endpoints::AUTHORIZE).await;
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
        let page = response.text().await.unwrap();
        assert!(page.contains("The request has no client_id."), "{page}");

        let response = app.get(endpoints::JWKS).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        let jwks: serde_json::Value = response.json().await.unwrap();
        let algs: BTreeSet<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["alg"].as_str().unwrap()).collect();
        assert_eq!(algs, BTreeSet::from(["ES256", "EdDSA", "PS256", "RS256"]));

        // UserInfo without a token: the bare challenges (RFC 6750 §3.1, RFC 9449 §7.2).
        let response = app.get(endpoints::USERINFO).await;
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()["www-authenticate"], r#"Bearer realm="portcullis", DPoP realm="portcullis", algs="RS256 ES256 PS256 EdDSA""#);
        assert_eq!(response.headers()["cache-control"], "no-store");

        // Logout without a hint asks the user (RP-Initiated Logout §2).
        let response = app.get(endpoints::END_SESSION).await;
        assert_eq!(response.status(), 200);
        let page = response.text().await.unwrap();
        assert!(page.contains(r#"name="confirm" value="yes""#) && page.contains("Do you want to sign out?"), "{page}");

        // Token, pushed requests, device authorization, introspection and revocation:
        // POST only; naming no client is invalid_client.
        for path in [endpoints::TOKEN, endpoints::PUSHED_AUTHORIZATION_REQUEST, endpoints::DEVICE_AUTHORIZATION,
                     endpoints::INTROSPECT, endpoints::REVOKE] {
            let response = app.get(path).await;
            assert_eq!(response.status(), 405, "GET {path}");
            assert_eq!(response.headers()["allow"], "POST", "GET {path}");
            let response = app.post_form(path, "").send().await.unwrap();
            assert_eq!(response.status(), 401, "POST {path}");
            assert_eq!(response.headers()["www-authenticate"], r#"Basic realm="portcullis""#, "POST {path}");
            assert_eq!(response.headers()["cache-control"], "no-store", "POST {path}");
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["error"], "invalid_client", "POST {path}");
        }
    }

    #[tokio::test]
    async fn every_advertised_client_authentication_method_and_algorithm_is_accepted(db) {
        let app = spawn_app(&db);
        let document = app.get_json(endpoints::OPENID_CONFIGURATION).await;
        let keys = ClientKeys::new();
        let web = |method: &str| json!({"client_name": method, "grant_types": ["authorization_code"], "token_endpoint_auth_method": method,
                                       "redirect_uris": ["https://app.example/cb"], "scope": "openid", "jwks": keys.jwks(),
                                       "introspection_allowed": method != "none"});
        for (endpoint, path) in [("token_endpoint", endpoints::TOKEN), ("introspection_endpoint", endpoints::INTROSPECT),
                                 ("revocation_endpoint", endpoints::REVOKE)] {
            let (form, authenticated) = endpoint_request(path);
            // Each method advertised for the endpoint authenticates a client registered for it.
            for method in listed(&document, &format!("{endpoint}_auth_methods_supported")) {
                let mut metadata = web(&method);
                if method == "none" {
                    metadata.as_object_mut().unwrap().remove("jwks");
                }
                let (id, secret) = crate::token::register(&db, metadata);
                let mut form = form.to_vec();
                let assertion;
                let auth = match method.as_str() {
                    "client_secret_basic" => Some((id.as_str(), secret.as_str())),
                    "client_secret_post" => {
                        form.extend([("client_id", id.as_str()), ("client_secret", secret.as_str())]);
                        None
                    }
                    "private_key_jwt" => {
                        let now = chrono::Utc::now().timestamp();
                        assertion = keys.sign("ES256", JwsHeader::new(), json!({"iss": id, "sub": id, "aud": ISSUER, "iat": now,
                                                                                 "exp": now + 60, "jti": uuid::Uuid::new_v4().to_string()}));
                        form.extend([("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                                     ("client_assertion", assertion.as_str())]);
                        None
                    }
                    "none" => {
                        form.push(("client_id", id.as_str()));
                        None
                    }
                    other => panic!("{endpoint}: {other} is advertised but this test cannot try it"),
                };
                let (status, body) = post(&app, path, auth, &form).await;
                assert_eq!((status, body["error"].clone()), authenticated, "{endpoint} with {method}: {body}");
            }
            // Each assertion algorithm advertised for the endpoint authenticates.
            let (id, _) = crate::token::register(&db, web("private_key_jwt"));
            for alg in listed(&document, &format!("{endpoint}_auth_signing_alg_values_supported")) {
                let now = chrono::Utc::now().timestamp();
                let assertion = keys.sign(&alg, JwsHeader::new(), json!({"iss": id, "sub": id, "aud": ISSUER, "iat": now,
                                                                         "exp": now + 60, "jti": uuid::Uuid::new_v4().to_string()}));
                let mut form = form.to_vec();
                form.extend([("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                             ("client_assertion", assertion.as_str())]);
                let (status, body) = post(&app, path, None, &form).await;
                assert_eq!((status, body["error"].clone()), authenticated, "{endpoint} with a {alg} assertion: {body}");
            }
        }

        // Each DPoP algorithm advertised binds a token (RFC 9449 §5.1).
        let service = crate::token::service(&db);
        for alg in listed(&document, "dpop_signing_alg_values_supported") {
            let mut header = JwsHeader::new();
            header.set_token_type("dpop+jwt");
            header.set_claim("jwk", Some(keys.public(&alg))).unwrap();
            let proof = keys.sign(&alg, header, json!({"jti": uuid::Uuid::new_v4().to_string(), "htm": "POST",
                                                       "htu": format!("{ISSUER}{}", endpoints::TOKEN), "iat": chrono::Utc::now().timestamp()}));
            let response = app.client.post(format!("{}{}", app.address, endpoints::TOKEN)).basic_auth(&service.0, Some(&service.1))
                .header("DPoP", proof).form(&[("grant_type", "client_credentials")]).send().await.unwrap();
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["token_type"], "DPoP", "a {alg} proof: {body}");
        }

        // Each request-object algorithm advertised carries a pushed request (RFC 9101 §10.1).
        let (id, secret) = crate::token::register(&db, web("client_secret_basic"));
        for alg in listed(&document, "request_object_signing_alg_values_supported") {
            let now = chrono::Utc::now().timestamp();
            let object = keys.sign(&alg, JwsHeader::new(), json!({"iss": id, "aud": ISSUER, "exp": now + 60, "nbf": now,
                "client_id": id, "response_type": "code", "redirect_uri": "https://app.example/cb", "scope": "openid",
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"}));
            let (status, body) = post(&app, endpoints::PUSHED_AUTHORIZATION_REQUEST, Some((&id, &secret)), &[("request", object.as_str())]).await;
            assert_eq!(status, 201, "a {alg} request object: {body}");
        }
    }
}
