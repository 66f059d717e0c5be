//! The admin API for clients: authentication, registration, versions,
//! rollback, optimistic concurrency, disabling and deleting (issue 5).

use crate::cli::until_inactive;
use crate::helpers::{new_kek, settings, spawn_with, TestApp};
use crate::token::register;
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use std::time::Duration;

/// A server with a bootstrapped admin, and the admin's token.
pub struct Admin {
    pub app: TestApp,
    pub token: String,
    pub id: String,
    pub secret: String,
}

impl Admin {
    pub async fn start(db: &TestDb) -> Self {
        Self::on(db, settings(db, &new_kek())).await
    }

    /// Bootstraps the admin, then starts a server with `settings` and takes a token from it.
    pub async fn on(db: &TestDb, settings: portcullis_server::Settings) -> Self {
        let created = portcullis_app::App::with_defaults(db.connect())
            .bootstrap(&portcullis_app::Actor::operator(), false)
            .unwrap();
        Self::with(created, settings).await
    }

    /// Like [`Admin::on`], rotating the secret of an admin bootstrapped before.
    async fn on_existing(db: &TestDb, settings: portcullis_server::Settings) -> Self {
        let rotated = match portcullis_app::App::with_defaults(db.connect())
            .bootstrap(&portcullis_app::Actor::operator(), false)
        {
            Ok(created) => created,
            Err(_) => portcullis_app::App::with_defaults(db.connect())
                .bootstrap(&portcullis_app::Actor::operator(), true)
                .unwrap(),
        };
        Self::with(rotated, settings).await
    }

    async fn with(
        credentials: portcullis_app::bootstrap::AdminCredentials,
        settings: portcullis_server::Settings,
    ) -> Self {
        Self::serving(credentials, portcullis_server::Application::build(settings).unwrap()).await
    }

    /// Serves `server` and takes a token from it with `credentials`.
    pub async fn serving(
        credentials: portcullis_app::bootstrap::AdminCredentials,
        server: portcullis_server::Application,
    ) -> Self {
        let (id, secret) = (credentials.client_id, credentials.client_secret.expose().to_owned());
        let app = crate::helpers::serve(server);
        let token = app.access_token((&id, &secret)).await;
        Self { app, token, id, secret }
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.app
            .client
            .request(method, format!("{}/admin/v1{path}", self.app.address))
            .bearer_auth(&self.token)
    }

    /// One admin API call that must answer `status`; its JSON body (null for 204).
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>, status: u16) -> Value {
        let response = self.send(method.clone(), path, body).await;
        assert_eq!(response.status(), status, "{method} {path}");
        if status == 204 {
            Value::Null
        } else {
            response.json().await.unwrap()
        }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let request = self.request(method, path);
        match body {
            Some(body) => request.json(&body),
            None => request,
        }
        .send()
        .await
        .unwrap()
    }

    async fn create(&self, metadata: Value) -> Value {
        let response = self.send(Method::POST, "/clients", Some(metadata)).await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }
}

async fn body_of(response: Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.unwrap()
}

fn service() -> Value {
    json!({"client_name": "billing", "scope": "read write"})
}

