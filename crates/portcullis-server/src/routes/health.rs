//! Liveness and readiness probes.

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{web, HttpResponse};
use portcullis_app::App;
use portcullis_oauth::storage::{flattened, operation, RETRY_AFTER_SECONDS};
use serde_json::json;

/// `GET /healthz`: 200 while the process serves requests.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().insert_header(no_store()).json(json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 when the database answers a query within its
/// timeout, else 503. The cause is logged, never shown.
pub async fn readyz(app: web::Data<App>) -> HttpResponse {
    match flattened(operation(&app, App::ping).await) {
        Ok(()) => HttpResponse::Ok().insert_header(no_store()).json(json!({ "status": "ready" })),
        Err(cause) => {
            tracing::warn!(error = %cause, "not ready");
            HttpResponse::ServiceUnavailable()
                .insert_header(no_store())
                .insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS))
                .json(json!({ "status": "unavailable", "reason": "the database does not answer" }))
        }
    }
}

fn no_store() -> CacheControl {
    CacheControl(vec![CacheDirective::NoStore])
}
