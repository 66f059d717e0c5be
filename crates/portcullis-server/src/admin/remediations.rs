//! `/admin/v1/remediations`: what alert rules did to clients (see
//! [`portcullis_app::remediation`]), and undoing it.

use crate::admin::auth::Caller;
use crate::admin::error::AdminError;
use crate::admin::{json_ok, operation, query};
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::App;

/// `GET /admin/v1/remediations?client_id=`: the latest actions, newest first.
pub async fn list(
    Caller(actor): Caller,
    req: HttpRequest,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let client_id = query(&req)?.get("client_id").map(str::to_owned);
    let done = operation(&app, move |app| app.remediations(&actor, client_id.as_deref())).await?;
    Ok(json_ok(serde_json::json!({ "remediations": done })))
}

/// `POST /admin/v1/remediations/{remediation_id}/undo`: lifts the lock,
/// enables the client, or restores its tokens.
pub async fn undo(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    Ok(json_ok(operation(&app, move |app| app.undo_remediation(&actor, &path)).await?))
}
