//! `/admin/v1/clients/{client_id}/secrets`: adding a secret (shown once)
//! while the others keep working, and revoking one.

use crate::admin::auth::Caller;
use crate::admin::body::json_object;
use crate::admin::error::AdminError;
use crate::admin::operation;
use crate::oauth_response::no_store;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use portcullis_app::App;
use serde_json::Value;

/// The expiry a request names: `expires_at` (RFC 3339), or none.
fn expiry(body: &serde_json::Map<String, Value>) -> Result<Option<DateTime<Utc>>, AdminError> {
    if let Some(extra) = body.keys().find(|name| *name != "expires_at") {
        return Err(AdminError::bad_request(format!("unknown member `{extra}`")));
    }
    let Some(value) = body.get("expires_at") else { return Ok(None) };
    let at = value
        .as_str()
        .and_then(|raw| DateTime::parse_from_rfc3339(raw).ok())
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| {
            AdminError::bad_request("expires_at must be an RFC 3339 time, e.g. 2027-01-31T00:00:00Z")
        })?;
    Ok(Some(at))
}

/// `POST /admin/v1/clients/{client_id}/secrets`, optionally with
/// `{"expires_at": "…"}`: 201 with the new secret, shown this once.
pub async fn add(
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let has_body = req.headers().contains_key(actix_web::http::header::CONTENT_TYPE);
    let expires_at = if has_body { expiry(&json_object(&req, payload).await?)? } else { None };
    let added = operation(&app, move |app| app.add_client_secret(&actor, &path, expires_at)).await?;
    let mut response = HttpResponse::Created();
    no_store(&mut response);
    Ok(response.json(serde_json::json!({
        "secret_id": added.secret_id,
        "client_secret": added.secret.expose(),
        "created_at": added.created_at,
        "expires_at": added.expires_at,
    })))
}

/// `DELETE /admin/v1/clients/{client_id}/secrets/{secret_id}`: 204; the
/// secret stops working on every instance within a second.
pub async fn revoke(
    Caller(actor): Caller,
    path: web::Path<(String, String)>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let (client_id, secret_id) = path.into_inner();
    operation(&app, move |app| app.revoke_client_secret(&actor, &client_id, &secret_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
