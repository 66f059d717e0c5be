//! OAuth error responses: RFC 6749 §5.2 JSON, the right status, never cached.

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use portcullis_app::AppError;
use portcullis_core::{ErrorCode, OAuthError};
use std::fmt;

/// An [`OAuthError`] as an HTTP response.
#[derive(Debug)]
pub struct OAuthFailure(pub OAuthError);

impl From<OAuthError> for OAuthFailure {
    fn from(error: OAuthError) -> Self {
        Self(error)
    }
}

impl From<portcullis_oauth::storage::StorageFailure> for OAuthFailure {
    fn from(failure: portcullis_oauth::storage::StorageFailure) -> Self {
        Self(failure.into_oauth())
    }
}

/// What an operation's failure answers at a protocol endpoint.
impl From<AppError> for OAuthFailure {
    fn from(error: AppError) -> Self {
        Self(portcullis_oauth::storage::protocol_error(error))
    }
}

impl fmt::Display for OAuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for OAuthFailure {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.error.status()).expect("error codes carry valid statuses")
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        no_store(&mut response);
        match self.0.error {
            // RFC 6749 §5.2: a 401 for client authentication names the scheme.
            ErrorCode::InvalidClient => {
                response.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="portcullis""#));
            }
            // RFC 6750 §3: the Bearer challenge carries the error.
            // RFC 9110 §10.2.3: when to try again.
            ErrorCode::TemporarilyUnavailable | ErrorCode::SlowDown => {
                let seconds =
                    self.0.retry_after.unwrap_or(portcullis_oauth::storage::RETRY_AFTER_SECONDS.into());
                response.insert_header((header::RETRY_AFTER, seconds));
            }
            ErrorCode::InvalidToken | ErrorCode::InsufficientScope => {
                let challenge = format!(
                    r#"Bearer error="{}", error_description="{}""#,
                    self.0.error.as_str(),
                    self.0.error_description.replace(['"', '\\'], "'")
                );
                response.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
            _ => {}
        }
        response.json(&self.0)
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache`, required on every
/// response that carries tokens or credentials (RFC 6749 §5.1).
pub fn no_store(response: &mut HttpResponseBuilder) {
    response
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .insert_header((header::PRAGMA, "no-cache"));
}
