//! The portal's REST API (`/portal/v1`), with personal access tokens: every
//! route refuses another team's member (404: nothing there), a role below
//! its scope and a token without it (403), and no token (401); a team's
//! members run their clients through it within the team's policy.

use crate::admin_clients::Admin;
use portcullis_app::{Actor, App};
use portcullis_core::team::TeamRole;
use portcullis_core::{StandardClaims, Username};
use portcullis_server::admin::routes::{Body, Verb};
use portcullis_server::portal::api::ROUTES;
use portcullis_store::backend_tests;
use reqwest::Method;
use serde_json::{json, Value};

struct Member {
    user_id: String,
    token: String,
    token_id: String,
}

/// A user in `team_id` as `role`, with a token of `scope`.
fn member(app: &App, team_id: &str, name: &str, role: TeamRole, scope: &str) -> Member {
    let user_id = app
        .create_user(&Actor::operator(), &Username::parse(name).unwrap(), None, &StandardClaims::default())
        .unwrap()
        .user
        .user_id;
    let actor = Actor::PortalUser { user_id: user_id.clone(), session: "s".into(), address: None };
    let invited =
        app.invite_to_team(&Actor::operator(), team_id, role, std::time::Duration::from_secs(600)).unwrap();
    app.accept_team_invitation(&actor, invited.token.expose()).unwrap();
    let made = app.create_personal_token(&actor, team_id, name, scope, 7).unwrap();
    Member { user_id, token: made.value.expose().to_owned(), token_id: made.token.token_id }
}

fn method(verb: Verb) -> Method {
    Method::from_bytes(verb.as_str().as_bytes()).unwrap()
}

/// A body the route accepts, for a route that takes one.
fn body(path: &str) -> Value {
    match path {
        "/teams/{team_id}/clients" => {
            json!({"client_name": "New", "grant_types": ["client_credentials"], "scope": "orders"})
        }
        "/clients/{client_id}" => {
            json!({"client_name": "Worker", "grant_types": ["client_credentials"], "scope": "orders"})
        }
        "/clients/{client_id}/rollback" => json!({"version": 1}),
        "/teams/{team_id}/invitations" | "/teams/{team_id}/members/{user_id}" => json!({"role": "viewer"}),
        "/teams/{team_id}/personal-tokens" => {
            json!({"name": "n", "scope": "portal:read", "expires_in_days": 1})
        }
        "/teams/{team_id}/initial-access-tokens" => json!({"description": "d"}),
        "/teams/{team_id}/webhooks" => json!({"url": "https://hooks.example/in"}),
        "/teams/{team_id}/regenerate-secrets" => json!({"client_ids": ["any"]}),
        "/teams/{team_id}/settings" => json!({"max_secret_lifetime_days": 7}),
        "/webhooks/{webhook_id}" => json!({"enabled": false}),
        _ => json!({}),
    }
}

