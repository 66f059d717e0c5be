//! The FAPI 2.0 Security Profile (`profile: fapi2`): pushed requests only,
//! `private_key_jwt` assertions naming the issuer as a string, DPoP-bound
//! tokens, no RS256 anywhere, a `redirect_uri` in every request, request
//! objects with `exp` and `nbf`, and a refresh token that is not rotated.

use crate::code_exchange::{exchange_form, payload};
use crate::code_flow::{browser, location, query, with_user, Browser, CHALLENGE, PASSWORD, REDIRECT};
use crate::dpop::{urlencoding, DpopKey};
use crate::private_key_jwt::ClientKey;
use crate::token::register;
use chrono::Utc;
use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
use josekit::jwk::alg::rsa::RsaKeyPair;
use josekit::jws::{JwsHeader, PS256, RS256};
use josekit::jwt::{self, JwtPayload};
use portcullis_store::backend_tests;
use serde_json::{json, Value};

/// The issuer of the browser tests' servers.
const ISSUER: &str = "http://localhost";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A client of the profile with an EC key (its assertions) and an RSA key
/// (which it may only use with PS256).
struct Bank {
    id: String,
    ec: ClientKey,
}

impl Bank {
    /// An assertion naming `aud`, its times `ahead` seconds in the future.
    fn assertion(&self, aud: Value, ahead: i64) -> String {
        self.ec.sign(claims(&self.id, aud, ahead))
    }

    /// `form` with the assertion `assertion`.
    fn with<'a>(&'a self, form: &[(&'a str, &'a str)], assertion: &'a str) -> Vec<(&'a str, &'a str)> {
        let mut form = form.to_vec();
        if !form.iter().any(|(name, _)| *name == "client_id") {
            form.push(("client_id", self.id.as_str()));
        }
        form.extend([("client_assertion_type", JWT_BEARER), ("client_assertion", assertion)]);
        form
    }
}

fn claims(client: &str, aud: Value, ahead: i64) -> Value {
    let now = Utc::now().timestamp() + ahead;
    json!({"iss": client, "sub": client, "aud": aud, "exp": now + 60, "iat": now, "nbf": now,
           "jti": uuid::Uuid::new_v4().to_string()})
}

/// A DPoP proof signed by the RSA key `pair` with `alg` (PS256 or RS256).
fn rsa_proof(pair: &RsaKeyPair, alg: &str, htm: &str, path: &str, extra: Value) -> String {
    let mut header = JwsHeader::new();
    header.set_token_type("dpop+jwt");
    header.set_claim("jwk", Some(serde_json::to_value(pair.to_jwk_public_key()).unwrap())).unwrap();
    let mut claims = json!({"jti": uuid::Uuid::new_v4().to_string(), "htm": htm, "htu": format!("{ISSUER}{path}"),
                            "iat": Utc::now().timestamp()});
    claims.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let Value::Object(claims) = claims else { unreachable!() };
    let payload = JwtPayload::from_map(claims).unwrap();
    let key = pair.to_jwk_key_pair();
    match alg {
        "PS256" => jwt::encode_with_signer(&payload, &header, &PS256.signer_from_jwk(&key).unwrap()),
        _ => jwt::encode_with_signer(&payload, &header, &RS256.signer_from_jwk(&key).unwrap()),
    }
    .unwrap()
}

