//! The admin REST API under `/admin/v1`: bearer tokens of this server with
//! admin scopes (see [`auth`]), JSON in and out, errors as [`error`] says.

pub mod auth;
pub mod body;
pub mod clients;
pub mod error;

use crate::routes::postable;
use actix_web::web;

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
