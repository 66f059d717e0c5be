//! `/portal/v1`: the developer portal's REST API, for everything its pages
//! do, so teams automate their own clients (from CI, with a personal access
//! token). Its routes are the admin API's handlers where the operation is
//! the same (the application layer bounds a portal caller by its team, role
//! and token scope), and a few of its own; one table mounts and documents
//! it, as the admin API's does.

use crate::admin::auth::Caller;
use crate::admin::body::json_of;
use crate::admin::error::AdminError;
use crate::admin::openapi::{self, Api};
use crate::admin::routes::{route, AdminRoute, Body, Verb};
use crate::admin::{
    client_secrets, clients, initial_access_tokens, json_ok, number_param, operation, query, schemas, teams,
    unusual, usage, webhooks,
};
use actix_web::{web, HttpResponse};
use portcullis_app::App;
use portcullis_core::team::TeamPermission;
use portcullis_oauth::grants::TokenSettings;
use Body::{No, Optional, Required};

/// Where the API is mounted.
pub const PREFIX: &str = "/portal/v1";

const READ: &str = TeamPermission::Read.scope();
const APPS: &str = TeamPermission::Apps.scope();
const MEMBERS: &str = TeamPermission::Members.scope();

/// The portal's API.
pub const ROUTES: [AdminRoute; 40] = [
    route!(@scope Get, "/teams", READ, 200, No, my_teams, "The caller's teams, with their role in each"),
    route!(@scope Get, "/teams/{team_id}", READ, 200, No, teams::get, "A team, its policy, its members (and, for owners, its open invitations)"),
    route!(@scope Get, "/clients", READ, 200, No, clients::list, "A team's clients (`team` is required), filtered and paginated"),
    route!(@scope Post, "/teams/{team_id}/clients", APPS, 201, Required(|| schemas::member_client_metadata(false)), clients::create_in_team,
        "Register a client for the team within its policy; its secret is shown once, scopes needing approval are requested"),
    route!(@scope Get, "/clients/{client_id}", READ, 200, No, clients::get, "Read a client of the caller's team"),
    route!(@scope Put, "/clients/{client_id}", APPS, 200, Required(|| schemas::member_client_metadata(true)), clients::replace,
        "Replace a client's configuration within the team's policy (a new version)"),
    route!(@scope Patch, "/clients/{client_id}", APPS, 200, Required(schemas::member_client_patch), clients::patch,
        "Change a client's configuration with a JSON merge patch, within the team's policy"),
    route!(@scope Delete, "/clients/{client_id}", APPS, 204, No, clients::delete, "Delete a client; its tokens stop working everywhere"),
    route!(@scope Post, "/clients/{client_id}/disable", APPS, 200, No, clients::disable, "Disable a client; its tokens stop working"),
    route!(@scope Post, "/clients/{client_id}/enable", APPS, 200, No, clients::enable, "Enable a client again"),
    route!(@scope Get, "/clients/{client_id}/versions", READ, 200, No, clients::versions, "A client's configuration versions, newest first"),
    route!(@scope Get, "/clients/{client_id}/versions/{version}", READ, 200, No, clients::version, "One configuration version"),
    route!(@scope Post, "/clients/{client_id}/rollback", APPS, 200, Required(schemas::rollback), clients::rollback,
        "Write an older version's configuration (within the team's policy) as a new version"),
    route!(@scope Post, "/clients/{client_id}/secrets", APPS, 201, Optional(schemas::new_secret), client_secrets::add,
        "Add a secret (expiring within the team's policy); it is shown once, the others keep working"),
    route!(@scope Delete, "/clients/{client_id}/secrets/{secret_id}", APPS, 204, No, client_secrets::revoke, "Revoke one secret"),
    route!(@scope Post, "/teams/{team_id}/regenerate-secrets", APPS, 200, Required(schemas::regeneration), regenerate_secrets,
        "Give each of up to 50 of the team's clients one new secret in place of all others, together; shown once"),
    route!(@scope Get, "/clients/{client_id}/usage", READ, 200, No, usage::client,
        "A client's requests, errors by class, tokens issued and latency, step by step (by default the last hour)"),
    route!(@scope Get, "/clients/{client_id}/baselines", READ, 200, No, unusual::baselines,
        "What is usual for a client: each signal's baseline, what judges it now, its last hours learnt"),
    route!(@scope Get, "/teams/{team_id}/unusual", READ, 200, No, unusual::of_team,
        "The team's clients an anomaly rule fires for now, with why and their last hours against what is usual"),
    route!(@scope Get, "/teams/{team_id}/events", READ, 200, No, team_events,
        "The newest events about the team and its clients (`client_id` and `action` narrow them; `limit` up to 200)"),
    route!(@scope Get, "/clients/{client_id}/scope-requests", READ, 200, No, teams::of_client,
        "The client's latest scope requests and what admins decided, newest first"),
    route!(@scope Delete, "/clients/{client_id}/scope-request", APPS, 200, No, withdraw_scope_request,
        "Withdraw the client's pending scope request"),
    route!(@scope Patch, "/teams/{team_id}/settings", MEMBERS, 200, Required(schemas::team_settings), tighten_policy,
        "Make the team's policy stricter (owners): a second factor required, shorter secret and token lifetimes"),
    route!(@scope Post, "/teams/{team_id}/invitations", MEMBERS, 201, Required(schemas::invitation), teams::invite,
        "Invite someone to the team by a one-time link, shown once"),
    route!(@scope Delete, "/teams/{team_id}/invitations/{invitation_id}", MEMBERS, 204, No, teams::withdraw_invitation,
        "Withdraw an open invitation"),
    route!(@scope Put, "/teams/{team_id}/members/{user_id}", MEMBERS, 204, Required(schemas::member_role), teams::set_role,
        "Give a member another role (the team keeps an owner)"),
    route!(@scope Delete, "/teams/{team_id}/members/{user_id}", MEMBERS, 204, No, teams::remove_member,
        "Remove a member from the team"),
    route!(@scope Get, "/teams/{team_id}/initial-access-tokens", MEMBERS, 200, No, initial_access_tokens::list_of_team,
        "The team's initial access tokens, newest first (never their values)"),
    route!(@scope Post, "/teams/{team_id}/initial-access-tokens", MEMBERS, 201, Required(schemas::team_initial_access_token),
        initial_access_tokens::issue_for_team,
        "Issue an initial access token (RFC 7591 §3): the clients it registers land in the team and follow its policy"),
    route!(@scope Delete, "/initial-access-tokens/{token_id}", MEMBERS, 204, No, initial_access_tokens::revoke,
        "Revoke one of the team's initial access tokens"),
    route!(@scope Get, "/teams/{team_id}/personal-tokens", READ, 200, No, personal_tokens,
        "The caller's personal access tokens for the team (an owner's: every member's)"),
    route!(@scope Post, "/teams/{team_id}/personal-tokens", READ, 201, Required(schemas::personal_token), make_personal_token,
        "Make a personal access token, signed in to the portal (a token never makes another); its value is shown once"),
    route!(@scope Delete, "/personal-tokens/{token_id}", READ, 204, No, teams::revoke_personal_token,
        "Revoke a personal access token (one's own, or as the team's owner)"),
    route!(@scope Get, "/teams/{team_id}/webhooks", READ, 200, No, webhooks::of_team, "The team's webhook endpoints (never their secrets)"),
    route!(@scope Post, "/teams/{team_id}/webhooks", APPS, 201, Required(schemas::new_team_webhook), webhooks::create_in_team,
        "Register an endpoint for the team's own events (https to a public address); its signing secret is shown once"),
    route!(@scope Get, "/webhooks/{webhook_id}", READ, 200, No, webhooks::get, "Read one of the team's webhook endpoints"),
    route!(@scope Patch, "/webhooks/{webhook_id}", APPS, 200, Required(schemas::team_webhook_change), webhooks::update,
        "Change an endpoint's URL, events, description or state"),
    route!(@scope Delete, "/webhooks/{webhook_id}", APPS, 204, No, webhooks::delete, "Delete an endpoint and its deliveries"),
    route!(@scope Post, "/webhooks/{webhook_id}/test", APPS, 202, No, webhooks::test, "Queue a webhook.test event for this endpoint"),
    route!(@scope Get, "/webhooks/{webhook_id}/deliveries", READ, 200, No, webhooks::deliveries, "An endpoint's latest deliveries, newest first"),
];

