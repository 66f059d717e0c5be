//! The back channel of the authorization code flow: the code exchanged at
//! /token (RFC 6749 §4.1.3, RFC 7636, RFC 9700 §4.8.2) and refresh-token
//! rotation (RFC 6749 §6, RFC 9700 §4.14.2).

use crate::code_flow::{browser, browser_at, location, query, with_user, Browser, PASSWORD, REDIRECT};
use crate::token::register;
use portcullis_core::{Password, StandardClaims, Username};
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use serde_json::json;

/// The RFC 7636 Appendix B verifier of `CHALLENGE`.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

impl Browser {
    /// A code for `client`, after logging in and consenting.
    pub async fn code(&self, client: &str) -> String {
        let to_client = self.sign_in(client).await;
        query(&to_client).remove("code").unwrap_or_else(|| panic!("no code in {to_client}"))
    }

    /// The token endpoint's status and answer to `form`, from `client`.
    pub async fn exchange(
        &self,
        (id, secret): (&str, &str),
        form: &[(&str, &str)],
    ) -> (u16, serde_json::Value) {
        let response = self
            .http
            .post(format!("{}/token", self.app.address))
            .basic_auth(id, Some(secret))
            .form(form)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// The token endpoint's answer to refreshing with `token`.
    pub async fn refresh(
        &self,
        client: (&str, &str),
        token: &str,
        scope: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
        form.extend(scope.map(|scope| ("scope", scope)));
        self.exchange(client, &form).await
    }

    /// What `client` is told about `token` by introspection.
    pub async fn introspect(&self, (id, secret): (&str, &str), token: &str) -> serde_json::Value {
        let response = self
            .http
            .post(format!("{}/introspect", self.app.address))
            .basic_auth(id, Some(secret))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }
}

/// The token request exchanging `code`.
pub fn exchange_form(code: &str) -> Vec<(&str, &str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ]
}

/// A confidential app that may refresh, and a resource server that may introspect.
pub fn confidential_app(db: &TestDb) -> ((String, String), (String, String)) {
    let app = register(
        db,
        json!({"client_name": "App", "grant_types": ["authorization_code", "refresh_token"],
                                  "redirect_uris": [REDIRECT], "scope": "openid profile email", "skip_consent": true,
                                  "id_token_signed_response_alg": "ES256"}),
    );
    let rs = register(db, json!({"client_name": "RS", "introspection_allowed": true}));
    (app, rs)
}

