//! `/admin/v1/clients/{client_id}/secrets`: adding a secret (shown once)
//! while the others keep working, and revoking one.

use crate::admin::auth::{Admin, AdminScope};
use crate::admin::body::json_object;
use crate::admin::error::AdminError;
use crate::admin::{apply_here, blocking, time};
use crate::authorization::Authorization;
use crate::clients;
use crate::oauth_response::no_store;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use portcullis_store::Database;
use serde_json::Value;

/// The expiry a request names: `expires_at` (RFC 3339, in the future), or none.
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
    if at <= Utc::now() {
        return Err(AdminError::bad_request("expires_at must be in the future"));
    }
    Ok(Some(at))
}

/// `POST /admin/v1/clients/{client_id}/secrets`, optionally with
/// `{"expires_at": "…"}`: 201 with the new secret, shown this once.
pub async fn add(
    admin: Admin,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    db: web::Data<Database>,
    flow: web::Data<Authorization>,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Clients)?;
    let client_id = path.into_inner();
    let has_body = req.headers().contains_key(actix_web::http::header::CONTENT_TYPE);
    let expires_at = if has_body { expiry(&json_object(&req, payload).await?)? } else { None };
    let (store, id) = (db.clone(), client_id.clone());
    let (secret, record) =
        blocking(move || clients::add_secret(&store, &id, expires_at).map_err(AdminError::from)).await?;
    apply_here(&flow, &db, &client_id).await;
    let mut response = HttpResponse::Created();
    no_store(&mut response);
    Ok(response.json(serde_json::json!({
        "secret_id": record.secret_id,
        "client_secret": secret.expose(),
        "created_at": time(record.created_at),
        "expires_at": record.expires_at.map(time),
    })))
}

/// `DELETE /admin/v1/clients/{client_id}/secrets/{secret_id}`: 204; the
/// secret stops working on every instance within a second.
pub async fn revoke(
    admin: Admin,
    path: web::Path<(String, String)>,
    db: web::Data<Database>,
    flow: web::Data<Authorization>,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Clients)?;
    let (client_id, secret_id) = path.into_inner();
    let (store, id) = (db.clone(), client_id.clone());
    blocking(move || clients::revoke_secret(&store, &id, &secret_id).map_err(AdminError::from)).await?;
    apply_here(&flow, &db, &client_id).await;
    Ok(HttpResponse::NoContent().finish())
}