backend_tests! {
    #[tokio::test]
    async fn every_portal_route_keeps_teams_roles_and_token_scopes_apart(db) {
        let mut at = crate::helpers::settings(&db, &crate::helpers::new_kek());
        at.registration = portcullis_oauth::registration::RegistrationMode::Token;
        let admin = Admin::on(&db, at).await;
        let policy = json!({"clients": {"grant_types": ["client_credentials"], "scopes": ["orders", "payments"]},
                            "approval_scopes": ["payments"], "max_secret_lifetime_days": 30});
        let shop = admin.call(Method::POST, "/teams", Some(json!({"name": "Shop", "policy": policy})), 201).await;
        let other = admin.call(Method::POST, "/teams", Some(json!({"name": "Other"})), 201).await;
        let (shop, other) = (shop["team_id"].as_str().unwrap().to_owned(), other["team_id"].as_str().unwrap().to_owned());
        let app = App::with_defaults(db.connect());
        let all = "portal:read portal:apps portal:members";
        let olga = member(&app, &shop, "olga", TeamRole::Owner, all);
        let dev = member(&app, &shop, "dev", TeamRole::Developer, "portal:read portal:apps orders");
        let vic = member(&app, &shop, "vic", TeamRole::Viewer, "portal:read");
        let bob = member(&app, &other, "bob", TeamRole::Owner, all);
        let olga_reads = app.create_personal_token(&Actor::PortalUser { user_id: olga.user_id.clone(), session: "s".into(), address: None },
            &shop, "read only", "portal:read", 1).unwrap().value.expose().to_owned();
        let call = |token: Option<&str>, verb: Method, path: &str, body: Option<Value>| {
            let mut request = admin.app.client.request(verb, format!("{}/portal/v1{path}", admin.app.address));
            if let Some(token) = token { request = request.bearer_auth(token); }
            if let Some(body) = body { request = request.json(&body); }
            request.send()
        };

        // A developer registers a client through the API, within the policy.
        let created = call(Some(&dev.token), Method::POST, &format!("/teams/{shop}/clients"),
            Some(json!({"client_name": "Worker", "grant_types": ["client_credentials"], "scope": "orders payments"}))).await.unwrap();
        assert_eq!(created.status(), 201);
        let created: Value = created.json().await.unwrap();
        let client_id = created["client_id"].as_str().unwrap().to_owned();
        assert_eq!((created["scope"].as_str(), created["scope_request"]["scope"].as_str()), (Some("orders"), Some("payments")));
        assert!(created["client_secret_expires_at"].as_i64().unwrap() > 0, "the policy bounds secrets");
        let secret_id = created["secrets"][0]["secret_id"].as_str().unwrap().to_owned();
        let outside = call(Some(&dev.token), Method::POST, &format!("/teams/{shop}/clients"),
            Some(json!({"client_name": "Web", "grant_types": ["authorization_code"], "redirect_uris": ["https://x.example/cb"]}))).await.unwrap();
        assert_eq!(outside.status(), 400);
        let outside: Value = outside.json().await.unwrap();
        assert_eq!(outside["field"], "grant_types", "a setting outside the policy is explained: {outside}");
        let invited = call(Some(&olga.token), Method::POST, &format!("/teams/{shop}/invitations"), Some(json!({"role": "viewer"}))).await.unwrap();
        let invitation_id = invited.json::<Value>().await.unwrap()["invitation_id"].as_str().unwrap().to_owned();

        let issued = call(Some(&olga.token), Method::POST, &format!("/teams/{shop}/initial-access-tokens"),
            Some(json!({"description": "CI registrations", "max_uses": 5}))).await.unwrap();
        assert_eq!(issued.status(), 201);
        let issued: Value = issued.json().await.unwrap();
        let (iat_id, iat) = (issued["token_id"].as_str().unwrap().to_owned(), issued["initial_access_token"].as_str().unwrap().to_owned());
        assert_eq!(issued["team_id"], shop.as_str());
        // A developer registers a webhook endpoint for the team's own events.
        let hook = call(Some(&dev.token), Method::POST, &format!("/teams/{shop}/webhooks"),
            Some(json!({"url": "https://hooks.example/in", "events": ["client.*"]}))).await.unwrap();
        assert_eq!(hook.status(), 201);
        let hook: Value = hook.json().await.unwrap();
        assert!(hook["secret"].as_str().unwrap().starts_with("whsec_") && hook["team_id"] == shop.as_str(), "{hook}");
        let webhook_id = hook["webhook_id"].as_str().unwrap().to_owned();
        let inside = call(Some(&dev.token), Method::POST, &format!("/teams/{shop}/webhooks"),
            Some(json!({"url": "https://10.0.0.1/in"}))).await.unwrap();
        assert_eq!(inside.status(), 400, "the guarded outbound policy: no private address");
        let concrete = |path: &str| {
            let token_id = if path.starts_with("/initial-access-tokens") { &iat_id } else { &dev.token_id };
            path.replace("{token_id}", token_id)
        };
        let concrete = |path: &str| concrete(path).replace("{team_id}", &shop).replace("{client_id}", &client_id).replace("{version}", "1")
            .replace("{secret_id}", &secret_id).replace("{user_id}", &dev.user_id).replace("{invitation_id}", &invitation_id)
            .replace("{token_id}", &dev.token_id).replace("{webhook_id}", &webhook_id);
        for route in ROUTES.iter() {
            let path = match route.path { "/clients" => format!("/clients?team={shop}"), path => concrete(path) };
            let body = match route.body { Body::No => None, _ => Some(body(route.path)) };
            let what = format!("{} {}", route.verb.as_str(), route.path);
            let status = |token: Option<String>| {
                let (verb, path, body) = (method(route.verb), path.clone(), body.clone());
                async move { call(token.as_deref(), verb, &path, body).await.unwrap().status().as_u16() }
            };
            assert_eq!(status(None).await, 401, "{what} without a token");
            assert_eq!(status(Some("pcp_nothing".into())).await, 401, "{what} with an unknown token");
            if route.path != "/teams" {
                assert_eq!(status(Some(bob.token.clone())).await, 404, "{what}: another team's member finds nothing");
            }
            let needs_more = |role: TeamRole| match route.scope {
                "portal:apps" => role < TeamRole::Developer,
                "portal:members" => role < TeamRole::Owner,
                _ => false,
            };
            if needs_more(TeamRole::Viewer) {
                assert_eq!(status(Some(vic.token.clone())).await, 403, "{what}: a viewer");
                assert_eq!(status(Some(olga_reads.clone())).await, 403, "{what}: a read-only token of an owner");
            }
            if needs_more(TeamRole::Developer) {
                assert_eq!(status(Some(dev.token.clone())).await, 403, "{what}: a developer");
            }
        }
        // Acting on others needs the owner's role, whatever the route's own scope.
        let dev_member = format!("/teams/{shop}/members/{}", dev.user_id);
        assert_eq!(call(Some(&vic.token), Method::DELETE, &dev_member, None).await.unwrap().status(), 403);
        assert_eq!(call(Some(&vic.token), Method::DELETE, &format!("/personal-tokens/{}", dev.token_id), None).await.unwrap().status(), 403);
        assert_eq!(app.client(&Actor::operator(), &client_id).unwrap().metadata.client_name, "Worker", "nothing refused changed anything");

        // Within their role and scope, members go on.
        let mine: Value = call(Some(&vic.token), Method::GET, "/teams", None).await.unwrap().json().await.unwrap();
        assert_eq!((mine["teams"][0]["team"]["name"].as_str(), mine["teams"][0]["role"].as_str()), (Some("Shop"), Some("viewer")));
        let team: Value = call(Some(&vic.token), Method::GET, &format!("/teams/{shop}"), None).await.unwrap().json().await.unwrap();
        assert!(team.get("invitations").is_none() && team["role"] == "viewer", "a viewer sees no invitations: {team}");
        let listed: Value = call(Some(&vic.token), Method::GET, &format!("/clients?team={shop}"), None).await.unwrap().json().await.unwrap();
        assert_eq!(listed["clients"][0]["client_id"], client_id.as_str());
        let withdrawn = call(Some(&dev.token), Method::DELETE, &format!("/clients/{client_id}/scope-request"), None).await.unwrap();
        assert_eq!(withdrawn.status(), 200);
        let added = call(Some(&dev.token), Method::POST, &format!("/clients/{client_id}/secrets"), None).await.unwrap();
        assert_eq!(added.status(), 201);
        assert!(added.json::<Value>().await.unwrap()["expires_at"].is_string());
        let renewed = call(Some(&dev.token), Method::POST, &format!("/teams/{shop}/regenerate-secrets"),
            Some(json!({"client_ids": [client_id]}))).await.unwrap();
        assert_eq!(renewed.status(), 200);
        let renewed: Value = renewed.json().await.unwrap();
        assert!(renewed["secrets"][0]["client_id"] == client_id.as_str() && renewed["secrets"][0]["client_secret"].is_string(), "{renewed}");
        assert_eq!(call(Some(&olga.token), Method::DELETE, &format!("/personal-tokens/{}", dev.token_id), None).await.unwrap().status(), 204);
        assert_eq!(call(Some(&dev.token), Method::GET, &format!("/teams/{shop}"), None).await.unwrap().status(), 401, "revoked by the owner");
        assert_eq!(call(Some(&olga.token), Method::DELETE, &format!("/clients/{client_id}"), None).await.unwrap().status(), 204);

        // The team's initial access token registers clients into the team, within its policy (RFC 7591).
        let register = |body: Value| admin.app.client.post(format!("{}/register", admin.app.address)).bearer_auth(&iat).json(&body).send();
        let registered = register(json!({"client_name": "Agent", "grant_types": ["client_credentials"], "scope": "orders payments"})).await.unwrap();
        assert_eq!(registered.status(), 201);
        let registered: Value = registered.json().await.unwrap();
        assert_eq!(registered["scope"], "orders");
        let path = format!("/clients/{}", registered["client_id"].as_str().unwrap());
        let landed: Value = call(Some(&vic.token), Method::GET, &path, None).await.unwrap().json().await.unwrap();
        assert_eq!(landed["team_id"], shop.as_str(), "it landed in the team");
        assert_eq!(landed["scope_request"]["scope"], "payments", "a scope needing approval waits for an admin");
        let refused = register(json!({"client_name": "Web", "grant_types": ["authorization_code"], "redirect_uris": ["https://x.example/cb"]})).await.unwrap();
        assert_eq!(refused.status(), 400);
        assert_eq!(refused.json::<Value>().await.unwrap()["error"], "invalid_client_metadata");
        assert_eq!(call(Some(&olga.token), Method::DELETE, &format!("/initial-access-tokens/{iat_id}"), None).await.unwrap().status(), 204);
        assert_eq!(register(json!({"client_name": "Late", "grant_types": ["client_credentials"]})).await.unwrap().status(), 401);

        let document: Value = admin.app.get_json("/portal/v1/openapi.json").await;
        let operations: usize = document["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum();
        assert_eq!(operations, ROUTES.len());
        assert_eq!(document["components"]["securitySchemes"]["portal"]["scheme"], "bearer");
    }
}