/// The claims of `jwt`, unverified.
pub fn payload(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

backend_tests! {
    #[tokio::test]
    async fn codes_and_tokens_expire_by_the_server_clock(db) {
        with_user(&db);
        let app = register(&db, json!({"client_name": "App", "grant_types": ["authorization_code", "refresh_token"],
                                       "redirect_uris": [REDIRECT], "scope": "openid profile", "skip_consent": true,
                                       "refresh_token_idle_lifetime": 300, "access_token_lifetime": 60}));
        let rs = register(&db, json!({"client_name": "RS", "introspection_allowed": true}));
        let client = (app.0.as_str(), app.1.as_str());
        let clock = portcullis_app::Clock::manual(chrono::Utc::now());
        let browser = browser_at(&db, clock.clone());
        let code = browser.code(client.0).await;
        clock.advance(chrono::TimeDelta::seconds(61));
        let (status, expired) = browser.exchange(client, &exchange_form(&code)).await;
        assert_eq!((status, expired["error"].as_str()), (400, Some("invalid_grant")), "a code lives 60 s: {expired}");
        let (status, tokens) = browser.exchange(client, &exchange_form(&browser.code(client.0).await)).await;
        assert_eq!(status, 200, "{tokens}");
        let refresh = tokens["refresh_token"].as_str().unwrap();
        let (access, rs) = (tokens["access_token"].as_str().unwrap(), (rs.0.as_str(), rs.1.as_str()));
        assert_eq!(browser.introspect(rs, access).await["active"], true);
        clock.advance(chrono::TimeDelta::seconds(61));
        assert_eq!(browser.introspect(rs, access).await["active"], false, "an access token lives 60 s");
        clock.advance(chrono::TimeDelta::seconds(238));
        let (status, rotated) = browser.refresh(client, refresh, None).await;
        assert_eq!(status, 200, "within its idle lifetime: {rotated}");
        clock.advance(chrono::TimeDelta::seconds(301));
        let (status, idle) = browser.refresh(client, rotated["refresh_token"].as_str().unwrap(), None).await;
        assert_eq!((status, idle["error"].as_str()), (400, Some("invalid_grant")), "idle past 300 s: {idle}");
    }

    #[tokio::test]
    async fn a_code_is_exchanged_once_for_access_id_and_refresh_tokens(db) {
        with_user(&db);
        let ((id, secret), rs) = confidential_app(&db);
        let browser = browser(&db);
        let login = location(browser.authorize(&id, &[("nonce", "n-1")]).await.headers());
        let resumed = browser.log_in(&login, "alice", PASSWORD).await;
        let code = query(&location(browser.get(&location(resumed.headers())).await.headers())).remove("code").unwrap();
        let (status, tokens) = browser.exchange((&id, &secret), &exchange_form(&code)).await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(tokens["scope"], "openid profile");
        let access = payload(tokens["access_token"].as_str().unwrap());
        let id_token = tokens["id_token"].as_str().unwrap();
        let claims = payload(id_token);
        assert_eq!((claims["iss"].as_str(), claims["aud"].as_str(), claims["azp"].as_str()), (Some("http://localhost"), Some(id.as_str()), Some(id.as_str())));
        assert_eq!(claims["sub"], access["sub"]);
        assert_eq!(claims["nonce"], "n-1");
        assert!(claims["auth_time"].is_i64() && claims["sid"].is_string());
        let alg = josekit::jwt::decode_header(id_token).unwrap().claim("alg").unwrap().as_str().unwrap().to_owned();
        assert_eq!(alg, "ES256", "the client's id_token_signed_response_alg");
        assert_eq!(claims["at_hash"], portcullis_jose::at_hash(tokens["access_token"].as_str().unwrap(), portcullis_core::SigningAlgorithm::Es256));
        assert!(tokens["refresh_token"].as_str().is_some_and(|t| t.len() == 43));
        let rs = (rs.0.as_str(), rs.1.as_str());
        assert_eq!(browser.introspect(rs, tokens["access_token"].as_str().unwrap()).await["active"], true);

        // RFC 6749 §4.1.2: a replayed code is refused and what it gave is revoked.
        let (status, replay) = browser.exchange((&id, &secret), &exchange_form(&code)).await;
        assert_eq!((status, replay["error"].as_str()), (400, Some("invalid_grant")));
        assert_eq!(browser.introspect(rs, tokens["access_token"].as_str().unwrap()).await, json!({"active": false}));
        let refresh = [("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())];
        let (status, _) = browser.exchange((&id, &secret), &refresh).await;
        assert_eq!(status, 400, "the refresh token died with its grant");
    }

    #[tokio::test]
    async fn the_code_is_bound_to_its_client_redirect_uri_and_verifier(db) {
        with_user(&db);
        let ((id, secret), _) = confidential_app(&db);
        let other = register(&db, json!({"client_name": "Other", "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT]}));
        let browser = browser(&db);
        let wrong_verifier = "x".repeat(43);
        // (case, parameter, its value; None leaves it out)
        let cases = [
            ("wrong verifier", "code_verifier", Some(wrong_verifier.as_str())),
            ("no verifier", "code_verifier", None),
            ("other redirect_uri", "redirect_uri", Some("https://app.example/other")),
            ("no redirect_uri", "redirect_uri", None),
        ];
        for (case, name, value) in cases {
            let code = browser.code(&id).await;
            let mut form = exchange_form(&code);
            form.retain(|(n, _)| *n != name);
            form.extend(value.map(|value| (name, value)));
            let (status, body) = browser.exchange((&id, &secret), &form).await;
            assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{case}");
        }
        let code = browser.code(&id).await;
        let (status, body) = browser.exchange((&other.0, &other.1), &exchange_form(&code)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "another client's code");
        let (status, body) = browser.exchange((&id, &secret), &exchange_form("not-a-code")).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    }

    #[tokio::test]
    async fn a_verifier_without_a_challenge_is_a_downgrade_and_refused(db) {
        with_user(&db);
        let (id, secret) = register(&db, json!({"client_name": "Legacy", "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT],
                                                 "scope": "openid", "require_pkce": false, "skip_consent": true}));
        let browser = browser(&db);
        let login = location(browser.authorize(&id, &[("code_challenge", ""), ("code_challenge_method", ""), ("scope", "openid")]).await.headers());
        let resumed = browser.log_in(&login, "alice", PASSWORD).await;
        let code = query(&location(browser.get(&location(resumed.headers())).await.headers())).remove("code").unwrap();
        let (status, body) = browser.exchange((&id, &secret), &exchange_form(&code)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "RFC 9700 §4.8.2");
    }

    #[tokio::test]
    async fn a_public_client_exchanges_its_code_with_pkce_alone(db) {
        with_user(&db);
        let (id, _) = register(&db, json!({"client_name": "SPA", "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT],
                                            "scope": "openid", "token_endpoint_auth_method": "none", "skip_consent": true}));
        let browser = browser(&db);
        let login = location(browser.authorize(&id, &[("scope", "openid")]).await.headers());
        let resumed = browser.log_in(&login, "alice", PASSWORD).await;
        let code = query(&location(browser.get(&location(resumed.headers())).await.headers())).remove("code").unwrap();
        let mut form = exchange_form(&code);
        form.push(("client_id", &id));
        let response = browser.http.post(format!("{}/token", browser.app.address)).form(&form).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let tokens: serde_json::Value = response.json().await.unwrap();
        assert!(tokens["id_token"].is_string() && tokens.get("refresh_token").is_none());
    }

    #[tokio::test]
    async fn refresh_tokens_rotate_narrow_and_a_reuse_revokes_the_family(db) {
        with_user(&db);
        let ((id, secret), rs) = confidential_app(&db);
        let rs = (rs.0.as_str(), rs.1.as_str());
        let other = register(&db, json!({"client_name": "Other", "grant_types": ["authorization_code", "refresh_token"], "redirect_uris": [REDIRECT]}));
        let browser = browser(&db);
        let code = browser.code(&id).await;
        let (_, first) = browser.exchange((&id, &secret), &exchange_form(&code)).await;
        let first_refresh = first["refresh_token"].as_str().unwrap().to_owned();
        let (status, wider) = browser.refresh((&id, &secret), &first_refresh, Some("openid admin")).await;
        assert_eq!((status, wider["error"].as_str()), (400, Some("invalid_scope")));
        let (status, second) = browser.refresh((&id, &secret), &first_refresh, Some("openid")).await;
        assert_eq!(status, 200, "{second}");
        assert_eq!(second["scope"], "openid", "narrowed");
        let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
        assert_ne!(second_refresh, first_refresh, "rotated");
        assert!(payload(second["id_token"].as_str().unwrap()).get("nonce").is_none(), "OpenID Connect Core §12.2");
        let (status, third) = browser.refresh((&id, &secret), &second_refresh, None).await;
        assert_eq!((status, third["scope"].as_str()), (200, Some("openid profile")), "the family keeps the whole grant");
        let third_access = third["access_token"].as_str().unwrap().to_owned();
        let third_refresh = third["refresh_token"].as_str().unwrap().to_owned();

        let (status, reuse) = browser.refresh((&id, &secret), &first_refresh, None).await;
        assert_eq!((status, reuse["error"].as_str()), (400, Some("invalid_grant")), "a rotated token is refused");
        let (status, _) = browser.refresh((&id, &secret), &third_refresh, None).await;
        assert_eq!(status, 400, "the whole family is revoked");
        assert_eq!(browser.introspect(rs, &third_access).await, json!({"active": false}), "with its access tokens");

        let code = browser.code(&id).await;
        let (_, fresh) = browser.exchange((&id, &secret), &exchange_form(&code)).await;
        let stolen = [("grant_type", "refresh_token"), ("refresh_token", fresh["refresh_token"].as_str().unwrap())];
        let (status, body) = browser.exchange((&other.0, &other.1), &stolen).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "bound to its client");
        let (status, _) = browser.exchange((&id, &secret), &stolen).await;
        assert_eq!(status, 200, "a refused theft does not burn the owner's token");
    }

    #[tokio::test]
    async fn revoking_a_refresh_token_ends_its_family_and_the_grants_access_tokens(db) {
        with_user(&db);
        let ((id, secret), rs) = confidential_app(&db);
        let rs = (rs.0.as_str(), rs.1.as_str());
        let other = register(&db, json!({"client_name": "Other", "grant_types": ["authorization_code", "refresh_token"],
                                         "redirect_uris": [REDIRECT], "scope": "openid profile", "skip_consent": true}));
        let browser = browser(&db);
        let code = browser.code(&id).await;
        let (_, tokens) = browser.exchange((&id, &secret), &exchange_form(&code)).await;
        let (access, refresh) = (tokens["access_token"].as_str().unwrap(), tokens["refresh_token"].as_str().unwrap());
        let (_, rotated) = browser.refresh((&id, &secret), refresh, None).await;
        let (rotated_access, rotated_refresh) = (rotated["access_token"].as_str().unwrap(), rotated["refresh_token"].as_str().unwrap());
        let code = browser.code(&other.0).await;
        let (_, theirs) = browser.exchange((&other.0, &other.1), &exchange_form(&code)).await;
        let their_refresh = theirs["refresh_token"].as_str().unwrap();

        let revoke = |caller: (&str, &str), token: &str, hint: &str| {
            browser.http.post(format!("{}/revoke", browser.app.address)).basic_auth(caller.0, Some(caller.1))
                .form(&[("token", token), ("token_type_hint", hint)]).send()
        };
        // RFC 7009 §2.1: only the client it was issued to may revoke it.
        let refused = revoke((&id, &secret), their_refresh, "refresh_token").await.unwrap();
        assert_eq!(refused.status(), 400);
        assert_eq!(refused.json::<serde_json::Value>().await.unwrap()["error"], "unauthorized_client");
        // The hint is only a hint: a wrong one finds the refresh token all the same.
        let done = revoke((&id, &secret), rotated_refresh, "access_token").await.unwrap();
        assert_eq!(done.status(), 200);
        assert_eq!(done.headers()["cache-control"], "no-store");
        let (status, body) = browser.refresh((&id, &secret), rotated_refresh, None).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "the revoked token no longer refreshes");
        for token in [access, rotated_access] {
            assert_eq!(browser.introspect(rs, token).await, json!({"active": false}), "§2.1: the grant's access tokens end too");
        }
        assert_eq!(revoke((&id, &secret), rotated_refresh, "refresh_token").await.unwrap().status(), 200, "again: still 200");
        let (status, _) = browser.refresh((&other.0, &other.1), their_refresh, None).await;
        assert_eq!(status, 200, "another client's grant is untouched");

        let admin = portcullis_app::App::with_defaults(db.connect()).bootstrap(&portcullis_app::Actor::operator(), false).unwrap();
        let token = browser.app.access_token((&admin.client_id, admin.client_secret.expose())).await;
        let audit: serde_json::Value = browser.app.client.get(format!("{}/admin/v1/audit-logs?action=token.revoked", browser.app.address))
            .bearer_auth(token).send().await.unwrap().json().await.unwrap();
        let entries = audit["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{audit}");
        assert_eq!((entries[0]["actor"].as_str(), entries[0]["details"]["token_type"].as_str()), (Some(id.as_str()), Some("refresh_token")));
    }

    #[tokio::test]
    async fn a_hint_for_another_user_or_session_cannot_force_a_logout(db) {
        with_user(&db);
        portcullis_app::App::with_defaults(db.connect()).create_user(&portcullis_app::Actor::operator(), &Username::parse("mallory").unwrap(), Some(Password::new("mallory's password".into())),
                      &StandardClaims::default()).unwrap();
        let (id, secret) = register(&db, json!({"client_name": "App", "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT],
                                                 "scope": "openid profile", "skip_consent": true}));
        let victim = browser(&db);
        let code = query(&victim.sign_in(&id).await).remove("code").unwrap();
        let (_, tokens) = victim.exchange((&id, &secret), &exchange_form(&code)).await;
        let own_hint = tokens["id_token"].as_str().unwrap().to_owned();
        // The attacker holds an ID token of this server, for their own account.
        let attacker = Browser::new(crate::helpers::TestApp { address: victim.app.address.clone(), client: reqwest::Client::new() });
        let login = location(attacker.authorize(&id, &[]).await.headers());
        let resumed = attacker.log_in(&login, "mallory", "mallory's password").await;
        let code = query(&location(attacker.get(&location(resumed.headers())).await.headers())).remove("code").unwrap();
        let (_, theirs) = attacker.exchange((&id, &secret), &exchange_form(&code)).await;
        let foreign_hint = theirs["id_token"].as_str().unwrap();

        // A cross-site GET in the victim's browser only asks.
        let forced = victim.get(&format!("/logout?id_token_hint={foreign_hint}")).await;
        assert_eq!(forced.status(), 200);
        assert!(forced.text().await.unwrap().contains("Do you want to sign out?"));
        let still_in = location(victim.authorize(&id, &[("prompt", "none")]).await.headers());
        assert!(query(&still_in).contains_key("code"), "the victim is still signed in: {still_in}");
        // The victim's own hint for this session signs out at once (§2).
        let done = victim.get(&format!("/logout?id_token_hint={own_hint}")).await;
        assert!(done.text().await.unwrap().contains("You are signed out."));
        let out = location(victim.authorize(&id, &[("prompt", "none")]).await.headers());
        assert_eq!(query(&out)["error"], "login_required");
    }

    #[tokio::test]
    async fn userinfo_returns_the_claims_the_scope_releases(db) {
        with_user(&db);
        let ((id, secret), _) = confidential_app(&db);
        let service = crate::token::service(&db);
        let browser = browser(&db);
        let code = browser.code(&id).await;
        let (_, tokens) = browser.exchange((&id, &secret), &exchange_form(&code)).await;
        let access = tokens["access_token"].as_str().unwrap().to_owned();
        let url = format!("{}/userinfo", browser.app.address);
        let http = reqwest::Client::new();
        let by_header: serde_json::Value = http.get(&url).bearer_auth(&access).send().await.unwrap().json().await.unwrap();
        assert_eq!(by_header["sub"], payload(&access)["sub"]);
        assert_eq!(by_header["name"], "Alice", "profile releases the name");
        assert!(by_header.get("email").is_none(), "email was not granted");
        let posted = http.post(&url).bearer_auth(&access).send().await.unwrap();
        assert_eq!(posted.status(), 200, "POST with the header");
        let in_body = http.post(&url).form(&[("access_token", access.as_str())]).send().await.unwrap();
        assert_eq!(in_body.status(), 200, "POST with the token in the body");
        let both = http.post(&url).bearer_auth(&access).form(&[("access_token", access.as_str())]).send().await.unwrap();
        assert_eq!(both.status(), 400, "one method only");

        let missing = http.get(&url).send().await.unwrap();
        assert_eq!(missing.status(), 401);
        assert_eq!(missing.headers()["www-authenticate"], r#"Bearer realm="portcullis", DPoP realm="portcullis", algs="RS256 ES256 PS256 EdDSA""#, "no error without credentials");
        let forged = http.get(&url).bearer_auth("forged").send().await.unwrap();
        assert_eq!(forged.status(), 401);
        assert!(forged.headers()["www-authenticate"].to_str().unwrap().contains(r#"error="invalid_token""#));
        let machine: serde_json::Value = http.post(format!("{}/token", browser.app.address)).basic_auth(&service.0, Some(&service.1))
            .form(&[("grant_type", "client_credentials")]).send().await.unwrap().json().await.unwrap();
        let no_user = http.get(&url).bearer_auth(machine["access_token"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(no_user.status(), 403, "a client-credentials token has no user");
        let revoke = http.post(format!("{}/revoke", browser.app.address)).basic_auth(&id, Some(&secret)).form(&[("token", access.as_str())]).send().await.unwrap();
        assert_eq!(revoke.status(), 200);
        assert_eq!(http.get(&url).bearer_auth(&access).send().await.unwrap().status(), 401, "revoked");

        // A token minted for an API (RFC 8707) is refused here, as invalid_token.
        let api = "https://api.example";
        let (api_app, api_secret) = register(&db, json!({"client_name": "API app", "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT],
                                                          "scope": "openid profile", "skip_consent": true, "resources": [api]}));
        let code = browser.code(&api_app).await;
        let mut form = exchange_form(&code);
        form.push(("resource", api));
        let (status, tokens) = browser.exchange((&api_app, &api_secret), &form).await;
        assert_eq!(status, 200, "{tokens}");
        let for_api = tokens["access_token"].as_str().unwrap();
        assert_eq!(payload(for_api)["aud"], api);
        let refused = http.get(&url).bearer_auth(for_api).send().await.unwrap();
        assert_eq!(refused.status(), 401);
        assert!(refused.headers()["www-authenticate"].to_str().unwrap().contains(r#"error="invalid_token""#));
    }

    #[tokio::test]
    async fn logout_with_an_id_token_hint_ends_the_session_and_returns_only_to_a_registered_uri(db) {
        with_user(&db);
        let back = "https://app.example/signed-out";
        let (id, secret) = register(&db, json!({"client_name": "App", "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT],
                                                 "post_logout_redirect_uris": [back], "scope": "openid", "skip_consent": true}));
        let browser = browser(&db);
        let login = location(browser.authorize(&id, &[("scope", "openid")]).await.headers());
        let resumed = browser.log_in(&login, "alice", PASSWORD).await;
        let code = query(&location(browser.get(&location(resumed.headers())).await.headers())).remove("code").unwrap();
        let (_, tokens) = browser.exchange((&id, &secret), &exchange_form(&code)).await;
        let id_token = tokens["id_token"].as_str().unwrap().to_owned();

        let logout = |extra: &[(&str, &str)]| {
            let mut params = vec![("id_token_hint", id_token.as_str())];
            params.extend_from_slice(extra);
            reqwest::Url::parse_with_params(&format!("{}/logout", browser.app.address), &params).unwrap().to_string()
        };
        let unregistered = browser.http.get(logout(&[("post_logout_redirect_uri", "https://evil.example/")])).send().await.unwrap();
        assert_eq!(unregistered.status(), 400);
        assert!(unregistered.headers().get("location").is_none(), "never an open redirect");
        let forged = browser.http.get(format!("{}/logout?id_token_hint=e30.e30.e30", browser.app.address)).send().await.unwrap();
        assert_eq!(forged.status(), 400);

        let done = browser.http.get(logout(&[("post_logout_redirect_uri", back), ("state", "bye")])).send().await.unwrap();
        assert_eq!(done.status(), 303);
        assert_eq!(location(done.headers()), format!("{back}?state=bye"));
        let silent = location(browser.authorize(&id, &[("scope", "openid"), ("prompt", "none")]).await.headers());
        assert_eq!(query(&silent)["error"], "login_required", "the session has ended");
    }

    #[tokio::test]
    async fn logout_without_a_hint_asks_the_user_first(db) {
        with_user(&db);
        let client = register(&db, json!({"client_name": "App", "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT],
                                           "scope": "openid profile", "skip_consent": true}));
        let browser = browser(&db);
        let code = query(&browser.sign_in(&client.0).await).remove("code");
        assert!(code.is_some());
        let page = browser.get("/logout").await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("Do you want to sign out?"));
        let csrf_of = |html: &str| {
            let start = html.find("name=\"csrf\" value=\"").unwrap() + 19;
            html[start..start + html[start..].find('"').unwrap()].to_owned()
        };
        let forged = browser.post("/logout", &[("confirm", "yes"), ("csrf", "forged")]).await.text().await.unwrap();
        assert!(forged.contains("Do you want to sign out?"), "a forged confirmation only asks again");
        let still_in = location(browser.authorize(&client.0, &[("prompt", "none")]).await.headers());
        assert!(query(&still_in).contains_key("code"), "not logged out by the forgery");
        // The page asks again with a fresh token; confirming with it signs out.
        let csrf = csrf_of(&forged);
        let confirmed = browser.post("/logout", &[("confirm", "yes"), ("csrf", &csrf)]).await;
        assert_eq!(confirmed.status(), 200);
        assert!(confirmed.text().await.unwrap().contains("You are signed out."));
        let out = location(browser.authorize(&client.0, &[("prompt", "none")]).await.headers());
        assert_eq!(query(&out)["error"], "login_required");
    }

    #[tokio::test]
    async fn an_id_token_hint_must_name_the_logged_in_user(db) {
        with_user(&db);
        portcullis_app::App::with_defaults(db.connect()).create_user(&portcullis_app::Actor::operator(), &Username::parse("bob").unwrap(), Some(Password::new("bob's password".into())),
                      &StandardClaims::default()).unwrap();
        let (id, secret) = register(&db, json!({"client_name": "App", "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT],
                                                 "scope": "openid profile", "skip_consent": true}));
        let alice = browser(&db);
        let code = query(&alice.sign_in(&id).await).remove("code").unwrap();
        let (_, tokens) = alice.exchange((&id, &secret), &exchange_form(&code)).await;
        let hint = tokens["id_token"].as_str().unwrap().to_owned();

        // OpenID Connect Core §3.1.2.1: alice's own session answers silently.
        let silent = location(alice.authorize(&id, &[("prompt", "none"), ("id_token_hint", &hint)]).await.headers());
        assert!(query(&silent).contains_key("code"), "{silent}");
        let forged = location(alice.authorize(&id, &[("prompt", "none"), ("id_token_hint", "e30.e30.e30")]).await.headers());
        assert_eq!(query(&forged)["error"], "invalid_request", "{forged}");
        assert_eq!(query(&forged)["state"], "st-1");

        // Bob's session does not answer for alice.
        let bob = Browser::new(alice.app);
        let login = location(bob.authorize(&id, &[]).await.headers());
        let resumed = bob.log_in(&login, "bob", "bob's password").await;
        assert!(query(&location(bob.get(&location(resumed.headers())).await.headers())).contains_key("code"));
        let refused = location(bob.authorize(&id, &[("prompt", "none"), ("id_token_hint", &hint)]).await.headers());
        assert_eq!(query(&refused)["error"], "login_required", "{refused}");
        // Without prompt=none bob is asked to log in; logging in as bob again is refused.
        let login = location(bob.authorize(&id, &[("id_token_hint", &hint)]).await.headers());
        assert!(login.starts_with("/login"), "{login}");
        let resumed = bob.log_in(&login, "bob", "bob's password").await;
        let back = location(bob.get(&location(resumed.headers())).await.headers());
        assert_eq!(query(&back)["error"], "login_required", "{back}");
    }

    #[tokio::test]
    async fn disabling_a_user_ends_their_sessions_refresh_families_and_codes(db) {
        with_user(&db);
        let (app, rs) = confidential_app(&db);
        let admin = portcullis_app::App::with_defaults(db.connect()).bootstrap(&portcullis_app::Actor::operator(), false).unwrap();
        let browser = browser(&db);
        let admin_token = browser.app.access_token((&admin.client_id, admin.client_secret.expose())).await;
        let code = browser.code(&app.0).await;
        let (_, tokens) = browser.exchange((&app.0, &app.1), &exchange_form(&code)).await;
        let (access, refresh) = (tokens["access_token"].as_str().unwrap(), tokens["refresh_token"].as_str().unwrap());
        let sub = payload(access)["sub"].as_str().unwrap().to_owned();
        let unredeemed = browser.code(&app.0).await;

        let url = format!("{}/admin/v1/users/{sub}/disable", browser.app.address);
        let disabled = browser.app.client.post(&url).bearer_auth(&admin_token).send().await.unwrap();
        assert_eq!(disabled.status(), 200);
        assert_eq!(disabled.json::<serde_json::Value>().await.unwrap()["disabled"], true);
        let (status, body) = browser.refresh((&app.0, &app.1), refresh, None).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "the refresh family is revoked");
        let (status, body) = browser.exchange((&app.0, &app.1), &exchange_form(&unredeemed)).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "a code issued before is withdrawn");
        let waited = std::time::Instant::now();
        while browser.introspect((&rs.0, &rs.1), access).await["active"] == true {
            assert!(waited.elapsed() < std::time::Duration::from_secs(1), "the access token outlived the user");
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let silent = location(browser.authorize(&app.0, &[("prompt", "none")]).await.headers());
        assert_eq!(query(&silent)["error"], "login_required", "the session ended");
        let login = location(browser.authorize(&app.0, &[]).await.headers());
        let refused = browser.log_in(&login, "alice", PASSWORD).await;
        assert_eq!(refused.status(), 401, "a disabled user gets the login form again, not a session");
        assert!(refused.text().await.unwrap().contains("The username or password is incorrect."));
    }
}
