//! `/admin/v1/initial-access-tokens`: the tokens parties register clients
//! with (RFC 7591 §3), each with a registration policy, an expiry and a use
//! count; the value is shown once, at issue.

use crate::admin::auth::Caller;
use crate::admin::body::json_of;
use crate::admin::error::AdminError;
use crate::admin::{json_ok, operation};
use crate::oauth_response::no_store;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::registration::{InitialAccessTokenRequest, IssuedInitialAccessToken};
use portcullis_app::App;

/// `POST /admin/v1/initial-access-tokens` with `{"description", "policy"?,
/// "expires_at"?, "max_uses"?}`: 201 with the token and its value, shown this once.
pub async fn issue(
    Caller(actor): Caller,
    req: HttpRequest,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let request = token_request(&req, payload).await?;
    let issued = operation(&app, move |app| app.issue_initial_access_token(&actor, request)).await?;
    Ok(issued_response(&issued))
}

/// `POST /admin/v1/teams/{team_id}/initial-access-tokens` (and the
/// portal's, for a team's owners) with `{"description", "expires_at"?,
/// "max_uses"?}`: 201 with a token whose clients land in the team and
/// follow its policy, its value shown this once.
pub async fn issue_for_team(
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let request = token_request(&req, payload).await?;
    let issued =
        operation(&app, move |app| app.issue_team_initial_access_token(&actor, &path, request)).await?;
    Ok(issued_response(&issued))
}

/// `GET /admin/v1/teams/{team_id}/initial-access-tokens`: the team's, newest first.
pub async fn list_of_team(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let tokens = operation(&app, move |app| app.team_initial_access_tokens(&actor, &path)).await?;
    Ok(json_ok(serde_json::json!({ "initial_access_tokens": tokens })))
}

async fn token_request(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<InitialAccessTokenRequest, AdminError> {
    json_of(req, payload, "an initial access token request").await
}

/// 201 with the token just issued and its value, shown this once.
fn issued_response(issued: &IssuedInitialAccessToken) -> HttpResponse {
    let mut body = serde_json::to_value(&issued.token).unwrap_or_default();
    body["initial_access_token"] = issued.value.expose().into();
    let mut response = HttpResponse::Created();
    no_store(&mut response);
    response.json(body)
}

/// `GET /admin/v1/initial-access-tokens`: every token, newest first, never a value.
pub async fn list(Caller(actor): Caller, app: web::Data<App>) -> Result<HttpResponse, AdminError> {
    let tokens = operation(&app, move |app| app.initial_access_tokens(&actor)).await?;
    Ok(json_ok(serde_json::json!({ "initial_access_tokens": tokens })))
}

/// `DELETE /admin/v1/initial-access-tokens/{token_id}`: 204; it admits no
/// more registrations (the clients it admitted stay).
pub async fn revoke(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    operation(&app, move |app| app.revoke_initial_access_token(&actor, &path)).await?;
    Ok(HttpResponse::NoContent().finish())
}
