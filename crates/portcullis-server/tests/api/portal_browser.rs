//! The developer portal in a real browser (issue 23), as a developer who
//! is no admin: headless Chromium follows an invitation link through the
//! portal's sign-in into the team, registers an app with the builder (one
//! outside the team's policy explained first), gets its secret and uses it,
//! sees the request in the app's monitoring, leaves a scope change pending
//! and sees an admin approve it, changes the app through a reviewed diff,
//! compares its versions, registers a webhook endpoint, regenerates the
//! team's secrets, makes a personal access token and introspects with it,
//! and shows the team's page on a phone in the dark theme. Every page is
//! audited with axe-core and saved as a screenshot.

use crate::browser::Chromium;
use crate::code_flow::PASSWORD;
use crate::console::user;
use fantoccini::Locator;
use portcullis_app::{Actor, App};
use portcullis_core::team::{TeamPolicy, TeamRole};
use portcullis_server::test_support::{free_port, settings};
use portcullis_store::backend_tests;
use serde_json::{json, Value};

backend_tests! {
    #[tokio::test]
    async fn a_developer_runs_an_app_in_the_portal_in_chromium(db) {
        let app = App::with_defaults(db.connect());
        let admin = Actor::operator();
        let policy: TeamPolicy = serde_json::from_value(json!({
            "clients": {"grant_types": ["client_credentials"], "scopes": ["orders", "payments"]},
            "approval_scopes": ["payments"], "max_secret_lifetime_days": 30
        })).unwrap();
        let team = app.create_team(&admin, "Shop", policy).unwrap().team_id;
        let invited = app.invite_to_team(&admin, &team, TeamRole::Developer, std::time::Duration::from_secs(3_600)).unwrap();
        user(&db, "dev", &[]);
        let port = free_port();
        let issuer = format!("http://127.0.0.1:{port}");
        // A clock of the test's own: monitoring shows finished minutes.
        let clock = portcullis_app::Clock::manual(chrono::Utc::now());
        let mut at = settings(format!("127.0.0.1:{port}"), portcullis_core::Issuer::parse(&issuer).unwrap(), db.database_url());
        at.clock = clock.clone();
        let server = portcullis_server::Application::build(at).unwrap();
        tokio::spawn(server.run_until_stopped());
        let chromium = Chromium::start().await;
        let browser = &chromium.client;

        // The invitation link, through the sign-in, to the question and into the team.
        browser.goto(&format!("{issuer}/portal/join?token={}", invited.token.expose())).await.unwrap();
        chromium.arrive_at("/login").await;
        chromium.fill("username", "dev").await;
        chromium.fill("password", PASSWORD).await;
        chromium.click("button[type=submit]").await;
        chromium.arrive_at("/portal/join").await;
        chromium.check("portal-join").await;
        chromium.click("main button[type=submit]").await;
        chromium.arrive_at(&format!("/portal/teams/{team}")).await;
        assert!(chromium.text("main h1").await.starts_with("Shop"));
        chromium.check("portal-team").await;

        // An app outside the policy is explained; one within it is registered.
        chromium.click("a.button").await;
        chromium.arrive_at(&format!("/portal/teams/{team}/apps/new")).await;
        chromium.check("portal-app-new").await;
        chromium.fill("client_name", "Worker").await;
        chromium.click("#grant_types-authorization_code").await;
        chromium.fill("redirect_uris", "https://app.shop.example/cb").await;
        chromium.click("main form button[type=submit]").await;
        browser.wait().for_element(Locator::Css("div.error")).await.unwrap();
        let reason = chromium.text("div.error").await;
        assert!(reason.contains("`authorization_code` is not allowed by the policy"), "the reason is shown: {reason}");
        chromium.check("portal-app-refused").await;
        chromium.click("#grant_types-authorization_code").await;
        chromium.fill("redirect_uris", "").await;
        chromium.fill("scope", "orders payments").await;
        chromium.click("main form button[type=submit]").await;
        browser.wait().for_element(Locator::Id("shown-once")).await.unwrap();
        let secret = chromium.text("#shown-once").await;
        chromium.check("portal-secret-shown").await;
        chromium.click("main p a").await;
        browser.wait().for_element(Locator::Css("main dl code")).await.unwrap();
        let client_id = chromium.text("main dl code").await;
        // No pooled connection: the browser's steps between two calls outlast
        // the server's keep-alive, and a reused connection it closed fails.
        let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
        let token: Value = http.post(format!("{issuer}/token")).basic_auth(&client_id, Some(&secret))
            .form(&[("grant_type", "client_credentials")]).send().await.unwrap().json().await.unwrap();
        assert_eq!(token["scope"], "orders", "the secret works; the scope needing approval waits");
        assert!(chromium.text("main").await.contains("waiting for approval"));
        chromium.check("portal-app").await;

        // A week of history from one network, then another: a rule flags the app as unusual.
        let (rule, description, enabled) = portcullis_app::alerts::parse_rule(json!({"kind": "anomaly", "signal": "new_network"}).as_object().unwrap().clone()).unwrap();
        app.create_alert_rule(&admin, rule, description, enabled).unwrap();
        let now = chrono::Utc::now();
        let known = portcullis_store::sightings::KnownNetwork {
            network: "192.0.2.0/24".into(), country: None,
            first_seen_at: now - chrono::TimeDelta::days(8), last_seen_at: now - chrono::TimeDelta::days(1),
        };
        portcullis_store::sightings::remember_network(&mut db.connect().get().unwrap(), &client_id, &known, None).unwrap();
        // As the server's usage job writes a network its client authenticated from.
        let seen = portcullis_store::sightings::NetworkSighting { client_id: client_id.clone(), minute: now, network: "198.51.100.0/24".into() };
        portcullis_store::sightings::insert_networks(&mut db.connect().get().unwrap(), &[seen]).unwrap();
        let announced: Vec<&str> = app.detect().unwrap().iter().map(portcullis_app::Event::name).collect();
        assert_eq!(announced, ["client.new_network", "alert.fired"]);

        // The request, in the app's monitoring, once its minute is over; and why it is flagged.
        clock.advance(chrono::TimeDelta::minutes(1));
        chromium.click("main .heading a[href$='/usage']").await;
        chromium.arrive_at(&format!("/portal/apps/{client_id}/usage")).await;
        let requests: i64 = chromium.text(".tiles .tile .figure").await.parse().unwrap();
        assert!(requests >= 1, "the token request is counted: {requests}");
        assert!(chromium.text("main").await.contains("client.created"), "and the app's events are listed");
        let flagged = chromium.text("#flagged ~ .flagged").await;
        assert!(flagged.contains("First authenticated from network 198.51.100.0/24"), "{flagged}");
        chromium.check("portal-usage").await;
        browser.back().await.unwrap();
        browser.wait().for_element(Locator::Css("main dl")).await.unwrap();

        // An admin approves; the developer sees it.
        let request = app.pending_scope_requests(&admin).unwrap().remove(0).request_id;
        app.decide_scope_request(&admin, &request, true, Some("reviewed")).unwrap();
        browser.refresh().await.unwrap();
        browser.wait().for_element(Locator::Css("main dl")).await.unwrap();
        let page = chromium.text("main").await;
        assert!(page.contains("orders payments") && page.contains("approved"), "{page}");

        // A change reviewed as a diff and saved; the versions side by side.
        chromium.click("main .heading a[href$='/edit']").await;
        chromium.arrive_at(&format!("/portal/apps/{client_id}/edit")).await;
        chromium.check("portal-edit").await;
        chromium.fill("client_name", "Orders worker").await;
        chromium.click("main form button[type=submit]").await;
        browser.wait().for_element(Locator::Css("table.diff")).await.unwrap();
        assert!(chromium.text("table.diff").await.contains("Orders worker"));
        chromium.check("portal-review").await;
        chromium.click("main form button[value=save]").await;
        chromium.arrive_at(&format!("/portal/apps/{client_id}")).await;
        chromium.click("main .heading a[href$='/versions']").await;
        chromium.arrive_at(&format!("/portal/apps/{client_id}/versions")).await;
        assert!(chromium.text("main").await.contains("Orders worker"));
        chromium.check("portal-versions").await;
        chromium.click("main .pick a").await;
        browser.wait().for_element(Locator::Css("main table.diff")).await.unwrap();
        chromium.check("portal-rollback").await;

        // An endpoint for the team's events.
        browser.goto(&format!("{issuer}/portal/teams/{team}/webhooks")).await.unwrap();
        chromium.fill("webhook-url", "https://hooks.example/in").await;
        chromium.click("main form button[type=submit]").await;
        browser.wait().for_element(Locator::Id("shown-once")).await.unwrap();
        assert!(chromium.text("#shown-once").await.starts_with("whsec_"));
        browser.goto(&format!("{issuer}/portal/teams/{team}/webhooks")).await.unwrap();
        chromium.check("portal-webhooks").await;
        chromium.click("main table a").await;
        browser.wait().for_element(Locator::Css("main dl.facts")).await.unwrap();
        chromium.check("portal-webhook").await;

        // The user's teams; the team's secrets regenerated together.
        browser.goto(&format!("{issuer}/portal")).await.unwrap();
        chromium.check("portal-home").await;
        browser.goto(&format!("{issuer}/portal/teams/{team}")).await.unwrap();
        chromium.click("#choose-1").await;
        chromium.click("main form button.secondary").await;
        browser.wait().for_element(Locator::Id("secret-1")).await.unwrap();
        chromium.check("portal-secrets").await;

        // A personal access token, shown once, introspected as the developer.
        browser.goto(&format!("{issuer}/portal/teams/{team}/tokens")).await.unwrap();
        chromium.check("portal-tokens").await;
        chromium.fill("token-name", "CI").await;
        chromium.click("main form button[type=submit]").await;
        browser.wait().for_element(Locator::Id("shown-once")).await.unwrap();
        let pat = chromium.text("#shown-once").await;
        let rs = crate::token::register(&db, json!({"client_name": "rs", "introspection_allowed": true}));
        let answer: Value = http.post(format!("{issuer}/introspect")).basic_auth(&rs.0, Some(&rs.1))
            .form(&[("token", pat.as_str())]).send().await.unwrap().json().await.unwrap();
        assert_eq!((answer["active"].as_bool(), answer["username"].as_str()), (Some(true), Some("dev")));

        // On a phone, in the dark theme.
        chromium.as_phone_in_the_dark(true).await;
        browser.goto(&format!("{issuer}/portal/teams/{team}")).await.unwrap();
        browser.wait().for_element(Locator::Css("main h1")).await.unwrap();
        assert!(!chromium.overflows().await, "no sideways scrolling on a phone");
        assert!(chromium.text("#unusual").await.contains("Unusual now"), "the flagged app, on the team's page");
        chromium.check("portal-phone-dark-team").await;
    }
}
