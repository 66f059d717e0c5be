//! The device authorization grant (RFC 8628): codes from the device
//! authorization endpoint, the verification page (typed or pre-filled
//! code, sign-in, consent naming the code), polling answers
//! (`authorization_pending`, `slow_down` with the interval raised,
//! `access_denied`, `expired_token`), a grant redeemed once, guessing
//! limited, and the console's list of waiting devices.

use crate::code_flow::{browser, browser_at, browser_with, location, with_user, Browser, PASSWORD};
use crate::console::{field, signed_in};
use crate::helpers::{new_kek, settings};
use crate::token::register;
use portcullis_app::Permission;
use portcullis_oauth::endpoints;
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use serde_json::{json, Value};

const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A public client of the device grant that may refresh.
fn tv(db: &TestDb) -> String {
    register(
        db,
        json!({"client_name": "Living-room TV", "token_endpoint_auth_method": "none",
                        "grant_types": [DEVICE_CODE, "refresh_token"], "scope": "openid profile"}),
    )
    .0
}

impl Browser {
    /// `POST /device_authorization` for `client`: status and answer.
    async fn device_codes(&self, client: &str, scope: &str) -> (u16, Value) {
        let response =
            self.post(endpoints::DEVICE_AUTHORIZATION, &[("client_id", client), ("scope", scope)]).await;
        let status = response.status().as_u16();
        if status == 200 {
            assert_eq!(response.headers()["cache-control"], "no-store");
        }
        (status, response.json().await.unwrap())
    }

