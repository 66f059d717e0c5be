//! The JWK Set of the published signing keys (RFC 7517 §5).

use crate::KeyRing;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::web;
use actix_web::HttpResponse;
use std::time::Duration;

/// How long verifiers may cache the JWKS.
pub struct JwksMaxAge(pub Duration);

/// `GET /jwks`: the pre-serialised key set, cacheable for the configured
/// time and readable from browsers.
pub async fn jwks(keys: web::Data<KeyRing>, max_age: web::Data<JwksMaxAge>) -> HttpResponse {
    let max_age = u32::try_from(max_age.0.as_secs()).unwrap_or(u32::MAX);
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(max_age)]))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(keys.current().jwks_json().clone())
}
