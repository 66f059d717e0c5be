//! DPoP (RFC 9449): tokens bound to the key of the proof sent with the
//! token request, refused without a proof of that key at UserInfo, codes
//! bound by `dpop_jkt` (at `/authorize` or through a proof at `/par`),
//! public clients' refresh tokens bound to the key, nonces, and the proofs
//! that must be refused (wrong method, URL, time, key, token hash; replays).

use crate::code_exchange::{exchange_form, payload};
use crate::code_flow::{browser, browser_with, query, with_user, Browser, REDIRECT};
use crate::helpers::{new_kek, settings};
use crate::token::register;
use chrono::Utc;
use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
use josekit::jws::{JwsHeader, ES256};
use josekit::jwt::{self, JwtPayload};
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use serde_json::{json, Value};

/// The issuer of the browser tests' servers.
const ISSUER: &str = "http://localhost";

/// A client's DPoP key.
pub struct DpopKey(EcKeyPair);

impl DpopKey {
    pub fn new() -> Self {
        Self(EcKeyPair::generate(EcCurve::P256).unwrap())
    }

    /// Its RFC 7638 thumbprint, as `cnf.jkt` names it.
    pub fn jkt(&self) -> String {
        let public = serde_json::to_value(self.0.to_jwk_public_key()).unwrap();
        serde_json::from_value::<portcullis_jose::KeyMaterial>(public).unwrap().thumbprint()
    }

    /// A proof for `htm` at `path` of the issuer, its claims changed by `extra`.
    pub fn proof(&self, htm: &str, path: &str, extra: Value) -> String {
        let mut header = JwsHeader::new();
        header.set_token_type("dpop+jwt");
        header.set_claim("jwk", Some(serde_json::to_value(self.0.to_jwk_public_key()).unwrap())).unwrap();
        let mut claims = json!({"jti": uuid::Uuid::new_v4().to_string(), "htm": htm, "htu": format!("{ISSUER}{path}"),
                                "iat": Utc::now().timestamp()});
        claims.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let Value::Object(claims) = claims else { unreachable!() };
        let signer = ES256.signer_from_jwk(&self.0.to_jwk_key_pair()).unwrap();
        jwt::encode_with_signer(&JwtPayload::from_map(claims).unwrap(), &header, &signer).unwrap()
    }
}

/// The `ath` of `token`.
fn ath(token: &str) -> String {
    portcullis_jose::dpop::access_token_hash(token)
}

impl Browser {
    /// `POST path` from `client` with `form` and the DPoP headers `proofs`:
    /// status, `DPoP-Nonce` and answer.
    pub async fn with_proofs(
        &self,
        path: &str,
        (id, secret): (&str, &str),
        form: &[(&str, &str)],
        proofs: &[&str],
    ) -> (u16, Option<String>, Value) {
        let mut request = self.http.post(format!("{}{path}", self.app.address)).form(form);
        request = if secret.is_empty() { request } else { request.basic_auth(id, Some(secret)) };
        for proof in proofs {
            request = request.header("DPoP", *proof);
        }
        let response = request.send().await.unwrap();
        let nonce = response.headers().get("dpop-nonce").map(|v| v.to_str().unwrap().to_owned());
        (response.status().as_u16(), nonce, response.json().await.unwrap())
    }

    /// `GET /userinfo` with `authorization` and the DPoP headers `proofs`:
    /// status, `WWW-Authenticate`, `DPoP-Nonce`.
    pub async fn userinfo_with(&self, authorization: &str, proofs: &[&str]) -> (u16, String, Option<String>) {
        let mut request =
            self.http.get(format!("{}/userinfo", self.app.address)).header("authorization", authorization);
        for proof in proofs {
            request = request.header("DPoP", *proof);
        }
        let response = request.send().await.unwrap();
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        let (challenge, nonce) = (header("www-authenticate").unwrap_or_default(), header("dpop-nonce"));
        (response.status().as_u16(), challenge, nonce)
    }
}

fn service(db: &TestDb, extra: Value) -> (String, String) {
    let mut metadata =
        json!({"client_name": "svc", "scope": "read", "access_token_signed_response_alg": "ES256"});
    metadata.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    register(db, metadata)
}

fn pair(client: &(String, String)) -> (&str, &str) {
    (client.0.as_str(), client.1.as_str())
}

const CREDENTIALS: [(&str, &str); 1] = [("grant_type", "client_credentials")];

