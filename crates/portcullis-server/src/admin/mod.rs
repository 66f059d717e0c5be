//! The admin REST API under `/admin/v1`: access tokens of this server with
//! admin scopes, as bearer or DPoP tokens (see [`auth`]), JSON in and out,
//! errors as [`error`] says.

pub mod admin_roles;
pub mod alert_rules;
pub mod audit_logs;
pub mod auth;
pub mod body;
pub mod client_secrets;
pub mod clients;
pub mod compliance;
pub mod error;
pub mod initial_access_tokens;
pub mod keys;
pub mod openapi;
pub mod remediations;
pub mod routes;
pub mod schemas;
pub mod teams;
pub mod unusual;
pub mod usage;
pub mod user_attributes;
pub mod users;
pub mod webhooks;

use crate::admin::error::AdminError;
use crate::oauth_response::no_store;
use actix_web::{web, HttpResponse};
use portcullis_app::{App, AppError};
use portcullis_oauth::storage;
use serde::Serialize;

/// The path prefix of the admin API.
pub const PREFIX: &str = "/admin/v1";

/// Mounts the admin API: every route of [`routes::ROUTES`], and the
/// OpenAPI document. Each handler is an adapter over one operation of
/// [`portcullis_app`], which checks the permission and audits the change.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let scope = web::scope(PREFIX).service(
        web::resource(openapi::PATH)
            .route(web::get().to(openapi::document))
            .default_service(crate::allowed_methods::refuse_except("GET")),
    );
    cfg.service(
        routes::mount(scope, &routes::ROUTES).wrap(actix_web::middleware::from_fn(auth::dpop_answers)),
    );
}

/// Runs the application operation `work` off the request threads, answered
/// within the database timeout (503 past it, however many steps it has).
pub async fn operation<T: Send + 'static>(
    app: &web::Data<App>,
    work: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
) -> Result<T, AdminError> {
    match storage::operation(app, work).await {
        Ok(done) => done.map_err(AdminError::from),
        Err(failure) => Err(AdminError::unavailable(failure)),
    }
}

/// 200 with `body`, never cached.
pub fn json_ok(body: impl Serialize) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    no_store(&mut response);
    response.json(body)
}

/// The query string's parameters, each at most once.
pub fn query(req: &actix_web::HttpRequest) -> Result<crate::form::FormParams, AdminError> {
    crate::form::FormParams::parse(req.query_string().as_bytes())
        .map_err(|e| AdminError::bad_request(e.error_description))
}

/// The number `name` of `query` within `range`, or `default` when absent.
pub fn number_param(
    query: &crate::form::FormParams,
    name: &str,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, AdminError> {
    match query.get(name) {
        None => Ok(default),
        Some(raw) => raw.parse::<i64>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
            AdminError::bad_request(format!(
                "{name} must be a number from {} to {}",
                range.start(),
                range.end()
            ))
        }),
    }
}

/// The time `name` of `query` (RFC 3339), if given.
pub fn time_param(
    query: &crate::form::FormParams,
    name: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, AdminError> {
    query
        .get(name)
        .map(|raw| {
            chrono::DateTime::parse_from_rfc3339(raw).map(|at| at.to_utc()).map_err(|_| {
                AdminError::bad_request(format!("{name} must be an RFC 3339 time, e.g. 2026-11-01T00:00:00Z"))
            })
        })
        .transpose()
}
