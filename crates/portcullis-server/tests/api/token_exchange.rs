//! Token exchange (RFC 8693): a gateway exchanges a user's access token for
//! one of its own for another audience, only as its policy allows, never
//! wider and never longer-lived than the subject token, naming its actor in
//! `act` (or impersonating where allowed), audited, and revoked with the
//! subject's grant; refreshed only where the policy says so.

use crate::code_exchange::{exchange_form, payload};
use crate::code_flow::{browser, browser_at, query, with_user, Browser, REDIRECT};
use crate::token::register;
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use serde_json::{json, Value};

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
const ORDERS: &str = "https://orders.example";

fn gateway(db: &TestDb, policy: Value) -> (String, String) {
    register(
        db,
        json!({"client_name": "Gateway", "grant_types": [EXCHANGE, "client_credentials"], "scope": "openid profile",
                        "introspection_allowed": true, "token_exchange": policy}),
    )
}

/// The exchange of the access token `subject`, with `extra` parameters.
fn exchange_of<'a>(subject: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("grant_type", EXCHANGE), ("subject_token", subject), ("subject_token_type", ACCESS)];
    form.extend_from_slice(extra);
    form
}

fn pair(client: &(String, String)) -> (&str, &str) {
    (client.0.as_str(), client.1.as_str())
}

impl Browser {
    /// A user's tokens at `web`, signed in through the code flow.
    async fn user_tokens(&self, web: (&str, &str)) -> Value {
        let code = query(&self.sign_in(web.0).await).remove("code").unwrap();
        let (status, tokens) = self.exchange(web, &exchange_form(&code)).await;
        assert_eq!(status, 200, "{tokens}");
        tokens
    }
}

