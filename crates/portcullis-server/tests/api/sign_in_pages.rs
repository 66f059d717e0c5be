//! The sign-in pages' branding and language (issue 12): the configured
//! product name, logo and colours on every page (the logo and colours
//! served by the server itself, so the CSP stays strict), and German for
//! a browser that prefers it, English otherwise.

use crate::code_flow::{app_client, browser_with, location, with_user};
use crate::console::field;
use crate::helpers::{new_kek, settings};
use portcullis_server::branding::BrandSettings;
use portcullis_store::backend_tests;
use serde_json::json;

backend_tests! {
    #[tokio::test]
    async fn sign_in_pages_carry_the_brand_and_speak_the_browsers_language(db) {
        with_user(&db);
        let client = app_client(&db, json!({"client_name": "Shop", "client_uri": "https://shop.example/",
            "policy_uri": "https://shop.example/privacy"}));
        let dir = tempfile::tempdir().unwrap();
        let logo = dir.path().join("logo.svg");
        std::fs::write(&logo, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1 1\"><rect width=\"1\" height=\"1\"/></svg>").unwrap();
        let mut settings = settings(&db, &new_kek());
        settings.branding = BrandSettings {
            name: "Acme ID".into(),
            logo: Some(logo),
            color: Some("#0a7d45".into()),
            color_dark: None,
        };
        let browser = browser_with(settings);
        let login = location(browser.authorize(&client, &[]).await.headers());

        let german = browser.http.get(format!("{}{login}", browser.app.address))
            .header("accept-language", "de-CH, de;q=0.9, en;q=0.5").send().await.unwrap();
        let csp = german.headers()["content-security-policy"].to_str().unwrap().to_owned();
        let html = german.text().await.unwrap();
        assert!(html.contains("<html lang=\"de\">") && html.contains("<label for=\"username\">Benutzername</label>"), "{html}");
        assert!(html.contains("Melden Sie sich an, um zu <strong>Shop</strong> zu gelangen.") && html.contains(">Datenschutzerklärung</a>"), "{html}");
        assert!(html.contains("<title>Anmelden · Acme ID</title>") && html.contains("src=\"/assets/brand-logo\""), "{html}");
        assert!(html.contains("href=\"/assets/branding.css\"") && !html.contains("style="), "{html}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");

        let english = browser.http.get(format!("{}{login}", browser.app.address))
            .header("accept-language", "fr-FR, fr;q=0.9").send().await.unwrap().text().await.unwrap();
        assert!(english.contains("<html lang=\"en\">") && english.contains("Sign in to continue to <strong>Shop</strong>."), "{english}");

        let failed = browser.http.post(format!("{}/login", browser.app.address)).header("accept-language", "de")
            .form(&[("interaction", field(&html, "interaction")), ("csrf", field(&html, "csrf")),
                    ("username", "alice".into()), ("password", "wrong".into())])
            .send().await.unwrap();
        assert_eq!(failed.status(), 401);
        assert!(failed.text().await.unwrap().contains("Benutzername oder Passwort ist falsch."));

        let colours = browser.get("/assets/branding.css").await.text().await.unwrap();
        assert!(colours.contains("--accent: #0a7d45"), "{colours}");
        let logo = browser.get("/assets/brand-logo").await;
        assert_eq!(logo.headers()["content-type"], "image/svg+xml");
        assert!(logo.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"), "an SVG runs nothing");
    }
}
