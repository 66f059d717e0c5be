//! The admin REST API under `/admin/v1`: bearer tokens of this server with
//! admin scopes (see [`auth`]), JSON in and out, errors as [`error`] says.

pub mod auth;
pub mod body;
pub mod client_secrets;
pub mod clients;
pub mod error;
pub mod keys;

use crate::admin::error::AdminError;
use crate::authorization::Authorization;
use crate::oauth_response::no_store;
use crate::routes::postable;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use portcullis_store::Database;
use serde::Serialize;

/// The path prefix of the admin API.
pub const PREFIX: &str = "/admin/v1";

/// Mounts the admin API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(PREFIX)
            .service(
                web::resource("/clients")
                    .route(web::get().to(clients::list))
                    .route(web::post().to(clients::create))
                    .default_service(crate::routes::refuse_except("GET, POST")),
            )
            .service(
                web::resource("/clients/{client_id}")
                    .route(web::get().to(clients::get))
                    .route(web::put().to(clients::replace))
                    .route(web::patch().to(clients::patch))
                    .route(web::delete().to(clients::delete))
                    .default_service(crate::routes::refuse_except("GET, PUT, PATCH, DELETE")),
            )
            .service(postable("/clients/{client_id}/disable", clients::disable))
            .service(postable("/clients/{client_id}/enable", clients::enable))
            .service(postable("/clients/{client_id}/rollback", clients::rollback))
            .service(postable("/clients/{client_id}/secrets", client_secrets::add))
            .service(
                web::resource("/clients/{client_id}/secrets/{secret_id}")
                    .route(web::delete().to(client_secrets::revoke))
                    .default_service(crate::routes::refuse_except("DELETE")),
            )
            .service(
                web::resource("/keys")
                    .route(web::get().to(keys::list))
                    .route(web::post().to(keys::create))
                    .default_service(crate::routes::refuse_except("GET, POST")),
            )
            .service(postable("/keys/rotate", keys::rotate))
            .service(postable("/keys/{kid}/activate", keys::activate))
            .service(
                web::resource("/keys/{kid}")
                    .route(web::delete().to(keys::revoke))
                    .default_service(crate::routes::refuse_except("DELETE")),
            )
            .service(
                web::resource("/clients/{client_id}/versions")
                    .route(web::get().to(clients::versions))
                    .default_service(crate::routes::refuse_except("GET")),
            )
            .service(
                web::resource("/clients/{client_id}/versions/{version}")
                    .route(web::get().to(clients::version))
                    .default_service(crate::routes::refuse_except("GET")),
            ),
    );
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
    let (flow, db, id) = (flow.clone(), db.clone(), client_id.to_owned());
    let refreshed = web::block(move || flow.clients.refresh(&db, &id)).await;
    if let Err(e) = refreshed.map_err(anyhow::Error::from).and_then(|r| r) {
        tracing::warn!(error = %e, "a client change will reach this instance through the change log");
    }
}

/// 200 with `body`, never cached.
pub fn json_ok(body: impl Serialize) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    no_store(&mut response);
    response.json(body)
}
