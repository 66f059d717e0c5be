//! The console in a real browser (issue 12): headless Chromium signs in as
//! an admin, enrols TOTP from the page, keeps its recovery codes, reaches
//! the overview, filters and exports the audit log, and signs out; another
//! admin manages clients, keys, users and monitoring. Every page is audited
//! with axe-core and saved as a screenshot.

use crate::browser::Chromium;
use crate::code_flow::PASSWORD;
use crate::console::{code, user};
use fantoccini::Locator;
use portcullis_app::Permission;
use portcullis_server::test_support::{free_port, settings};
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;

/// A server on `db` that is its own issuer, and headless Chromium signed in
/// to its console as `root` (every role), enrolled in TOTP on the way
/// (the login, enrolment and recovery-code pages are screenshots).
async fn signed_in(db: &TestDb) -> (Chromium, String) {
    user(db, "root", &Permission::ALL);
    // The console's callback is under the issuer: the server is its own issuer here.
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let server = portcullis_server::Application::build(settings(
        format!("127.0.0.1:{port}"),
        portcullis_core::Issuer::parse(&issuer).unwrap(),
        db.database_url(),
    ))
    .unwrap();
    tokio::spawn(server.run_until_stopped());

    let chromium = Chromium::start().await;
    let browser = &chromium.client;
    browser.goto(&format!("{issuer}/console")).await.unwrap();
    chromium.arrive_at("/login").await;
    chromium.check("login").await;
    browser.find(Locator::Id("username")).await.unwrap().send_keys("root").await.unwrap();
    browser.find(Locator::Id("password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    browser.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();

    chromium.arrive_at("/login/second-factor").await;
    chromium.check("second-factor-enrolment").await;
    let qr = browser.find(Locator::Css("a.qr svg")).await.unwrap();
    assert!(qr.rectangle().await.unwrap().2 > 100.0, "the QR code is drawn");
    let key: String =
        browser.find(Locator::Css(".key")).await.unwrap().text().await.unwrap().split_whitespace().collect();
    browser.find(Locator::Id("code")).await.unwrap().send_keys(&code(&key)).await.unwrap();
    browser.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();

    // The codes are shown at the same address as the form that was posted.
    browser.wait().for_element(Locator::Css(".codes li")).await.unwrap();
    let codes = browser.find_all(Locator::Css(".codes li")).await.unwrap();
    assert_eq!(codes.len(), 10, "ten recovery codes");
    chromium.check("recovery-codes").await;
    browser.find(Locator::Css("a[href^='/authorize/resume']")).await.unwrap().click().await.unwrap();

    chromium.arrive_at("/console").await;
    (chromium, issuer)
}

backend_tests! {
    #[tokio::test]
    async fn an_admin_signs_in_to_the_console_in_chromium(db) {
        let (chromium, issuer) = signed_in(&db).await;
        let browser = &chromium.client;
        let heading = browser.find(Locator::Css("main h1")).await.unwrap().text().await.unwrap();
        assert_eq!(heading, "Overview");
        // The audit finds what it should: here, an image without a text alternative.
        browser.execute("document.querySelector('main').append(document.createElement('img'))", vec![]).await.unwrap();
        assert!(chromium.violations().await.iter().any(|v| v.starts_with("image-alt")));
        browser.execute("document.querySelector('main > img').remove()", vec![]).await.unwrap();
        let styled = browser.find(Locator::Css("header.bar")).await.unwrap().css_value("display").await.unwrap();
        assert_eq!(styled, "flex", "the stylesheet loaded under the CSP");
        chromium.check("overview-first-sign-in").await;
        // The page's own script (allowed by the CSP) refreshes the tiles within five seconds.
        browser.execute("document.querySelector('[data-refresh]').textContent = 'stale'", vec![]).await.unwrap();
        let refreshed = browser.wait().at_most(std::time::Duration::from_secs(8))
            .for_element(Locator::Css("[data-refresh] .tile")).await;
        assert!(refreshed.is_ok(), "the overview refreshed itself");

        browser.find(Locator::Css("a[href='/console/audit']")).await.unwrap().click().await.unwrap();
        chromium.arrive_at("/console/audit").await;
        browser.find(Locator::Id("action")).await.unwrap().send_keys("console.signed_in").await.unwrap();
        browser.find(Locator::Css("form.filters button[type=submit]")).await.unwrap().click().await.unwrap();
        for _ in 0..100 {
            if browser.current_url().await.unwrap().query().is_some_and(|q| q.contains("action=console.signed_in")) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let rows = browser.find_all(Locator::Css("main table tbody tr")).await.unwrap();
        assert_eq!(rows.len(), 1, "one sign-in so far");
        chromium.check("audit-log").await;
        // The export link carries the filter: what the browser would download.
        let fetch = "const done = arguments[arguments.length - 1];
            fetch(document.querySelector('a[href*=\"format=csv\"]').href).then(r => r.text()).then(done, e => done(String(e)));";
        let csv = browser.execute_async(fetch, vec![]).await.unwrap();
        let csv = csv.as_str().unwrap_or_default();
        assert!(csv.starts_with("seq,at,actor,action") && csv.lines().count() == 2, "one filtered entry: {csv}");
        browser.find(Locator::Css("form[action='/console/sign-out'] button")).await.unwrap().click().await.unwrap();
        chromium.arrive_at("/console/signed-out").await;
        chromium.check("signed-out").await;
        browser.goto(&format!("{issuer}/console")).await.unwrap();
        chromium.arrive_at("/login").await; // the password and a second factor at each sign-in
        browser.clone().close().await.unwrap();
    }

    #[tokio::test]
    async fn an_admin_manages_clients_keys_and_users_in_chromium(db) {
        let app = portcullis_app::App::with_defaults(db.connect());
        let operator = portcullis_app::Actor::operator();
        let billing = app.create_client(&operator, portcullis_core::ClientMetadata::parse(serde_json::json!({"client_name": "Billing",
            "grant_types": ["client_credentials"], "scope": "openid"}).as_object().unwrap().clone()).unwrap()).unwrap();
        // A day of traffic, written as the instances' minute rollups are, for the charts.
        let now = chrono::Utc::now();
        let day: Vec<portcullis_store::usage::Rollup> = (1..=24 * 12)
            .map(|step| {
                let requests = 40 + (step * 37 % 60);
                portcullis_store::usage::Rollup {
                    client_id: billing.client.client_id.clone(),
                    minute: now - chrono::TimeDelta::minutes(5 * step),
                    counts: portcullis_store::usage::Counts {
                        requests,
                        auth_errors: i64::from(step % 17 == 0) * 9,
                        other_errors: step % 5,
                        server_errors: 0,
                        tokens_issued: requests - step % 5,
                    },
                    latency: vec![requests as u64],
                }
            })
            .collect();
        portcullis_store::usage::insert(&mut db.connect().get().unwrap(), &day).unwrap();
        // A week before it as usual, learnt; then a burst in the last hour, which an anomaly rule flags.
        let week: Vec<portcullis_store::usage::Rollup> = (25..=8 * 24)
            .map(|hours| portcullis_store::usage::Rollup {
                client_id: billing.client.client_id.clone(),
                minute: now - chrono::TimeDelta::hours(hours),
                counts: portcullis_store::usage::Counts { requests: 850, tokens_issued: 800, ..Default::default() },
                latency: vec![850],
            })
            .collect();
        portcullis_store::usage::insert(&mut db.connect().get().unwrap(), &week).unwrap();
        app.learn_baselines().unwrap();
        let burst = portcullis_store::usage::Rollup {
            client_id: billing.client.client_id.clone(),
            minute: now - chrono::TimeDelta::minutes(10),
            counts: portcullis_store::usage::Counts { requests: 20_000, tokens_issued: 40, ..Default::default() },
            latency: vec![20_000],
        };
        portcullis_store::usage::insert(&mut db.connect().get().unwrap(), &[burst]).unwrap();
        let (rule, description, enabled) = portcullis_app::alerts::parse_rule(serde_json::json!({"kind": "anomaly", "signal": "requests"}).as_object().unwrap().clone()).unwrap();
        app.create_alert_rule(&operator, rule, description, enabled).unwrap();
        assert_eq!(app.check_alert_rules().unwrap().len(), 1, "the burst fires");
        let (chromium, _) = signed_in(&db).await;
        let browser = &chromium.client;
        let overview = browser.find(Locator::Css("#unusual ~ .flagged")).await.unwrap().text().await.unwrap();
        assert!(overview.contains("Billing") && overview.contains("times as much"), "{overview}");
        chromium.check("overview").await;

        // A client made with the form; a wrong redirect URI is flagged as it is typed.
        chromium.click("a[href='/console/clients']").await;
        chromium.arrive_at("/console/clients").await;
        chromium.check("clients").await;
        chromium.click("a[href='/console/clients/new']").await;
        chromium.arrive_at("/console/clients/new").await;
        chromium.fill("client_name", "Shop").await;
        chromium.fill("redirect_uris", "https://shop.example/cb#fragment").await;
        let flagged = browser.wait().at_most(std::time::Duration::from_secs(5))
            .for_element(Locator::Css("textarea#redirect_uris[aria-invalid=true]")).await;
        assert!(flagged.is_ok(), "checked as typed");
        assert!(chromium.text("#redirect_uris-check").await.starts_with("line 1:"));
        chromium.check("client-form").await;
        chromium.fill("redirect_uris", "https://shop.example/cb").await;
        chromium.click("form.settings button[type=submit]").await;
        browser.wait().for_element(Locator::Css("code.secret")).await.unwrap();
        chromium.check("client-secret-shown-once").await;
        chromium.click("main a:not(.button)[href^='/console/clients/']").await;
        browser.wait().for_element(Locator::Css("dl.facts")).await.unwrap();
        let shop_path = browser.current_url().await.unwrap().path().to_owned();
        chromium.check("client").await;

        // Changed, reviewed as a diff, saved; versions compared; rolled back.
        chromium.click("a[href$='/edit']").await;
        chromium.arrive_at(&format!("{shop_path}/edit")).await;
        chromium.fill("client_name", "Shop EU").await;
        chromium.fill("access_token_lifetime", "600").await;
        chromium.click("form.settings button[type=submit]").await;
        browser.wait().for_element(Locator::Css("table.diff")).await.unwrap();
        let changed = browser.find_all(Locator::Css("table.diff tbody tr")).await.unwrap();
        assert_eq!(changed.len(), 2, "the name and the lifetime");
        chromium.check("client-review").await;
        chromium.click("button[value=save]").await;
        chromium.arrive_at(&shop_path).await;
        assert_eq!(chromium.text("main h1").await, "Shop EU");
        chromium.click("a[href$='/versions']").await;
        chromium.arrive_at(&format!("{shop_path}/versions")).await;
        assert!(chromium.text("#compared").await.contains("Version 1 and version 2"));
        chromium.check("client-versions").await;
        chromium.click("a[href$='/versions/1/rollback']").await;
        chromium.arrive_at(&format!("{shop_path}/versions/1/rollback")).await;
        chromium.check("client-rollback").await;
        chromium.click("main form button[type=submit]").await;
        chromium.arrive_at(&format!("{shop_path}/versions")).await;
        assert!(chromium.text("ol.timeline li").await.contains("Version 3"), "the rollback is a new version");

        // The sandbox, against the saved configuration.
        browser.goto(&format!("{}{}/sandbox", chromium.origin().await, shop_path)).await.unwrap();
        browser.find(Locator::Id("grant_type")).await.unwrap().select_by_value("authorization_code").await.unwrap();
        chromium.click("form.card button[type=submit]").await;
        browser.wait().for_element(Locator::Css("#decision")).await.unwrap();
        assert!(chromium.text("[role=status] p").await.starts_with("Issued"));
        chromium.check("client-sandbox").await;

        // Secrets of two clients regenerated together, shown once.
        browser.goto(&format!("{}/console/clients", chromium.origin().await)).await.unwrap();
        chromium.click(&format!("input[value='{}']", billing.client.client_id)).await;
        chromium.click(&format!("input[value='{}']", shop_path.rsplit('/').next().unwrap())).await;
        chromium.click("form[action='/console/clients/regenerate'] button[type=submit]").await;
        browser.wait().for_element(Locator::Css("button[data-download='client-secrets.json']")).await.unwrap();
        let offered = browser.find(Locator::Css("button[data-download]")).await.unwrap().is_displayed().await.unwrap();
        assert!(offered, "the script offers the download");
        assert_eq!(browser.find_all(Locator::Css("code.secret")).await.unwrap().len(), 2);
        chromium.check("client-secrets-regenerated").await;

        // A key rotated after its confirmation.
        chromium.click("a[href='/console/keys']").await;
        chromium.arrive_at("/console/keys").await;
        let before = chromium.text("section[aria-labelledby=alg-ES256] .badge.ok + code").await;
        chromium.click("a[href='/console/keys/rotate/ES256']").await;
        chromium.arrive_at("/console/keys/rotate/ES256").await;
        chromium.check("keys-rotate").await;
        chromium.click("main form button[type=submit]").await;
        chromium.arrive_at("/console/keys").await;
        let after = chromium.text("section[aria-labelledby=alg-ES256] .badge.ok + code").await;
        assert_ne!(before, after, "a new active ES256 key");
        chromium.check("keys").await;

        // Monitoring: the busiest clients, and one's usage over the day.
        chromium.click("a[href='/console/monitoring']").await;
        chromium.arrive_at("/console/monitoring").await;
        chromium.check("monitoring").await;
        chromium.click(&format!("a[href='/console/monitoring/clients/{}']", billing.client.client_id)).await;
        browser.wait().for_element(Locator::Css("figure.chart rect")).await.unwrap();
        let flagged = browser.find(Locator::Css("#flagged ~ .flagged")).await.unwrap().text().await.unwrap();
        assert!(flagged.contains("Requests") && flagged.contains("is usual at this time of day"), "{flagged}");
        chromium.check("client-usage").await;
        // A webhook's form offers the events this admin's roles read.
        browser.goto(&format!("{}/console/monitoring/webhooks/new", chromium.origin().await)).await.unwrap();
        chromium.arrive_at("/console/monitoring/webhooks/new").await;
        chromium.click("details.help summary").await;
        assert!(chromium.text("details.help").await.contains("auth.login_failed"), "every event for an auditor");
        chromium.check("webhook-form").await;

        // Users: the list and a user's page.
        chromium.click("a[href='/console/users']").await;
        chromium.arrive_at("/console/users").await;
        chromium.check("users").await;
        chromium.click("main table a").await;
        browser.wait().for_element(Locator::Css("ul.roles")).await.unwrap();
        chromium.check("user").await;

        // On a phone, in the dark: nothing wider than the screen, the audit (contrast too) still clean.
        chromium.as_phone_in_the_dark(true).await;
        let origin = chromium.origin().await;
        for (path, name) in [("/console", "overview"), ("/console/clients", "clients"), (shop_path.as_str(), "client"),
                             ("/console/clients/new", "client-form"), ("/console/audit", "audit-log"), ("/console/keys", "keys")] {
            browser.goto(&format!("{origin}{path}")).await.unwrap();
            chromium.arrive_at(path).await;
            assert!(!chromium.overflows().await, "{path} fits a phone's width");
            chromium.check(&format!("phone-dark-{name}")).await;
        }
        chromium.as_phone_in_the_dark(false).await;
        browser.clone().close().await.unwrap();
    }
}
