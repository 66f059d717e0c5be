//! Pushed authorization requests (RFC 9126) and request objects (RFC 9101):
//! a request pushed by its authenticated client and named by a single-use
//! `request_uri`; signed request objects by value, pushed, or fetched from
//! a registered location; what a client or the server may require.

use crate::client_documents::{serve, Documents};
use crate::code_exchange::exchange_form;
use crate::code_flow::{
    browser, browser_at, browser_with, location, query, with_user, Browser, CHALLENGE, PASSWORD, REDIRECT,
};
use crate::helpers::{new_kek, settings};
use crate::private_key_jwt::ClientKey;
use crate::token::register;
use chrono::Utc;
use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
use josekit::jws::JwsHeader;
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use serde_json::{json, Value};
use std::sync::Arc;

/// The issuer of the browser tests' servers.
const ISSUER: &str = "http://localhost";

/// The parameters of the usual request, as pairs.
fn request_params(client: &str, state: &str) -> Vec<(String, String)> {
    [
        ("client_id", client),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile"),
        ("state", state),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .to_vec()
}

/// The usual request as the members of a request object for `client`.
fn object_claims(client: &str, state: &str) -> Value {
    let mut claims: serde_json::Map<String, Value> =
        request_params(client, state).into_iter().map(|(name, value)| (name, Value::String(value))).collect();
    let now = Utc::now().timestamp();
    claims.extend([
        ("iss".into(), json!(client)),
        ("aud".into(), json!(ISSUER)),
        ("exp".into(), json!(now + 300)),
        ("nbf".into(), json!(now)),
    ]);
    Value::Object(claims)
}

impl Browser {
    /// `POST /par` from `client` with `form`: the status and the answer.
    async fn push(&self, (id, secret): (&str, &str), form: &[(String, String)]) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/par", self.app.address))
            .basic_auth(id, Some(secret))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        if status == 201 {
            assert_eq!(response.headers()["cache-control"], "no-store");
        }
        (status, response.json().await.unwrap())
    }

    /// `/authorize` with `client_id` and `extra` only.
    async fn authorize_by(&self, client: &str, extra: &[(&str, &str)]) -> reqwest::Response {
        let mut params = vec![("client_id", client)];
        params.extend_from_slice(extra);
        let url =
            reqwest::Url::parse_with_params(&format!("{}/authorize", self.app.address), &params).unwrap();
        self.http.get(url).send().await.unwrap()
    }

    /// Where `/authorize` with `extra` leads, after logging in if asked.
    async fn signed_in_by(&self, client: &str, extra: &[(&str, &str)]) -> String {
        let mut next = location(self.authorize_by(client, extra).await.headers());
        if next.starts_with("/login") {
            let resumed = self.log_in(&next, "alice", PASSWORD).await;
            next = location(self.get(&location(resumed.headers())).await.headers());
        }
        next
    }

    /// The error page `/authorize` with `extra` shows: its status and text.
    async fn refused_by(&self, client: &str, extra: &[(&str, &str)]) -> (u16, String) {
        let response = self.authorize_by(client, extra).await;
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

/// A confidential web client of the code flow, skipping consent, with `extra` metadata.
fn web_client(db: &TestDb, extra: Value) -> (String, String) {
    let mut metadata = json!({"client_name": "Web", "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT],
                              "scope": "openid profile", "skip_consent": true});
    metadata.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    register(db, metadata)
}

fn as_ref(client: &(String, String)) -> (&str, &str) {
    (client.0.as_str(), client.1.as_str())
}

backend_tests! {
    #[tokio::test]
    async fn a_pushed_request_is_used_once_by_its_own_client(db) {
        with_user(&db);
        let (app, other) = (web_client(&db, json!({})), web_client(&db, json!({})));
        let browser = browser(&db);
        let (status, pushed) = browser.push(as_ref(&app), &request_params(&app.0, "pushed-state")).await;
        assert_eq!(status, 201, "{pushed}");
        let request_uri = pushed["request_uri"].as_str().unwrap();
        assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"), "{request_uri}");
        assert_eq!(pushed["expires_in"], 60);

        let (status, page) = browser.refused_by(&other.0, &[("request_uri", request_uri)]).await;
        assert_eq!(status, 400, "another client cannot use it: {page}");
        // FAPI 2.0 §5.3.2.2 note 3 (RFC 9126 §4 allows it): loaded again before the
        // authorization completes, here in another browser as the OIDF suite does, it
        // is taken back from the interaction waiting with it, which ends.
        let elsewhere = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let url = reqwest::Url::parse_with_params(&format!("{}/authorize", browser.app.address), &[("client_id", app.0.as_str()), ("request_uri", request_uri)]).unwrap();
        let first = location(elsewhere.get(url.clone()).send().await.unwrap().headers());
        let reloaded = location(elsewhere.get(url).send().await.unwrap().headers());
        assert!(first.starts_with("/login") && reloaded.starts_with("/login") && first != reloaded, "{first} {reloaded}");
        let stale = elsewhere.get(format!("{}{first}", browser.app.address)).send().await.unwrap();
        assert_eq!(stale.status(), 400, "the first load's interaction ended");
        // RFC 9126 §4: only client_id and request_uri count; the rest of the query is ignored.
        let back = browser.signed_in_by(&app.0, &[("request_uri", request_uri), ("state", "ignored"), ("scope", "openid")]).await;
        let answer = query(&back);
        assert!(back.starts_with(REDIRECT), "{back}");
        assert_eq!((answer["state"].as_str(), answer["iss"].as_str()), ("pushed-state", ISSUER));
        let (status, tokens) = browser.exchange(as_ref(&app), &exchange_form(&answer["code"])).await;
        assert_eq!((status, tokens["scope"].as_str()), (200, Some("openid profile")), "{tokens}");

        let (status, _) = browser.refused_by(&app.0, &[("request_uri", request_uri)]).await;
        assert_eq!(status, 400, "a request_uri is used once");
        let (status, _) = browser.refused_by(&app.0, &[("request_uri", "urn:ietf:params:oauth:request_uri:made-up")]).await;
        assert_eq!(status, 400);
    }

    #[tokio::test]
    async fn the_endpoint_authenticates_and_validates_as_authorize_would(db) {
        let app = web_client(&db, json!({}));
        let browser = browser(&db);
        let (status, refused) = browser.push((&app.0, "wrong"), &request_params(&app.0, "s")).await;
        assert_eq!((status, refused["error"].as_str()), (401, Some("invalid_client")));
        let changed = |name: &str, value: &str| {
            let mut form = request_params(&app.0, "s");
            form.retain(|(n, _)| n != name);
            if !value.is_empty() {
                form.push((name.to_owned(), value.to_owned()));
            }
            form
        };
        for (form, error) in [
            (changed("request_uri", "urn:ietf:params:oauth:request_uri:x"), "invalid_request"),
            (changed("redirect_uri", "https://evil.example/cb"), "invalid_request"),
            (changed("scope", "openid admin"), "invalid_scope"),
            (changed("response_type", "token"), "unsupported_response_type"),
            (changed("code_challenge_method", "plain"), "invalid_request"),
            (changed("client_id", "someone-else"), "invalid_request"),
        ] {
            let (status, answer) = browser.push(as_ref(&app), &form).await;
            assert_eq!((status, answer["error"].as_str()), (400, Some(error)), "{form:?}: {answer}");
        }
        // Basic authentication alone names the client (RFC 9126 §2.1).
        let (status, answer) = browser.push(as_ref(&app), &changed("client_id", "")).await;
        assert_eq!(status, 201, "{answer}");
        let get = browser.get("/par").await;
        assert_eq!(get.status(), 405);
    }

    #[tokio::test]
    async fn a_request_uri_expires(db) {
        with_user(&db);
        let app = web_client(&db, json!({}));
        let clock = portcullis_app::Clock::manual(Utc::now());
        let browser = browser_at(&db, clock.clone());
        let (_, pushed) = browser.push(as_ref(&app), &request_params(&app.0, "s")).await;
        clock.advance(chrono::TimeDelta::seconds(61));
        let (status, page) = browser.refused_by(&app.0, &[("request_uri", pushed["request_uri"].as_str().unwrap())]).await;
        assert_eq!(status, 400, "{page}");
        assert!(page.contains("expired"), "{page}");

        // Loaded in time, it may be reloaded only until it expires, however long the sign-in waits.
        let (_, pushed) = browser.push(as_ref(&app), &request_params(&app.0, "s")).await;
        let request_uri = [("request_uri", pushed["request_uri"].as_str().unwrap())];
        assert!(location(browser.authorize_by(&app.0, &request_uri).await.headers()).starts_with("/login"));
        clock.advance(chrono::TimeDelta::seconds(30));
        assert!(location(browser.authorize_by(&app.0, &request_uri).await.headers()).starts_with("/login"), "reloaded in time");
        clock.advance(chrono::TimeDelta::seconds(31));
        let (status, page) = browser.refused_by(&app.0, &request_uri).await;
        assert_eq!(status, 400, "not once the request_uri expired: {page}");
    }

    #[tokio::test]
    async fn pushing_is_required_by_the_client_or_the_server(db) {
        with_user(&db);
        let strict = web_client(&db, json!({"require_pushed_authorization_requests": true}));
        let relaxed = web_client(&db, json!({}));
        let kek = new_kek();
        let browser = browser_with(settings(&db, &kek));
        let back = location(browser.authorize(&strict.0, &[]).await.headers());
        let error = query(&back);
        assert_eq!((error["error"].as_str(), error["state"].as_str()), ("invalid_request", "st-1"), "{back}");
        let (_, pushed) = browser.push(as_ref(&strict), &request_params(&strict.0, "s")).await;
        let back = browser.signed_in_by(&strict.0, &[("request_uri", pushed["request_uri"].as_str().unwrap())]).await;
        assert!(query(&back).contains_key("code"), "{back}");
        assert!(query(&browser.sign_in(&relaxed.0).await).contains_key("code"));

        let mut server_wide = settings(&db, &kek);
        server_wide.pushed_requests.required = true;
        let browser = browser_with(server_wide);
        assert_eq!(browser.app.get_json("/.well-known/openid-configuration").await["require_pushed_authorization_requests"], true);
        let back = location(browser.authorize(&relaxed.0, &[]).await.headers());
        assert_eq!(query(&back)["error"], "invalid_request", "{back}");
    }

    #[tokio::test]
    async fn a_signed_request_object_is_the_request(db) {
        with_user(&db);
        let key = ClientKey::Ec(EcKeyPair::generate(EcCurve::P256).unwrap());
        let app = web_client(&db, json!({"jwks": key.public_jwks(), "request_object_signing_alg": "ES256"}));
        let browser = browser(&db);
        let object = key.sign(object_claims(&app.0, "from-the-object"));
        // RFC 9101 §6.3: the object's parameters, not the query's.
        let back = browser.signed_in_by(&app.0, &[("request", &object), ("state", "from-the-query")]).await;
        let answer = query(&back);
        assert_eq!(answer["state"], "from-the-object", "{back}");
        let (status, tokens) = browser.exchange(as_ref(&app), &exchange_form(&answer["code"])).await;
        assert_eq!(status, 200, "{tokens}");

        let stranger = ClientKey::Ec(EcKeyPair::generate(EcCurve::P256).unwrap());
        let rsa = ClientKey::Rsa(josekit::jwk::alg::rsa::RsaKeyPair::generate(2048).unwrap());
        let mut typed = JwsHeader::new();
        typed.set_token_type("at+jwt");
        let with = |change: &dyn Fn(&mut Value)| {
            let mut claims = object_claims(&app.0, "s");
            change(&mut claims);
            key.sign(claims)
        };
        for (object, why) in [
            (stranger.sign(object_claims(&app.0, "s")), "not signed by one of the client"),
            (rsa.sign(object_claims(&app.0, "s")), "signs its request objects with ES256"),
            (key.sign_with(&typed, object_claims(&app.0, "s")), "typ"),
            (with(&|c| c["aud"] = json!("https://other.example")), "aud"),
            (with(&|c| c["iss"] = json!("someone-else")), "iss"),
            (with(&|c| c["client_id"] = json!("someone-else")), "client_id"),
            (with(&|c| c["exp"] = json!(Utc::now().timestamp() - 120)), "expired"),
            (with(&|c| c["nbf"] = json!(Utc::now().timestamp() + 600)), "not valid yet"),
            (with(&|c| c["request_uri"] = json!("https://app.example/r")), "cannot carry"),
            ("not.a.jwt".to_owned(), "not a JWT"),
        ] {
            let (status, page) = browser.refused_by(&app.0, &[("request", &object)]).await;
            assert_eq!(status, 400, "{why}");
            assert!(page.contains(why), "{why}: {page}");
        }
    }

    #[tokio::test]
    async fn request_objects_can_be_pushed_and_fetched_from_registered_locations(db) {
        with_user(&db);
        let key = ClientKey::Ec(EcKeyPair::generate(EcCurve::P256).unwrap());
        let documents = Arc::new(Documents::default());
        let base = serve(documents.clone());
        let location_of = format!("{base}/request.jwt");
        let app = web_client(&db, json!({"jwks": key.public_jwks(), "require_signed_request_object": true,
                                         "request_uris": [location_of]}));
        let browser = browser(&db);

        let (status, pushed) = browser.push(as_ref(&app), &[("request".into(), key.sign(object_claims(&app.0, "pushed")))]).await;
        assert_eq!(status, 201, "{pushed}");
        let back = browser.signed_in_by(&app.0, &[("request_uri", pushed["request_uri"].as_str().unwrap())]).await;
        assert_eq!(query(&back)["state"], "pushed", "{back}");
        let (status, refused) = browser.push(as_ref(&app), &request_params(&app.0, "s")).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_request")), "the client signs its requests");
        let (status, refused) = browser.push(as_ref(&app), &[("request".into(), ClientKey::Ec(EcKeyPair::generate(EcCurve::P256).unwrap()).sign(object_claims(&app.0, "s")))]).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_request_object")));

        documents.served.lock().unwrap().insert("/request.jwt".into(), (200, json!(key.sign(object_claims(&app.0, "fetched"))), "no-store"));
        let back = browser.signed_in_by(&app.0, &[("request_uri", &format!("{location_of}#v1"))]).await;
        assert_eq!(query(&back)["state"], "fetched", "{back}");
        assert_eq!(documents.fetched("/request.jwt"), 1);
        documents.served.lock().unwrap().insert("/other.jwt".into(), (200, json!(key.sign(object_claims(&app.0, "s"))), "no-store"));
        let (status, page) = browser.refused_by(&app.0, &[("request_uri", &format!("{base}/other.jwt"))]).await;
        assert_eq!(status, 400, "{page}");
        assert_eq!(documents.fetched("/other.jwt"), 0, "an unregistered location is never fetched");

        let back = location(browser.authorize(&app.0, &[]).await.headers());
        assert_eq!(query(&back)["error"], "invalid_request", "a plain request is refused: {back}");
        let discovery = browser.app.get_json("/.well-known/openid-configuration").await;
        assert_eq!(discovery["request_parameter_supported"], true);
        assert_eq!(discovery["request_uri_parameter_supported"], true);
        assert_eq!(discovery["require_request_uri_registration"], true);
        assert_eq!(discovery["pushed_authorization_request_endpoint"], format!("{ISSUER}/par"));
    }
}
