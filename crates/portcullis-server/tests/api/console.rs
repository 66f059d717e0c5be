//! The console's sign-in over HTTP (issue 12): an admin user goes from
//! `/console` through this server's own authorization endpoint, the login
//! page and the second-factor step (enrolling TOTP the first time, with
//! recovery codes shown once) back to the console; the pages carry a strict
//! CSP; signing out ends the session; each sign-in asks for a second
//! factor again; a user without an admin role is turned away.

use crate::code_flow::{browser_with, location, Browser, PASSWORD};
use crate::helpers::{new_kek, settings};
use portcullis_app::audit::Query;
use portcullis_app::{Actor, App, Permission};
use portcullis_core::{Password, StandardClaims, Username};
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use totp_rs::{Algorithm, Builder, Secret};

/// A user with `roles`, and `PASSWORD`; their id.
pub fn user(db: &TestDb, name: &str, roles: &[Permission]) -> String {
    let app = App::with_defaults(db.connect());
    let (username, password) = (Username::parse(name).unwrap(), Password::new(PASSWORD.into()));
    let id = app
        .create_user(&Actor::operator(), &username, Some(password), &StandardClaims::default())
        .unwrap()
        .user
        .user_id;
    for role in roles {
        app.set_admin_role(&Actor::operator(), &id, *role, true).unwrap();
    }
    id
}

/// The path and query of `url` (redirects name the issuer, `http://localhost`).
fn path_of(url: &str) -> String {
    url.strip_prefix("http://localhost").unwrap_or(url).to_owned()
}

/// Follows redirects from `path` until a page answers; that page's path and response.
pub async fn follow(browser: &Browser, path: &str) -> (String, reqwest::Response) {
    let mut path = path.to_owned();
    for _ in 0..10 {
        let response = browser.get(&path).await;
        if !response.status().is_redirection() {
            return (path, response);
        }
        path = path_of(&location(response.headers()));
    }
    panic!("too many redirects from {path}");
}

/// The value of the first `<input name="{name}" value="…">` of `html`.
pub fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} in {html}")) + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// The key shown on an enrolment page.
fn key_of(page: &str) -> String {
    let marker = "<span class=\"key\">";
    let start = page.find(marker).expect("the key is shown") + marker.len();
    page[start..start + page[start..].find('<').unwrap()].split_whitespace().collect()
}

/// The TOTP code of `key` now, as an authenticator app shows it.
pub fn code(key: &str) -> String {
    let secret = Secret::try_from_base32(key).unwrap().as_ref().to_vec();
    let totp = Builder::new().with_algorithm(Algorithm::SHA1).with_secret(secret).build().unwrap();
    totp.generate(u64::try_from(chrono::Utc::now().timestamp()).unwrap()).to_string()
}

/// The TOTP code of the key shown on an enrolment page, now.
fn code_for(page: &str) -> String {
    code(&key_of(page))
}

