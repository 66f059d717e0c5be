//! Liveness and readiness probes.

use crate::shutdown::Stopping;
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
/// timeout, else 503 (the cause is logged, never shown); 503 too once the
/// instance is stopping, so the load balancer sends nothing more.
pub async fn readyz(app: web::Data<App>, stopping: web::Data<Stopping>) -> HttpResponse {
    if stopping.is_set() {
        return unavailable("the server is stopping");
    }
    match flattened(operation(&app, App::ping).await) {
        Ok(()) => HttpResponse::Ok().insert_header(no_store()).json(json!({ "status": "ready" })),
        Err(cause) => {
            tracing::warn!(error = %cause, "not ready");
            unavailable("the database does not answer")
        }
    }
}

fn unavailable(reason: &str) -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .insert_header(no_store())
        .insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS))
        .json(json!({ "status": "unavailable", "reason": reason }))
}

fn no_store() -> CacheControl {
    CacheControl(vec![CacheDirective::NoStore])
}
