//! The console in a real browser (issue 12): headless Chromium signs in as
//! an admin, enrols TOTP from the page, keeps its recovery codes, reaches
//! the overview, and signs out. Every page is saved as a screenshot.

use crate::browser::Chromium;
use crate::code_flow::PASSWORD;
use crate::console::{code, user};
use fantoccini::Locator;
use portcullis_app::Permission;
use portcullis_server::test_support::{free_port, settings};
use portcullis_store::backend_tests;

backend_tests! {
    #[tokio::test]
    async fn an_admin_signs_in_to_the_console_in_chromium(db) {
        user(&db, "root", &Permission::ALL);
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
        chromium.screenshot("login").await;
        browser.find(Locator::Id("username")).await.unwrap().send_keys("root").await.unwrap();
        browser.find(Locator::Id("password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
        browser.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();

        chromium.arrive_at("/login/second-factor").await;
        chromium.screenshot("second-factor-enrolment").await;
        let qr = browser.find(Locator::Css("a.qr svg")).await.unwrap();
        assert!(qr.rectangle().await.unwrap().2 > 100.0, "the QR code is drawn");
        let key: String = browser.find(Locator::Css(".key")).await.unwrap().text().await.unwrap().split_whitespace().collect();
        browser.find(Locator::Id("code")).await.unwrap().send_keys(&code(&key)).await.unwrap();
        browser.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();

        // The codes are shown at the same address as the form that was posted.
        browser.wait().for_element(Locator::Css(".codes li")).await.unwrap();
        let codes = browser.find_all(Locator::Css(".codes li")).await.unwrap();
        assert_eq!(codes.len(), 10, "ten recovery codes");
        chromium.screenshot("recovery-codes").await;
        browser.find(Locator::Css("a[href^='/authorize/resume']")).await.unwrap().click().await.unwrap();

        chromium.arrive_at("/console").await;
        let heading = browser.find(Locator::Css("main h1")).await.unwrap().text().await.unwrap();
        assert_eq!(heading, "Overview");
        let styled = browser.find(Locator::Css("header.bar")).await.unwrap().css_value("display").await.unwrap();
        assert_eq!(styled, "flex", "the stylesheet loaded under the CSP");
        chromium.screenshot("overview").await;
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
        chromium.screenshot("audit-log").await;
        browser.find(Locator::Css("form[action='/console/sign-out'] button")).await.unwrap().click().await.unwrap();
        chromium.arrive_at("/console/signed-out").await;
        chromium.screenshot("signed-out").await;
        browser.goto(&format!("{issuer}/console")).await.unwrap();
        chromium.arrive_at("/login").await; // the password and a second factor at each sign-in
        browser.clone().close().await.unwrap();
    }
}
