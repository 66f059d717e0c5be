//! `/admin/v1/keys`: listing the signing keys (never a private part),
//! staging a `next` key, activating it, rotating in one call, revoking.

use crate::admin::auth::{Admin, AdminScope};
use crate::admin::body::json_object;
use crate::admin::error::AdminError;
use crate::admin::{blocking, json_ok, time};
use crate::key_rotation::{self, KeyChangeError};
use crate::KeyRing;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use portcullis_core::SigningAlgorithm;
use portcullis_store::keys::SigningKeyRecord;
use portcullis_store::Database;
use serde::Serialize;

/// A key as the API shows it.
#[derive(Serialize)]
struct KeyView {
    kid: String,
    alg: &'static str,
    state: &'static str,
    published: bool,
    created_at: String,
    activated_at: Option<String>,
    retired_at: Option<String>,
    revoked_at: Option<String>,
}

fn view(key: &SigningKeyRecord) -> KeyView {
    KeyView {
        kid: key.kid.clone(),
        alg: key.alg.as_str(),
        state: key.state.as_str(),
        published: key_rotation::is_published(key, Utc::now()),
        created_at: time(key.created_at),
        activated_at: key.activated_at.map(time),
        retired_at: key.retired_at.map(time),
        revoked_at: key.revoked_at.map(time),
    }
}

impl From<KeyChangeError> for AdminError {
    fn from(error: KeyChangeError) -> Self {
        match &error {
            KeyChangeError::NotFound(_) => Self::not_found(error.to_string()),
            KeyChangeError::NotNext { .. } => Self::conflict(error.to_string()),
            KeyChangeError::Failed(cause) => Self::unavailable(cause),
        }
    }
}

/// The `alg` of a `{"alg": "RS256" | "ES256"}` body.
async fn alg_of(req: &HttpRequest, payload: web::Payload) -> Result<SigningAlgorithm, AdminError> {
    let body = json_object(req, payload).await?;
    if let Some(extra) = body.keys().find(|name| *name != "alg") {
        return Err(AdminError::bad_request(format!("unknown member `{extra}`")));
    }
    body.get("alg").and_then(|alg| alg.as_str()).and_then(|alg| alg.parse().ok()).ok_or_else(|| {
        AdminError::bad_request("give the algorithm: {\"alg\": \"RS256\"} or {\"alg\": \"ES256\"}")
    })
}

/// `GET /admin/v1/keys`: every key, oldest first.
pub async fn list(admin: Admin, db: web::Data<Database>) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Keys)?;
    let keys = blocking(move || key_rotation::list(&db).map_err(AdminError::from)).await?;
    Ok(json_ok(serde_json::json!({ "keys": keys.iter().map(view).collect::<Vec<_>>() })))
}

/// `POST /admin/v1/keys` with `{"alg": …}`: a `next` key, published but not signing.
pub async fn create(
    admin: Admin,
    req: HttpRequest,
    payload: web::Payload,
    ring: web::Data<KeyRing>,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Keys)?;
    let alg = alg_of(&req, payload).await?;
    let key = blocking(move || key_rotation::create_next(&ring, alg).map_err(AdminError::from)).await?;
    let mut response = HttpResponse::Created();
    crate::oauth_response::no_store(&mut response);
    Ok(response.json(view(&key)))
}

/// `POST /admin/v1/keys/{kid}/activate`: the next key signs from now on;
/// the previous active key of its algorithm is retired.
pub async fn activate(
    admin: Admin,
    path: web::Path<String>,
    db: web::Data<Database>,
    ring: web::Data<KeyRing>,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Keys)?;
    let kid = path.into_inner();
    let keys = blocking(move || {
        key_rotation::activate(&ring, &db, &kid).map_err(AdminError::from)?;
        key_rotation::list(&db).map_err(AdminError::from)
    })
    .await?;
    Ok(json_ok(serde_json::json!({ "keys": keys.iter().map(view).collect::<Vec<_>>() })))
}

/// `POST /admin/v1/keys/rotate` with `{"alg": …}`: a new key that signs at once.
pub async fn rotate(
    admin: Admin,
    req: HttpRequest,
    payload: web::Payload,
    db: web::Data<Database>,
    ring: web::Data<KeyRing>,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Keys)?;
    let alg = alg_of(&req, payload).await?;
    let key = blocking(move || key_rotation::rotate(&ring, &db, alg).map_err(AdminError::from)).await?;
    Ok(json_ok(view(&key)))
}

/// `DELETE /admin/v1/keys/{kid}`: revoked at once; when it was active, the
/// response names the key that replaced it.
pub async fn revoke(
    admin: Admin,
    path: web::Path<String>,
    db: web::Data<Database>,
    ring: web::Data<KeyRing>,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Keys)?;
    let kid = path.into_inner();
    let replacement =
        blocking(move || key_rotation::revoke(&ring, &db, &kid).map_err(AdminError::from)).await?;
    Ok(json_ok(serde_json::json!({ "revoked": true, "replacement": replacement.as_ref().map(view) })))
}