/// The parameters of a pushed request.
fn pushed(client: &str) -> Vec<(&str, &str)> {
    vec![
        ("client_id", client),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile"),
        ("state", "st-fapi"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

impl Browser {
    /// The redirect to the client after `/authorize` with `request_uri`, logging in if asked.
    async fn redirect_for(&self, client: &str, request_uri: &str) -> String {
        let path = format!("/authorize?client_id={client}&request_uri={}", urlencoding(request_uri));
        let mut next = location(self.get(&path).await.headers());
        if next.starts_with("/login") {
            let resumed = self.log_in(&next, "alice", PASSWORD).await;
            next = location(self.get(&location(resumed.headers())).await.headers());
        }
        next
    }
}

/// The `alg` of the JWT `jwt`.
fn alg_of(jwt: &str) -> String {
    josekit::jwt::decode_header(jwt).unwrap().claim("alg").unwrap().as_str().unwrap().to_owned()
}

backend_tests! {
    #[tokio::test]
    async fn a_fapi2_client_pushes_proves_its_key_and_keeps_its_refresh_token(db) {
        with_user(&db);
        let ec = ClientKey::Ec(EcKeyPair::generate(EcCurve::P256).unwrap());
        let rsa = ClientKey::Rsa(RsaKeyPair::generate(2048).unwrap());
        let jwks = json!({"keys": [ec.public_jwks()["keys"][0], rsa.public_jwks()["keys"][0]]});
        let (id, _) = register(&db, json!({"client_name": "Bank", "profile": "fapi2", "grant_types": ["authorization_code", "refresh_token"],
                                           "redirect_uris": [REDIRECT], "scope": "openid profile", "skip_consent": true, "jwks": jwks}));
        let bank = Bank { id: id.clone(), ec };
        let browser = browser(&db);
        let key = DpopKey::new();
        let par = |extra: Value| key.proof("POST", "/par", extra);

        // §5.3.2.2 item 3: nothing but a pushed request.
        let back = location(browser.authorize(&id, &[]).await.headers());
        assert_eq!(query(&back)["error"], "invalid_request", "{back}");

        // §5.3.2.1 item 8: the issuer as a string, and nothing else.
        for aud in [json!(format!("{ISSUER}/par")), json!(format!("{ISSUER}/token")), json!([ISSUER])] {
            let assertion = bank.assertion(aud.clone(), 0);
            let (status, _, refused) = browser.with_proofs("/par", (&id, ""), &bank.with(&pushed(&id), &assertion), &[&par(json!({}))]).await;
            assert_eq!((status, refused["error"].as_str()), (401, Some("invalid_client")), "aud {aud}: {refused}");
        }
        // §5.4.1: no RS256, even with a registered RSA key.
        let rs256 = rsa.sign(claims(&id, json!(ISSUER), 0));
        let (status, _, refused) = browser.with_proofs("/par", (&id, ""), &bank.with(&pushed(&id), &rs256), &[]).await;
        assert_eq!((status, refused["error"].as_str()), (401, Some("invalid_client")), "{refused}");
        // §5.3.2.1 item 13: 8 s ahead is accepted, 62 s refused.
        let ahead = bank.assertion(json!(ISSUER), 62);
        let (status, _, refused) = browser.with_proofs("/par", (&id, ""), &bank.with(&pushed(&id), &ahead), &[]).await;
        assert_eq!((status, refused["error"].as_str()), (401, Some("invalid_client")), "{refused}");
        // §5.3.2.2 item 6: a redirect_uri in every request.
        let without: Vec<(&str, &str)> = pushed(&id).into_iter().filter(|(name, _)| *name != "redirect_uri").collect();
        let assertion = bank.assertion(json!(ISSUER), 0);
        let (status, _, refused) = browser.with_proofs("/par", (&id, ""), &bank.with(&without, &assertion), &[]).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_request")), "{refused}");

        let assertion = bank.assertion(json!(ISSUER), 8);
        let (status, _, answer) = browser.with_proofs("/par", (&id, ""), &bank.with(&pushed(&id), &assertion), &[&par(json!({}))]).await;
        assert_eq!(status, 201, "{answer}");
        let back = browser.redirect_for(&id, answer["request_uri"].as_str().unwrap()).await;
        let mut params = query(&back);
        assert_eq!(params.get("iss").map(String::as_str), Some(ISSUER), "RFC 9207 iss: {back}");
        let code = params.remove("code").unwrap_or_else(|| panic!("{back}"));

        // §5.3.2.1 items 4 and 5: DPoP or nothing.
        let assertion = bank.assertion(json!(ISSUER), 0);
        let (status, _, refused) = browser.with_proofs("/token", (&id, ""), &bank.with(&exchange_form(&code), &assertion), &[]).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_dpop_proof")), "{refused}");
        let assertion = bank.assertion(json!(ISSUER), 0);
        let proof = key.proof("POST", "/token", json!({}));
        let (status, _, tokens) = browser.with_proofs("/token", (&id, ""), &bank.with(&exchange_form(&code), &assertion), &[&proof]).await;
        assert_eq!((status, tokens["token_type"].as_str()), (200, Some("DPoP")), "{tokens}");
        let access = tokens["access_token"].as_str().unwrap();
        assert_eq!((alg_of(access), alg_of(tokens["id_token"].as_str().unwrap())), ("PS256".into(), "PS256".into()));
        assert_eq!(payload(access)["cnf"]["jkt"], key.jkt());

        // §5.3.2.1 item 9: the refresh token is kept, and works again.
        let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
        for round in 0..2 {
            let form = [("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())];
            let assertion = bank.assertion(json!(ISSUER), 0);
            let proof = key.proof("POST", "/token", json!({}));
            let (status, _, refreshed) = browser.with_proofs("/token", (&id, ""), &bank.with(&form, &assertion), &[&proof]).await;
            assert_eq!(status, 200, "round {round}: {refreshed}");
            assert!(refreshed.get("refresh_token").is_none(), "not rotated: {refreshed}");
        }
    }

    #[tokio::test]
    async fn a_fapi2_client_signs_nothing_with_rs256_and_its_request_objects_say_when(db) {
        with_user(&db);
        let ec = ClientKey::Ec(EcKeyPair::generate(EcCurve::P256).unwrap());
        let (id, _) = register(&db, json!({"client_name": "Bank", "profile": "fapi2", "grant_types": ["authorization_code"],
                                           "redirect_uris": [REDIRECT], "scope": "openid profile", "skip_consent": true,
                                           "jwks": ec.public_jwks()}));
        let bank = Bank { id: id.clone(), ec };
        let browser = browser(&db);
        let rsa = RsaKeyPair::generate(2048).unwrap();

        // A request object without nbf, or valid for more than an hour, is refused.
        let now = Utc::now().timestamp();
        let mut object = json!({"iss": id, "aud": ISSUER, "exp": now + 300, "client_id": id, "response_type": "code",
                                "redirect_uri": REDIRECT, "scope": "openid", "code_challenge": CHALLENGE, "code_challenge_method": "S256"});
        let mut typed = JwsHeader::new();
        typed.set_token_type("oauth-authz-req+jwt");
        for (nbf, why) in [(None, "needs exp, nbf and aud"), (Some(now - 7200), "at most an hour")] {
            let mut object = object.clone();
            if let Some(nbf) = nbf {
                object["nbf"] = json!(nbf);
            }
            let request = bank.ec.sign_with(&typed, object);
            let assertion = bank.assertion(json!(ISSUER), 0);
            let form = bank.with(&[("request", request.as_str())], &assertion);
            let (status, _, refused) = browser.with_proofs("/par", (&id, ""), &form, &[]).await;
            assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_request_object")), "{refused}");
            assert!(refused["error_description"].as_str().unwrap().contains(why), "{refused}");
        }

        // A PS256 proof binds the token; the same key's RS256 proof is refused at UserInfo.
        let code = {
            object["nbf"] = json!(now);
            let request = bank.ec.sign_with(&typed, object.clone());
            let assertion = bank.assertion(json!(ISSUER), 0);
            let (status, _, answer) = browser.with_proofs("/par", (&id, ""), &bank.with(&[("request", request.as_str())], &assertion), &[]).await;
            assert_eq!(status, 201, "{answer}");
            let back = browser.redirect_for(&id, answer["request_uri"].as_str().unwrap()).await;
            query(&back).remove("code").unwrap_or_else(|| panic!("{back}"))
        };
        let assertion = bank.assertion(json!(ISSUER), 0);
        let rs256 = rsa_proof(&rsa, "RS256", "POST", "/token", json!({}));
        let (status, _, refused) = browser.with_proofs("/token", (&id, ""), &bank.with(&exchange_form(&code), &assertion), &[&rs256]).await;
        assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_dpop_proof")), "{refused}");
        let assertion = bank.assertion(json!(ISSUER), 0);
        let ps256 = rsa_proof(&rsa, "PS256", "POST", "/token", json!({}));
        let (status, _, tokens) = browser.with_proofs("/token", (&id, ""), &bank.with(&exchange_form(&code), &assertion), &[&ps256]).await;
        assert_eq!((status, tokens["token_type"].as_str()), (200, Some("DPoP")), "{tokens}");
        let access = tokens["access_token"].as_str().unwrap();
        let ath = portcullis_jose::dpop::access_token_hash(access);
        let at_userinfo = |alg: &str| rsa_proof(&rsa, alg, "GET", "/userinfo", json!({"ath": ath}));
        let (status, challenge, _) = browser.userinfo_with(&format!("DPoP {access}"), &[&at_userinfo("RS256")]).await;
        assert_eq!(status, 401, "{challenge}");
        assert!(challenge.contains("invalid_dpop_proof"), "{challenge}");
        let (status, challenge, _) = browser.userinfo_with(&format!("DPoP {access}"), &[&at_userinfo("PS256")]).await;
        assert_eq!(status, 200, "{challenge}");
    }
}
