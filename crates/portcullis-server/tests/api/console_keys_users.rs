//! The console's key and user pages over HTTP (issue 12): keys staged,
//! activated, rotated and revoked after confirmations, the JWKS shown;
//! users created (a generated password shown once), their claims edited
//! (refused input kept), roles granted only by who holds them, disabled,
//! and their second factor reset.

use crate::code_flow::location;
use crate::console::signed_in;
use portcullis_app::{Actor, App, Permission};
use portcullis_store::backend_tests;

backend_tests! {
    #[tokio::test]
    async fn an_admin_stages_activates_rotates_and_revokes_keys_in_the_console(db) {
        let (browser, csrf) = signed_in(&db, "kim", &[Permission::Keys]).await;
        let app = App::with_defaults(db.connect());
        let active = |alg: &str| app.keys(&Actor::operator()).unwrap().into_iter()
            .find(|k| k.alg == alg && k.state == "active").map(|k| k.kid);
        let first = active("ES256").expect("keys are made at start");
        let page = browser.get("/console/keys").await.text().await.unwrap();
        assert!(page.contains(&first) && page.contains("Published JWKS") && page.contains("&#34;kty&#34;"), "{page}");

        let confirm = browser.get("/console/keys/rotate/ES256").await.text().await.unwrap();
        assert!(confirm.contains("Rotate the ES256 key") && confirm.contains("action=\"/console/keys/rotate/ES256\""), "{confirm}");
        assert_eq!(browser.post("/console/keys/rotate/ES256", &[("csrf", "forged")]).await.status(), 403);
        let rotated = browser.post("/console/keys/rotate/ES256", &[("csrf", &csrf)]).await;
        assert_eq!(location(rotated.headers()), "/console/keys");
        let second = active("ES256").unwrap();
        assert_ne!(second, first);

        browser.post("/console/keys/stage/RS256", &[("csrf", &csrf)]).await;
        let next = app.keys(&Actor::operator()).unwrap().into_iter().find(|k| k.state == "next").unwrap().kid;
        assert!(browser.get("/console/keys").await.text().await.unwrap().contains(&format!("/console/keys/activate/{next}")));
        browser.post(&format!("/console/keys/activate/{next}"), &[("csrf", &csrf)]).await;
        assert_eq!(active("RS256").unwrap(), next);

        let revoked = browser.post(&format!("/console/keys/revoke/{first}"), &[("csrf", &csrf)]).await;
        assert_eq!(location(revoked.headers()), "/console/keys");
        let again = browser.post(&format!("/console/keys/revoke/{first}"), &[("csrf", &csrf)]).await;
        assert_eq!(again.status(), 404, "a refusal is shown on the page");
        assert!(again.text().await.unwrap().contains("role=\"alert\""));
        assert_eq!(browser.post("/console/keys/rotate/HS256", &[("csrf", &csrf)]).await.status(), 400);
    }

    #[tokio::test]
    async fn an_admin_manages_users_in_the_console(db) {
        let (browser, csrf) = signed_in(&db, "uma", &[Permission::Users]).await;
        let app = App::with_defaults(db.connect());
        let created = browser.post("/console/users/new", &[("csrf", &csrf), ("username", "newbie"), ("password", ""),
            ("name", "New Bie"), ("email", "newbie@example.com")]).await;
        assert_eq!(created.status(), 200);
        let shown = created.text().await.unwrap();
        assert!(shown.contains("only time it is shown") && shown.contains("class=\"secret\""), "{shown}");
        let path = shown.split("href=\"/console/users/").nth(1).unwrap().split('"').next().unwrap();
        let path = format!("/console/users/{path}");
        let taken = browser.post("/console/users/new", &[("csrf", &csrf), ("username", "newbie"), ("name", "Kept")]).await;
        assert!(taken.status().is_client_error());
        assert!(taken.text().await.unwrap().contains("value=\"Kept\""), "what was typed is kept");
        let list = browser.get("/console/users?q=newb").await.text().await.unwrap();
        assert!(list.contains("newbie@example.com") && !list.contains(">uma</a>"), "{list}");

        let refused = browser.post(&format!("{path}/claims"), &[("csrf", &csrf), ("claims", "{\"email\": \"not-an-address\"}")]).await;
        assert_eq!(refused.status(), 400);
        assert!(refused.text().await.unwrap().contains("not-an-address&#34;}</textarea>"), "the typed claims are kept");
        browser.post(&format!("{path}/claims"), &[("csrf", &csrf), ("claims", "{\"name\": \"Newbie Renamed\"}")]).await;
        let id = path.rsplit('/').next().unwrap();
        assert_eq!(app.user(&Actor::operator(), id).unwrap().claims.name.as_deref(), Some("Newbie Renamed"));

        // A role is granted only by someone who holds it.
        let audit = browser.post(&format!("{path}/grant"), &[("csrf", &csrf), ("role", "audit")]).await;
        assert_eq!(audit.status(), 403);
        browser.post(&format!("{path}/grant"), &[("csrf", &csrf), ("role", "users")]).await;
        assert_eq!(app.admin_roles(&Actor::operator(), id).unwrap(), [Permission::Users]);
        let page = browser.get(&path).await.text().await.unwrap();
        assert!(page.contains("Withdraw<span class=\"visually-hidden\"> admin:users"), "{page}");
        browser.post(&format!("{path}/withdraw"), &[("csrf", &csrf), ("role", "users")]).await;
        assert!(app.admin_roles(&Actor::operator(), id).unwrap().is_empty());

        browser.post(&format!("{path}/password"), &[("csrf", &csrf), ("password", "a much longer passphrase 42")]).await;
        let disabled = browser.post(&format!("{path}/disable"), &[("csrf", &csrf)]).await;
        assert_eq!(location(disabled.headers()), path);
        assert!(app.user(&Actor::operator(), id).unwrap().disabled);
        assert!(browser.get(&format!("{path}/second-factor-reset")).await.text().await.unwrap().contains("enrol again"));
        assert_eq!(browser.post(&format!("{path}/claims"), &[("csrf", "forged"), ("claims", "{}")]).await.status(), 403);
    }
}
