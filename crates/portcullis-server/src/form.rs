//! Reading request bodies: [`FormParams`], the parameters of an OAuth
//! endpoint's form body (parsed strictly by [`Params`]), and
//! [`read_form_body`], the size, time and type limits every form body is
//! read with (the console's too).

use crate::oauth_response::OAuthFailure;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use portcullis_core::OAuthError;
use portcullis_oauth::params::Params;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The largest body accepted.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// How long a client has to send a body once its head has arrived.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The parameters of a form body, read within the limits above.
#[derive(Debug, Default)]
pub struct FormParams(pub Params);

impl FormParams {
    /// The parameters of a form body or query string.
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        Params::parse(body).map(Self)
    }
}

impl std::ops::Deref for FormParams {
    type Target = Params;

    fn deref(&self) -> &Params {
        &self.0
    }
}

/// Why a form's body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRefusal {
    /// It is not `application/x-www-form-urlencoded`.
    NotForm,
    /// It is larger than the limit, in bytes.
    TooLarge(usize),
    /// The connection failed while it was read.
    Unreadable,
    /// It did not arrive within [`BODY_TIMEOUT`].
    TooSlow,
}

impl std::fmt::Display for BodyRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotForm => f.write_str("the body must be application/x-www-form-urlencoded"),
            Self::TooLarge(limit) => write!(f, "the request body exceeds {limit} bytes"),
            Self::Unreadable => f.write_str("the request body could not be read"),
            Self::TooSlow => write!(f, "the request body did not arrive within {BODY_TIMEOUT:?}"),
        }
    }
}

/// The media type of `req`'s (first) `Content-Type`, lower-cased, without
/// parameters (RFC 9110 §8.3.1); empty without one.
pub fn media_type(req: &HttpRequest) -> String {
    let content_type =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

/// Reads the `application/x-www-form-urlencoded` body of `req` (one
/// Content-Type, at most `limit` bytes, within [`BODY_TIMEOUT`]), so that a
/// slow or large body cannot hold the server for others.
pub fn read_form_body(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> impl Future<Output = Result<Vec<u8>, BodyRefusal>> + 'static {
    let mut content_types = req.headers().get_all(header::CONTENT_TYPE);
    let is_form = match (content_types.next().and_then(|v| v.to_str().ok()), content_types.next()) {
        (Some(content_type), None) => content_type
            .split(';')
            .next()
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")),
        _ => false,
    };
    let body = read_body(req, payload, limit);
    async move {
        if !is_form {
            return Err(BodyRefusal::NotForm);
        }
        body.await
    }
}

/// Reads the body of `req`, whatever its type: at most `limit` bytes (a
/// larger declared length refused before anything is read), within
/// [`BODY_TIMEOUT`].
pub fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> impl Future<Output = Result<Vec<u8>, BodyRefusal>> + 'static {
    let declared_length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    async move {
        if declared_length.is_some_and(|length| length > limit) {
            return Err(BodyRefusal::TooLarge(limit));
        }
        let read = async {
            let mut body = Vec::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| BodyRefusal::Unreadable)?;
                if body.len() + chunk.len() > limit {
                    return Err(BodyRefusal::TooLarge(limit));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body)
        };
        actix_web::rt::time::timeout(BODY_TIMEOUT, read).await.map_err(|_| BodyRefusal::TooSlow)?
    }
}

impl FromRequest for FormParams {
    type Error = OAuthFailure;
    type Future = Pin<Box<dyn Future<Output = Result<Self, OAuthFailure>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_form_body(req, payload, MAX_BODY_BYTES);
        Box::pin(async move {
            let body = body.await.map_err(|refusal| OAuthError::invalid_request(refusal.to_string()))?;
            Ok(FormParams(Params::parse(&body)?))
        })
    }
}
