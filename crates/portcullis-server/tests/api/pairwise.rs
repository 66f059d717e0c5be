//! Pairwise subject identifiers (OpenID Connect Core §8.1) and signed
//! UserInfo (§5.3.2): clients of one sector share a user's subject, other
//! sectors and public clients do not; the subject reads back at UserInfo,
//! introspection and an `id_token_hint`; a sector identifier document must
//! list the client's redirect URIs, at registration and at each request.

use crate::client_documents::{serve, Documents};
use crate::code_exchange::{exchange_form, payload};
use crate::code_flow::{browser_with, location, query, with_user, Browser, REDIRECT};
use crate::helpers::{new_kek, settings};
use crate::token::register;
use portcullis_app::{Actor, App};
use portcullis_oauth::registration::RegistrationMode;
use portcullis_store::backend_tests;
use serde_json::{json, Value};
use std::sync::Arc;

/// A code-flow client that skips consent, with `extra` metadata.
fn client(db: &portcullis_store::test_support::TestDb, extra: Value) -> (String, String) {
    let mut metadata = json!({"client_name": "App", "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT],
                              "scope": "openid profile", "skip_consent": true});
    metadata.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    register(db, metadata)
}

/// The tokens `client` gets for alice.
async fn tokens(browser: &Browser, (id, secret): &(String, String)) -> Value {
    let code = query(&browser.sign_in(id).await).remove("code").unwrap();
    let (status, tokens) = browser.exchange((id, secret), &exchange_form(&code)).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

backend_tests! {
    #[tokio::test]
    async fn a_sector_shares_a_subject_that_reads_back_and_userinfo_can_be_signed(db) {
        with_user(&db);
        let alice = App::with_defaults(db.connect()).user_named(&Actor::operator(), "alice").unwrap().user_id;
        let documents = Arc::new(Documents::default());
        let base = serve(documents.clone());
        documents.served.lock().unwrap().insert("/sector.json".into(), (200, json!([REDIRECT]), "max-age=600"));
        let shop = client(&db, json!({"subject_type": "pairwise"}));
        let shop_too = client(&db, json!({"subject_type": "pairwise"}));
        let elsewhere = client(&db, json!({"subject_type": "pairwise", "sector_identifier_uri": format!("{base}/sector.json")}));
        let public = client(&db, json!({"userinfo_signed_response_alg": "ES256"}));
        let rs = register(&db, json!({"client_name": "RS", "introspection_allowed": true}));
        let browser = browser_with(settings(&db, &new_kek()));

        let shop_tokens = tokens(&browser, &shop).await;
        let sub = |tokens: &Value| payload(tokens["id_token"].as_str().unwrap())["sub"].as_str().unwrap().to_owned();
        let at_shop = sub(&shop_tokens);
        assert_ne!(at_shop, alice, "a pairwise client never sees the user's id");
        assert_eq!(sub(&tokens(&browser, &shop_too).await), at_shop, "one sector (app.example), one subject");
        let at_elsewhere = sub(&tokens(&browser, &elsewhere).await);
        assert!(at_elsewhere != at_shop && at_elsewhere != alice, "the sector identifier's host is another sector");
        assert_eq!(documents.fetched("/sector.json"), 1, "checked at the request, kept as its Cache-Control says");
        let public_tokens = tokens(&browser, &public).await;
        assert_eq!(sub(&public_tokens), alice);

        let access = shop_tokens["access_token"].as_str().unwrap();
        assert_eq!(payload(access)["sub"], at_shop.as_str(), "the access token names the same subject");
        let http = reqwest::Client::new();
        let userinfo: Value = http.get(format!("{}/userinfo", browser.app.address)).bearer_auth(access)
            .send().await.unwrap().json().await.unwrap();
        assert_eq!((userinfo["sub"].as_str(), userinfo["name"].as_str()), (Some(at_shop.as_str()), Some("Alice")), "read back to alice");
        let introspected = browser.introspect((&rs.0, &rs.1), access).await;
        assert_eq!(introspected["sub"], at_shop.as_str());
        // An id_token_hint of the pairwise client names alice, whose session answers at once.
        let hint = shop_tokens["id_token"].as_str().unwrap();
        let silent = location(browser.authorize(&shop.0, &[("prompt", "none"), ("id_token_hint", hint)]).await.headers());
        assert!(query(&silent).contains_key("code"), "{silent}");

        // Signed UserInfo (§5.3.2): a JWT with iss and aud.
        let signed = http.get(format!("{}/userinfo", browser.app.address))
            .bearer_auth(public_tokens["access_token"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(signed.headers()["content-type"], "application/jwt");
        let jwt = signed.text().await.unwrap();
        let header = josekit::jwt::decode_header(&jwt).unwrap();
        assert_eq!(header.claim("alg").and_then(Value::as_str), Some("ES256"));
        let jwks: Value = browser.get("/jwks").await.json().await.unwrap();
        let kid = header.claim("kid").and_then(Value::as_str).unwrap();
        assert!(jwks["keys"].as_array().unwrap().iter().any(|key| key["kid"] == kid), "signed by a published key");
        let claims = payload(&jwt);
        assert_eq!((claims["iss"].as_str(), claims["aud"].as_str(), claims["sub"].as_str()),
                   (Some("http://localhost"), Some(public.0.as_str()), Some(alice.as_str())));

        // A sector document that stops listing the redirect URI stops the client's requests.
        documents.served.lock().unwrap().insert("/other.json".into(), (200, json!(["https://other.example/cb"]), "no-store"));
        let unlisted = client(&db, json!({"subject_type": "pairwise", "sector_identifier_uri": format!("{base}/other.json")}));
        let refused = browser.authorize(&unlisted.0, &[]).await;
        assert_eq!(refused.status(), 400, "an error page, never a redirect");
        assert!(refused.text().await.unwrap().contains("is not listed in the sector identifier document"));
    }

    #[tokio::test]
    async fn registration_fails_unless_the_sector_document_lists_every_redirect_uri(db) {
        let documents = Arc::new(Documents::default());
        let base = serve(documents.clone());
        documents.served.lock().unwrap().insert("/sector.json".into(), (200, json!(["https://a.example/cb"]), "max-age=60"));
        let mut at = settings(&db, &new_kek());
        at.registration = RegistrationMode::Open;
        let browser = browser_with(at);
        let register = |redirects: Value| {
            let (http, url) = (browser.http.clone(), format!("{}/register", browser.app.address));
            let body = json!({"client_name": "Agent", "redirect_uris": redirects, "subject_type": "pairwise",
                              "sector_identifier_uri": format!("{base}/sector.json"), "token_endpoint_auth_method": "none"});
            async move { http.post(url).json(&body).send().await.unwrap() }
        };
        let refused = register(json!(["https://a.example/cb", "https://b.example/cb"])).await;
        assert_eq!(refused.status(), 400);
        let error: Value = refused.json().await.unwrap();
        assert_eq!(error["error"], "invalid_client_metadata", "{error}");
        let admitted = register(json!(["https://a.example/cb"])).await;
        assert_eq!(admitted.status(), 201);
        let client: Value = admitted.json().await.unwrap();
        assert_eq!((client["subject_type"].as_str(), client["sector_identifier_uri"].as_str()),
                   (Some("pairwise"), Some(format!("{base}/sector.json").as_str())));
        // The sector is fixed: an RFC 7592 update cannot move the client's users' subjects.
        let mut public = client.clone();
        for member in ["registration_access_token", "registration_client_uri", "client_id_issued_at", "client_secret_expires_at"] {
            public.as_object_mut().unwrap().remove(member);
        }
        public["subject_type"] = json!("public");
        let managed = format!("{}/register/{}", browser.app.address, client["client_id"].as_str().unwrap());
        let moved = browser.http.put(managed)
            .bearer_auth(client["registration_access_token"].as_str().unwrap()).json(&public).send().await.unwrap();
        assert_eq!(moved.status(), 400);
        assert_eq!(moved.json::<Value>().await.unwrap()["error"], "invalid_client_metadata");
        let discovery: Value = browser.get("/.well-known/openid-configuration").await.json().await.unwrap();
        assert_eq!(discovery["subject_types_supported"], json!(["public", "pairwise"]));
    }
}
