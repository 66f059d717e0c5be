//! Cross-origin calls from browser apps (single-page apps with code + PKCE,
//! MCP clients running in a browser), by the Fetch standard's CORS
//! protocol: the token, revocation and UserInfo endpoints answer a page's
//! origin only when the client the request is for allows it
//! (`allowed_origins`, by default its redirect URIs' origins), never with
//! credentials (no cookies ride along: these endpoints take none).
//! Discovery and the JWKS are public: their handlers let any origin read
//! them. The login, consent and console pages answer no cross-origin reads.
//!
//! Dynamic registration (`/register`, RFC 7591/7592) answers any origin,
//! still without credentials: a browser-based agent registers before any
//! client exists to name its origin ([`for_anyone`]).
//!
//! A preflight carries no client, so it is answered for an origin that some
//! client allows; the request itself is then answered for its own client's
//! origins only (a page of another client's origin cannot read it).

use crate::client_authentication::HttpClientAuthenticator;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

/// How long a browser may keep a preflight's answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";
/// The request headers a page may send: a client's credentials, the form
/// and a DPoP proof (RFC 9449 §4.1).
const ALLOWED_HEADERS: &str = "Authorization, Content-Type, DPoP";
/// The answer headers a page may read besides the simple ones (the DPoP
/// nonce among them, RFC 9449 §8).
const EXPOSED_HEADERS: &str = "WWW-Authenticate, Retry-After, DPoP-Nonce";

/// The middleware of the endpoints browser apps call for a client.
pub async fn for_clients(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let origin = req.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_owned);
    let Some(origin) = origin else { return Ok(next.call(req).await?.map_into_left_body()) };
    let preflight =
        req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let authenticator = req.app_data::<web::Data<HttpClientAuthenticator>>().cloned();
    if preflight {
        let mut answer = HttpResponse::NoContent();
        answer.insert_header((header::VARY, "Origin"));
        if authenticator.as_ref().is_some_and(|a| a.clients().any_allows_origin(&origin)) {
            let methods =
                if req.path() == portcullis_oauth::endpoints::USERINFO { "GET, POST" } else { "POST" };
            answer
                .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, origin))
                .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, methods))
                .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS))
                .insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE));
        }
        return Ok(req.into_response(answer.finish()).map_into_right_body());
    }
    let mut response = next.call(req).await?;
    let client = crate::usage::client_of(response.request());
    let allowed = client.zip(authenticator).is_some_and(|(id, authenticator)| {
        authenticator.clients().get(&id).is_some_and(|client| client.metadata.allows_origin(&origin))
    });
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if allowed {
        if let Ok(origin) = HeaderValue::from_str(&origin) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED_HEADERS));
        }
    }
    Ok(response.map_into_left_body())
}

/// The middleware of the registration endpoints: any origin may call them,
/// without credentials (no cookies; the tokens travel in `Authorization`).
pub async fn for_anyone(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if !req.headers().contains_key(header::ORIGIN) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let any = HeaderValue::from_static("*");
    if req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        let answer = HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, any))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, PUT, DELETE"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, PREFLIGHT_MAX_AGE))
            .finish();
        return Ok(req.into_response(answer).map_into_right_body());
    }
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, any);
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED_HEADERS));
    Ok(response.map_into_left_body())
}
