//! `/admin/v1/teams`: teams, their policies, members and invitations, and
//! the clients they own; `/admin/v1/scope-requests`: the scopes teams'
//! members asked for that wait for an admin's approval.

use crate::admin::auth::Caller;
use crate::admin::body::json_of;
use crate::admin::error::AdminError;
use crate::admin::{json_ok, operation};
use crate::oauth_response::no_store;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::teams::{TeamAccess, DEFAULT_INVITATION_LIFETIME};
use portcullis_app::{App, AppError};
use portcullis_core::team::{TeamPermission, TeamPolicy, TeamRole};
use portcullis_oauth::grants::TokenSettings;
use serde::Deserialize;
use std::time::Duration;

/// Where the portal takes an invitation's token.
pub const JOIN_PATH: &str = "/portal/join";

/// The link an invitation's `token` is accepted at, on `issuer`.
pub fn invitation_link(issuer: &portcullis_core::Issuer, token: &str) -> String {
    format!("{}?token={token}", issuer.endpoint(JOIN_PATH))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTeam {
    name: String,
    #[serde(default)]
    policy: TeamPolicy,
}

/// `GET /admin/v1/teams`: every team, by name.
pub async fn list(Caller(actor): Caller, app: web::Data<App>) -> Result<HttpResponse, AdminError> {
    let teams = operation(&app, move |app| app.teams(&actor)).await?;
    Ok(json_ok(serde_json::json!({ "teams": teams })))
}

/// `POST /admin/v1/teams` with `{"name", "policy"?}`: 201 with the team.
pub async fn create(
    Caller(actor): Caller,
    req: HttpRequest,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let new: NewTeam = json_of(&req, payload, "a team").await?;
    let team = operation(&app, move |app| app.create_team(&actor, &new.name, new.policy)).await?;
    Ok(HttpResponse::Created().json(team))
}

/// `GET /admin/v1/teams/{team_id}`: the team, its members and, for whoever
/// may invite (admins, owners), its open invitations; in the portal, the
/// caller's role.
pub async fn get(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let read = operation(&app, move |app| {
        let (team, access) = app.team(&actor, &path)?;
        let invites = match access {
            TeamAccess::Admin => true,
            TeamAccess::Member(role) => role.grants(TeamPermission::Members),
        };
        // A token without portal:members reads the team without its invitations.
        let invitations = match invites.then(|| app.team_invitations(&actor, &path)) {
            Some(Ok(invitations)) => Some(invitations),
            Some(Err(AppError::Beyond(_))) | None => None,
            Some(Err(other)) => return Err(other),
        };
        Ok((team, access, app.team_members(&actor, &path)?, invitations))
    })
    .await?;
    let (team, access, members, invitations) = read;
    let mut body = serde_json::to_value(team).unwrap_or_default();
    body["members"] = serde_json::to_value(members).unwrap_or_default();
    if let Some(invitations) = invitations {
        body["invitations"] = serde_json::to_value(invitations).unwrap_or_default();
    }
    if let TeamAccess::Member(role) = access {
        body["role"] = role.as_str().into();
    }
    Ok(json_ok(body))
}

/// `PUT /admin/v1/teams/{team_id}/policy` with the whole policy.
pub async fn set_policy(
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let policy: TeamPolicy = json_of(&req, payload, "a team policy").await?;
    let team = operation(&app, move |app| app.set_team_policy(&actor, &path, policy)).await?;
    Ok(json_ok(team))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewInvitation {
    role: TeamRole,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// `POST /admin/v1/teams/{team_id}/invitations` with `{"role", "expires_in"?}`
/// (seconds; a week when left out): 201 with the invitation, its token and
/// its link, shown this once.
pub async fn invite(
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
    settings: web::Data<TokenSettings>,
) -> Result<HttpResponse, AdminError> {
    let new: NewInvitation = json_of(&req, payload, "an invitation").await?;
    let lifetime = new.expires_in.map_or(DEFAULT_INVITATION_LIFETIME, Duration::from_secs);
    let created = operation(&app, move |app| app.invite_to_team(&actor, &path, new.role, lifetime)).await?;
    let mut body = serde_json::to_value(&created.invitation).unwrap_or_default();
    let token = created.token.expose();
    body["invitation_token"] = token.into();
    body["invitation_url"] = invitation_link(&settings.issuer, token).into();
    let mut response = HttpResponse::Created();
    no_store(&mut response);
    Ok(response.json(body))
}

/// `DELETE /admin/v1/teams/{team_id}/invitations/{invitation_id}`: 204.
pub async fn withdraw_invitation(
    Caller(actor): Caller,
    path: web::Path<(String, String)>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let (team_id, invitation_id) = path.into_inner();
    operation(&app, move |app| app.withdraw_team_invitation(&actor, &team_id, &invitation_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleChange {
    role: TeamRole,
}

/// `PUT /admin/v1/teams/{team_id}/members/{user_id}` with `{"role"}`: 204.
pub async fn set_role(
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let change: RoleChange = json_of(&req, payload, "a role").await?;
    let (team_id, user_id) = path.into_inner();
    operation(&app, move |app| app.set_team_member_role(&actor, &team_id, &user_id, change.role)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /admin/v1/teams/{team_id}/members/{user_id}`: 204.
pub async fn remove_member(
    Caller(actor): Caller,
    path: web::Path<(String, String)>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let (team_id, user_id) = path.into_inner();
    operation(&app, move |app| app.remove_team_member(&actor, &team_id, &user_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /admin/v1/clients/{client_id}/scope-requests`: the client's latest, newest first.
pub async fn of_client(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let requests = operation(&app, move |app| app.client_scope_requests(&actor, &path)).await?;
    Ok(json_ok(serde_json::json!({ "scope_requests": requests })))
}

/// `GET /admin/v1/scope-requests`: the pending ones, oldest first.
pub async fn pending(Caller(actor): Caller, app: web::Data<App>) -> Result<HttpResponse, AdminError> {
    let requests = operation(&app, move |app| app.pending_scope_requests(&actor)).await?;
    Ok(json_ok(serde_json::json!({ "scope_requests": requests })))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Decision {
    #[serde(default)]
    reason: Option<String>,
}

async fn decide(
    actor: portcullis_app::Actor,
    (req, payload): (HttpRequest, web::Payload),
    request_id: String,
    app: web::Data<App>,
    approve: bool,
) -> Result<HttpResponse, AdminError> {
    let decision: Decision = if !req.headers().contains_key(actix_web::http::header::CONTENT_TYPE) {
        Decision::default()
    } else {
        json_of(&req, payload, "a decision").await?
    };
    let client = operation(&app, move |app| {
        app.decide_scope_request(&actor, &request_id, approve, decision.reason.as_deref())
    })
    .await?;
    Ok(json_ok(client))
}

/// `POST /admin/v1/scope-requests/{request_id}/approve` with `{"reason"?}`:
/// the client, holding the scopes.
pub async fn approve(
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    decide(actor, (req, payload), path.into_inner(), app, true).await
}

/// `POST /admin/v1/scope-requests/{request_id}/reject` with `{"reason"?}`: the client, unchanged.
pub async fn reject(
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    decide(actor, (req, payload), path.into_inner(), app, false).await
}

/// `GET /admin/v1/personal-tokens`: every personal access token, newest first (never a value).
pub async fn personal_tokens(Caller(actor): Caller, app: web::Data<App>) -> Result<HttpResponse, AdminError> {
    let tokens = operation(&app, move |app| app.all_personal_tokens(&actor)).await?;
    Ok(json_ok(serde_json::json!({ "personal_tokens": tokens })))
}

/// `DELETE /admin/v1/personal-tokens/{token_id}`: 204; it stops working at once.
pub async fn revoke_personal_token(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    operation(&app, move |app| app.revoke_personal_token(&actor, &path)).await?;
    Ok(HttpResponse::NoContent().finish())
}
