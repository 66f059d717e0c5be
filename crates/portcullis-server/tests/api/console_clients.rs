//! The console's client pages over HTTP (issue 12): a client created with
//! the form (its secret shown once), a change reviewed as a diff and saved,
//! a stale save explained and reviewed again, versions compared and rolled
//! back, the sandbox deciding without issuing, secrets regenerated in bulk
//! (all or none), redirect URIs checked as typed, and the guards (CSRF,
//! the `admin:clients` role).

use crate::code_flow::location;
use crate::console::{field, signed_in};
use crate::helpers::new_kek;
use portcullis_app::clients::{ClientChange, ClientQuery};
use portcullis_app::{Actor, App, Permission};
use portcullis_store::backend_tests;
use serde_json::json;

/// The hidden `draft` of a review page, unescaped.
pub fn draft(html: &str) -> String {
    field(html, "draft")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&amp;", "&")
        .replace("&#x2f;", "/")
}

/// The client ids on a list page.
fn listed(html: &str) -> Vec<String> {
    html.split("name=\"client_id\" value=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .collect()
}

backend_tests! {
    #[tokio::test]
    async fn an_admin_creates_changes_compares_and_rolls_back_a_client_in_the_console(db) {
        let (browser, csrf) = signed_in(&db, "carol", &[Permission::Clients]).await;
        let app = App::with_defaults(db.connect());

        // A number that is not one: named, and everything typed is kept.
        let wrong = browser.post("/console/clients/new", &[("csrf", &csrf), ("client_name", "Shop"),
            ("redirect_uris", "https://shop.example/cb"), ("access_token_lifetime", "five")]).await;
        assert_eq!(wrong.status(), 400);
        let html = wrong.text().await.unwrap();
        assert!(html.contains("must be a whole number") && html.contains("value=\"five\"")
            && html.contains("https://shop.example/cb</textarea>"), "{html}");

        let created = browser.post("/console/clients/new", &[("csrf", &csrf), ("client_name", "Shop"),
            ("redirect_uris", "https://shop.example/cb"), ("grant_types", "authorization_code"),
            ("grant_types", "refresh_token"), ("token_endpoint_auth_method", "client_secret_basic"),
            ("scope", "openid"), ("require_pkce", "on"), ("access_token_signed_response_alg", "RS256"),
            ("id_token_signed_response_alg", "RS256")]).await;
        assert_eq!(created.status(), 200);
        let shown = created.text().await.unwrap();
        assert!(shown.contains("only time it is") && shown.contains("data-download=\"client-secrets.json\""), "{shown}");
        let page = app.clients(&Actor::operator(), &ClientQuery { name: Some("Shop".into()), limit: 5, ..ClientQuery::default() }).unwrap();
        let shop = page.clients[0].clone();
        assert_eq!((shop.version, shop.secrets.len()), (1, 1));
        let path = format!("/console/clients/{}", shop.client_id);
        let list = browser.get("/console/clients?q=sho&state=enabled").await.text().await.unwrap();
        assert_eq!(listed(&list), [shop.client_id.as_str()]);
        assert!(listed(&browser.get("/console/clients?q=shop&state=disabled").await.text().await.unwrap()).is_empty());
        let coded = browser.get("/console/clients?grant=authorization_code&method=client_secret_basic").await.text().await.unwrap();
        assert_eq!(listed(&coded), [shop.client_id.as_str()], "filtered by grant and authentication");
        assert!(listed(&browser.get("/console/clients?grant=client_credentials&q=shop").await.text().await.unwrap()).is_empty());

        // The form's change, reviewed as a diff before anything is written.
        let form = browser.get(&format!("{path}/edit")).await.text().await.unwrap();
        assert!(form.contains("value=\"Shop\"") && form.contains("name=\"based_on\" value=\"1\""), "{form}");
        let reviewed = browser.post(&format!("{path}/edit"), &[("csrf", &csrf), ("step", "review"), ("based_on", "1"),
            ("client_name", "Shop EU"), ("redirect_uris", "https://shop.example/cb"), ("grant_types", "authorization_code"),
            ("grant_types", "refresh_token"), ("token_endpoint_auth_method", "client_secret_basic"), ("scope", "openid"),
            ("require_pkce", "on"), ("access_token_signed_response_alg", "RS256"), ("id_token_signed_response_alg", "RS256"),
            ("allowed_countries", "DE FR")]).await;
        assert_eq!(reviewed.status(), 200);
        let review = reviewed.text().await.unwrap();
        assert!(review.contains("<th scope=\"row\">Name</th>") && review.contains("Shop EU")
            && review.contains("<th scope=\"row\">Allowed countries</th>"), "{review}");
        assert!(!review.contains("<th scope=\"row\">Redirect URIs</th>"), "only what changed: {review}");
        assert_eq!(app.client(&Actor::operator(), &shop.client_id).unwrap().version, 1, "nothing written yet");

        let draft = draft(&review);
        let saved = browser.post(&format!("{path}/edit"), &[("csrf", &csrf), ("step", "save"), ("based_on", "1"), ("draft", &draft)]).await;
        assert_eq!(location(saved.headers()), path);
        let now = app.client(&Actor::operator(), &shop.client_id).unwrap();
        assert_eq!((now.version, now.metadata.client_name.as_str()), (2, "Shop EU"));

        // Someone else saves version 3; saving a draft based on 2 explains and reviews again.
        app.update_client(&Actor::operator(), &shop.client_id, None, ClientChange::Merge(json!({"access_token_lifetime": 120}).as_object().unwrap().clone())).unwrap();
        let mut stale_draft: serde_json::Value = serde_json::from_str(&draft).unwrap();
        stale_draft["scope"] = json!("openid profile");
        let stale = browser.post(&format!("{path}/edit"), &[("csrf", &csrf), ("step", "save"), ("based_on", "2"),
            ("draft", &stale_draft.to_string())]).await;
        assert_eq!(stale.status(), 409);
        let stale = stale.text().await.unwrap();
        assert!(stale.contains("Someone saved version 3") && stale.contains("name=\"based_on\" value=\"3\""), "{stale}");
        assert!(stale.contains("<th scope=\"row\">Scopes</th>") && !stale.contains("<th scope=\"row\">Access-token lifetime (s)</th>"),
            "the draft's change applied to version 3, whose own change stays: {stale}");
        assert!(stale.contains("&#34;access_token_lifetime&#34;:120"), "{stale}");
        assert_eq!(app.client(&Actor::operator(), &shop.client_id).unwrap().version, 3, "nothing overwritten");

        // Versions: a timeline, any two side by side, rollback after a confirmation.
        let versions = browser.get(&format!("{path}/versions?left=1&right=3")).await.text().await.unwrap();
        assert!(versions.contains("Version 1 and version 3") && versions.contains("by user:"), "{versions}");
        assert!(versions.contains("class=\"changed\"><th scope=\"row\">Name"), "{versions}");
        let confirm = browser.get(&format!("{path}/versions/1/rollback")).await.text().await.unwrap();
        assert!(confirm.contains("Roll back to version 1?") && confirm.contains("name=\"based_on\" value=\"3\""), "{confirm}");
        let late = browser.post(&format!("{path}/versions/1/rollback"), &[("csrf", &csrf), ("based_on", "2")]).await;
        assert_eq!(late.status(), 409);
        assert!(late.text().await.unwrap().contains("Nothing was rolled back"));
        let rolled = browser.post(&format!("{path}/versions/1/rollback"), &[("csrf", &csrf), ("based_on", "3")]).await;
        assert_eq!(location(rolled.headers()), format!("{path}/versions"));
        let now = app.client(&Actor::operator(), &shop.client_id).unwrap();
        assert_eq!((now.version, now.metadata.client_name.as_str()), (4, "Shop"));

        // Disable with CSRF; a forged form changes nothing.
        assert_eq!(browser.post(&format!("{path}/state"), &[("csrf", "forged"), ("action", "disable")]).await.status(), 403);
        browser.post(&format!("{path}/state"), &[("csrf", &csrf), ("action", "disable")]).await;
        assert!(app.client(&Actor::operator(), &shop.client_id).unwrap().disabled);
        let confirm = browser.get(&format!("{path}/delete")).await.text().await.unwrap();
        assert!(confirm.contains("cannot be undone"), "{confirm}");
        let deleted = browser.post(&format!("{path}/delete"), &[("csrf", &csrf)]).await;
        assert_eq!(location(deleted.headers()), "/console/clients");
        assert_eq!(browser.get(&path).await.status(), 404);
    }

    #[tokio::test]
    async fn the_sandbox_decides_without_issuing_and_secrets_are_regenerated_all_or_none(db) {
        let (browser, csrf) = signed_in(&db, "dave", &[Permission::Clients, Permission::Audit]).await;
        let app = App::with_defaults(db.connect()).with_kek(std::sync::Arc::new(portcullis_jose::KeyEncryptionKey::from_base64(&new_kek()).unwrap()));
        let service = |name: &str| app.create_client(&Actor::operator(), portcullis_core::ClientMetadata::parse(json!({"client_name": name,
            "grant_types": ["client_credentials"], "scope": "orders:read"}).as_object().unwrap().clone()).unwrap()).unwrap();
        let (one, two) = (service("Billing"), service("Reports"));
        let spa = app.create_client(&Actor::operator(), portcullis_core::ClientMetadata::parse(json!({"client_name": "SPA", "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "none", "redirect_uris": ["https://spa.example/cb"]}).as_object().unwrap().clone()).unwrap()).unwrap();
        let sandbox = format!("/console/clients/{}/sandbox", one.client.client_id);

        let shown = browser.get(&sandbox).await.text().await.unwrap();
        assert!(shown.contains("(saved, version 1)") && shown.contains("orders:read"), "{shown}");
        let refused = browser.post(&sandbox, &[("csrf", &csrf), ("grant_type", "client_credentials"), ("scope", "orders:write")]).await;
        let refused = refused.text().await.unwrap();
        assert!(refused.contains("Refused: invalid_scope"), "{refused}");
        let issued = browser.post(&sandbox, &[("csrf", &csrf), ("grant_type", "client_credentials")]).await.text().await.unwrap();
        assert!(issued.contains("Issued: a RS256 access token") && issued.contains("&#34;client_id&#34;"), "{issued}");
        assert!(issued.contains(&format!("&#34;sub&#34;: &#34;{}&#34;", one.client.client_id)), "{issued}");
        let code = browser.post(&sandbox, &[("csrf", &csrf), ("grant_type", "authorization_code")]).await.text().await.unwrap();
        assert!(code.contains("Refused: unauthorized_client"), "{code}");
        // A draft that allows more: decided against the draft, nothing saved.
        let draft = json!({"client_name": "Billing", "grant_types": ["client_credentials"], "scope": "orders:read orders:write"});
        let tried = browser.post(&sandbox, &[("csrf", &csrf), ("grant_type", "client_credentials"), ("scope", "orders:write"),
            ("configuration", &draft.to_string())]).await.text().await.unwrap();
        assert!(tried.contains("Against the draft") && tried.contains("Issued:"), "{tried}");
        // Every grant the token endpoint serves can be tried: the device grant and token exchange too.
        for grant in portcullis_oauth::grants::supported() {
            assert!(shown.contains(&format!(r#"<option value="{grant}""#)), "{grant}: {shown}");
        }
        let draft = json!({"client_name": "Billing", "grant_types": ["client_credentials", "urn:ietf:params:oauth:grant-type:device_code",
            "urn:ietf:params:oauth:grant-type:token-exchange"], "scope": "orders:read", "dpop_bound_access_tokens": true,
            "token_exchange": {"audiences": ["https://orders.example"]}});
        let device = browser.post(&sandbox, &[("csrf", &csrf), ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("configuration", &draft.to_string())]).await.text().await.unwrap();
        assert!(device.contains("Issued:") && device.contains("approves the scope at /device"), "{device}");
        assert!(device.contains("A DPoP proof is required"), "{device}");
        let exchanged = browser.post(&sandbox, &[("csrf", &csrf), ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
            ("configuration", &draft.to_string())]).await.text().await.unwrap();
        assert!(exchanged.contains("Issued:") && exchanged.contains("audiences: the subject token&#39;s own, https://orders.example"), "{exchanged}");
        assert!(!exchanged.contains("A refresh token would be issued"), "{exchanged}");
        assert_eq!(app.client(&Actor::operator(), &one.client.client_id).unwrap().version, 1);

        // Bulk: a public client in the selection changes nothing at all.
        let ids = [one.client.client_id.as_str(), two.client.client_id.as_str()];
        let refused = browser.post("/console/clients/regenerate", &[("csrf", &csrf), ("client_id", ids[0]),
            ("client_id", &spa.client.client_id)]).await;
        assert_eq!(refused.status(), 409);
        assert!(refused.text().await.unwrap().contains("No secret was changed"));
        assert_eq!(app.client(&Actor::operator(), ids[0]).unwrap().secrets[0].secret_id, one.client.secrets[0].secret_id);
        let regenerated = browser.post("/console/clients/regenerate", &[("csrf", &csrf), ("client_id", ids[0]), ("client_id", ids[1])]).await;
        assert_eq!(regenerated.status(), 200);
        let page = regenerated.text().await.unwrap();
        assert!(page.contains("2 new secrets") && page.contains("data-download=\"client-secrets.json\""), "{page}");
        for (id, before) in [(ids[0], &one), (ids[1], &two)] {
            let now = app.client(&Actor::operator(), id).unwrap();
            assert_eq!(now.secrets.len(), 1);
            assert_ne!(now.secrets[0].secret_id, before.client.secrets[0].secret_id, "the old secret is revoked");
        }
        let audit = browser.get("/console/audit?action=client.secret_regenerated&outcome=success").await.text().await.unwrap();
        assert_eq!(audit.matches("<td>client.secret_regenerated</td>").count(), 2, "one entry a client: {audit}");
        let audit = browser.get("/console/audit?action=client.secret_regenerated&outcome=refused").await.text().await.unwrap();
        assert_eq!(audit.matches("<td>client.secret_regenerated</td>").count(), 1, "the refusal too: {audit}");

        // Redirect URIs are checked as the form's script asks.
        let checked: serde_json::Value = browser.get("/console/clients/redirect-uris?application_type=web&uris=https%3A%2F%2Fok.example%2Fcb%0Ahttps%3A%2F%2Fbad.example%2Fcb%23frag")
            .await.json().await.unwrap();
        let problems = checked["problems"].as_array().unwrap();
        assert_eq!(problems.len(), 1, "{checked}");
        assert!(problems[0].as_str().unwrap().starts_with("line 2:"), "{checked}");
    }

    #[tokio::test]
    async fn choosing_the_fapi2_profile_in_the_form_brings_the_configuration_to_it(db) {
        let (browser, csrf) = signed_in(&db, "erin", &[Permission::Clients]).await;
        let app = App::with_defaults(db.connect());
        let bank = app.create_client(&Actor::operator(), portcullis_core::ClientMetadata::parse(json!({"client_name": "Bank",
            "grant_types": ["authorization_code", "refresh_token"], "redirect_uris": ["https://bank.example/cb"], "scope": "openid"})
            .as_object().unwrap().clone()).unwrap()).unwrap().client;
        let path = format!("/console/clients/{}", bank.client_id);
        let jwks = json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                                    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}).to_string();
        // The form as it was, with only the profile chosen and the client's key given.
        let reviewed = browser.post(&format!("{path}/edit"), &[("csrf", &csrf), ("step", "review"), ("based_on", "1"),
            ("client_name", "Bank"), ("redirect_uris", "https://bank.example/cb"), ("grant_types", "authorization_code"),
            ("grant_types", "refresh_token"), ("token_endpoint_auth_method", "client_secret_basic"), ("scope", "openid"),
            ("require_pkce", "on"), ("refresh_token_rotation", "on"), ("access_token_signed_response_alg", "ES256"),
            ("id_token_signed_response_alg", "RS256"), ("profile", "fapi2"), ("jwks", &jwks)]).await;
        assert_eq!(reviewed.status(), 200);
        let review = reviewed.text().await.unwrap();
        assert!(review.contains("private_key_jwt") && review.contains("PS256"), "the profile's values, shown as changes: {review}");
        let saved = browser.post(&format!("{path}/edit"), &[("csrf", &csrf), ("step", "save"), ("based_on", "1"),
            ("draft", &draft(&review))]).await;
        assert_eq!(location(saved.headers()), path);
        let now = app.client(&Actor::operator(), &bank.client_id).unwrap().metadata;
        assert!(now.is_fapi2() && now.dpop_bound_access_tokens && now.require_pushed_authorization_requests && !now.refresh_token_rotation);
        assert_eq!(now.access_token_signed_response_alg, portcullis_core::SigningAlgorithm::Es256, "a choice that agrees is kept");
        assert_eq!(now.id_token_signed_response_alg, portcullis_core::SigningAlgorithm::Ps256);
        // Once it follows the profile, a change against it is refused by name, not undone.
        let refused = browser.post(&format!("{path}/edit"), &[("csrf", &csrf), ("step", "review"), ("based_on", "2"),
            ("client_name", "Bank"), ("redirect_uris", "https://bank.example/cb"), ("grant_types", "authorization_code"),
            ("token_endpoint_auth_method", "private_key_jwt"), ("scope", "openid"), ("require_pkce", "on"),
            ("require_pushed_authorization_requests", "on"), ("dpop_bound_access_tokens", "on"), ("refresh_token_rotation", "on"),
            ("access_token_signed_response_alg", "ES256"), ("id_token_signed_response_alg", "PS256"), ("profile", "fapi2"),
            ("jwks", &jwks)]).await.text().await.unwrap();
        assert!(refused.contains("must be false (FAPI 2.0 §5.3.2.1)") || refused.contains("must be false (FAPI 2.0 &sect;5.3.2.1)")
            || refused.contains("profile fapi2"), "{refused}");
    }

    #[tokio::test]
    async fn console_forms_are_read_with_limits(db) {
        let (browser, csrf) = signed_in(&db, "fran", &[Permission::Clients]).await;
        let url = format!("{}/console/clients/new", browser.app.address);
        let huge = format!("csrf={csrf}&client_name={}", "a".repeat(70 * 1024));
        let large = browser.http.post(&url).header("content-type", "application/x-www-form-urlencoded").body(huge).send().await.unwrap();
        assert_eq!(large.status(), 413);
        assert!(large.text().await.unwrap().contains("exceeds"), "a styled page says why");
        let json = browser.http.post(&url).json(&json!({"csrf": csrf})).send().await.unwrap();
        assert_eq!(json.status(), 415);
        let no_version = browser.post("/console/clients/x/versions/1/rollback", &[("csrf", &csrf)]).await;
        assert_eq!(no_version.status(), 400, "a rollback names the version it was shown");
    }

    #[tokio::test]
    async fn client_pages_need_the_clients_role(db) {
        let (browser, _) = signed_in(&db, "erin", &[Permission::Audit]).await;
        let page = browser.get("/console/clients").await;
        assert_eq!(page.status(), 403);
        assert!(page.text().await.unwrap().contains("admin:clients"));
    }
}
