//! What is unusual (see [`portcullis_app::unusual`] and
//! [`portcullis_app::baselines`]): `GET /admin/v1/unusual` (every client an
//! `anomaly` rule fires for now, with why), `GET /portal/v1/teams/{team_id}/unusual`
//! (a team's), and `GET …/clients/{client_id}/baselines` (what a client's
//! baselines learnt).

use crate::admin::auth::Caller;
use crate::admin::error::AdminError;
use crate::admin::{json_ok, operation, query};
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::App;

/// `GET /admin/v1/unusual?team=…`: with `team`, of that team's clients only.
pub async fn now(
    Caller(actor): Caller,
    req: HttpRequest,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let team = query(&req)?.get("team").filter(|team| !team.is_empty()).map(str::to_owned);
    let unusual = operation(&app, move |app| app.unusual_now(&actor, team.as_deref())).await?;
    Ok(json_ok(serde_json::json!({ "unusual": unusual })))
}

/// `GET /portal/v1/teams/{team_id}/unusual`.
pub async fn of_team(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let team = path.into_inner();
    let unusual = operation(&app, move |app| app.unusual_now(&actor, Some(&team))).await?;
    Ok(json_ok(serde_json::json!({ "unusual": unusual })))
}

/// `GET …/clients/{client_id}/baselines`.
pub async fn baselines(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let id = path.into_inner();
    let baselines = operation(&app, move |app| app.client_baselines(&actor, &id)).await?;
    Ok(json_ok(serde_json::json!({ "baselines": baselines })))
}