/// The portal's API as its OpenAPI document describes it.
pub const PORTAL_API: Api = Api {
    prefix: PREFIX,
    routes: &ROUTES,
    title: "Portcullis portal API",
    description: "A team's own clients, secrets, scope requests, members, personal access tokens and \
                  webhooks, within the policy admins set for the team. Every change is audited.",
    scheme: "portal",
};

/// `GET /portal/v1/openapi.json` (no token needed: it holds no data).
pub async fn document(settings: web::Data<TokenSettings>) -> HttpResponse {
    HttpResponse::Ok().json(openapi::build(&PORTAL_API, &settings.issuer))
}

/// `GET /portal/v1/teams`: the caller's teams, with their role in each.
pub async fn my_teams(Caller(actor): Caller, app: web::Data<App>) -> Result<HttpResponse, AdminError> {
    let teams = operation(&app, move |app| app.my_teams(&actor)).await?;
    Ok(json_ok(serde_json::json!({ "teams": teams })))
}

/// `GET /portal/v1/teams/{team_id}/events?client_id=…&action=…&limit=…`: newest first.
pub async fn team_events(
    Caller(actor): Caller,
    req: actix_web::HttpRequest,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let query = query(&req)?;
    let limit = number_param(&query, "limit", 50, 1..=200)?;
    let (client_id, action) =
        (query.get("client_id").map(str::to_owned), query.get("action").map(str::to_owned));
    let events = operation(&app, move |app| {
        let query = portcullis_app::audit::TeamEventsQuery {
            client_id: client_id.as_deref(),
            action: action.as_deref(),
            from: None,
            limit,
        };
        app.team_events(&actor, &path, &query)
    })
    .await?;
    Ok(json_ok(serde_json::json!({ "events": events })))
}