backend_tests! {
    #[tokio::test]
    async fn admin_calls_need_an_active_token_with_an_admin_scope(db) {
        let keys_only = register(&db, json!({"client_name": "key admin", "scope": "admin:keys"}));
        let plain = register(&db, json!({"client_name": "svc", "scope": "read"}));
        let admin = Admin::start(&db).await;
        let url = format!("{}/admin/v1/clients", admin.app.address);
        let missing = admin.app.client.get(&url).send().await.unwrap();
        let challenge = missing.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(challenge.starts_with(r#"Bearer realm="portcullis", DPoP realm="portcullis", algs=""#), "either scheme (RFC 9449 §7.2): {challenge}");
        assert_eq!(body_of(missing, 401).await["error"], "invalid_request");
        let forged = admin.app.client.get(&url).bearer_auth("e30.e30.e30").send().await.unwrap();
        assert!(forged.headers()["www-authenticate"].to_str().unwrap().contains(r#"error="invalid_token""#));
        assert_eq!(body_of(forged, 401).await["error"], "invalid_token");

        let narrow = admin.app.access_token((&keys_only.0, &keys_only.1)).await;
        let refused = admin.app.client.get(&url).bearer_auth(&narrow).send().await.unwrap();
        assert!(refused.headers()["www-authenticate"].to_str().unwrap().contains("insufficient_scope"));
        assert_eq!(body_of(refused, 403).await["error"], "insufficient_scope");

        let ordinary = admin.app.access_token((&plain.0, &plain.1)).await;
        assert_eq!(admin.app.client.get(&url).bearer_auth(&ordinary).send().await.unwrap().status(), 403);

        assert_eq!(admin.send(Method::GET, "/clients", None).await.status(), 200);
        // The admin revokes its own token: refused from then on.
        assert_eq!(admin.app.revoke((&admin.id, &admin.secret), &admin.token).await.status(), 200);
        let waited = std::time::Instant::now();
        while admin.send(Method::GET, "/clients", None).await.status() != 401 {
            assert!(waited.elapsed() < Duration::from_secs(2), "a revoked admin token still works");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    #[tokio::test]
    async fn bootstrap_runs_once_and_rotates_only_when_told(db) {
        let first = portcullis_app::App::with_defaults(db.connect()).bootstrap(&portcullis_app::Actor::operator(), false).unwrap();
        let again = portcullis_app::App::with_defaults(db.connect()).bootstrap(&portcullis_app::Actor::operator(), false).err().unwrap().to_string();
        assert!(again.contains("already bootstrapped") && again.contains(&first.client_id), "{again}");
        let app = spawn_with(settings(&db, &new_kek()));
        assert_eq!(app.token(&first.client_id, first.client_secret.expose(), "").await.status(), 200, "nothing was replaced");
        let rotated = portcullis_app::App::with_defaults(db.connect()).bootstrap(&portcullis_app::Actor::operator(), true).unwrap();
        assert_eq!(rotated.client_id, first.client_id);
        let waited = std::time::Instant::now();
        while app.token(&first.client_id, first.client_secret.expose(), "").await.status() != 401 {
            assert!(waited.elapsed() < Duration::from_secs(2), "the old secret still works");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let token: Value = app.token(&rotated.client_id, rotated.client_secret.expose(), "").await.json().await.unwrap();
        assert_eq!(token["scope"], "admin");
    }

    #[tokio::test]
    async fn a_registered_client_is_shown_without_its_secret_and_listed(db) {
        let admin = Admin::start(&db).await;
        let response = admin.send(Method::POST, "/clients", Some(service())).await;
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["etag"], "\"1\"");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let created: Value = body_of(response, 201).await;
        let id = created["client_id"].as_str().unwrap().to_owned();
        assert_eq!(location, format!("/admin/v1/clients/{id}"));
        let secret = created["client_secret"].as_str().unwrap();
        assert_eq!(created["client_secret_expires_at"], 0);
        assert_eq!(admin.app.token(&id, secret, "").await.status(), 200, "the new client works at once");

        let shown = body_of(admin.send(Method::GET, &format!("/clients/{id}"), None).await, 200).await;
        assert_eq!(shown["version"], 1);
        assert_eq!(shown["scope"], "read write");
        assert_eq!(shown["disabled"], false);
        assert!(shown.get("client_secret").is_none() && !shown.to_string().contains(secret), "a secret is shown once");
        assert_eq!(shown["secrets"].as_array().unwrap().len(), 1);

        admin.create(json!({"client_name": "Billing reports"})).await;
        admin.create(json!({"client_name": "search"})).await;
        let billing = body_of(admin.send(Method::GET, "/clients?name=BILLING", None).await, 200).await;
        assert_eq!(billing["clients"].as_array().unwrap().len(), 2);
        let page = body_of(admin.send(Method::GET, "/clients?limit=2", None).await, 200).await;
        assert_eq!(page["clients"].as_array().unwrap().len(), 2);
        let cursor = page["next_cursor"].as_str().unwrap();
        let rest = body_of(admin.send(Method::GET, &format!("/clients?limit=2&cursor={cursor}"), None).await, 200).await;
        assert_eq!(rest["clients"].as_array().unwrap().len(), 2, "three created plus the admin client");
        assert!(rest["next_cursor"].is_null());
        let filtered = body_of(admin.send(Method::GET, "/clients?name=billing&grant_type=client_credentials&token_endpoint_auth_method=client_secret_basic&disabled=false", None).await, 200).await;
        assert_eq!(filtered["clients"].as_array().unwrap().len(), 2);
        let none = body_of(admin.send(Method::GET, "/clients?grant_type=authorization_code", None).await, 200).await;
        assert!(none["clients"].as_array().unwrap().is_empty(), "{none}");
        for bad in ["limit=0", "limit=201", "limit=x", "limit=1&limit=2", "grant_type=implicit", "disabled=maybe", "token_endpoint_auth_method=tls_client_auth"] {
            assert_eq!(body_of(admin.send(Method::GET, &format!("/clients?{bad}"), None).await, 400).await["error"], "invalid_request", "{bad}");
        }
        let missing = body_of(admin.send(Method::GET, "/clients/nobody", None).await, 404).await;
        assert_eq!(missing["error"], "not_found");
        assert_eq!(admin.send(Method::POST, &format!("/clients/{id}"), None).await.status(), 405);
    }

    #[tokio::test]
    async fn invalid_metadata_is_refused_field_by_field_and_writes_nothing(db) {
        let admin = Admin::start(&db).await;
        let code_flow = |uri: &str| json!({"client_name": "app", "grant_types": ["authorization_code"], "redirect_uris": [uri]});
        let cases = [
            (code_flow("https://app.example/cb#fragment"), "invalid_redirect_uri", "redirect_uris[0]"),
            (code_flow("/relative/cb"), "invalid_redirect_uri", "redirect_uris[0]"),
            (code_flow("http://app.example/cb"), "invalid_redirect_uri", "redirect_uris[0]"),
            (json!({"client_name": "x", "grant_types": ["password"]}), "invalid_client_metadata", "grant_types[0]"),
            (json!({"client_name": "x", "token_endpoint_auth_method": "tls_client_auth"}), "invalid_client_metadata", "token_endpoint_auth_method"),
            (json!({"client_name": "x", "colour": "blue"}), "invalid_client_metadata", "colour"),
            (json!({"client_name": ""}), "invalid_client_metadata", "client_name"),
        ];
        for (metadata, error, field) in cases {
            let body = body_of(admin.send(Method::POST, "/clients", Some(metadata.clone())).await, 400).await;
            assert_eq!(body["error"], error, "{metadata}: {body}");
            assert_eq!(body["field"], field, "{metadata}: {body}");
        }
        let url = format!("{}/admin/v1/clients", admin.app.address);
        let as_form = admin.app.client.post(&url).bearer_auth(&admin.token).form(&[("client_name", "x")]).send().await.unwrap();
        assert_eq!(as_form.status(), 415);
        let broken = admin.app.client.post(&url).bearer_auth(&admin.token).header("content-type", "application/json").body("{\"client_name\":").send().await.unwrap();
        assert_eq!(body_of(broken, 400).await["error"], "invalid_request");
        let not_object = admin.send(Method::POST, "/clients", Some(json!(["client_name"]))).await;
        assert_eq!(not_object.status(), 400);
        let huge = json!({"client_name": "x".repeat(70 * 1024)});
        assert_eq!(admin.send(Method::POST, "/clients", Some(huge)).await.status(), 413);
        let listed = body_of(admin.send(Method::GET, "/clients", None).await, 200).await;
        assert_eq!(listed["clients"].as_array().unwrap().len(), 1, "only the admin client exists");
    }

    #[tokio::test]
    async fn every_change_is_a_version_and_a_rollback_restores_an_old_one(db) {
        let admin = Admin::start(&db).await;
        let id = admin.create(service()).await["client_id"].as_str().unwrap().to_owned();
        let path = format!("/clients/{id}");
        let put = admin.request(Method::PUT, &path).header("if-match", "\"1\"")
            .json(&json!({"client_name": "billing", "scope": "read"})).send().await.unwrap();
        assert_eq!(put.headers()["etag"], "\"2\"");
        assert_eq!(body_of(put, 200).await["scope"], "read");
        let stale = admin.request(Method::PUT, &path).header("if-match", "\"1\"")
            .json(&json!({"client_name": "billing", "scope": "admin"})).send().await.unwrap();
        let conflict = body_of(stale, 409).await;
        assert!(conflict["error_description"].as_str().unwrap().contains("current version is 2"), "{conflict}");
        let stale_field = admin.send(Method::PATCH, &path, Some(json!({"version": 1, "scope": "admin"}))).await;
        assert_eq!(stale_field.status(), 409, "a stale version field is refused like If-Match");
        let patched = body_of(admin.send(Method::PATCH, &path, Some(json!({"access_token_lifetime": 60}))).await, 200).await;
        assert_eq!((patched["version"].as_i64(), patched["scope"].as_str()), (Some(3), Some("read")));
        let unchanged = body_of(admin.send(Method::PATCH, &path, Some(json!({"access_token_lifetime": 60}))).await, 200).await;
        assert_eq!(unchanged["version"], 3, "no change, no version");

        let history = body_of(admin.send(Method::GET, &format!("{path}/versions"), None).await, 200).await;
        let versions = history["versions"].as_array().unwrap();
        assert_eq!(versions.iter().map(|v| v["version"].as_i64().unwrap()).collect::<Vec<_>>(), vec![3, 2, 1]);
        assert_eq!(versions[0]["summary"], "added access_token_lifetime");
        assert_eq!(versions[1]["summary"], "changed scope");
        assert_eq!(versions[1]["author"], admin.id.as_str());
        assert!(versions[0].get("metadata").is_none());
        let first = body_of(admin.send(Method::GET, &format!("{path}/versions/1"), None).await, 200).await;
        assert_eq!(first["metadata"]["scope"], "read write");
        assert_eq!(admin.send(Method::GET, &format!("{path}/versions/9"), None).await.status(), 404);
        assert_eq!(admin.send(Method::GET, &format!("{path}/versions/x"), None).await.status(), 404);

        let rolled = body_of(admin.send(Method::POST, &format!("{path}/rollback"), Some(json!({"version": 1}))).await, 200).await;
        assert_eq!((rolled["version"].as_i64(), rolled["scope"].as_str()), (Some(4), Some("read write")));
        assert!(rolled.get("access_token_lifetime").is_none());
        let history = body_of(admin.send(Method::GET, &format!("{path}/versions"), None).await, 200).await;
        assert_eq!(history["versions"][0]["summary"], "rolled back to version 1");
        for bad in [json!({}), json!({"version": "1"}), json!({"version": 0}), json!({"version": 1, "extra": true})] {
            assert_eq!(admin.send(Method::POST, &format!("{path}/rollback"), Some(bad.clone())).await.status(), 400, "{bad}");
        }
        assert_eq!(admin.send(Method::POST, &format!("{path}/rollback"), Some(json!({"version": 7}))).await.status(), 409,
                   "the client exists; it never had that version");
        let put_bad = admin.send(Method::PUT, &path, Some(json!({"client_name": "billing", "redirect_uris": ["https://x.example/#f"]}))).await;
        assert_eq!(body_of(put_bad, 400).await["field"], "redirect_uris[0]");
        let read_only = admin.send(Method::PATCH, &path, Some(json!({"client_id": "other"}))).await;
        assert_eq!(body_of(read_only, 400).await["field"], "client_id");
        assert_eq!(body_of(admin.send(Method::GET, &path, None).await, 200).await["version"], 4, "refused changes wrote nothing");
    }

    #[tokio::test]
    async fn concurrent_updates_of_one_version_let_exactly_one_win(db) {
        let admin = Admin::start(&db).await;
        let id = admin.create(service()).await["client_id"].as_str().unwrap().to_owned();
        let path = format!("/clients/{id}");
        let attempts = (0..10).map(|n| {
            admin.request(Method::PATCH, &path).header("if-match", "\"1\"").json(&json!({"access_token_lifetime": 60 + n})).send()
        });
        let statuses: Vec<u16> = futures_util::future::join_all(attempts).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 9, "{statuses:?}");
        let history = body_of(admin.send(Method::GET, &format!("{path}/versions"), None).await, 200).await;
        assert_eq!(history["versions"].as_array().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_rollback_past_the_retention_window_is_refused(db) {
        let clock = portcullis_app::Clock::manual(chrono::Utc::now());
        let mut at = settings(&db, &new_kek());
        at.clock = clock.clone();
        let mut admin = Admin::on(&db, at).await;
        let id = admin.create(service()).await["client_id"].as_str().unwrap().to_owned();
        admin.send(Method::PATCH, &format!("/clients/{id}"), Some(json!({"scope": "read"}))).await;
        clock.advance(chrono::TimeDelta::days(91));
        let expired = admin.send(Method::GET, &format!("/clients/{id}"), None).await;
        assert_eq!(expired.status(), 401, "the admin's token expired by the same clock");
        admin.token = admin.app.access_token((&admin.id, &admin.secret)).await;
        let refused = body_of(admin.send(Method::POST, &format!("/clients/{id}/rollback"), Some(json!({"version": 1}))).await, 409).await;
        assert!(refused["error_description"].as_str().unwrap().contains("rollback window"), "{refused}");
    }

    #[tokio::test]
    async fn a_rollback_applies_on_every_instance_within_a_second(db) {
        let kek = new_kek();
        let admin = Admin::on(&db, settings(&db, &kek)).await;
        let other = spawn_with(settings(&db, &kek));
        let created = admin.create(service()).await;
        let (id, secret) = (created["client_id"].as_str().unwrap().to_owned(), created["client_secret"].as_str().unwrap().to_owned());
        admin.send(Method::PATCH, &format!("/clients/{id}"), Some(json!({"scope": "read"}))).await;
        let waited = std::time::Instant::now();
        while other.token(&id, &secret, "&scope=write").await.status() != 400 {
            assert!(waited.elapsed() < Duration::from_secs(1), "the update took over a second to apply");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        admin.send(Method::POST, &format!("/clients/{id}/rollback"), Some(json!({"version": 1}))).await;
        let waited = std::time::Instant::now();
        while other.token(&id, &secret, "&scope=write").await.status() != 200 {
            assert!(waited.elapsed() < Duration::from_secs(1), "the rollback took over a second to apply");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    #[tokio::test]
    async fn disabling_or_deleting_a_client_ends_its_tokens_everywhere(db) {
        let kek = new_kek();
        let caller = register(&db, json!({"client_name": "rs", "introspection_allowed": true}));
        let admin = Admin::on(&db, settings(&db, &kek)).await;
        let other = spawn_with(settings(&db, &kek));
        let created = admin.create(service()).await;
        let (id, secret) = (created["client_id"].as_str().unwrap().to_owned(), created["client_secret"].as_str().unwrap().to_owned());
        let token = admin.app.access_token((&id, &secret)).await;
        let disabled = body_of(admin.send(Method::POST, &format!("/clients/{id}/disable"), None).await, 200).await;
        assert_eq!(disabled["disabled"], true);
        assert!(until_inactive(&other, (&caller.0, &caller.1), &token).await < Duration::from_secs(1));
        assert_eq!(body_of(admin.send(Method::POST, &format!("/clients/{id}/enable"), None).await, 200).await["disabled"], false);
        let fresh = admin.app.access_token((&id, &secret)).await;
        assert_eq!(admin.send(Method::DELETE, &format!("/clients/{id}"), None).await.status(), 204);
        assert!(until_inactive(&other, (&caller.0, &caller.1), &fresh).await < Duration::from_secs(1));
        assert_eq!(admin.send(Method::GET, &format!("/clients/{id}"), None).await.status(), 404);
        assert_eq!(admin.send(Method::DELETE, &format!("/clients/{id}"), None).await.status(), 404);
        assert_eq!(admin.send(Method::POST, "/clients/nobody/disable", None).await.status(), 404);
    }

    #[tokio::test]
    async fn secrets_are_added_with_an_optional_expiry_and_revoked_one_by_one(db) {
        let admin = Admin::start(&db).await;
        let created = admin.create(service()).await;
        let (id, first) = (created["client_id"].as_str().unwrap().to_owned(), created["client_secret"].as_str().unwrap().to_owned());
        let path = format!("/clients/{id}/secrets");
        let added = body_of(admin.send(Method::POST, &path, None).await, 201).await;
        let second = added["client_secret"].as_str().unwrap().to_owned();
        assert!(added["expires_at"].is_null());
        assert_eq!(admin.app.token(&id, &first, "").await.status(), 200, "the old secret keeps working");
        assert_eq!(admin.app.token(&id, &second, "").await.status(), 200, "the new one works at once");

        let first_id = created["secrets"][0]["secret_id"].as_str().unwrap();
        assert_eq!(admin.send(Method::DELETE, &format!("{path}/{first_id}"), None).await.status(), 204);
        assert_eq!(admin.app.token(&id, &first, "").await.status(), 401, "revoked at once here");
        assert_eq!(admin.app.token(&id, &second, "").await.status(), 200);
        assert_eq!(admin.send(Method::DELETE, &format!("{path}/{first_id}"), None).await.status(), 404);
        assert_eq!(admin.send(Method::DELETE, &format!("/clients/nobody/secrets/{first_id}"), None).await.status(), 404);

        let soon = (chrono::Utc::now() + chrono::TimeDelta::seconds(2)).to_rfc3339();
        let expiring = body_of(admin.send(Method::POST, &path, Some(json!({"expires_at": soon}))).await, 201).await;
        let third = expiring["client_secret"].as_str().unwrap().to_owned();
        assert!(expiring["expires_at"].is_string());
        assert_eq!(admin.app.token(&id, &third, "").await.status(), 200);
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(admin.app.token(&id, &third, "").await.status(), 401, "an expired secret is refused");

        let past = (chrono::Utc::now() - chrono::TimeDelta::seconds(1)).to_rfc3339();
        for bad in [json!({"expires_at": past}), json!({"expires_at": "tomorrow"}), json!({"expires_at": 5}), json!({"colour": 1})] {
            assert_eq!(body_of(admin.send(Method::POST, &path, Some(bad.clone())).await, 400).await["error"], "invalid_request", "{bad}");
        }
        let public = admin.create(json!({"client_name": "spa", "token_endpoint_auth_method": "none",
                                          "grant_types": ["authorization_code"], "redirect_uris": ["https://spa.example/cb"]})).await;
        assert!(public.get("client_secret").is_none());
        let refused = admin.send(Method::POST, &format!("/clients/{}/secrets", public["client_id"].as_str().unwrap()), None).await;
        let refused = body_of(refused, 409).await;
        assert!(refused["error_description"].as_str().unwrap().contains("authenticates with none"), "{refused}");
    }

    #[tokio::test]
    async fn a_removed_redirect_uri_keeps_working_through_its_grace_period(db) {
        let kek = new_kek();
        let mut no_grace = settings(&db, &kek);
        no_grace.redirect_uri_grace = Duration::ZERO;
        for (grace, app_settings) in [(true, settings(&db, &kek)), (false, no_grace)] {
            let admin = Admin::on_existing(&db, app_settings).await;
            let (old, new) = ("https://app.example/old", "https://app.example/new");
            let created = admin.create(json!({"client_name": "app", "grant_types": ["authorization_code"],
                                              "redirect_uris": [old], "scope": "openid"})).await;
            let id = created["client_id"].as_str().unwrap().to_owned();
            let updated = body_of(admin.send(Method::PATCH, &format!("/clients/{id}"), Some(json!({"redirect_uris": [new]}))).await, 200).await;
            let authorize = |uri: &str| {
                let url = reqwest::Url::parse_with_params(&format!("{}/authorize", admin.app.address), [
                    ("client_id", id.as_str()), ("response_type", "code"), ("redirect_uri", uri), ("scope", "openid"),
                    ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"), ("code_challenge_method", "S256"),
                ]).unwrap();
                let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
                async move { http.get(url).send().await.unwrap().status().as_u16() }
            };
            assert_eq!(authorize(new).await, 303);
            if grace {
                assert_eq!(updated["retired_redirect_uris"][0]["redirect_uri"], old, "{updated}");
                assert!(updated["retired_redirect_uris"][0]["valid_until"].is_string());
                assert_eq!(authorize(old).await, 303, "the removed URI still works");
                let restored = body_of(admin.send(Method::PATCH, &format!("/clients/{id}"), Some(json!({"redirect_uris": [old, new]}))).await, 200).await;
                assert_eq!(restored["retired_redirect_uris"], json!([]), "registered again, no longer retiring");
            } else {
                assert_eq!(updated["retired_redirect_uris"], json!([]));
                assert_eq!(authorize(old).await, 400, "without a grace period the removed URI is refused at once");
            }
        }
    }

    #[tokio::test]
    async fn repeated_failed_authentications_lock_a_client_out(db) {
        let mut strict = settings(&db, &new_kek());
        strict.lockout.threshold = 3;
        let admin = Admin::on(&db, strict).await;
        let created = admin.create(service()).await;
        let (id, secret) = (created["client_id"].as_str().unwrap().to_owned(), created["client_secret"].as_str().unwrap().to_owned());
        for _ in 0..2 {
            assert_eq!(admin.app.token(&id, "wrong", "").await.status(), 401);
        }
        assert_eq!(admin.app.token(&id, &secret, "").await.status(), 200, "a success resets the count");
        for _ in 0..2 {
            assert_eq!(admin.app.token(&id, "wrong", "").await.status(), 401);
        }
        assert_eq!(admin.app.token(&id, &secret, "").await.status(), 200, "two failures after a success do not lock");
        for _ in 0..3 {
            assert_eq!(admin.app.token(&id, "wrong", "").await.status(), 401);
        }
        let locked = admin.app.token(&id, &secret, "").await;
        assert_eq!(locked.status(), 401);
        let body: Value = locked.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");
        assert!(body["error_description"].as_str().unwrap().contains("locked"), "{body}");
        let audit = body_of(admin.send(Method::GET, "/audit-logs?action=client.locked_out", None).await, 200).await;
        let entry = &audit["entries"][0];
        assert_eq!((entry["target"].as_str(), entry["details"]["lockouts"].as_i64()), (Some(id.as_str()), Some(1)));
    }

    #[tokio::test]
    async fn the_lockout_policy_can_disable_the_client_instead(db) {
        let mut strict = settings(&db, &new_kek());
        strict.lockout = portcullis_oauth::client_lockout::policy(2, true);
        let admin = Admin::on(&db, strict).await;
        let created = admin.create(service()).await;
        let (id, secret) = (created["client_id"].as_str().unwrap().to_owned(), created["client_secret"].as_str().unwrap().to_owned());
        assert_eq!(admin.app.token(&id, &secret, "").await.status(), 200, "this address is the client's own");
        for _ in 0..2 {
            assert_eq!(admin.app.token(&id, "wrong", "").await.status(), 401);
        }
        assert_eq!(admin.app.token(&id, &secret, "").await.status(), 401);
        let shown = body_of(admin.send(Method::GET, &format!("/clients/{id}"), None).await, 200).await;
        assert_eq!(shown["disabled"], true);
        admin.send(Method::POST, &format!("/clients/{id}/enable"), None).await;
        assert_eq!(admin.app.token(&id, &secret, "").await.status(), 200, "an admin enables it again");
    }

    #[tokio::test]
    async fn a_scope_the_server_does_not_know_is_refused(db) {
        let mut configured = settings(&db, &new_kek());
        configured.scopes = vec!["read".into(), "write".into()];
        let admin = Admin::on(&db, configured).await;
        let refused = body_of(admin.send(Method::POST, "/clients", Some(json!({"client_name": "x", "scope": "read delete"}))).await, 400).await;
        assert_eq!((refused["error"].as_str(), refused["field"].as_str()), (Some("invalid_client_metadata"), Some("scope")));
        assert!(refused["error_description"].as_str().unwrap().contains("`delete`"), "{refused}");
        let known = admin.create(json!({"client_name": "x", "scope": "read write openid email admin:keys"})).await;
        let id = known["client_id"].as_str().unwrap();
        let patched = admin.send(Method::PATCH, &format!("/clients/{id}"), Some(json!({"scope": "read erase"}))).await;
        assert_eq!(body_of(patched, 400).await["field"], "scope");
        let discovery = admin.app.get_json("/.well-known/openid-configuration").await;
        let scopes: Vec<&str> = discovery["scopes_supported"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
        assert!(scopes.contains(&"read") && scopes.contains(&"write"), "{scopes:?}");
    }
}
