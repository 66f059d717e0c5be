//! Clients that register themselves (RFC 7591) and manage their
//! registration (RFC 7592): initial access tokens and their policies, open
//! registration under the anonymous policy, the RFCs' errors, rotation of
//! the registration access token, CORS from any origin, the rate limit, and
//! a registered public client signing a user in with code + PKCE.

use crate::admin_clients::Admin;
use crate::code_exchange::VERIFIER;
use crate::code_flow::{browser_with, location, query, with_user, REDIRECT};
use crate::console::signed_in;
use crate::helpers::{new_kek, settings, ISSUER};
use portcullis_app::registration::Admission;
use portcullis_app::{Actor, App, Permission};
use portcullis_core::RegistrationPolicy;
use portcullis_oauth::registration::RegistrationMode;
use portcullis_server::config::RateLimits;
use portcullis_store::backend_tests;
use reqwest::{Method, Response};
use serde_json::{json, Value};

/// POST /register with `body`, holding `token` if any.
async fn register(client: &reqwest::Client, address: &str, token: Option<&str>, body: Value) -> Response {
    let request = client.post(format!("{address}/register")).json(&body);
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
    .send()
    .await
    .unwrap()
}

/// The RFC error of a refused request, checked for its status.
async fn refused(response: Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    body["error"].as_str().unwrap().to_owned()
}

/// The registration's own URL, as a path on the test server.
fn configuration_path(registered: &Value) -> String {
    let uri = registered["registration_client_uri"].as_str().unwrap();
    uri.strip_prefix(ISSUER).unwrap().to_owned()
}

fn token_of(registered: &Value) -> String {
    registered["registration_access_token"].as_str().unwrap().to_owned()
}