/// `DELETE /portal/v1/clients/{client_id}/scope-request`: the client, its request withdrawn.
pub async fn withdraw_scope_request(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let client = operation(&app, move |app| app.withdraw_scope_request(&actor, &path)).await?;
    Ok(json_ok(client))
}

/// `GET /portal/v1/teams/{team_id}/personal-tokens`.
pub async fn personal_tokens(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let tokens = operation(&app, move |app| app.personal_tokens(&actor, &path)).await?;
    Ok(json_ok(serde_json::json!({ "personal_tokens": tokens })))
}

/// `POST /portal/v1/teams/{team_id}/personal-tokens` with `{"name",
/// "scope", "expires_in_days"}`: 201 with the token and its value
/// (`token`), shown this once.
pub async fn make_personal_token(
    Caller(actor): Caller,
    req: actix_web::HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Wanted {
        name: String,
        scope: String,
        expires_in_days: u32,
    }
    let wanted: Wanted = json_of(&req, payload, "a personal access token request").await?;
    let made = operation(&app, move |app| {
        app.create_personal_token(&actor, &path, &wanted.name, &wanted.scope, wanted.expires_in_days)
    })
    .await?;
    let mut body = serde_json::to_value(&made.token).unwrap_or_default();
    body["token"] = made.value.expose().into();
    let mut response = HttpResponse::Created();
    crate::oauth_response::no_store(&mut response);
    Ok(response.json(body))
}

/// `PATCH /portal/v1/teams/{team_id}/settings` with any of
/// `second_factor_required`, `max_secret_lifetime_days`,
/// `max_token_lifetime_days`: the team, its policy tightened.
pub async fn tighten_policy(
    Caller(actor): Caller,
    req: actix_web::HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let settings: portcullis_app::teams::TeamSettings = json_of(&req, payload, "a team's settings").await?;
    Ok(json_ok(operation(&app, move |app| app.tighten_team_policy(&actor, &path, settings)).await?))
}

/// `POST /portal/v1/teams/{team_id}/regenerate-secrets` with
/// `{"client_ids": […]}`: each of the team's clients named loses every
/// secret and gets one new one, all or none; 200 with the new secrets,
/// shown this once.
pub async fn regenerate_secrets(
    Caller(actor): Caller,
    req: actix_web::HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Wanted {
        client_ids: Vec<String>,
    }
    let wanted: Wanted = json_of(&req, payload, "a list of client_ids").await?;
    let regenerated =
        operation(&app, move |app| app.regenerate_client_secrets(&actor, &wanted.client_ids, Some(&path)))
            .await?;
    let secrets: Vec<serde_json::Value> = regenerated
        .iter()
        .map(|r| {
            serde_json::json!({"client_id": r.client_id, "client_name": r.client_name,
                               "secret_id": r.secret_id, "client_secret": r.secret.expose()})
        })
        .collect();
    let mut response = HttpResponse::Ok();
    crate::oauth_response::no_store(&mut response);
    Ok(response.json(serde_json::json!({ "secrets": secrets })))
}

/// Mounts the API and its document; its callers are portal users.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let scope = web::scope(PREFIX).app_data(web::Data::new(crate::admin::auth::PortalCallers)).service(
        web::resource(openapi::PATH)
            .route(web::get().to(document))
            .default_service(crate::allowed_methods::refuse_except("GET")),
    );
    cfg.service(crate::admin::routes::mount(scope, &ROUTES));
}
