//! The developer portal's pages over HTTP, as a developer who is no admin:
//! an invitation link leads through the portal's sign-in (this server's
//! own authorization endpoint) back to the question, joining the team; an
//! app registered with the shared builder within the team's policy (one
//! outside it explained), its secret shown once and working, a scope
//! waiting for an admin; a personal access token made and introspected;
//! every form posts a CSRF token; the pages speak German to a German
//! browser; signing out ends the session.

use crate::code_flow::{browser_with, location, Browser, PASSWORD};
use crate::console::{field, follow, user};
use crate::helpers::{new_kek, settings};
use portcullis_app::{Actor, App};
use portcullis_core::team::TeamPolicy;
use portcullis_store::backend_tests;

/// The text between `start` and the next `end` in `html`.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap_or_else(|| panic!("no {start} in {html}")) + start.len();
    &html[from..from + html[from..].find(end).unwrap()]
}

/// Signs in with the password at the login page `page` leads to.
async fn log_in(browser: &Browser, login_page: &str, username: &str) -> reqwest::Response {
    let posted = browser
        .post(
            "/login",
            &[
                ("interaction", &field(login_page, "interaction")),
                ("csrf", &field(login_page, "csrf")),
                ("username", username),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(posted.status(), 303);
    posted
}

/// A browser on `app` signed in to the portal as `name`, and its CSRF token.
async fn portal_user(app: &crate::helpers::TestApp, name: &str) -> (Browser, String) {
    let browser = Browser::new(crate::helpers::TestApp {
        address: app.address.clone(),
        client: reqwest::Client::new(),
    });
    let (_, page) = follow(&browser, "/portal").await;
    let posted = log_in(&browser, &page.text().await.unwrap(), name).await;
    let (home, page) = follow(&browser, &location(posted.headers()).replace("http://localhost", "")).await;
    assert_eq!(home, "/portal");
    let csrf = field(&page.text().await.unwrap(), "csrf");
    (browser, csrf)
}

/// A form each page takes, its CSRF token `csrf`: what the page needs to
/// reach its operation, which then decides (placeholders as in paths).
fn form_of(path: &str, csrf: &str) -> Vec<(String, String)> {
    let fields: &[(&str, &str)] = match path {
        "/portal/teams/{team_id}/invitations" => &[("role", "viewer"), ("days", "7")],
        "/portal/teams/{team_id}/members/{user_id}" => &[("remove", "on")],
        "/portal/teams/{team_id}/tokens" => &[("name", "n"), ("scope", "portal:read"), ("days", "1")],
        "/portal/teams/{team_id}/webhooks" => &[("url", "https://hooks.example/in")],
        "/portal/teams/{team_id}/apps/new" | "/portal/apps/{client_id}/edit" => &[
            ("based_on", "1"),
            ("client_name", "New"),
            ("grant_types", "client_credentials"),
            ("token_endpoint_auth_method", "client_secret_basic"),
            ("scope", "orders"),
        ],
        "/portal/apps/{client_id}/versions/{version}/rollback" => &[("based_on", "1")],
        "/portal/join" => &[("token", "nothing")],
        "/portal/teams/{team_id}/regenerate" => &[("client_id", "{client_id}")],
        "/portal/teams/{team_id}/settings" => &[("max_secret_lifetime_days", "7")],
        _ => &[],
    };
    std::iter::once(("csrf", csrf))
        .chain(fields.iter().copied())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

backend_tests! {
    #[tokio::test]
    async fn every_portal_page_keeps_teams_and_roles_apart(db) {
        use portcullis_server::admin::routes::Verb;
        use portcullis_server::portal::{Needs, PAGES};
        use portcullis_core::team::{TeamPermission, TeamRole};
        let app = App::with_defaults(db.connect());
        let policy: TeamPolicy = serde_json::from_value(serde_json::json!({
            "clients": {"grant_types": ["client_credentials"], "scopes": ["orders"]}})).unwrap();
        let shop = app.create_team(&Actor::operator(), "Shop", policy).unwrap().team_id;
        let other = app.create_team(&Actor::operator(), "Other", TeamPolicy::default()).unwrap().team_id;
        let join = |name: &str, team: &str, role| {
            let user_id = user(&db, name, &[]);
            let who = Actor::PortalUser { user_id: user_id.clone(), session: "s".into(), address: None };
            let invited = app.invite_to_team(&Actor::operator(), team, role, std::time::Duration::from_secs(600)).unwrap();
            app.accept_team_invitation(&who, invited.token.expose()).unwrap();
            (user_id, who)
        };
        let (olga_id, olga) = join("olga", &shop, TeamRole::Owner);
        let (_, dev) = join("dev", &shop, TeamRole::Developer);
        join("vic", &shop, TeamRole::Viewer);
        join("bob", &other, TeamRole::Owner);
        let draft = portcullis_app::clients::draft(serde_json::json!({"client_name": "Worker", "grant_types": ["client_credentials"], "scope": "orders"}).as_object().unwrap().clone(), None);
        let client = app.create_team_client(&dev, &shop, draft).unwrap().client;
        let invitation = app.invite_to_team(&olga, &shop, TeamRole::Viewer, std::time::Duration::from_secs(600)).unwrap().invitation.invitation_id;
        let olgas_token = app.create_personal_token(&olga, &shop, "olga's", "portal:read", 7).unwrap().token.token_id;
        let server = browser_with(settings(&db, &new_kek()));
        let (dev_browser, dev_csrf) = portal_user(&server.app, "dev").await;
        let hooked = dev_browser.post(&format!("/portal/teams/{shop}/webhooks"), &[("csrf", &dev_csrf), ("url", "https://hooks.example/in")]).await;
        let webhook_id = between(&hooked.text().await.unwrap(), "<p><a href=\"/portal/webhooks/", "\"").to_owned();
        let concrete = |path: &str| path.replace("{team_id}", &shop).replace("{client_id}", &client.client_id).replace("{version}", "1")
            .replace("{secret_id}", &client.secrets[0].secret_id).replace("{invitation_id}", &invitation)
            .replace("{user_id}", &olga_id).replace("{token_id}", &olgas_token).replace("{webhook_id}", &webhook_id);
        let anonymous = Browser::new(crate::helpers::TestApp { address: server.app.address.clone(), client: reqwest::Client::new() });
        let (owner, _) = portal_user(&server.app, "olga").await;
        let mut users = Vec::new();
        for name in ["dev", "vic", "bob"] {
            users.push(portal_user(&server.app, name).await);
        }
        let [(dev, dev_csrf), (vic, vic_csrf), (bob, bob_csrf)] = <[_; 3]>::try_from(users).ok().unwrap();
        let call = |browser: &Browser, page: &portcullis_server::portal::Page, csrf: &str| {
            let url = format!("{}{}", browser.app.address, concrete(page.path));
            let request = match page.verb {
                Verb::Get => browser.http.get(url),
                _ => {
                    let form: Vec<(String, String)> = form_of(page.path, csrf).into_iter().map(|(k, v)| (k, concrete(&v))).collect();
                    browser.http.post(url).form(&form)
                }
            };
            async move { request.send().await.unwrap() }
        };
        for page in PAGES.iter() {
            let what = format!("{} {}", page.verb.as_str(), page.path);
            let away = call(&anonymous, page, "").await;
            assert_eq!(away.status(), 303, "{what} signed out");
            assert!(location(away.headers()).starts_with("/portal/sign-in?then="), "{what}: to the sign-in");
            if page.verb != Verb::Get {
                let forged = call(&owner, page, "forged").await;
                assert_eq!(forged.status(), 403, "{what} without the session's CSRF token");
                assert!(forged.text().await.unwrap().contains("Form expired"), "{what}: refused for its CSRF token");
            }
            let Needs::Team(needed) = page.needs else { continue };
            if page.verb == Verb::Get {
                // The least role that may is let in.
                let (least, csrf) = match needed {
                    TeamPermission::Read => (&vic, &vic_csrf),
                    TeamPermission::Apps => (&dev, &dev_csrf),
                    TeamPermission::Members => (&owner, &dev_csrf),
                };
                assert_eq!(call(least, page, csrf).await.status(), 200, "{what}: the least role that may");
            }
            assert_eq!(call(&bob, page, &bob_csrf).await.status(), 404, "{what}: another team's member finds nothing");
            if needed != TeamPermission::Read {
                assert_eq!(call(&vic, page, &vic_csrf).await.status(), 403, "{what}: a viewer");
            }
            if needed == TeamPermission::Members {
                assert_eq!(call(&dev, page, &dev_csrf).await.status(), 403, "{what}: a developer");
            }
        }
        let now = app.client(&Actor::operator(), &client.client_id).unwrap();
        assert_eq!((now.version, now.secrets.len(), now.disabled), (1, 1, false), "nothing refused changed anything");
        assert_eq!(app.team_members(&Actor::operator(), &shop).unwrap().len(), 3);
        assert_eq!(app.team_webhooks(&Actor::operator(), &shop).unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_developer_joins_by_link_registers_an_app_within_the_policy_and_makes_a_token(db) {
        let app = App::with_defaults(db.connect());
        let admin = Actor::operator();
        let policy: TeamPolicy = serde_json::from_value(serde_json::json!({
            "clients": {"grant_types": ["client_credentials"], "scopes": ["orders", "payments"]},
            "approval_scopes": ["payments"], "max_secret_lifetime_days": 30
        })).unwrap();
        let team = app.create_team(&admin, "Shop", policy).unwrap().team_id;
        let invited = app.invite_to_team(&admin, &team, portcullis_core::team::TeamRole::Developer, std::time::Duration::from_secs(3_600)).unwrap();
        user(&db, "dev", &[]);
        let browser = browser_with(settings(&db, &new_kek()));

        // The link, signed out: to the login page, and back to the question.
        let link = format!("/portal/join?token={}", invited.token.expose());
        let (login, page) = follow(&browser, &link).await;
        assert!(login.starts_with("/login?interaction="), "{login}");
        let posted = log_in(&browser, &page.text().await.unwrap(), "dev").await;
        let (back, question) = follow(&browser, &location(posted.headers()).replace("http://localhost", "")).await;
        assert_eq!(back, link, "back to the page that asked");
        let question = question.text().await.unwrap();
        assert!(question.contains("Join a team") && question.contains("Shop") && question.contains("developer"),
                "which team, which role: {question}");
        let csrf = field(&question, "csrf");
        let forged = browser.post("/portal/join", &[("token", invited.token.expose())]).await;
        assert_eq!(forged.status(), 403, "no CSRF token, no change");
        let joined = browser.post("/portal/join", &[("csrf", &csrf), ("token", invited.token.expose())]).await;
        assert_eq!(location(joined.headers()), format!("/portal/teams/{team}"));
        let team_page = browser.get(&format!("/portal/teams/{team}")).await.text().await.unwrap();
        assert!(team_page.contains("Shop") && team_page.contains("developer") && team_page.contains("New app"), "{team_page}");
        assert!(!team_page.contains("Open invitations"), "a developer runs no invitations");

        // An app from the shared builder, within the policy; one outside it explained.
        let form = browser.get(&format!("/portal/teams/{team}/apps/new")).await.text().await.unwrap();
        assert!(form.contains("name=\"client_name\"") && !form.contains("name=\"skip_consent\""), "admins' settings are not offered");
        let new_app = format!("/portal/teams/{team}/apps/new");
        let outside = browser.post(&new_app, &[("csrf", &csrf), ("client_name", "Web"), ("grant_types", "authorization_code"),
            ("token_endpoint_auth_method", "client_secret_basic"), ("redirect_uris", "https://web.example/cb"), ("scope", "orders")]).await;
        assert_eq!(outside.status(), 400);
        let explained = outside.text().await.unwrap();
        assert!(explained.contains("grant_types") && explained.contains("authorization_code") && explained.contains("value=\"Web\""),
                "the reason, on the form as it was sent: {explained}");
        let created = browser.post(&new_app, &[("csrf", &csrf), ("client_name", "Worker"), ("grant_types", "client_credentials"),
            ("token_endpoint_auth_method", "client_secret_basic"), ("scope", "orders payments")]).await;
        assert_eq!(created.status(), 201);
        let shown = created.text().await.unwrap();
        let secret = between(&shown, "id=\"shown-once\">", "<").to_owned();
        let app_path = between(&shown, "<p><a href=\"", "\"").to_owned();
        let client_id = app_path.trim_start_matches("/portal/apps/").to_owned();
        let token = browser.app.post_form("/token", "grant_type=client_credentials").basic_auth(&client_id, Some(&secret)).send().await.unwrap();
        assert_eq!(token.status(), 200, "the secret works");
        let token: serde_json::Value = token.json().await.unwrap();
        assert_eq!(token["scope"], "orders", "the scope needing approval waits");
        let shown = browser.get(&app_path).await;
        let policy = shown.headers().get("content-security-policy").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        assert!(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "the console's CSP: {policy}");
        let app_page = shown.text().await.unwrap();
        for range in ["1h", "7d"] {
            let usage = browser.get(&format!("{app_path}/usage?range={range}")).await.text().await.unwrap();
            assert!(usage.contains(&format!("aria-current=\"page\">{range}<")) && usage.contains("other 4xx"), "{range}: {usage}");
        }
        assert!(app_page.contains("waiting for approval") && app_page.contains("payments"), "{app_page}");
        assert!(app_page.matches("<tr>").count() >= 2, "its secret, expiring within the policy: {app_page}");

        // The portal's API with the portal's session, as a page's script calls it.
        let mine: serde_json::Value = browser.http.get(format!("{}/portal/v1/teams", browser.app.address)).send().await.unwrap().json().await.unwrap();
        assert_eq!(mine["teams"][0]["team"]["name"], "Shop", "{mine}");
        let add = format!("{}/portal/v1/clients/{client_id}/secrets", browser.app.address);
        assert_eq!(browser.http.post(&add).send().await.unwrap().status(), 403, "a change needs the CSRF token in its header");
        assert_eq!(browser.http.post(&add).header("X-CSRF-Token", "forged").send().await.unwrap().status(), 403);
        assert_eq!(browser.http.post(&add).header("X-CSRF-Token", &csrf).send().await.unwrap().status(), 201);
        let tokens = format!("{}/portal/v1/teams/{team}/personal-tokens", browser.app.address);
        let wanted = serde_json::json!({"name": "deploy", "scope": "portal:read", "expires_in_days": 1});
        let made = browser.http.post(&tokens).header("X-CSRF-Token", &csrf).json(&wanted).send().await.unwrap();
        assert_eq!(made.status(), 201);
        let deploy = made.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
        assert!(deploy.starts_with("pcp_"));
        let again = browser.app.client.post(&tokens).bearer_auth(&deploy).json(&wanted).send().await.unwrap();
        assert_eq!(again.status(), 403, "a token never makes another");

        // A change reviewed as a diff, saved as version 2, rolled back to version 1.
        let edit = browser.get(&format!("{app_path}/edit")).await.text().await.unwrap();
        assert!(edit.contains("value=\"Worker\"") && edit.contains("name=\"based_on\" value=\"1\"") && !edit.contains("name=\"skip_consent\""), "{edit}");
        let changed = |name: &'static str, grant: &'static str| {
            [("csrf", csrf.as_str()), ("based_on", "1"), ("step", "review"), ("client_name", name),
             ("grant_types", grant), ("token_endpoint_auth_method", "client_secret_basic"), ("scope", "orders payments")]
        };
        let outside = browser.post(&format!("{app_path}/edit"), &changed("Worker", "authorization_code")).await;
        assert_eq!(outside.status(), 400, "outside the policy");
        assert!(outside.text().await.unwrap().contains("grant_types"), "explained");
        let review = browser.post(&format!("{app_path}/edit"), &changed("Worker 2", "client_credentials")).await;
        assert_eq!(review.status(), 200);
        let review = review.text().await.unwrap();
        assert!(review.contains("Review the change") && review.contains("Worker 2") && review.contains("wait for an admin"), "{review}");
        let draft = crate::console_clients::draft(&review);
        assert_eq!(app.client(&admin, &client_id).unwrap().version, 1, "reviewing writes nothing");
        let saved = browser.post(&format!("{app_path}/edit"), &[("csrf", csrf.as_str()), ("based_on", "1"), ("step", "save"), ("draft", &draft)]).await;
        assert_eq!(location(saved.headers()), app_path);
        let now = app.client(&admin, &client_id).unwrap();
        assert_eq!((now.version, now.metadata.client_name.as_str(), now.metadata.scope.to_string()), (2, "Worker 2", "orders".to_owned()));
        assert_eq!(now.scope_request.map(|r| r.scope), Some("payments".to_owned()), "still waiting");
        let stale = browser.post(&format!("{app_path}/edit"), &[("csrf", csrf.as_str()), ("based_on", "1"), ("step", "save"), ("draft", &draft)]).await;
        assert_eq!(stale.status(), 409, "a save from an older version is reviewed again");
        let versions = browser.get(&format!("{app_path}/versions")).await.text().await.unwrap();
        assert!(versions.contains("Version 2") && versions.contains("Worker 2") && versions.contains("/versions/1/rollback"), "{versions}");
        let confirm = browser.get(&format!("{app_path}/versions/1/rollback")).await.text().await.unwrap();
        assert!(confirm.contains("Roll back to version 1") && confirm.contains("Worker 2"), "{confirm}");
        let rolled = browser.post(&format!("{app_path}/versions/1/rollback"), &[("csrf", csrf.as_str()), ("based_on", "2")]).await;
        assert_eq!(location(rolled.headers()), format!("{app_path}/versions"));
        let now = app.client(&admin, &client_id).unwrap();
        assert_eq!((now.version, now.metadata.client_name.as_str()), (3, "Worker"));
        let german = browser.http.get(format!("{}{app_path}/edit", browser.app.address))
            .header("Accept-Language", "de").send().await.unwrap().text().await.unwrap();
        assert!(german.contains("Grants und Authentifizierung") && german.contains("Änderung prüfen"), "the builder in German: {german}");

        // Secrets regenerated in bulk: the old one stops, the new one works.
        let team_page = browser.get(&format!("/portal/teams/{team}")).await.text().await.unwrap();
        assert!(team_page.contains("client.created") && team_page.contains("Recent events"), "the team's events: {team_page}");
        let regenerated = browser.post(&format!("/portal/teams/{team}/regenerate"), &[("csrf", &csrf), ("client_id", &client_id)]).await;
        assert_eq!(regenerated.status(), 200);
        let renewed = between(&regenerated.text().await.unwrap(), "id=\"secret-1\">", "<").to_owned();
        let token_with = |secret: String| browser.app.post_form("/token", "grant_type=client_credentials").basic_auth(&client_id, Some(secret)).send();
        assert_eq!(token_with(secret.clone()).await.unwrap().status(), 401, "the old secret is gone");
        assert_eq!(token_with(renewed).await.unwrap().status(), 200, "the new one works");

        // A webhook endpoint for the team's events: its secret shown once, its page listing deliveries.
        let hooked = browser.post(&format!("/portal/teams/{team}/webhooks"), &[("csrf", &csrf), ("url", "https://hooks.example/in"), ("events", "client.*\nteam.*"), ("description", "CI")]).await;
        assert_eq!(hooked.status(), 201);
        let hooked = hooked.text().await.unwrap();
        assert!(between(&hooked, "id=\"shown-once\">", "<").starts_with("whsec_"), "{hooked}");
        let hook_page = between(&hooked, "<p><a href=\"", "\"").to_owned();
        let tested = browser.post(&format!("{hook_page}/test"), &[("csrf", &csrf)]).await;
        assert_eq!(location(tested.headers()), hook_page);
        let shown = browser.get(&hook_page).await.text().await.unwrap();
        assert!(shown.contains("https://hooks.example/in") && shown.contains("client.* team.*") && shown.contains("webhook.test"), "{shown}");
        let listed = browser.get(&format!("/portal/teams/{team}/webhooks")).await.text().await.unwrap();
        assert!(listed.contains("https://hooks.example/in"), "{listed}");
        let off = browser.post(&format!("{hook_page}/state"), &[("csrf", &csrf)]).await;
        assert_eq!(location(off.headers()), hook_page);
        assert!(browser.get(&hook_page).await.text().await.unwrap().contains("Turn on"), "turned off");
        let deleted = browser.post(&format!("{hook_page}/delete"), &[("csrf", &csrf), ("team", &team)]).await;
        assert_eq!(location(deleted.headers()), format!("/portal/teams/{team}/webhooks"));
        assert_eq!(browser.get(&hook_page).await.status(), 404);

        // A personal access token, shown once, introspected as the developer.
        let made = browser.post(&format!("/portal/teams/{team}/tokens"), &[("csrf", &csrf), ("name", "CI"), ("scope", "portal:read"), ("days", "7")]).await;
        assert_eq!(made.status(), 201);
        let pat = between(&made.text().await.unwrap(), "id=\"shown-once\">", "<").to_owned();
        assert!(pat.starts_with("pcp_"));
        let rs = crate::token::register(&db, serde_json::json!({"client_name": "rs", "introspection_allowed": true}));
        let answer: serde_json::Value = browser.app.introspect((&rs.0, &rs.1), &pat).await.json().await.unwrap();
        assert_eq!((answer["active"].as_bool(), answer["username"].as_str()), (Some(true), Some("dev")));
        let tokens = browser.get(&format!("/portal/teams/{team}/tokens")).await.text().await.unwrap();
        assert!(tokens.contains("CI") && !tokens.contains(&pat), "listed, never shown again");

        // German for a German browser.
        let german = browser.http.get(format!("{}/portal/teams/{team}", browser.app.address))
            .header("Accept-Language", "de-DE,de;q=0.9").send().await.unwrap().text().await.unwrap();
        assert!(german.contains("lang=\"de\"") && german.contains("Mitglieder") && german.contains("Entwickler"), "{german}");
        let failed = browser.http.get(format!("{}/portal/callback?code=x&state=y", browser.app.address))
            .header("Accept-Language", "de").send().await.unwrap();
        assert_eq!(failed.status(), 400);
        let failed = failed.text().await.unwrap();
        assert!(failed.contains("Diese Anmeldung ist abgelaufen.") && failed.contains("Erneut anmelden"), "a failed sign-in in German: {failed}");
        let unread = browser.http.post(format!("{}/portal/teams/{team}/tokens", browser.app.address))
            .header("Accept-Language", "de").header("Content-Type", "text/plain").body("x").send().await.unwrap();
        assert_eq!(unread.status(), 415);
        assert!(unread.text().await.unwrap().contains("Formular nicht angenommen"), "a form not read, in German");

        // Signing out ends the session.
        let out = browser.post("/portal/sign-out", &[("csrf", &csrf)]).await;
        assert_eq!(location(out.headers()), "/portal/signed-out");
        let again = browser.get(&format!("/portal/teams/{team}")).await;
        assert!(location(again.headers()).starts_with("/portal/sign-in?then="), "signed out");
        assert_eq!(browser.http.get(format!("{}/portal/v1/teams", browser.app.address)).send().await.unwrap().status(), 401,
                   "the ended session calls the API no more");
    }
    #[tokio::test]
    async fn an_owner_runs_members_and_invitations_and_a_developer_rotates_a_secret_and_a_token_in_the_pages(db) {
        use portcullis_core::team::TeamRole;
        let app = App::with_defaults(db.connect());
        let operator = Actor::operator();
        let policy: TeamPolicy = serde_json::from_value(serde_json::json!({"max_token_lifetime_days": 7})).unwrap();
        let team = app.create_team(&operator, "Shop", policy).unwrap().team_id;
        let join = |name: &str, role| {
            let user_id = user(&db, name, &[]);
            let who = Actor::PortalUser { user_id: user_id.clone(), session: "s".into(), address: None };
            let invited = app.invite_to_team(&operator, &team, role, std::time::Duration::from_secs(600)).unwrap();
            app.accept_team_invitation(&who, invited.token.expose()).unwrap();
            (user_id, who)
        };
        join("olga", TeamRole::Owner);
        let (dev_id, dev_actor) = join("dev", TeamRole::Developer);
        let server = browser_with(settings(&db, &new_kek()));
        let (olga, olga_csrf) = portal_user(&server.app, "olga").await;
        let (dev, dev_csrf) = portal_user(&server.app, "dev").await;
        let team_path = format!("/portal/teams/{team}");

        // The owner invites (a link shown once), sees and withdraws the invitation, changes a role.
        let invited = olga.post(&format!("{team_path}/invitations"), &[("csrf", &olga_csrf), ("role", "viewer"), ("days", "7")]).await;
        assert_eq!(invited.status(), 201);
        assert!(between(&invited.text().await.unwrap(), "id=\"shown-once\">", "<").contains("/portal/join?token="));
        let page = olga.get(&team_path).await.text().await.unwrap();
        assert!(page.contains("Open invitations") && page.contains("Invite"), "{page}");
        let invitation = app.team_invitations(&operator, &team).unwrap().remove(0).invitation_id;
        let withdrawn = olga.post(&format!("{team_path}/invitations/{invitation}/withdraw"), &[("csrf", &olga_csrf)]).await;
        assert_eq!(location(withdrawn.headers()), team_path);
        assert!(app.team_invitations(&operator, &team).unwrap().is_empty());
        let role_of = |user_id: &str| app.team_members(&operator, &team).unwrap().into_iter().find(|m| m.user_id == user_id).map(|m| m.role);
        olga.post(&format!("{team_path}/members/{dev_id}"), &[("csrf", &olga_csrf), ("role", "viewer")]).await;
        assert_eq!(role_of(&dev_id), Some(TeamRole::Viewer));
        olga.post(&format!("{team_path}/members/{dev_id}"), &[("csrf", &olga_csrf), ("role", "developer")]).await;
        assert_eq!(role_of(&dev_id), Some(TeamRole::Developer));
        // The owner makes the policy stricter, never looser.
        let looser = olga.post(&format!("{team_path}/settings"), &[("csrf", &olga_csrf), ("max_token_lifetime_days", "30")]).await;
        assert_eq!(looser.status(), 403, "beyond the policy's 7 days");
        let tighter = olga.post(&format!("{team_path}/settings"), &[("csrf", &olga_csrf), ("max_secret_lifetime_days", "10")]).await;
        assert_eq!(location(tighter.headers()), team_path);
        assert_eq!(app.team(&operator, &team).unwrap().0.policy.max_secret_lifetime_days, Some(10));

        // A second secret overlaps the first while rotating; then the first is revoked.
        let draft = portcullis_app::clients::draft(serde_json::json!({"client_name": "Worker", "grant_types": ["client_credentials"]}).as_object().unwrap().clone(), None);
        let created = app.create_team_client(&dev_actor, &team, draft).unwrap();
        let (client_id, first) = (created.client.client_id.clone(), created.secret.unwrap().expose().to_owned());
        let first_id = created.client.secrets[0].secret_id.clone();
        let app_path = format!("/portal/apps/{client_id}");
        let added = dev.post(&format!("{app_path}/secrets"), &[("csrf", &dev_csrf), ("days", "5")]).await;
        assert_eq!(added.status(), 201);
        let second = between(&added.text().await.unwrap(), "id=\"shown-once\">", "<").to_owned();
        let token_with = |secret: String| server.app.post_form("/token", "grant_type=client_credentials").basic_auth(&client_id, Some(secret)).send();
        assert_eq!((token_with(first.clone()).await.unwrap().status().as_u16(), token_with(second.clone()).await.unwrap().status().as_u16()), (200, 200), "both work");
        let revoked = dev.post(&format!("{app_path}/secrets/{first_id}/revoke"), &[("csrf", &dev_csrf)]).await;
        assert_eq!(location(revoked.headers()), app_path);
        assert_eq!((token_with(first).await.unwrap().status().as_u16(), token_with(second).await.unwrap().status().as_u16()), (401, 200));

        // A token within the policy's lifetime, revoked by its user, audited.
        let tokens = format!("{team_path}/tokens");
        let long = dev.post(&tokens, &[("csrf", &dev_csrf), ("name", "CI"), ("scope", "portal:read"), ("days", "30")]).await;
        assert_eq!(long.status(), 400, "beyond the team's 7 days");
        let made = dev.post(&tokens, &[("csrf", &dev_csrf), ("name", "CI"), ("scope", "portal:read"), ("days", "7")]).await;
        assert_eq!(made.status(), 201);
        let token_id = app.personal_tokens(&operator, &team).unwrap().remove(0).token_id;
        let revoked = dev.post(&format!("/portal/tokens/{token_id}/revoke"), &[("csrf", &dev_csrf), ("team", &team)]).await;
        assert_eq!(location(revoked.headers()), tokens);
        let query = portcullis_app::audit::Query { action: Some("personal_token.revoked".into()), newest_first: true, limit: 1, ..Default::default() };
        let entry = app.audit_entries(&operator, query).unwrap().entries.remove(0);
        assert_eq!((entry.target.as_str(), entry.actor), (token_id.as_str(), format!("user:{dev_id}")));

        // The owner removes the developer, who reaches the team no more.
        olga.post(&format!("{team_path}/members/{dev_id}"), &[("csrf", &olga_csrf), ("remove", "on")]).await;
        assert_eq!(role_of(&dev_id), None);
        assert_eq!(dev.get(&team_path).await.status(), 404);
    }

    #[tokio::test]
    async fn an_admin_oversees_teams_approves_scopes_and_revokes_tokens_in_the_console(db) {
        let (browser, csrf) = crate::console::signed_in(&db, "ada", &[portcullis_app::Permission::Users, portcullis_app::Permission::Clients]).await;
        let created = browser.post("/console/teams", &[("csrf", &csrf), ("name", "Shop")]).await;
        let team_path = location(created.headers());
        let team = team_path.trim_start_matches("/console/teams/").to_owned();
        let bad = browser.post(&format!("{team_path}/policy"), &[("csrf", &csrf), ("policy", "{\"max_clients\": -1}")]).await;
        assert_eq!(bad.status(), 400);
        let bad = bad.text().await.unwrap();
        assert!(bad.contains("role=\"alert\"") && bad.contains("max_clients"), "refused, the policy kept as sent: {bad}");
        let policy = r#"{"clients": {"grant_types": ["client_credentials"], "scopes": ["orders"]}, "approval_scopes": ["payments"]}"#;
        let saved = browser.post(&format!("{team_path}/policy"), &[("csrf", &csrf), ("policy", policy)]).await;
        assert_eq!(location(saved.headers()), team_path);

        // A member asks for a scope needing approval and makes a token.
        let app = App::with_defaults(db.connect());
        let dev_id = user(&db, "dev", &[]);
        let dev = Actor::PortalUser { user_id: dev_id, session: "s".into(), address: None };
        let invited = app.invite_to_team(&Actor::operator(), &team, portcullis_core::team::TeamRole::Developer, std::time::Duration::from_secs(600)).unwrap();
        app.accept_team_invitation(&dev, invited.token.expose()).unwrap();
        let draft = portcullis_app::clients::draft(serde_json::json!({"client_name": "Worker", "grant_types": ["client_credentials"], "scope": "orders payments"}).as_object().unwrap().clone(), None);
        let client = app.create_team_client(&dev, &team, draft).unwrap().client;
        let token = app.create_personal_token(&dev, &team, "CI", "portal:read", 7).unwrap();

        let page = browser.get(&team_path).await.text().await.unwrap();
        assert!(page.contains("dev") && page.contains("Worker") && page.contains("scope request waiting") && page.contains("CI"), "{page}");
        let invited = browser.post(&format!("{team_path}/invitations"), &[("csrf", &csrf), ("role", "owner"), ("days", "3")]).await;
        assert_eq!(invited.status(), 201, "an admin invites a team's first owner from the console");
        assert!(between(&invited.text().await.unwrap(), "id=\"shown-once\">", "<").contains("/portal/join?token="));
        assert!(browser.get(&team_path).await.text().await.unwrap().contains("Open invitations"));
        let listed = browser.get(&format!("/console/clients?team={team}")).await.text().await.unwrap();
        assert!(listed.contains("Worker") && !listed.contains("Admin client"), "the team filter: {listed}");
        let waiting = browser.get("/console/approvals").await.text().await.unwrap();
        let request = client.scope_request.unwrap().request_id;
        assert!(waiting.contains(&request), "{waiting}");
        let approved = browser.post(&format!("/console/approvals/{request}"), &[("csrf", &csrf), ("decision", "approve"), ("reason", "reviewed")]).await;
        assert_eq!(location(approved.headers()), "/console/approvals");
        assert_eq!(app.client(&Actor::operator(), &client.client_id).unwrap().metadata.scope.to_string(), "orders payments");
        let tokens = browser.get("/console/personal-tokens").await.text().await.unwrap();
        assert!(tokens.contains("CI") && tokens.contains("dev"), "{tokens}");
        let revoked = browser.post(&format!("/console/personal-tokens/{}/revoke", token.token.token_id), &[("csrf", &csrf)]).await;
        assert_eq!(revoked.status(), 303);
        assert!(app.use_personal_token(token.value.expose()).unwrap().is_none(), "revoked from the console");
        let forged = browser.post(&format!("/console/approvals/{request}"), &[("decision", "reject")]).await;
        assert_eq!(forged.status(), 403);
    }
}
