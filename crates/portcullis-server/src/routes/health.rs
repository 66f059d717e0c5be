//! Liveness and readiness probes.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{web, HttpResponse};
use portcullis_store::Database;
use serde_json::json;

/// `GET /healthz`: 200 while the process serves requests.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().insert_header(no_store()).json(json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 when the database answers a query, else 503 with the reason.
pub async fn readyz(db: web::Data<Database>) -> HttpResponse {
    let db = db.into_inner();
    let reason = match web::block(move || db.ping()).await {
        Ok(Ok(())) => return HttpResponse::Ok().insert_header(no_store()).json(json!({ "status": "ready" })),
        Ok(Err(e)) => format!("database: {e}"),
        Err(e) => format!("database check did not run: {e}"),
    };
    tracing::warn!(%reason, "not ready");
    HttpResponse::ServiceUnavailable()
        .insert_header(no_store())
        .json(json!({ "status": "unavailable", "reason": reason }))
}

fn no_store() -> CacheControl {
    CacheControl(vec![CacheDirective::NoStore])
}
