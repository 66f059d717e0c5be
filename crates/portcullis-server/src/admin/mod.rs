//! The admin REST API under `/admin/v1`: bearer tokens of this server with
//! admin scopes (see [`auth`]), JSON in and out, errors as [`error`] says.

pub mod audit_logs;
pub mod auth;
pub mod body;
pub mod client_secrets;
pub mod clients;
pub mod error;
pub mod keys;
pub mod openapi;
pub mod routes;
pub mod schemas;
pub mod users;

use crate::admin::error::AdminError;
use crate::authorization::Authorization;
use crate::oauth_response::no_store;
use crate::{audit, storage};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{from_fn, Next};
use actix_web::HttpMessage;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use portcullis_store::Database;
use serde::Serialize;

/// The path prefix of the admin API.
pub const PREFIX: &str = "/admin/v1";

/// Mounts the admin API (every route of [`routes::ROUTES`], and the
/// OpenAPI document), recording changes in the audit log.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let scope = web::scope(PREFIX).service(
        web::resource(openapi::PATH)
            .route(web::get().to(openapi::document))
            .default_service(crate::routes::refuse_except("GET")),
    );
    // The deadline inside the audit: a change that times out is audited too.
    cfg.service(routes::mount(scope).wrap(from_fn(deadline)).wrap(from_fn(audit_changes)));
}

/// A time as the admin API shows it: RFC 3339, UTC, whole seconds.
pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Runs blocking storage work off the request threads.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AdminError> + Send + 'static,
) -> Result<T, AdminError> {
    web::block(work).await.map_err(AdminError::unavailable)?
}

/// Applies a change to this instance's client mirror at once, so the admin
/// who made it can use it immediately (other instances follow the change log).
pub async fn apply_here(flow: &web::Data<Authorization>, db: &web::Data<Database>, client_id: &str) {
    let (clients, store, id) = (flow.clients.clone(), db.clone(), client_id.to_owned());
    let refreshed = storage::within(db.timeout(), move || clients.refresh(&mut *store.get()?, &id)).await;
    if let Err(e) = refreshed {
        tracing::warn!(error = %e, "a client change will reach this instance through the change log");
    }
}

/// 200 with `body`, never cached.
pub fn json_ok(body: impl Serialize) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    no_store(&mut response);
    response.json(body)
}

/// Answers every admin request within the database timeout: one that waits
/// longer on a hung database gets 503, however many steps it has.
async fn deadline(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let limit = req.app_data::<web::Data<Database>>().map_or(std::time::Duration::MAX, |db| db.timeout());
    match actix_web::rt::time::timeout(limit, next.call(req)).await {
        Ok(response) => response,
        Err(_) => Err(AdminError::unavailable(format!("an admin request took longer than {limit:?}")).into()),
    }
}

/// Records every authenticated admin request that may change something
/// (any method but GET and HEAD) in the audit log, with its actor, the
/// route, the client or key it names, and its status; one that ran past its
/// deadline is recorded as a failure of unknown effect (its change may still
/// commit). Requests without a valid admin token are not audited one by
/// one: anyone could grow the log with them.
async fn audit_changes(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let reads = matches!(*req.method(), Method::GET | Method::HEAD);
    let db = req.app_data::<web::Data<Database>>().cloned();
    let proxies =
        req.app_data::<web::Data<Authorization>>().map(|flow| flow.proxies.client_ip(req.request()));
    let slot = auth::ActorSlot::default();
    req.extensions_mut().insert(slot.clone());
    let (method, path) = (req.method().to_string(), req.path().to_owned());
    let actor = move || slot.0.borrow().clone();
    let response = match next.call(req).await {
        Ok(response) => response,
        Err(error) => {
            if let (Some(db), false, Some(actor)) = (db, reads, actor()) {
                let event = audit::Event {
                    actor,
                    action: format!("{method} {path}"),
                    target: String::new(),
                    source: proxies.flatten(),
                    outcome: audit::Outcome::Failure,
                    details: serde_json::json!({ "status": error.as_response_error().status_code().as_u16(),
                                                 "effect": "unknown: the request ran past its deadline" }),
                };
                // In the background: the answer must not wait for a second timeout.
                actix_web::rt::spawn(async move { audit::record(&db, event).await });
            }
            return Err(error);
        }
    };
    let (Some(db), false) = (db, reads) else { return Ok(response) };
    let request = response.request();
    let Some(actor) = actor() else { return Ok(response) };
    let status = response.status();
    // The resource named in the path, or the one a POST created (its Location).
    let created = response.headers().get(actix_web::http::header::LOCATION).and_then(|l| l.to_str().ok());
    let target = ["client_id", "kid", "user_id"]
        .iter()
        .find_map(|name| request.match_info().get(name))
        .or_else(|| created.and_then(|location| location.rsplit('/').next()))
        .unwrap_or_default()
        .to_owned();
    let outcome = match status.as_u16() {
        200..=299 => audit::Outcome::Success,
        400..=499 => audit::Outcome::Refused,
        _ => audit::Outcome::Failure,
    };
    let mut details = serde_json::json!({ "status": status.as_u16() });
    if let Some(secret_id) = request.match_info().get("secret_id") {
        details["secret_id"] = secret_id.into();
    }
    let event = audit::Event {
        actor,
        action: format!(
            "{} {}",
            request.method(),
            request.match_pattern().unwrap_or_else(|| request.path().to_owned())
        ),
        target,
        source: proxies.flatten(),
        outcome,
        details,
    };
    audit::record(&db, event).await;
    Ok(response)
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
