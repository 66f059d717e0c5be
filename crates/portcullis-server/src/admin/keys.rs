//! `/admin/v1/keys`: listing the signing keys (never a private part),
//! staging a `next` key, activating it, rotating in one call, revoking;
//! each over one operation of [`portcullis_app::keys`].

use crate::admin::auth::Caller;
use crate::admin::body::json_object;
use crate::admin::error::AdminError;
use crate::admin::{json_ok, operation};
use crate::KeyRing;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::App;
use portcullis_core::SigningAlgorithm;

/// The `alg` of a `{"alg": "RS256" | "ES256" | "PS256" | "EdDSA"}` body.
async fn alg_of(req: &HttpRequest, payload: web::Payload) -> Result<SigningAlgorithm, AdminError> {
    let body = json_object(req, payload).await?;
    if let Some(extra) = body.keys().find(|name| *name != "alg") {
        return Err(AdminError::bad_request(format!("unknown member `{extra}`")));
    }
    body.get("alg").and_then(|alg| alg.as_str()).and_then(|alg| alg.parse().ok()).ok_or_else(|| {
        let names = SigningAlgorithm::NAMES.join(", ");
        AdminError::bad_request(format!("give the algorithm as {{\"alg\": \"RS256\"}}, one of {names}"))
    })
}

/// `GET /admin/v1/keys`: every key, oldest first.
pub async fn list(Caller(actor): Caller, app: web::Data<App>) -> Result<HttpResponse, AdminError> {
    let keys = operation(&app, move |app| app.keys(&actor)).await?;
    Ok(json_ok(serde_json::json!({ "keys": keys })))
}

/// `POST /admin/v1/keys` with `{"alg": …}`: a `next` key, published but not signing.
pub async fn create(
    Caller(actor): Caller,
    req: HttpRequest,
    payload: web::Payload,
    app: web::Data<App>,
    ring: web::Data<KeyRing>,
) -> Result<HttpResponse, AdminError> {
    let alg = alg_of(&req, payload).await?;
    let key = operation(&app, move |app| app.stage_key(&actor, &**ring, alg)).await?;
    let mut response = HttpResponse::Created();
    crate::oauth_response::no_store(&mut response);
    Ok(response.json(key))
}

/// `POST /admin/v1/keys/{kid}/activate`: the next key becomes the active one;
/// the previous active key of its algorithm is retired.
pub async fn activate(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let keys = operation(&app, move |app| app.activate_key(&actor, &path)).await?;
    Ok(json_ok(serde_json::json!({ "keys": keys })))
}

/// `POST /admin/v1/keys/rotate` with `{"alg": …}`: a new active key, signing as
/// soon as every instance publishes it.
pub async fn rotate(
    Caller(actor): Caller,
    req: HttpRequest,
    payload: web::Payload,
    app: web::Data<App>,
    ring: web::Data<KeyRing>,
) -> Result<HttpResponse, AdminError> {
    let alg = alg_of(&req, payload).await?;
    Ok(json_ok(operation(&app, move |app| app.rotate_key(&actor, &**ring, alg)).await?))
}

/// `DELETE /admin/v1/keys/{kid}`: revoked at once; when it was active, the
/// response names the key that replaced it.
pub async fn revoke(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
    ring: web::Data<KeyRing>,
) -> Result<HttpResponse, AdminError> {
    let replacement = operation(&app, move |app| app.revoke_key(&actor, &**ring, &path)).await?;
    Ok(json_ok(serde_json::json!({ "revoked": true, "replacement": replacement })))
}