    /// One poll of the token endpoint: status and answer.
    async fn poll(&self, client: &str, device_code: &str) -> (u16, Value) {
        let form = [("grant_type", DEVICE_CODE), ("device_code", device_code), ("client_id", client)];
        let response = self.post(endpoints::TOKEN, &form).await;
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// Types `user_code` on the verification page: the response to the form.
    async fn type_code(&self, user_code: &str) -> reqwest::Response {
        let page = self.get(endpoints::DEVICE_VERIFICATION).await.text().await.unwrap();
        self.post(
            endpoints::DEVICE_VERIFICATION,
            &[("csrf", &field(&page, "csrf")), ("user_code", user_code)],
        )
        .await
    }

    /// Types `user_code`, signs in as alice when asked, and decides
    /// `decision` on the consent page, which must name the code: the page at the end.
    async fn decide(&self, user_code: &str, decision: &str) -> (u16, String) {
        let mut next = location(self.type_code(user_code).await.headers());
        if next.starts_with("/login") {
            let resumed = self.log_in(&next, "alice", PASSWORD).await;
            next = location(self.get(&location(resumed.headers())).await.headers());
        }
        assert!(next.starts_with("/consent"), "consent is always asked: {next}");
        let consent = self.get(&next).await.text().await.unwrap();
        let shown = user_code.to_ascii_uppercase();
        assert!(
            consent.contains(&format!(
                r#"<strong class="user-code">{}-{}</strong>"#,
                &shown[..4],
                &shown[shown.len() - 4..]
            )),
            "{consent}"
        );
        let form = [
            ("interaction", field(&consent, "interaction")),
            ("csrf", field(&consent, "csrf")),
            ("decision", decision.to_owned()),
        ];
        let form: Vec<(&str, &str)> = form.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let done = self.post("/consent", &form).await;
        (done.status().as_u16(), done.text().await.unwrap())
    }
}

backend_tests! {
    #[tokio::test]
    async fn a_device_polls_while_its_user_approves_and_redeems_once(db) {
        with_user(&db);
        let client = tv(&db);
        let device = browser(&db);
        let phone = another(&device);
        let (status, codes) = device.device_codes(&client, "openid profile").await;
        assert_eq!(status, 200, "{codes}");
        let (device_code, user_code) = (codes["device_code"].as_str().unwrap(), codes["user_code"].as_str().unwrap());
        assert!(user_code.len() == 9 && user_code.as_bytes()[4] == b'-', "{user_code}");
        assert_eq!(codes["verification_uri"], "http://localhost/device");
        assert_eq!(codes["verification_uri_complete"], format!("http://localhost/device?user_code={user_code}"));
        assert_eq!((codes["expires_in"].as_u64(), codes["interval"].as_u64()), (Some(600), Some(5)));

        let (status, pending) = device.poll(&client, device_code).await;
        assert_eq!((status, pending["error"].as_str()), (400, Some("authorization_pending")), "{pending}");
        let (status, slow) = device.poll(&client, device_code).await;
        assert_eq!((status, slow["error"].as_str()), (400, Some("slow_down")), "{slow}");
        assert!(slow["error_description"].as_str().unwrap().contains("every 10 seconds"), "the interval grows by 5 s: {slow}");

        // The page pre-fills the code of verification_uri_complete.
        let prefilled = phone.get(&format!("/device?user_code={user_code}")).await.text().await.unwrap();
        assert_eq!(field(&prefilled, "user_code"), user_code);
        // Typed in lower case without the dash, it is still the code.
        let typed = user_code.replace('-', "").to_ascii_lowercase();
        let (status, page) = phone.decide(&typed, "approve").await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Device connected"), "{page}");

        let (status, tokens) = device.poll(&client, device_code).await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!((tokens["token_type"].as_str(), tokens["scope"].as_str()), (Some("Bearer"), Some("openid profile")));
        assert!(tokens["id_token"].is_string() && tokens["refresh_token"].is_string(), "{tokens}");
        let (status, again) = device.poll(&client, device_code).await;
        assert_eq!((status, again["error"].as_str()), (400, Some("invalid_grant")), "redeemed once: {again}");
        let (status, again) = phone.decide_again(user_code).await;
        assert_eq!(status, 400, "a decided code is no longer waiting: {again}");

        // A device grant's refresh token works as any other.
        let refresh = [("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap()), ("client_id", client.as_str())];
        let refreshed: Value = device.post(endpoints::TOKEN, &refresh).await.json().await.unwrap();
        assert!(refreshed["access_token"].is_string(), "{refreshed}");
    }

    #[tokio::test]
    async fn a_denied_or_expired_device_gets_no_tokens_and_codes_are_not_guessed(db) {
        with_user(&db);
        let client = tv(&db);
        let clock = portcullis_app::Clock::manual(chrono::Utc::now());
        let device = browser_at(&db, clock.clone());
        let phone = another(&device);
        let (_, codes) = device.device_codes(&client, "openid").await;
        let (status, page) = phone.decide(codes["user_code"].as_str().unwrap(), "deny").await;
        assert!(status == 200 && page.contains("Access denied"), "{page}");
        let (status, denied) = device.poll(&client, codes["device_code"].as_str().unwrap()).await;
        assert_eq!((status, denied["error"].as_str()), (400, Some("access_denied")), "{denied}");

        // Approved, then the user is disabled before the device polls: no tokens.
        let (_, codes) = device.device_codes(&client, "openid").await;
        let (status, page) = phone.decide(codes["user_code"].as_str().unwrap(), "approve").await;
        assert!(status == 200 && page.contains("Device connected"), "{page}");
        let database = db.connect();
        let alice = portcullis_store::users::find_by_username(&mut database.get().unwrap(), "alice").unwrap().unwrap();
        portcullis_app::App::with_defaults(database).set_user_disabled(&portcullis_app::Actor::operator(), &alice.user_id, true).unwrap();
        let (status, denied) = device.poll(&client, codes["device_code"].as_str().unwrap()).await;
        assert_eq!((status, denied["error"].as_str()), (400, Some("access_denied")), "{denied}");

        let (_, codes) = device.device_codes(&client, "openid").await;
        clock.advance(chrono::TimeDelta::seconds(601));
        let (status, expired) = device.poll(&client, codes["device_code"].as_str().unwrap()).await;
        assert_eq!((status, expired["error"].as_str()), (400, Some("expired_token")), "{expired}");

        // Scope beyond the client's, a client without the grant, a wrong device code.
        let (status, refused) = device.device_codes(&client, "openid email").await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_scope")), "{refused}");
        let web = register(&db, json!({"client_name": "Web", "token_endpoint_auth_method": "none", "grant_types": ["authorization_code"],
                                       "redirect_uris": ["https://app.example/cb"], "scope": "openid"})).0;
        let (status, refused) = device.device_codes(&web, "openid").await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("unauthorized_client")), "{refused}");
        let (status, refused) = device.poll(&client, "not-a-device-code").await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_grant")), "{refused}");
    }

    #[tokio::test]
    async fn user_codes_are_not_guessed(db) {
        // Wrong codes show the form again; past the limit, a wait (RFC 8628 §5.1).
        let mut limited = settings(&db, &new_kek());
        limited.rate_limits.user_code = 3;
        let guesser = browser_with(limited);
        for _ in 0..3 {
            let response = guesser.type_code("BCDF-GHJK").await;
            assert_eq!(response.status(), 400);
            assert!(response.text().await.unwrap().contains("not valid or has expired"));
        }
        assert_eq!(guesser.type_code("BCDF-GHJK").await.status(), 429);
        // A form without its cookie's token is refused.
        let forged = guesser.post(endpoints::DEVICE_VERIFICATION, &[("csrf", "forged"), ("user_code", "BCDF-GHJK")]).await;
        assert_eq!(forged.status(), 403);
    }

    #[tokio::test]
    async fn the_console_lists_the_devices_waiting(db) {
        let client = tv(&db);
        let (console, _) = signed_in(&db, "watcher", &[Permission::Monitoring]).await;
        let (_, codes) = console.device_codes(&client, "openid").await;
        let page = console.get("/console/devices").await.text().await.unwrap();
        let user_code = codes["user_code"].as_str().unwrap();
        let masked = format!("{}**-****", &user_code[..2]);
        assert!(page.contains(&masked) && page.contains(&client), "{page}");
        assert!(!page.contains(user_code), "a waiting code is never shown whole: {page}");
        let query = portcullis_app::audit::Query {
            from: None, to: None, actor: None, action: Some("device.authorization_started".into()), target: None, team: None,
            outcome: None, after: 0, newest_first: false, limit: 10,
        };
        let audit = crate::token::operations(&db).audit_entries(&portcullis_app::Actor::operator(), query).unwrap();
        assert!(audit.entries.iter().any(|e| e.actor == client && e.target == masked), "{:?}", audit.entries);
        assert!(!audit.entries.iter().any(|e| e.details.to_string().contains(user_code)), "nor logged whole");
    }
}

/// A second browser, with cookies of its own, on `browser`'s server.
fn another(browser: &Browser) -> Browser {
    Browser::new(crate::helpers::TestApp {
        address: browser.app.address.clone(),
        client: reqwest::Client::new(),
    })
}

impl Browser {
    /// Types an already decided `user_code` again: the form's status and text.
    async fn decide_again(&self, user_code: &str) -> (u16, String) {
        let response = self.type_code(user_code).await;
        (response.status().as_u16(), response.text().await.unwrap())
    }
}
