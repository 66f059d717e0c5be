//! OAuth error responses: RFC 6749 §5.2 JSON, the right status, never cached.

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, HttpResponseBuilder, ResponseError};
use portcullis_app::{App, AppError};
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

impl From<crate::storage::StorageFailure> for OAuthFailure {
    fn from(failure: crate::storage::StorageFailure) -> Self {
        Self(failure.into_oauth())
    }
}

/// What an operation answers at a protocol endpoint: an outage or a
/// concurrent write is `temporarily_unavailable` (retrying may help),
/// unreadable stored data and anything else the server's own failure.
impl From<portcullis_app::AppError> for OAuthFailure {
    fn from(error: portcullis_app::AppError) -> Self {
        tracing::error!(error = %error, "an operation failed at a protocol endpoint");
        Self(match error {
            AppError::Unavailable(_) | AppError::Conflict(_) => {
                OAuthError::unavailable("the server cannot reach its database; try again")
            }
            AppError::Corrupt(_) => OAuthError::new(ErrorCode::ServerError, "stored data could not be read"),
            _ => OAuthError::new(ErrorCode::ServerError, "the request could not be completed"),
        })
    }
}

/// Runs the application operation `work` for a protocol endpoint: an
/// outage is `temporarily_unavailable`, anything else `server_error`.
pub async fn protocol_operation<T: Send + 'static>(
    app: &web::Data<App>,
    work: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
) -> Result<T, OAuthError> {
    match crate::storage::operation(app, work).await {
        Ok(done) => done.map_err(|error| OAuthFailure::from(error).0),
        Err(failure) => Err(failure.into_oauth()),
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
                let seconds = self.0.retry_after.unwrap_or(crate::storage::RETRY_AFTER_SECONDS.into());
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