backend_tests! {
    #[tokio::test]
    async fn a_party_registers_with_an_initial_access_token_then_reads_updates_and_deletes_its_client(db) {
        let mut at = settings(&db, &new_kek());
        at.registration = RegistrationMode::Token;
        let admin = Admin::on(&db, at).await;
        let (http, address) = (&admin.app.client, admin.app.address.clone());
        let discovery = admin.app.get_json("/.well-known/openid-configuration").await;
        assert_eq!(discovery["registration_endpoint"], format!("{ISSUER}/register"));

        // RFC 7591 §3: the endpoint is protected; a missing or unknown token is 401.
        let metadata = json!({"client_name": "Partner app", "redirect_uris": ["https://partner.example/cb"],
                              "scope": "openid profile", "unknown_member": "ignored"});
        let anonymous = register(http, &address, None, metadata.clone()).await;
        assert!(anonymous.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer error=\"invalid_token\""));
        assert_eq!(refused(anonymous, 401).await, "invalid_token");
        assert_eq!(refused(register(http, &address, Some("made-up"), metadata.clone()).await, 401).await, "invalid_token");

        let policy = json!({"grant_types": ["authorization_code", "refresh_token"],
                            "token_endpoint_auth_methods": ["client_secret_basic", "none"],
                            "scopes": ["openid", "profile"], "redirect_uri_patterns": ["https://partner.example/*"]});
        let issued = admin.call(Method::POST, "/initial-access-tokens",
            Some(json!({"description": "for Partner Ltd", "policy": policy, "max_uses": 1})), 201).await;
        let (token_id, token) = (issued["token_id"].as_str().unwrap(), issued["initial_access_token"].as_str().unwrap());
        assert_eq!((issued["state"].as_str(), issued["uses"].as_i64()), (Some("active"), Some(0)));

        // Refusals name the RFC's error and leave the token's one use untaken.
        let outside = json!({"client_name": "x", "redirect_uris": ["https://elsewhere.example/cb"]});
        assert_eq!(refused(register(http, &address, Some(token), outside).await, 400).await, "invalid_redirect_uri");
        let wider = json!({"client_name": "x", "redirect_uris": ["https://partner.example/cb"], "scope": "openid email"});
        assert_eq!(refused(register(http, &address, Some(token), wider).await, 400).await, "invalid_client_metadata");

        let response = register(http, &address, Some(token), metadata.clone()).await;
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let registered: Value = response.json().await.unwrap();
        let client_id = registered["client_id"].as_str().unwrap().to_owned();
        assert_eq!(registered["client_name"], "Partner app");
        assert_eq!(registered["grant_types"], json!(["authorization_code"]), "RFC 7591 §2's default");
        assert_eq!(registered["token_endpoint_auth_method"], "client_secret_basic");
        assert_eq!(registered["client_secret_expires_at"], 0);
        assert!(registered["client_secret"].as_str().is_some_and(|s| s.len() >= 43));
        assert!(registered["client_id_issued_at"].as_i64().is_some());
        assert_eq!(registered["registration_client_uri"], format!("{ISSUER}/register/{client_id}"));
        assert!(registered.get("unknown_member").is_none(), "RFC 7591 §2: unknown members are ignored");
        assert_eq!(refused(register(http, &address, Some(token), metadata).await, 401).await, "invalid_token", "used up");

        let tokens = admin.call(Method::GET, "/initial-access-tokens", None, 200).await;
        let listed = &tokens["initial_access_tokens"][0];
        assert_eq!((listed["state"].as_str(), listed["uses"].as_i64()), (Some("used_up"), Some(1)));
        assert!(listed.get("initial_access_token").is_none(), "a value is shown once");
        let viewed = admin.call(Method::GET, &format!("/clients/{client_id}"), None, 200).await;
        assert_eq!(viewed["registration"]["admitted_by"], format!("initial access token {token_id}"));
        let audited = admin.call(Method::GET, "/audit-logs?action=client.registered", None, 200).await;
        let entry = &audited["entries"][0];
        assert_eq!(entry["actor"], format!("registration:initial access token {token_id}"));
        assert_eq!(entry["target"], client_id.as_str());

        // RFC 7592: every answer hands out a new registration access token; the old one stops working.
        let path = configuration_path(&registered);
        let read = http.get(format!("{address}{path}")).bearer_auth(token_of(&registered)).send().await.unwrap();
        assert_eq!(read.status(), 200);
        let read: Value = read.json().await.unwrap();
        assert_eq!(read["client_id"], client_id.as_str());
        assert!(read.get("client_secret").is_none(), "stored hashed, never shown again");
        let stale = http.get(format!("{address}{path}")).bearer_auth(token_of(&registered)).send().await.unwrap();
        assert_eq!(refused(stale, 401).await, "invalid_token");

        let update = |body: Value, token: String| http.put(format!("{address}{path}")).bearer_auth(token).json(&body).send();
        let mut changed = json!({"client_id": client_id, "client_name": "Partner app 2",
                                 "redirect_uris": ["https://partner.example/cb", "https://partner.example/cb2"], "scope": "openid"});
        let no_id = update(json!({"client_name": "x"}), token_of(&read)).await.unwrap();
        assert_eq!(refused(no_id, 400).await, "invalid_request");
        changed["registration_access_token"] = json!("x");
        assert_eq!(refused(update(changed.clone(), token_of(&read)).await.unwrap(), 400).await, "invalid_request");
        changed.as_object_mut().unwrap().remove("registration_access_token");
        changed["scope"] = json!("openid email");
        assert_eq!(refused(update(changed.clone(), token_of(&read)).await.unwrap(), 400).await, "invalid_client_metadata",
                   "the policy that admitted it bounds its updates");
        changed["scope"] = json!("openid");
        let updated = update(changed, token_of(&read)).await.unwrap();
        assert_eq!(updated.status(), 200);
        let updated: Value = updated.json().await.unwrap();
        assert_eq!(updated["client_name"], "Partner app 2");
        assert_eq!(updated["scope"], "openid");
        let viewed = admin.call(Method::GET, &format!("/clients/{client_id}"), None, 200).await;
        assert_eq!(viewed["version"], 2, "an update is a new version, as an admin's is");
        let history = admin.call(Method::GET, &format!("/clients/{client_id}/versions"), None, 200).await;
        assert_eq!(history["versions"][0]["author"], format!("registration:client {client_id}"));

        let mut public = updated.clone();
        for member in ["registration_access_token", "registration_client_uri", "client_id_issued_at", "client_secret_expires_at"] {
            public.as_object_mut().unwrap().remove(member);
        }
        public["token_endpoint_auth_method"] = json!("none");
        let switched = update(public, token_of(&updated)).await.unwrap();
        assert_eq!(switched.status(), 400);
        let switched: Value = switched.json().await.unwrap();
        assert_eq!(switched["error"], "invalid_client_metadata");
        assert!(switched["error_description"].as_str().unwrap().contains("fixed at registration"), "{switched}");

        // A client an admin disabled cannot manage itself until enabled again.
        admin.call(Method::POST, &format!("/clients/{client_id}/disable"), None, 200).await;
        let while_disabled = http.get(format!("{address}{path}")).bearer_auth(token_of(&updated)).send().await.unwrap();
        assert_eq!(refused(while_disabled, 401).await, "invalid_token");
        admin.call(Method::POST, &format!("/clients/{client_id}/enable"), None, 200).await;

        let deleted = http.delete(format!("{address}{path}")).bearer_auth(token_of(&updated)).send().await.unwrap();
        assert_eq!(deleted.status(), 204);
        let gone = http.get(format!("{address}{path}")).bearer_auth(token_of(&updated)).send().await.unwrap();
        assert_eq!(refused(gone, 401).await, "invalid_token", "RFC 7592 §2.3");
        admin.call(Method::GET, &format!("/clients/{client_id}"), None, 404).await;

        // A revoked token admits nothing.
        let second = admin.call(Method::POST, "/initial-access-tokens", Some(json!({"description": "second"})), 201).await;
        admin.call(Method::DELETE, &format!("/initial-access-tokens/{}", second["token_id"].as_str().unwrap()), None, 204).await;
        let with_revoked = register(http, &address, second["initial_access_token"].as_str(),
                                    json!({"client_name": "svc", "grant_types": ["client_credentials"]})).await;
        assert_eq!(refused(with_revoked, 401).await, "invalid_token");
    }

    #[tokio::test]
    async fn an_agent_registers_itself_openly_from_any_origin_and_signs_a_user_in_with_pkce(db) {
        with_user(&db);
        let mut at = settings(&db, &new_kek());
        at.registration = RegistrationMode::Open;
        at.rate_limits = RateLimits { registration: 6, ..RateLimits::default() };
        let browser = browser_with(at);
        let (http, address) = (&browser.app.client, browser.app.address.clone());

        let preflight = http.request(Method::OPTIONS, format!("{address}/register"))
            .header("origin", "https://agent.example").header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type").send().await.unwrap();
        assert_eq!(preflight.status(), 204);
        assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
        assert!(preflight.headers().get("access-control-allow-credentials").is_none());

        let agent = json!({"client_name": "Agent", "redirect_uris": [REDIRECT],
                           "grant_types": ["authorization_code", "refresh_token"], "token_endpoint_auth_method": "none"});
        let response = http.post(format!("{address}/register")).header("origin", "https://agent.example")
            .json(&agent).send().await.unwrap();
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        let registered: Value = response.json().await.unwrap();
        let client_id = registered["client_id"].as_str().unwrap().to_owned();
        assert!(registered.get("client_secret").is_none(), "a public client");
        assert_eq!(registered["access_token_lifetime"], 3600, "the anonymous policy's lifetime");

        // The anonymous policy admits no client acting without a user, and no admin scope.
        let service = json!({"client_name": "svc", "grant_types": ["client_credentials"],
                             "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://svc.example/jwks"});
        assert_eq!(refused(register(http, &address, None, service).await, 400).await, "invalid_client_metadata");

        // The registered client signs alice in, with PKCE, as any client would.
        let to_client = browser.sign_in(&client_id).await;
        let code = query(&to_client).remove("code").unwrap_or_else(|| panic!("no code in {to_client}"));
        let tokens: Value = http.post(format!("{address}/token"))
            .form(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT),
                    ("client_id", &client_id), ("code_verifier", VERIFIER)])
            .send().await.unwrap().json().await.unwrap();
        assert!(tokens["id_token"].is_string() && tokens["refresh_token"].is_string(), "{tokens}");

        // Registrations are limited per address (6 a minute here; two were made).
        let mut limited = None;
        for _ in 0..6 {
            let response = register(http, &address, None, json!({"client_name": "flood", "redirect_uris": [REDIRECT]})).await;
            if response.status() == 429 {
                limited = Some(response);
                break;
            }
            assert_eq!(response.status(), 201);
        }
        let limited = limited.expect("the seventh registration of the minute is refused");
        assert!(limited.headers().contains_key("retry-after"));
        assert_eq!(refused(limited, 429).await, "slow_down");
    }

    #[tokio::test]
    async fn an_admin_issues_lists_and_revokes_initial_access_tokens_in_the_console(db) {
        let (browser, csrf) = signed_in(&db, "rita", &[Permission::Clients]).await;
        let off = browser.http.post(format!("{}/register", browser.app.address)).json(&json!({})).send().await.unwrap();
        assert_eq!(off.status(), 404, "--registration off: not served");
        let page = browser.get("/console/registration").await.text().await.unwrap();
        assert!(page.contains("None issued yet") && page.contains("&#34;redirect_uri_patterns&#34;"), "prefilled: {page}");

        let bad = browser.post("/console/registration", &[("csrf", &csrf), ("description", "Partner"), ("policy", "{\"scopes\": []}")]).await;
        assert_eq!(bad.status(), 400);
        assert!(bad.text().await.unwrap().contains("value=\"Partner\""), "what was typed stays");
        let issued = browser.post("/console/registration", &[("csrf", &csrf), ("description", "Partner"), ("expires_in_days", "7"),
            ("max_uses", "3"), ("policy", "{\"grant_types\": [\"authorization_code\"]}")]).await.text().await.unwrap();
        let app = App::with_defaults(db.connect());
        let token = app.initial_access_tokens(&Actor::operator()).unwrap().remove(0);
        assert_eq!(token.max_uses, Some(3));
        assert!(token.created_by.starts_with("user:") && token.expires_at.is_some(), "{token:?}");
        assert!(issued.contains(&token.token_id) && issued.contains("shown this once"), "{issued}");
        assert!(issued.contains("0 of 3"), "listed with its uses: {issued}");

        // A client that registered itself says so on its page.
        let policy = RegistrationPolicy::anonymous(&[]);
        let registered = app.register_client(Admission::Open(&policy), None,
            json!({"client_name": "Agent", "redirect_uris": [REDIRECT]}).as_object().unwrap().clone()).unwrap();
        let client_page = browser.get(&format!("/console/clients/{}", registered.client.client_id)).await.text().await.unwrap();
        assert!(client_page.contains("by itself (RFC 7591), admitted by open registration"), "{client_page}");

        let confirm = browser.get(&format!("/console/registration/{}/revoke", token.token_id)).await;
        assert_eq!(confirm.status(), 200);
        let revoked = browser.post(&format!("/console/registration/{}/revoke", token.token_id), &[("csrf", &csrf)]).await;
        assert_eq!(location(revoked.headers()), "/console/registration");
        assert_eq!(app.initial_access_tokens(&Actor::operator()).unwrap()[0].state, "revoked");
    }

    #[tokio::test]
    async fn a_software_statement_of_a_trusted_issuer_vouches_for_the_metadata_it_signs(db) {
        use crate::private_key_jwt::ClientKey;
        use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
        let platform = ClientKey::Ec(EcKeyPair::generate(EcCurve::P256).unwrap());
        let keys = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(keys.path(), platform.public_jwks().to_string()).unwrap();
        let mut at = settings(&db, &new_kek());
        at.registration = RegistrationMode::Open;
        at.software_statement_issuers = vec![format!("https://platform.example={}", keys.path().display())];
        let browser = browser_with(at);
        let (http, address) = (&browser.app.client, browser.app.address.clone());
        let now = chrono::Utc::now().timestamp();
        let vouched = json!({"iss": "https://platform.example", "iat": now, "exp": now + 300, "client_name": "Vouched App",
                             "software_id": "vouched-1", "redirect_uris": [REDIRECT]});

        let sent = json!({"software_statement": platform.sign(vouched.clone()), "client_name": "Spoofed name",
                          "token_endpoint_auth_method": "none"});
        let response = register(http, &address, None, sent).await;
        assert_eq!(response.status(), 201);
        let registered: Value = response.json().await.unwrap();
        assert_eq!(registered["client_name"], "Vouched App", "RFC 7591 §3.1.1: the statement takes precedence");
        assert_eq!(registered["software_id"], "vouched-1");
        assert!(registered.get("software_statement").is_none() && registered.get("iss").is_none());

        let mut elsewhere = vouched.clone();
        elsewhere["iss"] = json!("https://stranger.example");
        let untrusted = register(http, &address, None, json!({"software_statement": platform.sign(elsewhere)})).await;
        assert_eq!(refused(untrusted, 400).await, "unapproved_software_statement");
        let forger = ClientKey::Ec(EcKeyPair::generate(EcCurve::P256).unwrap());
        let forged = register(http, &address, None, json!({"software_statement": forger.sign(vouched.clone())})).await;
        assert_eq!(refused(forged, 400).await, "invalid_software_statement");
        let mut old = vouched;
        old["exp"] = json!(now - 10);
        let expired = register(http, &address, None, json!({"software_statement": platform.sign(old)})).await;
        assert_eq!(refused(expired, 400).await, "invalid_software_statement");
        let garbage = register(http, &address, None, json!({"software_statement": "not.a.jwt"})).await;
        assert_eq!(refused(garbage, 400).await, "invalid_software_statement");
    }
}
