//! The front channel of the authorization code flow: /authorize, the login
//! and consent pages, and the code sent back (RFC 6749 §4.1, RFC 9207,
//! RFC 9700, OpenID Connect Core §3.1.2).

use crate::helpers::{new_kek, settings, spawn_with, TestApp};
use crate::token::register;
use portcullis_core::{Issuer, Password, StandardClaims, Username};
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use reqwest::header::{HeaderMap, LOCATION};
use serde_json::json;
use std::collections::HashMap;

pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub const REDIRECT: &str = "https://app.example/cb";
pub const PASSWORD: &str = "alice's password";

/// A browser: keeps cookies, follows no redirect.
pub struct Browser {
    pub app: TestApp,
    pub http: reqwest::Client,
}

pub fn location(headers: &HeaderMap) -> String {
    headers.get(LOCATION).map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default()
}

pub fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

impl Browser {
    /// A browser with no cookies yet, on `app`.
    pub fn new(app: TestApp) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser { app, http }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.app.address)).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.app.address)).form(form).send().await.unwrap()
    }

    /// `GET /authorize` for `client` with the usual parameters, changed by `extra`
    /// (an empty value removes a parameter).
    pub async fn authorize(&self, client: &str, extra: &[(&str, &str)]) -> reqwest::Response {
        let mut params: Vec<(&str, &str)> = vec![
            ("client_id", client),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT),
            ("scope", "openid profile"),
            ("state", "st-1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        for (name, value) in extra {
            params.retain(|(n, _)| n != name);
            if !value.is_empty() {
                params.push((name, value));
            }
        }
        let url =
            reqwest::Url::parse_with_params(&format!("{}/authorize", self.app.address), &params).unwrap();
        self.http.get(url).send().await.unwrap()
    }

    /// The interaction id and CSRF token of the page the browser was sent to.
    async fn form_fields(&self, page: &str) -> (String, String) {
        let html = self.get(page).await.text().await.unwrap();
        let field = |name: &str| {
            let marker = format!("name=\"{name}\" value=\"");
            let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} in {html}")) + marker.len();
            html[start..start + html[start..].find('"').unwrap()].to_owned()
        };
        (field("interaction"), field("csrf"))
    }

    pub async fn log_in(&self, login_page: &str, username: &str, password: &str) -> reqwest::Response {
        let (interaction, csrf) = self.form_fields(login_page).await;
        self.post(
            "/login",
            &[("interaction", &interaction), ("csrf", &csrf), ("username", username), ("password", password)],
        )
        .await
    }

    /// Logs in (unless signed in already) and consents; returns the redirect to the client.
    pub async fn sign_in(&self, client: &str) -> String {
        self.sign_in_with(client, &[]).await
    }

    /// [`Self::sign_in`], with the authorization request changed by `extra`.
    pub async fn sign_in_with(&self, client: &str, extra: &[(&str, &str)]) -> String {
        let mut next = location(self.authorize(client, extra).await.headers());
        if next.starts_with("/login") {
            let resumed = self.log_in(&next, "alice", PASSWORD).await;
            assert_eq!(resumed.status(), 303, "login succeeded");
            next = location(self.get(&location(resumed.headers())).await.headers());
        }
        if !next.starts_with("/consent") {
            return next;
        }
        let (interaction, csrf) = self.form_fields(&next).await;
        location(
            self.post("/consent", &[("interaction", &interaction), ("csrf", &csrf), ("decision", "approve")])
                .await
                .headers(),
        )
    }
}

pub fn with_user(db: &TestDb) {
    let claims = StandardClaims { name: Some("Alice".into()), ..StandardClaims::default() };
    let (username, password) = (Username::parse("alice").unwrap(), Password::new(PASSWORD.into()));
    portcullis_app::App::with_defaults(db.connect())
        .create_user(&portcullis_app::Actor::operator(), &username, Some(password), &claims)
        .unwrap();
}

pub fn app_client(db: &TestDb, extra: serde_json::Value) -> String {
    let mut metadata = json!({"client_name": "Demo <App>", "grant_types": ["authorization_code"],
                              "redirect_uris": [REDIRECT], "scope": "openid profile email"});
    metadata.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    register(db, metadata).0
}