backend_tests! {
    #[tokio::test]
    async fn a_users_token_is_exchanged_narrower_for_another_audience_and_dies_with_its_grant(db) {
        with_user(&db);
        let web = register(&db, json!({"client_name": "Web", "grant_types": ["authorization_code", "refresh_token"],
                                       "redirect_uris": [REDIRECT], "scope": "openid profile", "skip_consent": true}));
        let gw = gateway(&db, json!({"subject_clients": [web.0], "audiences": [ORDERS]}));
        let browser = browser(&db);
        let tokens = browser.user_tokens(pair(&web)).await;
        let subject = tokens["access_token"].as_str().unwrap();
        let ask = |extra: &[(&'static str, &'static str)]| exchange_of(subject, extra);
        let (status, exchanged) = browser.exchange(pair(&gw), &ask(&[("audience", ORDERS), ("scope", "profile")])).await;
        assert_eq!(status, 200, "{exchanged}");
        assert_eq!((exchanged["issued_token_type"].as_str(), exchanged["token_type"].as_str()), (Some(ACCESS), Some("Bearer")));
        assert_eq!(exchanged["scope"], "profile");
        assert!(exchanged.get("refresh_token").is_none(), "no refresh token: {exchanged}");
        let (issued, original) = (payload(exchanged["access_token"].as_str().unwrap()), payload(subject));
        assert_eq!((issued["sub"].clone(), issued["aud"].as_str(), issued["client_id"].as_str()), (original["sub"].clone(), Some(ORDERS), Some(gw.0.as_str())));
        assert_eq!(issued["act"], json!({"sub": gw.0, "client_id": gw.0}), "delegation names the gateway");
        assert_eq!(issued["grant_id"], original["grant_id"]);
        assert!(issued["exp"].as_i64() <= original["exp"].as_i64(), "never outlives the subject token");
        let introspected = browser.introspect(pair(&gw), exchanged["access_token"].as_str().unwrap()).await;
        assert_eq!((introspected["active"].as_bool(), introspected["act"]["sub"].as_str()), (Some(true), Some(gw.0.as_str())));

        // Only narrower, only allowed audiences, only named clients' tokens.
        let (status, refused) = browser.exchange(pair(&gw), &ask(&[("scope", "openid profile email")])).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_scope")), "{refused}");
        let (status, refused) = browser.exchange(pair(&gw), &ask(&[("audience", "https://payments.example")])).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_target")), "{refused}");
        let stranger = gateway(&db, json!({"audiences": [ORDERS]}));
        let (status, refused) = browser.exchange(pair(&stranger), &ask(&[])).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_request")), "another client's token (RFC 8693 §2.2.2): {refused}");
        let (status, refused) = browser.exchange(pair(&web), &ask(&[])).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("unauthorized_client")), "without the grant: {refused}");
        let (status, refused) = browser.exchange(pair(&gw), &[("grant_type", EXCHANGE), ("subject_token", "forged"), ("subject_token_type", ACCESS)]).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_request")), "{refused}");
        let (status, refused) = browser.exchange(pair(&gw), &ask(&[("requested_token_type", "urn:ietf:params:oauth:token-type:refresh_token")])).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_request")), "{refused}");

        // An actor token must be the exchanging client's own: no one names another as actor.
        let svc = register(&db, json!({"client_name": "svc", "scope": "read"}));
        let foreign: Value = browser.exchange(pair(&svc), &[("grant_type", "client_credentials")]).await.1;
        let foreign = foreign["access_token"].as_str().unwrap();
        let (status, refused) = browser.exchange(pair(&gw), &exchange_of(subject, &[("actor_token", foreign), ("actor_token_type", ACCESS)])).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_request")), "{refused}");
        let own: Value = browser.exchange(pair(&gw), &[("grant_type", "client_credentials"), ("scope", "profile")]).await.1;
        let own = own["access_token"].as_str().unwrap();
        let (status, delegated) = browser.exchange(pair(&gw), &exchange_of(subject, &[("actor_token", own), ("actor_token_type", ACCESS)])).await;
        assert_eq!(status, 200, "{delegated}");
        let delegated = payload(delegated["access_token"].as_str().unwrap());
        assert_eq!(delegated["act"], json!({"sub": gw.0, "client_id": gw.0}));
        assert!(delegated["exp"].as_i64() <= payload(own)["exp"].as_i64(), "nor outlives the actor token");

        // Revoking the subject's grant (its refresh token, RFC 7009 §2.1) revokes what was exchanged.
        let revoke = [("token", tokens["refresh_token"].as_str().unwrap()), ("token_type_hint", "refresh_token")];
        let response = browser.http.post(format!("{}/revoke", browser.app.address)).basic_auth(&web.0, Some(&web.1)).form(&revoke).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let introspected = browser.introspect(pair(&gw), exchanged["access_token"].as_str().unwrap()).await;
        assert_eq!(introspected["active"], false, "revoked with the subject's grant");
    }

    #[tokio::test]
    async fn impersonation_and_id_token_subjects_only_where_the_policy_allows(db) {
        with_user(&db);
        let web = register(&db, json!({"client_name": "Web", "grant_types": ["authorization_code"],
                                       "redirect_uris": [REDIRECT], "scope": "openid profile", "skip_consent": true}));
        let delegating = gateway(&db, json!({"subject_clients": [web.0]}));
        let impersonating = gateway(&db, json!({"subject_clients": [web.0], "impersonation": true, "id_token_subjects": true}));
        let browser = browser(&db);
        let tokens = browser.user_tokens(pair(&web)).await;
        let id_token = tokens["id_token"].as_str().unwrap();
        let by_id = [("grant_type", EXCHANGE), ("subject_token", id_token), ("subject_token_type", ID_TOKEN)];
        let (status, refused) = browser.exchange(pair(&delegating), &by_id).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_request")), "{refused}");
        let (status, exchanged) = browser.exchange(pair(&impersonating), &by_id).await;
        assert_eq!(status, 200, "{exchanged}");
        let issued = payload(exchanged["access_token"].as_str().unwrap());
        assert_eq!(issued["sub"], payload(id_token)["sub"]);
        assert!(issued.get("act").is_none(), "impersonation names no actor: {issued}");
        assert_eq!(exchanged["scope"], Value::Null, "an ID token grants no scope: {exchanged}");
    }

    #[tokio::test]
    async fn a_services_own_token_is_exchanged_again_and_dies_with_it(db) {
        let service = register(&db, json!({"client_name": "Billing", "grant_types": ["client_credentials"], "scope": "openid profile"}));
        let gw = gateway(&db, json!({"subject_clients": [service.0], "audiences": [ORDERS]}));
        let browser = browser(&db);
        let (status, own) = browser.exchange(pair(&service), &[("grant_type", "client_credentials")]).await;
        assert_eq!(status, 200, "{own}");
        let subject = own["access_token"].as_str().unwrap();
        let (status, exchanged) = browser.exchange(pair(&gw), &exchange_of(subject, &[("audience", ORDERS)])).await;
        assert_eq!(status, 200, "{exchanged}");
        let first = exchanged["access_token"].as_str().unwrap();
        assert_eq!(payload(first)["sub"], service.0.as_str(), "the service stays the subject");
        // It is no user's token: UserInfo refuses it, whatever its scope.
        let (status, exchanged_here) = browser.exchange(pair(&gw), &exchange_of(subject, &[])).await;
        assert_eq!((status, exchanged_here["scope"].as_str()), (200, Some("openid profile")), "{exchanged_here}");
        let userinfo = browser.http.get(format!("{}/userinfo", browser.app.address))
            .bearer_auth(exchanged_here["access_token"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(userinfo.status(), 403, "insufficient_scope: no user");
        // Exchanged again, from the exchanged token: still the service's, not a user's.
        let (status, again) = browser.exchange(pair(&gw), &exchange_of(first, &[])).await;
        assert_eq!(status, 200, "{again}");
        let second = again["access_token"].as_str().unwrap();
        assert_eq!(browser.introspect(pair(&gw), second).await["active"], true);

        // Revoking the service's own token (RFC 7009) revokes both exchanges from it.
        let response = browser.http.post(format!("{}/revoke", browser.app.address)).basic_auth(&service.0, Some(&service.1))
            .form(&[("token", subject)]).send().await.unwrap();
        assert_eq!(response.status(), 200);
        for token in [first, second] {
            assert_eq!(browser.introspect(pair(&gw), token).await["active"], false, "revoked with its subject");
        }
    }

    #[tokio::test]
    async fn refresh_tokens_only_where_the_policy_says_so_and_they_die_with_the_subject(db) {
        with_user(&db);
        let web = register(&db, json!({"client_name": "Web", "grant_types": ["authorization_code", "refresh_token"],
                                       "redirect_uris": [REDIRECT], "scope": "openid profile", "skip_consent": true,
                                       "access_token_lifetime": 120}));
        let refreshing = |policy: Value| register(&db, json!({"client_name": "Gateway", "scope": "openid profile", "introspection_allowed": true,
            "grant_types": [EXCHANGE, "refresh_token", "client_credentials"], "token_exchange": policy}));
        let gw = refreshing(json!({"subject_clients": [web.0], "audiences": [ORDERS], "refresh_tokens": true}));
        let without = refreshing(json!({"subject_clients": [web.0]}));
        let clock = portcullis_app::Clock::manual(chrono::Utc::now());
        let browser = browser_at(&db, clock.clone());
        let tokens = browser.user_tokens(pair(&web)).await;
        let subject = tokens["access_token"].as_str().unwrap();
        let (status, plain) = browser.exchange(pair(&without), &exchange_of(subject, &[])).await;
        assert_eq!(status, 200, "{plain}");
        assert!(plain.get("refresh_token").is_none(), "not without the policy: {plain}");

        let (status, exchanged) = browser.exchange(pair(&gw), &exchange_of(subject, &[("audience", ORDERS), ("scope", "openid profile")])).await;
        assert_eq!(status, 200, "{exchanged}");
        let refresh = exchanged["refresh_token"].as_str().expect("the policy grants a refresh token");
        clock.advance(chrono::TimeDelta::seconds(30));
        let (status, narrowed) = browser.exchange(pair(&gw), &[("grant_type", "refresh_token"), ("refresh_token", refresh), ("scope", "profile")]).await;
        assert_eq!(status, 200, "{narrowed}");
        assert_eq!((narrowed["scope"].as_str(), narrowed.get("id_token")), (Some("profile"), None), "{narrowed}");
        let (first, again) = (payload(exchanged["access_token"].as_str().unwrap()), payload(narrowed["access_token"].as_str().unwrap()));
        for claim in ["sub", "aud", "act", "grant_id", "client_id"] {
            assert_eq!(again[claim], first[claim], "a refresh mints the exchanged token again: {claim}");
        }
        assert_eq!(again["act"], json!({"sub": gw.0, "client_id": gw.0}));
        assert!(again["exp"].as_i64() <= payload(subject)["exp"].as_i64(), "never outliving the subject token");
        let refresh = narrowed["refresh_token"].as_str().unwrap();
        let (status, wider) = browser.exchange(pair(&gw), &[("grant_type", "refresh_token"), ("refresh_token", refresh), ("scope", "openid profile email")]).await;
        assert_eq!((status, wider["error"].as_str()), (400, Some("invalid_scope")), "never wider than exchanged: {wider}");
        let (status, elsewhere) = browser.exchange(pair(&gw), &[("grant_type", "refresh_token"), ("refresh_token", refresh), ("resource", "https://payments.example")]).await;
        assert_eq!((status, elsewhere["error"].as_str()), (400, Some("invalid_target")), "only its own audience: {elsewhere}");
        clock.advance(chrono::TimeDelta::seconds(91));
        let (status, dead) = browser.exchange(pair(&gw), &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
        assert_eq!((status, dead["error"].as_str()), (400, Some("invalid_grant")), "the family died with its subject token: {dead}");

        // The gateway revoking its own refresh token (RFC 7009) ends its family, never the subject's grant.
        let tokens = browser.user_tokens(pair(&web)).await;
        let (browser, gw) = (&browser, &gw);
        let revoke = |client: &(String, String), token: &str| {
            let form = [("token", token.to_owned())];
            browser.http.post(format!("{}/revoke", browser.app.address)).basic_auth(&client.0, Some(&client.1)).form(&form).send()
        };
        let exchange_refresh = |subject: &str| {
            let subject = subject.to_owned();
            async move { browser.exchange(pair(gw), &exchange_of(&subject, &[])).await.1["refresh_token"].as_str().unwrap().to_owned() }
        };
        let refresh_at_gw = |token: String| async move { browser.exchange(pair(gw), &[("grant_type", "refresh_token"), ("refresh_token", &token)]).await };
        let own = exchange_refresh(tokens["access_token"].as_str().unwrap()).await;
        assert_eq!(revoke(gw, &own).await.unwrap().status(), 200);
        assert_eq!(refresh_at_gw(own).await.1["error"], "invalid_grant");
        assert_eq!(browser.introspect(pair(gw), tokens["access_token"].as_str().unwrap()).await["active"], true, "the subject's grant lives on");
        let (status, refreshed) = browser.refresh(pair(&web), tokens["refresh_token"].as_str().unwrap(), None).await;
        assert_eq!(status, 200, "so does its refresh family: {refreshed}");

        // Reusing a rotated one (RFC 9700 §4.14.2) ends that family too, never the subject's grant.
        let reused = exchange_refresh(refreshed["access_token"].as_str().unwrap()).await;
        assert_eq!(refresh_at_gw(reused.clone()).await.0, 200);
        assert_eq!(refresh_at_gw(reused).await.1["error"], "invalid_grant", "a rotated token reused");
        let introspected = browser.introspect(pair(gw), refreshed["access_token"].as_str().unwrap()).await;
        assert_eq!(introspected["active"], true, "the subject's grant lives on");

        // Revoking the subject token itself, or its grant (RFC 7009 §2.1), ends the family too.
        let subject = refreshed["access_token"].as_str().unwrap();
        let family = exchange_refresh(subject).await;
        assert_eq!(revoke(&web, subject).await.unwrap().status(), 200);
        let (status, revoked) = refresh_at_gw(family).await;
        assert_eq!((status, revoked["error"].as_str()), (400, Some("invalid_grant")), "the subject token is revoked: {revoked}");
        let subject = browser.refresh(pair(&web), refreshed["refresh_token"].as_str().unwrap(), None).await.1;
        let family = exchange_refresh(subject["access_token"].as_str().unwrap()).await;
        assert_eq!(revoke(&web, subject["refresh_token"].as_str().unwrap()).await.unwrap().status(), 200);
        let (status, revoked) = refresh_at_gw(family).await;
        assert_eq!((status, revoked["error"].as_str()), (400, Some("invalid_grant")), "the grant is revoked: {revoked}");

        // A service's own token has no grant to die with: no refresh token, whatever the policy.
        let own: Value = browser.exchange(pair(gw), &[("grant_type", "client_credentials")]).await.1;
        let (status, from_service) = browser.exchange(pair(gw), &exchange_of(own["access_token"].as_str().unwrap(), &[])).await;
        assert_eq!(status, 200, "{from_service}");
        assert!(from_service.get("refresh_token").is_none(), "{from_service}");
    }
}
