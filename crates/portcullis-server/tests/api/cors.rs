//! Browser apps on other origins: CORS on the token, revocation and
//! UserInfo endpoints for each client's own origins, any origin for
//! discovery and the JWKS, none for pages; and a real single-page app in
//! headless Chromium signing in with code + PKCE, its token request made by
//! the page's own `fetch`.

use crate::browser::Chromium;
use crate::code_exchange::VERIFIER;
use crate::code_flow::{with_user, CHALLENGE, PASSWORD};
use crate::helpers::spawn_app;
use crate::token::register;
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use reqwest::Method;
use serde_json::json;

const SPA: &str = "https://spa.example";

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

backend_tests! {
    #[tokio::test]
    async fn each_client_is_answered_for_its_own_origins_and_pages_for_none(db) {
        let (spa, _) = register(&db, json!({"client_name": "spa", "grant_types": ["authorization_code"], "token_endpoint_auth_method": "none",
                                             "redirect_uris": [format!("{SPA}/cb")], "scope": "openid"}));
        let (closed, _) = register(&db, json!({"client_name": "closed", "grant_types": ["authorization_code"], "token_endpoint_auth_method": "none",
                                                "redirect_uris": ["https://closed.example/cb"], "allowed_origins": []}));
        let app = spawn_app(&db);
        let preflight = |path: &'static str, origin: &'static str| {
            app.client.request(Method::OPTIONS, format!("{}{path}", app.address))
                .header("origin", origin).header("access-control-request-method", "POST")
                .header("access-control-request-headers", "authorization").send()
        };
        let allowed = preflight("/token", SPA).await.unwrap();
        assert_eq!(allowed.status(), 204);
        assert_eq!(header(&allowed, "access-control-allow-origin"), Some(SPA));
        assert_eq!(header(&allowed, "access-control-allow-methods"), Some("POST"));
        assert!(header(&allowed, "access-control-allow-headers").unwrap().contains("Authorization"));
        assert_eq!(header(&allowed, "access-control-allow-credentials"), None, "never with credentials");
        let userinfo = preflight("/userinfo", SPA).await.unwrap();
        assert_eq!(header(&userinfo, "access-control-allow-methods"), Some("GET, POST"));
        for stranger in ["https://evil.example", "https://closed.example", "null"] {
            let refused = preflight("/token", stranger).await.unwrap();
            assert_eq!(header(&refused, "access-control-allow-origin"), None, "{stranger}");
        }

        // The request itself is answered for its own client's origin, errors included.
        let exchange = |client: &str, origin: &'static str| {
            app.client.post(format!("{}/token", app.address)).header("origin", origin)
                .form(&[("grant_type", "authorization_code"), ("code", "no-such-code"), ("client_id", client),
                        ("redirect_uri", &format!("{SPA}/cb")), ("code_verifier", VERIFIER)]).send()
        };
        let answered = exchange(&spa, SPA).await.unwrap();
        assert_eq!(answered.status(), 400);
        assert_eq!(header(&answered, "access-control-allow-origin"), Some(SPA));
        assert_eq!(header(&answered, "vary"), Some("Origin"));
        assert!(header(&answered, "access-control-expose-headers").unwrap().contains("WWW-Authenticate"));
        assert_eq!(header(&exchange(&spa, "https://evil.example").await.unwrap(), "access-control-allow-origin"), None);
        assert_eq!(header(&exchange(&closed, SPA).await.unwrap(), "access-control-allow-origin"), None, "another client's origin");

        for public in ["/.well-known/openid-configuration", "/jwks"] {
            let read = app.client.get(format!("{}{public}", app.address)).header("origin", "https://anyone.example").send().await.unwrap();
            assert_eq!(header(&read, "access-control-allow-origin"), Some("*"), "{public}");
        }
        let page = app.client.get(format!("{}/login", app.address)).header("origin", SPA).send().await.unwrap();
        assert_eq!(header(&page, "access-control-allow-origin"), None, "pages are not for other origins");
    }
}