backend_tests! {
    #[tokio::test]
    async fn a_proof_binds_the_token_and_bad_proofs_are_refused(db) {
        let svc = service(&db, json!({}));
        let rs = register(&db, json!({"client_name": "RS", "introspection_allowed": true}));
        let browser = browser(&db);
        let key = DpopKey::new();
        let (status, nonce, tokens) = browser.with_proofs("/token", pair(&svc), &CREDENTIALS, &[&key.proof("POST", "/token", json!({}))]).await;
        assert_eq!((status, tokens["token_type"].as_str()), (200, Some("DPoP")), "{tokens}");
        assert!(nonce.is_some(), "a nonce is handed out for the next proof");
        let token = tokens["access_token"].as_str().unwrap();
        assert_eq!(payload(token)["cnf"]["jkt"], key.jkt());
        let introspected = browser.introspect(pair(&rs), token).await;
        assert_eq!((introspected["token_type"].as_str(), introspected["cnf"]["jkt"].as_str()), (Some("DPoP"), Some(key.jkt().as_str())));

        let (_, _, bearer) = browser.with_proofs("/token", pair(&svc), &CREDENTIALS, &[]).await;
        assert_eq!(bearer["token_type"], "Bearer", "without a proof, a bearer token");
        assert!(payload(bearer["access_token"].as_str().unwrap()).get("cnf").is_none());

        let now = Utc::now().timestamp();
        let replayed = key.proof("POST", "/token", json!({}));
        browser.with_proofs("/token", pair(&svc), &CREDENTIALS, &[&replayed]).await;
        let mut typed = JwsHeader::new();
        typed.set_token_type("JWT");
        for (proofs, why) in [
            (vec![key.proof("POST", "/userinfo", json!({}))], "htu"),
            (vec![key.proof("GET", "/token", json!({}))], "htm"),
            (vec![key.proof("POST", "/token", json!({"iat": now - 600}))], "stale iat"),
            (vec![key.proof("POST", "/token", json!({"iat": now + 120}))], "iat ahead"),
            (vec![replayed.clone()], "replayed jti"),
            (vec![key.proof("POST", "/token", json!({})), key.proof("POST", "/token", json!({}))], "two proofs"),
            (vec!["not.a.proof".to_owned()], "garbage"),
            (vec![key.proof("POST", "/token", json!({"nonce": "made-up"}))], "a made-up nonce"),
        ] {
            let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
            let (status, nonce, refused) = browser.with_proofs("/token", pair(&svc), &CREDENTIALS, &proofs).await;
            let expected = if why == "a made-up nonce" { "use_dpop_nonce" } else { "invalid_dpop_proof" };
            assert_eq!((status, refused["error"].as_str()), (400, Some(expected)), "{why}: {refused}");
            assert_eq!(nonce.is_some(), expected == "use_dpop_nonce", "{why}");
        }
        for (iat, htu) in [(now + 10, format!("{ISSUER}/token")), (now - 10, format!("{ISSUER}/token?x=1")), (now, "HTTP://LOCALHOST:80/token".to_owned())] {
            let proof = key.proof("POST", "/token", json!({"iat": iat, "htu": htu}));
            let (status, _, answer) = browser.with_proofs("/token", pair(&svc), &CREDENTIALS, &[&proof]).await;
            assert_eq!(status, 200, "iat {} s, htu {htu}: {answer}", iat - now);
        }
        let discovery = browser.app.get_json("/.well-known/openid-configuration").await;
        assert_eq!(discovery["dpop_signing_alg_values_supported"], json!(["RS256", "ES256", "PS256", "EdDSA"]));
    }

    #[tokio::test]
    async fn a_client_may_require_bound_tokens(db) {
        let svc = service(&db, json!({"dpop_bound_access_tokens": true}));
        let browser = browser(&db);
        let (status, _, refused) = browser.with_proofs("/token", pair(&svc), &CREDENTIALS, &[]).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_dpop_proof")), "{refused}");
        let key = DpopKey::new();
        let (status, _, tokens) = browser.with_proofs("/token", pair(&svc), &CREDENTIALS, &[&key.proof("POST", "/token", json!({}))]).await;
        assert_eq!((status, tokens["token_type"].as_str()), (200, Some("DPoP")));

        // RFC 9449 §7: at the admin API, a bound token is sent as DPoP with a
        // proof of its key for that very request, and is no bearer token (§7.2).
        let admin = service(&db, json!({"scope": "admin:clients"}));
        let (_, _, bound) = browser.with_proofs("/token", pair(&admin), &CREDENTIALS, &[&key.proof("POST", "/token", json!({}))]).await;
        let bound = bound["access_token"].as_str().unwrap();
        let call_at = |path: &'static str, authorization: String, proof: Option<String>| {
            let request = browser.http.get(format!("{}{path}", browser.app.address)).header("authorization", authorization);
            let request = match proof { Some(proof) => request.header("DPoP", proof), None => request };
            async move {
                let response = request.send().await.unwrap();
                let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
                (response.status().as_u16(), challenge.unwrap_or_default())
            }
        };
        let call = |authorization: String, proof: Option<String>| call_at("/admin/v1/clients", authorization, proof);
        let at_admin = |key: &DpopKey, path: &str| Some(key.proof("GET", path, json!({"ath": ath(bound)})));
        let (status, challenge) = call(format!("Bearer {bound}"), None).await;
        assert_eq!((status, challenge.contains("invalid_token")), (401, true), "{challenge}");
        assert_eq!(call(format!("DPoP {bound}"), at_admin(&key, "/admin/v1/clients")).await.0, 200);
        for (proof, why) in [(None, "no proof"), (at_admin(&DpopKey::new(), "/admin/v1/clients"), "another key"),
                             (at_admin(&key, "/admin/v1/users"), "another URL")] {
            let (status, challenge) = call(format!("DPoP {bound}"), proof).await;
            assert_eq!(status, 401, "{why}");
            assert!(challenge.starts_with("DPoP ") && challenge.contains("invalid_dpop_proof"), "{why}: {challenge}");
        }
        let replayed = at_admin(&key, "/admin/v1/clients");
        assert_eq!(call(format!("DPoP {bound}"), replayed.clone()).await.0, 200);
        let (status, challenge) = call(format!("DPoP {bound}"), replayed).await;
        assert_eq!((status, challenge.contains("invalid_dpop_proof")), (401, true), "a proof is used once: {challenge}");
        // A refusal of the application layer is a DPoP challenge too (RFC 9449 §7.1).
        let (status, challenge) = call_at("/admin/v1/users", format!("DPoP {bound}"), at_admin(&key, "/admin/v1/users")).await;
        assert_eq!(status, 403);
        assert!(challenge.starts_with("DPoP ") && challenge.contains("insufficient_scope"), "{challenge}");
        let (_, _, bearer) = browser.with_proofs("/token", pair(&admin), &CREDENTIALS, &[]).await;
        let bearer = bearer["access_token"].as_str().unwrap();
        assert_eq!(call(format!("Bearer {bearer}"), None).await.0, 200);
        let as_dpop = Some(key.proof("GET", "/admin/v1/clients", json!({"ath": ath(bearer)})));
        let (status, challenge) = call(format!("DPoP {bearer}"), as_dpop).await;
        assert_eq!((status, challenge.contains("invalid_token")), (401, true), "an unbound token is no DPoP token: {challenge}");
    }

    #[tokio::test]
    async fn a_public_client_holds_its_tokens_with_its_key(db) {
        with_user(&db);
        let spa = register(&db, json!({"client_name": "SPA", "token_endpoint_auth_method": "none", "skip_consent": true,
                                       "grant_types": ["authorization_code", "refresh_token"], "redirect_uris": [REDIRECT],
                                       "scope": "openid profile"}));
        let browser = browser(&db);
        let (key, other) = (DpopKey::new(), DpopKey::new());
        let code = query(&browser.sign_in(&spa.0).await).remove("code").unwrap();
        let mut form = exchange_form(&code);
        form.push(("client_id", &spa.0));
        let (status, _, tokens) = browser.with_proofs("/token", (&spa.0, ""), &form, &[&key.proof("POST", "/token", json!({}))]).await;
        assert_eq!((status, tokens["token_type"].as_str()), (200, Some("DPoP")), "{tokens}");
        let (access, refresh) = (tokens["access_token"].as_str().unwrap(), tokens["refresh_token"].as_str().unwrap());

        // UserInfo: as DPoP with a proof naming the token, never as a bearer token.
        let proof = |key: &DpopKey, token: &str| key.proof("GET", "/userinfo", json!({"ath": ath(token)}));
        let (status, _, nonce) = browser.userinfo_with(&format!("DPoP {access}"), &[&proof(&key, access)]).await;
        assert_eq!(status, 200);
        assert!(nonce.is_some());
        let (status, challenge, _) = browser.userinfo_with(&format!("Bearer {access}"), &[]).await;
        assert_eq!(status, 401);
        assert!(challenge.starts_with("Bearer error=\"invalid_token\""), "{challenge}");
        for (proofs, why) in [
            (vec![], "no proof"),
            (vec![proof(&other, access)], "another key"),
            (vec![key.proof("GET", "/userinfo", json!({"ath": ath("another token")}))], "another token's ath"),
            (vec![key.proof("GET", "/userinfo", json!({}))], "no ath"),
        ] {
            let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
            let (status, challenge, _) = browser.userinfo_with(&format!("DPoP {access}"), &proofs).await;
            assert_eq!(status, 401, "{why}");
            assert!(challenge.starts_with("DPoP ") && challenge.contains("error=\"invalid_dpop_proof\"") && challenge.contains("algs=\"RS256 ES256 PS256 EdDSA\""), "{why}: {challenge}");
        }
        let (_, challenge, _) = browser.userinfo_with("Basic eA==", &[]).await;
        assert!(challenge.contains("Bearer") && challenge.contains("DPoP"), "both schemes are offered: {challenge}");

        // RFC 9449 §5: a public client's refresh token is bound to its key.
        let refresh_form = [("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", spa.0.as_str())];
        for (proofs, why) in [(vec![], "no proof"), (vec![other.proof("POST", "/token", json!({}))], "another key")] {
            let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
            let (status, _, refused) = browser.with_proofs("/token", (&spa.0, ""), &refresh_form, &proofs).await;
            assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_grant")), "{why}: {refused}");
        }
        let (status, _, refreshed) = browser.with_proofs("/token", (&spa.0, ""), &refresh_form, &[&key.proof("POST", "/token", json!({}))]).await;
        assert_eq!((status, refreshed["token_type"].as_str()), (200, Some("DPoP")), "refused attempts spent nothing: {refreshed}");
    }

    #[tokio::test]
    async fn dpop_jkt_binds_the_code_at_authorize_and_through_par(db) {
        with_user(&db);
        let app = register(&db, json!({"client_name": "Web", "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT],
                                       "scope": "openid profile", "skip_consent": true}));
        let browser = browser(&db);
        let (key, other) = (DpopKey::new(), DpopKey::new());
        let code = query(&browser.sign_in_with(&app.0, &[("dpop_jkt", &key.jkt())]).await).remove("code").unwrap();
        let (status, _, refused) = browser.with_proofs("/token", pair(&app), &exchange_form(&code), &[&other.proof("POST", "/token", json!({}))]).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_grant")), "another key: {refused}");
        let code = query(&browser.sign_in_with(&app.0, &[("dpop_jkt", &key.jkt())]).await).remove("code").unwrap();
        let (status, _, tokens) = browser.with_proofs("/token", pair(&app), &exchange_form(&code), &[&key.proof("POST", "/token", json!({}))]).await;
        assert_eq!((status, tokens["token_type"].as_str()), (200, Some("DPoP")), "{tokens}");
        let back = crate::code_flow::location(browser.authorize(&app.0, &[("dpop_jkt", "short")]).await.headers());
        assert_eq!(query(&back)["error"], "invalid_request", "a malformed dpop_jkt goes back as an error");

        // RFC 9449 §10.1: a proof at /par binds the code, and never beside another dpop_jkt.
        let pushed = [("client_id", app.0.as_str()), ("response_type", "code"), ("redirect_uri", REDIRECT), ("scope", "openid"),
                      ("code_challenge", crate::code_flow::CHALLENGE), ("code_challenge_method", "S256")];
        let (status, _, answer) = browser.with_proofs("/par", pair(&app), &pushed, &[&key.proof("POST", "/par", json!({}))]).await;
        assert_eq!(status, 201, "{answer}");
        let uri = answer["request_uri"].as_str().unwrap();
        let back = crate::code_flow::location(browser.get(&format!("/authorize?client_id={}&request_uri={}", app.0, urlencoding(uri))).await.headers());
        let code = query(&back).remove("code").unwrap_or_else(|| panic!("{back}"));
        let (status, _, refused) = browser.with_proofs("/token", pair(&app), &exchange_form(&code), &[]).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_grant")), "a bound code needs its proof");
        let mut mismatched = pushed.to_vec();
        let other_jkt = other.jkt();
        mismatched.push(("dpop_jkt", &other_jkt));
        let (status, _, refused) = browser.with_proofs("/par", pair(&app), &mismatched, &[&key.proof("POST", "/par", json!({}))]).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_request")), "{refused}");
    }

    #[tokio::test]
    async fn a_server_may_require_its_nonce(db) {
        let svc = service(&db, json!({}));
        let mut with_nonces = settings(&db, &new_kek());
        with_nonces.require_dpop_nonce = true;
        let browser = browser_with(with_nonces);
        let key = DpopKey::new();
        let (status, nonce, refused) = browser.with_proofs("/token", pair(&svc), &CREDENTIALS, &[&key.proof("POST", "/token", json!({}))]).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("use_dpop_nonce")), "{refused}");
        let nonce = nonce.expect("the nonce comes with the error");
        let (status, _, tokens) = browser.with_proofs("/token", pair(&svc), &CREDENTIALS, &[&key.proof("POST", "/token", json!({"nonce": nonce}))]).await;
        assert_eq!((status, tokens["token_type"].as_str()), (200, Some("DPoP")), "{tokens}");
    }
}

/// `value` percent-encoded for a query.
pub fn urlencoding(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
