//! One module per endpoint.

pub mod authorize;
pub mod consent;
pub mod device;
pub mod device_authorization;
pub mod discovery;
pub mod health;
pub mod introspect;
pub mod jwks;
pub mod login;
pub mod logout;
pub mod pushed_authorization;
pub mod register;
pub mod revoke;
pub mod second_factor;
pub mod token;
pub mod userinfo;

use crate::allowed_methods::refuse_except;
use crate::{authorization, cors};
use actix_web::dev::Handler;
use actix_web::middleware::from_fn;
use actix_web::{web, FromRequest, HttpResponse, Resource, Responder};
use portcullis_oauth::endpoints;

/// Mounts every endpoint. A known path called with another method answers
/// 405; an unknown path answers a JSON 404. Browser apps may call the
/// token, pushed authorization request, revocation and UserInfo endpoints and read discovery and the
/// JWKS from other origins ([`cors`]), and register clients from any.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let for_clients = || from_fn(cors::for_clients);
    cfg.service(readable(endpoints::OPENID_CONFIGURATION, discovery::metadata))
        .service(readable(endpoints::OAUTH_AUTHORIZATION_SERVER, discovery::metadata))
        .service(readable(endpoints::JWKS, jwks::jwks))
        .service(
            web::resource(endpoints::AUTHORIZE)
                .route(web::get().to(authorize::authorize_get))
                .route(web::post().to(authorize::authorize_post))
                .default_service(refuse_except("GET, POST")),
        )
        .service(readable(authorization::RESUME_PATH, authorize::resume))
        .service(page_with_form(authorization::LOGIN_PATH, login::show, login::submit))
        .service(page_with_form(authorization::CONSENT_PATH, consent::show, consent::submit))
        .service(page_with_form(
            authorization::SECOND_FACTOR_PATH,
            second_factor::show,
            second_factor::submit,
        ))
        .service(readable(crate::views::STYLESHEET_PATH, crate::views::stylesheet))
        .service(readable(crate::views::FAVICON_PATH, crate::views::favicon))
        .service(readable(crate::views::SCRIPT_PATH, crate::views::script))
        .service(readable("/assets/branding.css", crate::branding::stylesheet))
        .service(readable("/assets/brand-logo", crate::branding::logo))
        .service(postable(endpoints::TOKEN, token::token).wrap(for_clients()))
        .service(
            postable(endpoints::PUSHED_AUTHORIZATION_REQUEST, pushed_authorization::push).wrap(for_clients()),
        )
        .service(postable(endpoints::DEVICE_AUTHORIZATION, device_authorization::authorize))
        .service(page_with_form(endpoints::DEVICE_VERIFICATION, device::show, device::submit))
        .service(page_with_form(endpoints::USERINFO, userinfo::get, userinfo::post).wrap(for_clients()))
        .service(page_with_form(endpoints::END_SESSION, logout::get, logout::post))
        .service(postable(endpoints::INTROSPECT, introspect::introspect))
        .service(postable(endpoints::REVOKE, revoke::revoke).wrap(for_clients()))
        .service(
            postable(endpoints::REGISTER, register::register)
                .wrap(from_fn(cors::for_anyone))
                .wrap(from_fn(register::only_when_on)),
        )
        .service(
            web::resource(format!("{}/{{client_id}}", endpoints::REGISTER))
                .route(web::get().to(register::read))
                .route(web::put().to(register::update))
                .route(web::delete().to(register::delete))
                .default_service(refuse_except("GET, PUT, DELETE"))
                .wrap(from_fn(cors::for_anyone))
                .wrap(from_fn(register::only_when_on)),
        )
        .service(readable(endpoints::HEALTHZ, health::healthz))
        .service(readable(endpoints::READYZ, health::readyz))
        .configure(crate::admin::configure)
        .configure(crate::console::configure)
        .configure(crate::portal::api::configure)
        .configure(crate::portal::configure)
        .default_service(web::to(not_found));
}

/// A resource answering GET and HEAD with `handler`, and 405 with `Allow`
/// (RFC 9110 §15.5.6) to any other method.
fn readable<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args> + Clone,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
        .default_service(refuse_except("GET, HEAD"))
}

/// A resource answering POST with `handler`, and 405 to any other method.
pub fn postable<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::resource(path).route(web::post().to(handler)).default_service(refuse_except("POST"))
}

/// A resource answering GET with `show` and POST with `submit` (pages
/// with forms, and the UserInfo endpoint).
fn page_with_form<G, GA, P, PA>(path: &str, show: G, submit: P) -> Resource
where
    G: Handler<GA>,
    GA: FromRequest + 'static,
    G::Output: Responder + 'static,
    P: Handler<PA>,
    PA: FromRequest + 'static,
    P::Output: Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(show))
        .route(web::post().to(submit))
        .default_service(refuse_except("GET, POST"))
}

async fn not_found() -> HttpResponse {
    not_found_response()
}

/// The JSON 404 of a path that is not served.
pub fn not_found_response() -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({
        "error": "not_found",
        "error_description": "no endpoint at this path",
    }))
}