/// The server, with an http issuer so the test browser keeps its cookies.
pub fn browser(db: &TestDb) -> Browser {
    browser_at(db, portcullis_app::Clock::system())
}

/// [`browser`], with a server that reads its time from `clock`.
pub fn browser_at(db: &TestDb, clock: portcullis_app::Clock) -> Browser {
    let mut settings = settings(db, &new_kek());
    settings.clock = clock;
    browser_with(settings)
}

/// A browser of a server with `settings`, but an http issuer.
pub fn browser_with(mut settings: portcullis_server::Settings) -> Browser {
    settings.issuer = Issuer::parse("http://localhost").unwrap();
    Browser::new(spawn_with(settings))
}

backend_tests! {
    #[tokio::test]
    async fn a_user_signs_in_consents_and_the_app_gets_a_code_with_state_and_iss(db) {
        with_user(&db);
        let client = app_client(&db, json!({}));
        let browser = browser(&db);
        let to_login = browser.authorize(&client, &[("login_hint", "alice")]).await;
        assert_eq!(to_login.status(), 303);
        let login = location(to_login.headers());
        assert!(login.starts_with("/login?interaction="), "{login}");
        let page = browser.get(&login).await;
        assert_eq!(page.status(), 200);
        assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
        assert_eq!(page.headers()["cache-control"], "no-store");
        assert!(page.headers().get("access-control-allow-origin").is_none(), "no CORS on these pages");
        let html = page.text().await.unwrap();
        assert!(html.contains("Demo &#60;App&#62;") && html.contains("value=\"alice\""), "escaped name, hint used: {html}");

        let logged_in = browser.log_in(&login, "alice", PASSWORD).await;
        assert_eq!(logged_in.status(), 303);
        let cookies: Vec<&str> = logged_in.headers().get_all("set-cookie").iter().map(|c| c.to_str().unwrap()).collect();
        let cookie = cookies.iter().find(|c| c.starts_with("portcullis_session=")).expect("a session cookie");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        let device = cookies.iter().find(|c| c.starts_with("portcullis_devices=")).expect("a device cookie");
        assert!(device.contains("HttpOnly") && device.contains("SameSite=Lax"), "{device}");
        let consent = location(browser.get(&location(logged_in.headers())).await.headers());
        assert!(consent.starts_with("/consent?interaction="), "{consent}");
        let html = browser.get(&consent).await.text().await.unwrap();
        assert!(html.contains("See your name and profile"), "{html}");
        let (interaction, csrf) = browser.form_fields(&consent).await;
        let back = browser.post("/consent", &[("interaction", &interaction), ("csrf", &csrf), ("decision", "approve")]).await;
        assert_eq!(back.status(), 303);
        let to_client = location(back.headers());
        assert!(to_client.starts_with(REDIRECT), "{to_client}");
        let params = query(&to_client);
        assert_eq!(params["code"].len(), 43, "a 256-bit code");
        assert_eq!(params["state"], "st-1");
        assert_eq!(params["iss"], "http://localhost", "RFC 9207");
        let again = browser.post("/consent", &[("interaction", &interaction), ("csrf", &csrf), ("decision", "approve")]).await;
        assert!(!location(again.headers()).contains("code="), "an interaction yields one code");
    }

    #[tokio::test]
    async fn consent_is_remembered_and_prompt_none_is_then_silent(db) {
        with_user(&db);
        let client = app_client(&db, json!({}));
        let clock = portcullis_app::Clock::manual(chrono::Utc::now());
        let browser = browser_at(&db, clock.clone());
        assert!(query(&browser.sign_in(&client).await).contains_key("code"));
        let silent = location(browser.authorize(&client, &[("prompt", "none"), ("scope", "openid")]).await.headers());
        assert!(query(&silent).contains_key("code"), "{silent}");
        let wider = location(browser.authorize(&client, &[("prompt", "none"), ("scope", "openid email")]).await.headers());
        assert_eq!(query(&wider)["error"], "consent_required");
        let asked = location(browser.authorize(&client, &[("prompt", "consent")]).await.headers());
        assert!(asked.starts_with("/consent"), "prompt=consent asks again: {asked}");
        let relogin = location(browser.authorize(&client, &[("prompt", "login")]).await.headers());
        assert!(relogin.starts_with("/login"), "prompt=login asks again: {relogin}");
        let fresh = location(browser.authorize(&client, &[("max_age", "60")]).await.headers());
        assert!(query(&fresh).contains_key("code"), "a login within max_age is enough: {fresh}");
        clock.advance(chrono::TimeDelta::seconds(61));
        let stale = location(browser.authorize(&client, &[("max_age", "60")]).await.headers());
        assert!(stale.starts_with("/login"), "past max_age a new login is needed: {stale}");
    }

    #[tokio::test]
    async fn a_first_party_client_skips_consent(db) {
        with_user(&db);
        let client = app_client(&db, json!({"skip_consent": true}));
        let browser = browser(&db);
        let login = location(browser.authorize(&client, &[]).await.headers());
        let resumed = browser.log_in(&login, "alice", PASSWORD).await;
        let to_client = location(browser.get(&location(resumed.headers())).await.headers());
        assert!(query(&to_client).contains_key("code"), "{to_client}");
    }

    #[tokio::test]
    async fn prompt_none_without_a_session_is_login_required(db) {
        let client = app_client(&db, json!({}));
        let browser = browser(&db);
        let back = location(browser.authorize(&client, &[("prompt", "none")]).await.headers());
        let params = query(&back);
        assert_eq!((params["error"].as_str(), params["state"].as_str(), params["iss"].as_str()), ("login_required", "st-1", "http://localhost"));
    }

    #[tokio::test]
    async fn untrusted_requests_get_an_error_page_and_never_a_redirect(db) {
        let client = app_client(&db, json!({}));
        let browser = browser(&db);
        for extra in [
            vec![("client_id", "unknown")],
            vec![("client_id", "")],
            vec![("redirect_uri", "https://evil.example/cb")],
            vec![("redirect_uri", "https://app.example/cb/")],
        ] {
            let response = browser.authorize(&client, &extra).await;
            assert_eq!(response.status(), 400, "{extra:?}");
            assert!(response.headers().get(LOCATION).is_none(), "{extra:?}");
            assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        }
        let repeated = browser.get(&format!("/authorize?client_id={client}&client_id={client}&response_type=code")).await;
        assert_eq!(repeated.status(), 400);
        let non_utf8 = browser.get(&format!("/authorize?client_id={client}&state=%FF")).await;
        assert_eq!(non_utf8.status(), 400);
    }

    #[tokio::test]
    async fn other_errors_go_back_to_the_client_with_state_and_iss(db) {
        let client = app_client(&db, json!({}));
        let browser = browser(&db);
        for (extra, error) in [
            (vec![("response_type", "")], "invalid_request"),
            (vec![("response_type", "token")], "unsupported_response_type"),
            (vec![("code_challenge", ""), ("code_challenge_method", "")], "invalid_request"),
            (vec![("code_challenge_method", "plain")], "invalid_request"),
            (vec![("scope", "openid admin")], "invalid_scope"),
        ] {
            let back = location(browser.authorize(&client, &extra).await.headers());
            assert!(back.starts_with(REDIRECT), "{extra:?}: {back}");
            let params = query(&back);
            assert_eq!(params["error"], error, "{extra:?}");
            assert_eq!((params["state"].as_str(), params["iss"].as_str()), ("st-1", "http://localhost"));
        }
    }

    #[tokio::test]
    async fn wrong_passwords_get_one_generic_message_and_are_throttled(db) {
        with_user(&db);
        let client = app_client(&db, json!({}));
        let browser = browser(&db);
        let login = location(browser.authorize(&client, &[]).await.headers());
        for (username, password) in [("alice", "wrong"), ("nobody", PASSWORD), ("alice", ""), ("ALICE", "wrong"), ("alice", "wrong"), ("alice", "x")] {
            let failed = browser.log_in(&login, username, password).await;
            assert_eq!(failed.status(), 401);
            assert!(failed.text().await.unwrap().contains("The username or password is incorrect."));
        }
        let locked = browser.log_in(&login, "alice", PASSWORD).await;
        assert_eq!(locked.status(), 429, "the account is throttled even with the right password");
        let retry_after: u64 = locked.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=900).contains(&retry_after), "{retry_after}");
    }

    #[tokio::test]
    async fn strangers_on_a_shared_address_do_not_lock_out_a_browser_that_signed_in_before(db) {
        with_user(&db);
        let client = app_client(&db, json!({}));
        let alice = browser(&db);
        alice.sign_in(&client).await;
        // Strangers behind the same address try invented accounts until the address is throttled.
        let stranger = crate::code_flow::Browser::new(crate::helpers::TestApp { address: alice.app.address.clone(), client: reqwest::Client::new() });
        let login = location(stranger.authorize(&client, &[]).await.headers());
        let mut statuses = Vec::new();
        for n in 0..21 {
            statuses.push(stranger.log_in(&login, &format!("invented{n}"), "guess").await.status().as_u16());
        }
        assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
        let newcomer = crate::code_flow::Browser::new(crate::helpers::TestApp { address: alice.app.address.clone(), client: reqwest::Client::new() });
        let login = location(newcomer.authorize(&client, &[]).await.headers());
        assert_eq!(newcomer.log_in(&login, "alice", PASSWORD).await.status(), 429, "a browser alice never used is held back");
        // Alice's own browser carries its device cookie: signed out, she signs in again.
        let login = location(alice.authorize(&client, &[("prompt", "login")]).await.headers());
        assert!(login.starts_with("/login"), "{login}");
        let again = alice.log_in(&login, "alice", PASSWORD).await;
        assert_eq!(again.status(), 303, "the device cookie exempts her browser");
        let cookie = again.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).find(|c| c.starts_with("portcullis_devices="));
        let cookie = cookie.expect("the device cookie is renewed");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    }

    #[tokio::test]
    async fn forms_need_the_matching_csrf_token(db) {
        with_user(&db);
        let client = app_client(&db, json!({}));
        let browser = browser(&db);
        let login = location(browser.authorize(&client, &[]).await.headers());
        let (interaction, _) = browser.form_fields(&login).await;
        let forged = browser.post("/login", &[("interaction", &interaction), ("csrf", "forged"), ("username", "alice"), ("password", PASSWORD)]).await;
        assert_eq!(forged.status(), 403);
        let stranger = Browser::new(TestApp { address: browser.app.address.clone(), client: reqwest::Client::new() });
        let (_, csrf) = browser.form_fields(&login).await;
        let elsewhere = stranger.post("/login", &[("interaction", &interaction), ("csrf", &csrf), ("username", "alice"), ("password", PASSWORD)]).await;
        assert_eq!(elsewhere.status(), 403, "the token must also match the browser's cookie");
        let expired = browser.post("/login", &[("interaction", "unknown"), ("csrf", &csrf), ("username", "alice"), ("password", PASSWORD)]).await;
        assert_eq!(expired.status(), 400);
    }

    #[tokio::test]
    async fn denying_consent_sends_access_denied(db) {
        with_user(&db);
        let client = app_client(&db, json!({}));
        let browser = browser(&db);
        let login = location(browser.authorize(&client, &[]).await.headers());
        let resumed = browser.log_in(&login, "alice", PASSWORD).await;
        let consent = location(browser.get(&location(resumed.headers())).await.headers());
        let (interaction, csrf) = browser.form_fields(&consent).await;
        let back = location(browser.post("/consent", &[("interaction", &interaction), ("csrf", &csrf), ("decision", "deny")]).await.headers());
        let params = query(&back);
        assert_eq!((params["error"].as_str(), params["state"].as_str()), ("access_denied", "st-1"));
    }
}

#[tokio::test]
async fn cookies_are_secure_with_an_https_issuer() {
    let db = TestDb::sqlite();
    let client = app_client(&db, json!({}));
    let app = spawn_with(settings(&db, &new_kek()));
    let url = format!(
        "{}/authorize?client_id={client}&response_type=code&redirect_uri={REDIRECT}&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256",
        app.address
    );
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = http.get(url).send().await.unwrap();
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly"), "{cookie}");
}

#[tokio::test]
async fn the_authorization_request_may_be_posted() {
    let db = TestDb::sqlite();
    let client = app_client(&db, json!({}));
    let browser = browser(&db);
    let form = [
        ("client_id", client.as_str()),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("prompt", "none"),
    ];
    let back = location(browser.post("/authorize", &form).await.headers());
    assert_eq!(query(&back)["error"], "login_required", "handled like GET (OpenID Connect Core §3.1.2.1)");
}