/// A single-page app's one page: sends the browser to authorize, then, back
/// with a code, redeems it and reads UserInfo with `fetch`, and tries a
/// client whose origins it is not among; writes what it got into `#result`.
fn spa_page(server: &str, client: &str, other: &str) -> String {
    format!(
        r#"<!doctype html><html lang="en"><head><title>SPA</title></head><body><pre id="result">waiting</pre><script>
const server = "{server}", client = "{client}", redirect = location.origin + "/cb";
const params = new URLSearchParams(location.search);
const form = (fields) => ({{ method: "POST", body: new URLSearchParams(fields) }});
async function run() {{
  if (!params.has("code")) {{
    location = server + "/authorize?" + new URLSearchParams({{ client_id: client, response_type: "code", redirect_uri: redirect,
      scope: "openid profile", state: "spa-state", code_challenge: "{CHALLENGE}", code_challenge_method: "S256" }});
    return;
  }}
  const token = await fetch(server + "/token", form({{ grant_type: "authorization_code", code: params.get("code"),
    redirect_uri: redirect, client_id: client, code_verifier: "{VERIFIER}" }}));
  const tokens = await token.json();
  const info = await fetch(server + "/userinfo", {{ headers: {{ Authorization: "Bearer " + tokens.access_token }} }});
  const claims = await info.json();
  let other = "read";
  try {{
    await fetch(server + "/token", form({{ grant_type: "authorization_code", code: "x", client_id: "{other}",
      redirect_uri: "https://other.example/cb", code_verifier: "{VERIFIER}" }}));
  }} catch (e) {{ other = "blocked"; }}
  const revoked = await fetch(server + "/revoke", form({{ token: tokens.refresh_token || tokens.access_token, client_id: client }}));
  document.getElementById("result").textContent = JSON.stringify({{ token: token.status, state: params.get("state"),
    token_type: tokens.token_type, userinfo: info.status, name: claims.name, other, revoked: revoked.status }});
}}
run().catch((e) => {{ document.getElementById("result").textContent = "failed: " + e; }});
</script></body></html>"#
    )
}

#[tokio::test]
async fn a_single_page_app_on_another_origin_signs_in_with_its_own_fetch() {
    let db = TestDb::sqlite();
    with_user(&db);
    let (server, issuer) = portcullis_server::test_support::loopback_server(db.database_url()).unwrap();
    tokio::spawn(server.run_until_stopped());
    // The app is served from another origin: another host name and port.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let spa_origin = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let (client, _) = register(
        &db,
        json!({"client_name": "SPA", "grant_types": ["authorization_code", "refresh_token"],
                                            "token_endpoint_auth_method": "none", "redirect_uris": [format!("{spa_origin}/cb")],
                                            "scope": "openid profile", "skip_consent": true}),
    );
    let (other, _) = register(
        &db,
        json!({"client_name": "Other", "grant_types": ["authorization_code"], "token_endpoint_auth_method": "none",
                                           "redirect_uris": ["https://other.example/cb"]}),
    );
    let page = spa_page(&issuer, &client, &other);
    let spa = actix_web::HttpServer::new(move || {
        let page = page.clone();
        actix_web::App::new().default_service(actix_web::web::to(move || {
            let page = page.clone();
            async move { actix_web::HttpResponse::Ok().content_type("text/html; charset=utf-8").body(page) }
        }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(spa);

    let chromium = Chromium::start().await;
    let browser = &chromium.client;
    browser.goto(&format!("{spa_origin}/")).await.unwrap();
    chromium.arrive_at("/login").await;
    chromium.fill("username", "alice").await;
    chromium.fill("password", PASSWORD).await;
    chromium.click("button[type=submit]").await;
    chromium.arrive_at("/cb").await;
    let mut result = String::new();
    for _ in 0..100 {
        result = chromium.text("#result").await;
        if result != "waiting" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let result: serde_json::Value =
        serde_json::from_str(&result).unwrap_or_else(|_| panic!("the page says: {result}"));
    assert_eq!(
        result,
        json!({"token": 200, "state": "spa-state", "token_type": "Bearer", "userinfo": 200, "name": "Alice",
               "other": "blocked", "revoked": 200}),
        "the page read its tokens and claims, and nothing of a client it is not an origin of"
    );
    chromium.screenshot("spa-signed-in").await;
}
