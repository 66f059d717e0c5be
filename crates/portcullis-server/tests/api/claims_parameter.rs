//! The `claims` request parameter (OpenID Connect Core §5.5): standard
//! claims asked for by name reach the ID token or UserInfo as asked, also
//! across refreshes; the user consents to them by name; `sub` with a value
//! admits that user only; an essential `acr` this server cannot meet fails
//! the request, and a malformed parameter is `invalid_request`.

use crate::code_exchange::{exchange_form, payload};
use crate::code_flow::{browser, location, query, with_user, Browser, PASSWORD, REDIRECT};
use crate::token::register;
use portcullis_app::{Actor, App};
use portcullis_core::StandardClaims;
use portcullis_store::backend_tests;
use serde_json::{json, Value};

/// The user's id, after giving `alice` an e-mail address and a nickname.
fn alice(db: &portcullis_store::test_support::TestDb) -> String {
    with_user(db);
    let app = App::with_defaults(db.connect());
    let alice = app.user_named(&Actor::operator(), "alice").unwrap().user_id;
    let claims = StandardClaims {
        name: Some("Alice".into()),
        nickname: Some("Al".into()),
        email: Some("alice@example.com".into()),
        ..Default::default()
    };
    app.set_user_claims(&Actor::operator(), &alice, &claims).unwrap();
    alice
}

async fn userinfo(browser: &Browser, access: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/userinfo", browser.app.address))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

backend_tests! {
    #[tokio::test]
    async fn claims_asked_by_name_reach_the_id_token_or_userinfo_as_asked(db) {
        alice(&db);
        let (id, secret) = register(&db, json!({"client_name": "App", "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [REDIRECT], "scope": "openid profile email", "skip_consent": true}));
        let browser = browser(&db);
        let asked = json!({"id_token": {"email": {"essential": true}, "auth_time": null},
                           "userinfo": {"nickname": null, "department": null, "phone_number": null}}).to_string();
        let code = query(&browser.sign_in_with(&id, &[("scope", "openid"), ("claims", &asked)]).await).remove("code").unwrap();
        let (status, tokens) = browser.exchange((&id, &secret), &exchange_form(&code)).await;
        assert_eq!(status, 200, "{tokens}");
        let id_token = payload(tokens["id_token"].as_str().unwrap());
        assert_eq!((id_token["email"].as_str(), id_token.get("nickname")), (Some("alice@example.com"), None), "{id_token}");
        let released = userinfo(&browser, tokens["access_token"].as_str().unwrap()).await;
        assert_eq!(released["nickname"], "Al", "asked at UserInfo, beyond the scope openid: {released}");
        assert!(released.get("email").is_none() && released.get("name").is_none(), "only what was asked there: {released}");
        assert!(released.get("phone_number").is_none(), "phone is beyond the client's scopes, asked by name or not");

        let (status, refreshed) = browser.refresh((&id, &secret), tokens["refresh_token"].as_str().unwrap(), None).await;
        assert_eq!(status, 200, "{refreshed}");
        assert_eq!(payload(refreshed["id_token"].as_str().unwrap())["email"], "alice@example.com", "kept across refreshes");
        assert_eq!(userinfo(&browser, refreshed["access_token"].as_str().unwrap()).await["nickname"], "Al");

        // `sub` with a value admits that user only (§5.5.1): another must log in, and alice cannot answer.
        let other = json!({"id_token": {"sub": {"value": "someone-else"}}}).to_string();
        let login = location(browser.authorize(&id, &[("claims", &other)]).await.headers());
        assert!(login.starts_with("/login"), "alice's session does not answer: {login}");
        let resumed = browser.log_in(&login, "alice", PASSWORD).await;
        let refused = location(browser.get(&location(resumed.headers())).await.headers());
        assert_eq!(query(&refused).get("error").map(String::as_str), Some("login_required"), "{refused}");
        // An essential acr this server cannot meet fails the request (§5.5.1.1); a malformed one is invalid.
        let acr = json!({"id_token": {"acr": {"essential": true, "values": ["urn:mace:incommon:iap:silver"]}}}).to_string();
        for (claims, error) in [(acr.as_str(), "access_denied"), ("{\"userinfo\": []}", "invalid_request"), ("not json", "invalid_request")] {
            let answered = location(browser.authorize(&id, &[("claims", claims)]).await.headers());
            assert_eq!(query(&answered).get("error").map(String::as_str), Some(error), "{claims}: {answered}");
        }
    }

    #[tokio::test]
    async fn a_claim_asked_by_name_is_consented_to_by_name(db) {
        alice(&db);
        let (id, _) = register(&db, json!({"client_name": "App", "grant_types": ["authorization_code"],
            "redirect_uris": [REDIRECT], "scope": "openid profile email"}));
        let browser = browser(&db);
        let first = browser.sign_in_with(&id, &[("scope", "openid")]).await;
        assert!(query(&first).contains_key("code"), "consented to openid: {first}");
        let asked = json!({"userinfo": {"email": null}}).to_string();
        let consent = location(browser.authorize(&id, &[("scope", "openid"), ("claims", &asked)]).await.headers());
        assert!(consent.starts_with("/consent"), "email was never consented to: {consent}");
        let page = browser.get(&consent).await.text().await.unwrap();
        assert!(page.contains("Also shared with the app: email"), "{page}");
        let approved = browser.sign_in_with(&id, &[("scope", "openid"), ("claims", &asked)]).await;
        assert!(query(&approved).contains_key("code"), "{approved}");
        let again = location(browser.authorize(&id, &[("scope", "openid"), ("claims", &asked)]).await.headers());
        assert!(query(&again).contains_key("code"), "remembered: {again}");

        // A mapping added since shares a claim the user never saw: consent is asked again.
        let mapping = json!({"claim_mappings": [{"claim": "mail", "from": {"standard": "email"}, "tokens": ["id_token"]}]});
        App::with_defaults(db.connect()).update_client(&Actor::operator(), &id, None,
            portcullis_app::clients::ClientChange::Merge(mapping.as_object().unwrap().clone())).unwrap();
        let mut asked_again = location(browser.authorize(&id, &[("scope", "openid")]).await.headers());
        for _ in 0..20 {
            if asked_again.starts_with("/consent") { break; }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await; // the change reaches the registry
            asked_again = location(browser.authorize(&id, &[("scope", "openid")]).await.headers());
        }
        assert!(asked_again.starts_with("/consent"), "{asked_again}");
        assert!(browser.get(&asked_again).await.text().await.unwrap().contains("Also shared with the app: mail"));
    }
}
