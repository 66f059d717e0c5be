//! The console (issue 12), at `/console`: server-rendered pages (see
//! [`crate::views`]) for admin users, one module per page group, each a thin
//! handler over the same application operations as the REST API, so the
//! two cannot disagree. Signing in goes through this server's own
//! authorization endpoint ([`sign_in`]); every page then runs as the
//! signed-in user ([`session`]).

pub mod audit;
pub mod overview;
pub mod session;
pub mod sign_in;

use actix_web::web;

/// Mounts the console's pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/console").route(web::get().to(overview::show)))
        .service(web::resource("/console/overview/live").route(web::get().to(overview::show_live)))
        .service(web::resource("/console/audit").route(web::get().to(audit::show)))
        .service(web::resource("/console/audit/export").route(web::get().to(audit::download)))
        .service(web::resource("/console/audit/verify").route(web::post().to(audit::verify)))
        .service(web::resource(sign_in::SIGN_IN_PATH).route(web::get().to(sign_in::start)))
        .service(
            web::resource(portcullis_app::console::CALLBACK_PATH).route(web::get().to(sign_in::callback)),
        )
        .service(web::resource(sign_in::SIGN_OUT_PATH).route(web::post().to(sign_in::sign_out)))
        .service(web::resource(sign_in::SIGNED_OUT_PATH).route(web::get().to(sign_in::signed_out)));
}
