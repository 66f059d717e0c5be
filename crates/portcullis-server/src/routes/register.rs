//! `POST /register` (RFC 7591 §3) and `GET`, `PUT`, `DELETE
//! /register/{client_id}` (RFC 7592 §2): clients that register and manage
//! themselves, when `--registration` is `token` or `open`. The engine's
//! [`Registrar`] decides; this reads the JSON body and the bearer token,
//! limits registrations per address, and renders. Any origin may call it
//! (`cors::for_anyone`).

use crate::client_address::TrustedProxies;
use crate::form::{media_type, read_body, BodyRefusal};
use crate::headers;
use crate::oauth_response::{no_store, OAuthFailure};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::rate_limits::{address_key, Decision, Limit};
use portcullis_core::{ErrorCode, OAuthError};
use portcullis_oauth::registration::Registrar;
use serde_json::{Map, Value};

/// The largest registration request read.
pub const MAX_BODY: usize = 64 * 1024;

/// The registration endpoint's state.
pub struct RegistrationEndpoint {
    /// The engine's decisions.
    pub registrar: Registrar,
    /// Whose `X-Forwarded-For` is believed.
    pub proxies: TrustedProxies,
    /// Registration requests per minute from one address (0: unlimited).
    pub rate_limit: u32,
}

/// `POST /register`: 201 with the client information response.
pub async fn register(
    req: HttpRequest,
    payload: web::Payload,
    endpoint: web::Data<RegistrationEndpoint>,
    app: web::Data<portcullis_app::App>,
) -> Result<HttpResponse, OAuthFailure> {
    let address = endpoint.admit(&req, &app)?;
    let request = json_body(&req, payload).await?;
    let body = endpoint.registrar.register(headers::bearer(&req), address, request).await?;
    Ok(answer(HttpResponse::Created(), &body))
}

/// `GET /register/{client_id}`: 200 with the client's configuration.
pub async fn read(
    req: HttpRequest,
    path: web::Path<String>,
    endpoint: web::Data<RegistrationEndpoint>,
    app: web::Data<portcullis_app::App>,
) -> Result<HttpResponse, OAuthFailure> {
    let (address, token) = endpoint.manager(&req, &app)?;
    let body = endpoint.registrar.read(path.into_inner(), token, address).await?;
    Ok(answer(HttpResponse::Ok(), &body))
}

/// `PUT /register/{client_id}`: 200 with the new configuration.
pub async fn update(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    endpoint: web::Data<RegistrationEndpoint>,
    app: web::Data<portcullis_app::App>,
) -> Result<HttpResponse, OAuthFailure> {
    let (address, token) = endpoint.manager(&req, &app)?;
    let request = json_body(&req, payload).await?;
    let body = endpoint.registrar.update(path.into_inner(), token, address, request).await?;
    Ok(answer(HttpResponse::Ok(), &body))
}

/// `DELETE /register/{client_id}`: 204.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<String>,
    endpoint: web::Data<RegistrationEndpoint>,
    app: web::Data<portcullis_app::App>,
) -> Result<HttpResponse, OAuthFailure> {
    let (address, token) = endpoint.manager(&req, &app)?;
    endpoint.registrar.delete(path.into_inner(), token, address).await?;
    let mut done = HttpResponse::NoContent();
    no_store(&mut done);
    Ok(done.finish())
}

impl RegistrationEndpoint {
    /// The address of a client managing its registration, and its
    /// registration access token (RFC 7592 §2: a bearer token in the header).
    fn manager(
        &self,
        req: &HttpRequest,
        app: &portcullis_app::App,
    ) -> Result<(Option<std::net::IpAddr>, String), OAuthFailure> {
        let address = self.admit(req, app)?;
        let token = headers::bearer(req).ok_or_else(|| {
            OAuthError::new(ErrorCode::InvalidToken, "send the registration access token as a Bearer token")
        })?;
        Ok((address, token))
    }

    /// The caller's address, once it is within its rate limit.
    fn admit(
        &self,
        req: &HttpRequest,
        app: &portcullis_app::App,
    ) -> Result<Option<std::net::IpAddr>, OAuthFailure> {
        let address = self.proxies.client_ip(req);
        if let Decision::Limited { retry_after } =
            app.rate_limit(Limit::Registration, &address_key(address), self.rate_limit)
        {
            return Err(OAuthError::slow_down(
                "too many registration requests from this address",
                retry_after,
            )
            .into());
        }
        Ok(address)
    }
}

/// The middleware of the registration endpoints: while `--registration off`
/// they answer 404, as a path that is not served does.
pub async fn only_when_on(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let on = req.app_data::<web::Data<RegistrationEndpoint>>().is_some_and(|e| e.registrar.is_on());
    if !on {
        return Ok(req.into_response(super::not_found_response()).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// The body as a JSON object (RFC 7591 §3.1: `application/json`).
async fn json_body(req: &HttpRequest, payload: web::Payload) -> Result<Map<String, Value>, OAuthFailure> {
    if media_type(req) != "application/json" {
        return Err(
            OAuthError::invalid_request("the body must be JSON (Content-Type: application/json)").into()
        );
    }
    let bytes =
        read_body(req, &mut payload.into_inner(), MAX_BODY).await.map_err(|refusal| match refusal {
            BodyRefusal::TooLarge(_) => {
                OAuthError::invalid_request(format!("the body is larger than {MAX_BODY} bytes"))
            }
            other => OAuthError::invalid_request(other.to_string()),
        })?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(members)) => Ok(members),
        _ => Err(OAuthError::new(
            ErrorCode::InvalidClientMetadata,
            "the body must be a JSON object of client metadata",
        )
        .into()),
    }
}

/// `body` with `status`, never cached: it carries credentials.
fn answer(mut status: actix_web::HttpResponseBuilder, body: &Value) -> HttpResponse {
    no_store(&mut status);
    status.json(body)
}