/// Signs in with the password from the console's start; the second-factor page's path and HTML.
async fn to_second_factor(browser: &Browser, username: &str) -> (String, String) {
    let (login, page) = follow(browser, "/console").await;
    assert!(login.starts_with("/login?interaction="), "{login}");
    let html = page.text().await.unwrap();
    let form = [("interaction", field(&html, "interaction")), ("csrf", field(&html, "csrf"))];
    let posted = browser
        .post(
            "/login",
            &[
                ("interaction", &form[0].1),
                ("csrf", &form[1].1),
                ("username", username),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(posted.status(), 303);
    let (second, page) = follow(browser, &location(posted.headers())).await;
    (second, page.text().await.unwrap())
}

/// A browser signed in to the console as a new user `name` with `roles`
/// (enrolled in TOTP on the way), and the console's CSRF token.
pub async fn signed_in(db: &TestDb, name: &str, roles: &[Permission]) -> (Browser, String) {
    user(db, name, roles);
    let browser = browser_with(settings(db, &new_kek()));
    let (_, page) = to_second_factor(&browser, name).await;
    let enrolled = browser
        .post(
            "/login/second-factor",
            &[
                ("interaction", &field(&page, "interaction")),
                ("csrf", &field(&page, "csrf")),
                ("code", &code_for(&page)),
            ],
        )
        .await;
    let codes_page = enrolled.text().await.unwrap();
    let resume = codes_page.split("href=\"").find(|h| h.starts_with("/authorize/resume")).unwrap();
    let (console, overview) =
        follow(&browser, &resume.split('"').next().unwrap().replace("&amp;", "&")).await;
    assert_eq!(console, "/console");
    let csrf = field(&overview.text().await.unwrap(), "csrf");
    (browser, csrf)
}

backend_tests! {
    #[tokio::test]
    async fn an_admin_enrols_a_second_factor_signs_in_and_out_and_gives_one_each_time(db) {
        let alice = user(&db, "alice", &[Permission::Monitoring, Permission::Audit, Permission::Keys]);
        let kek = new_kek();
        let browser = browser_with(settings(&db, &kek));
        let (second, page) = to_second_factor(&browser, "alice").await;
        assert!(second.starts_with("/login/second-factor?interaction="), "{second}");
        assert!(page.contains("<svg") && page.contains("otpauth://totp/"), "a QR code and its URI: {page}");

        let wrong = browser.post("/login/second-factor", &[("interaction", &field(&page, "interaction")),
            ("csrf", &field(&page, "csrf")), ("code", "000000")]).await;
        assert_eq!(wrong.status(), 401);
        let again = wrong.text().await.unwrap();
        assert_eq!(key_of(&again), key_of(&page), "the same key until its first code");
        let enrolled = browser.post("/login/second-factor", &[("interaction", &field(&page, "interaction")),
            ("csrf", &field(&page, "csrf")), ("code", &code_for(&page))]).await;
        assert_eq!(enrolled.status(), 200);
        let codes_page = enrolled.text().await.unwrap();
        assert_eq!(codes_page.matches("<li>").count(), 10, "ten recovery codes: {codes_page}");
        let recovery = codes_page.split("<li>").nth(1).unwrap().split('<').next().unwrap().to_owned();
        let resume = codes_page.split("href=\"").find(|h| h.starts_with("/authorize/resume")).unwrap();
        let resume = resume.split('"').next().unwrap().replace("&amp;", "&");

        let (console, overview) = follow(&browser, &resume).await;
        assert_eq!(console, "/console");
        let csp = overview.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{csp}");
        let html = overview.text().await.unwrap();
        assert!(html.contains("<h1>Overview</h1>") && html.contains("alice"), "{html}");
        assert!(html.contains("Active signing keys") && html.contains("Requests, 24 h"), "{html}");
        assert!(!html.contains("style="), "no inline style");
        assert_eq!(html.matches("<script").count(), html.matches("<script src=\"/assets/console.js\"").count(), "no inline script");
        let stylesheet = browser.get("/assets/portcullis.css").await;
        assert_eq!(stylesheet.headers()["content-type"], "text/css; charset=utf-8");

        // The audit log: filtered, exported, its chain verified now.
        let audit = browser.get("/console/audit?action=console.signed_in").await;
        assert_eq!(audit.status(), 200);
        let audit = audit.text().await.unwrap();
        assert!(audit.contains("<td>console.signed_in</td>") && audit.contains("verified"), "{audit}");
        assert!(!audit.contains("<td>user.second_factor_enrolled</td>"), "filtered by action");
        assert_eq!(browser.get("/console/audit?from=yesterday").await.status(), 400);
        assert_eq!(browser.get("/console/audit?to=%2B262142-12-31T23:59").await.status(), 400, "four-digit years");
        let csv = browser.get("/console/audit/export?action=console.signed_in&format=csv").await;
        assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("audit-log.csv"));
        let csv = csv.text().await.unwrap();
        assert!(csv.starts_with("seq,at,actor,action") && csv.lines().count() == 2, "{csv}");
        let verified = browser.post("/console/audit/verify", &[("csrf", &field(&html, "csrf"))]).await;
        assert_eq!(location(verified.headers()), "/console/audit");
        assert!(browser.get("/console/audit").await.text().await.unwrap().contains("Intact, verified"));
        assert_eq!(browser.post("/console/audit/verify", &[("csrf", "forged")]).await.status(), 403);

        let forged = browser.post("/console/sign-out", &[("csrf", "forged")]).await;
        assert_eq!(forged.status(), 403);
        let signed_out = browser.post("/console/sign-out", &[("csrf", &field(&html, "csrf"))]).await;
        assert_eq!(location(signed_out.headers()), "/console/signed-out");
        assert_eq!(location(browser.get("/console").await.headers()), "/console/sign-in", "the session ended");

        // Still signed in to the login session, yet the password and a second factor again.
        let (second, html) = to_second_factor(&browser, "alice").await;
        assert!(second.starts_with("/login/second-factor?"), "{second}");
        assert!(!html.contains("otpauth://"), "enrolled: only a code is asked");
        let skipped = browser.post("/consent", &[("interaction", &field(&html, "interaction")),
            ("csrf", &field(&html, "csrf")), ("decision", "approve")]).await;
        assert!(!skipped.status().is_redirection(), "no console code past the second factor: {}", skipped.status());
        let recovered = browser.post("/login/second-factor", &[("interaction", &field(&html, "interaction")),
            ("csrf", &field(&html, "csrf")), ("code", &recovery)]).await;
        assert_eq!(recovered.status(), 303, "a recovery code signs in once");
        let (console, _) = follow(&browser, &location(recovered.headers())).await;
        assert_eq!(console, "/console");

        let kek = std::sync::Arc::new(portcullis_jose::KeyEncryptionKey::from_base64(&kek).unwrap());
        let app = App::with_defaults(db.connect()).with_kek(kek);
        let reserved = app.set_client_disabled(&Actor::operator(), portcullis_app::console::CONSOLE_CLIENT_ID, true);
        assert!(matches!(reserved, Err(portcullis_app::AppError::Conflict(_))), "the console's client is the server's");
        let page = app.audit_entries(&Actor::operator(), Query { target: Some(alice.clone()), limit: 50, ..Query::default() }).unwrap();
        let signed_in: Vec<_> = page.entries.iter().filter(|e| e.action == "console.signed_in").collect();
        assert_eq!(signed_in.len(), 2);
        assert_eq!(signed_in[0].actor, format!("user:{alice}"));
        assert!(signed_in[0].details["session_id"].is_string());
        assert!(page.entries.iter().any(|e| e.action == "console.signed_out"));
    }

    #[tokio::test]
    async fn wrong_second_factor_codes_are_throttled_with_a_retry_after(db) {
        user(&db, "carol", &[Permission::Monitoring]);
        let browser = browser_with(settings(&db, &new_kek()));
        let (_, page) = to_second_factor(&browser, "carol").await;
        let (interaction, csrf) = (field(&page, "interaction"), field(&page, "csrf"));
        let form = [("interaction", interaction.as_str()), ("csrf", csrf.as_str()), ("code", "000000")];
        for _ in 0..portcullis_app::login_throttle::MAX_PER_ACCOUNT {
            assert_eq!(browser.post("/login/second-factor", &form).await.status(), 401);
        }
        let throttled = browser.post("/login/second-factor", &form).await;
        assert_eq!(throttled.status(), 429);
        let retry_after: u64 = throttled.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=900).contains(&retry_after), "{retry_after}");
    }

    #[tokio::test]
    async fn a_user_without_an_admin_role_is_turned_away_before_enrolling(db) {
        user(&db, "bob", &[]);
        let browser = browser_with(settings(&db, &new_kek()));
        let (second, page) = to_second_factor(&browser, "bob").await;
        assert!(second.starts_with("/login/second-factor?"), "{second}");
        assert!(page.contains("No admin role") && !page.contains("otpauth://"), "{page}");
        assert!(browser.get("/console/callback?code=x&state=y").await.status().is_client_error(), "no sign-in pending");
    }
}
