//! Errors of the admin API: JSON `{"error", "error_description"}` (plus
//! `field` for invalid metadata, as RFC 7591 §3.2.2 names the errors),
//! the right status, and never cached.

use crate::oauth_response::{no_store, no_token_challenge, OAuthFailure, ResourceFailure};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use portcullis_app::AppError;
use portcullis_core::{ErrorCode, OAuthError};
use portcullis_oauth::storage::RETRY_AFTER_SECONDS;
use serde::Serialize;
use std::fmt;

/// An admin API error response.
#[derive(Debug)]
pub enum AdminError {
    /// No access token at all: 401 with challenges that name no error (RFC 6750 §3.1, RFC 9449 §7.2).
    NoToken,
    /// No personal access token at the portal's API: 401 with a Bearer
    /// challenge that names no error (RFC 6750 §3.1).
    NoPersonalToken,
    /// An invalid or under-scoped access token (RFC 6750 §3.1), or a DPoP
    /// proof that does not pass (RFC 9449 §7.1).
    Token(ResourceFailure),
    /// Any other refusal.
    Refused(Refusal),
}

/// The body of a refusal, and its status.
#[derive(Debug, Serialize)]
pub struct Refusal {
    #[serde(skip)]
    status: StatusCode,
    error: &'static str,
    error_description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

impl AdminError {
    fn refused(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self::Refused(Refusal { status, error, error_description: description.into(), field: None })
    }

    /// 400: the request is malformed.
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::refused(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// 400: client metadata that is not valid, naming the field (RFC 7591 §3.2.2).
    pub fn invalid_metadata(field: impl Into<String>, description: impl Into<String>) -> Self {
        let field = field.into();
        let error = if field.starts_with("redirect_uris") {
            "invalid_redirect_uri"
        } else {
            "invalid_client_metadata"
        };
        Self::Refused(Refusal {
            status: StatusCode::BAD_REQUEST,
            error,
            error_description: description.into(),
            field: Some(field),
        })
    }

    /// 403: the request may not be made this way.
    pub fn forbidden(description: impl Into<String>) -> Self {
        Self::refused(StatusCode::FORBIDDEN, "access_denied", description)
    }

    /// 404: nothing at this path.
    pub fn not_found(description: impl Into<String>) -> Self {
        Self::refused(StatusCode::NOT_FOUND, "not_found", description)
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(description: impl Into<String>) -> Self {
        Self::refused(StatusCode::CONFLICT, "conflict", description)
    }

    /// 413: the body is too large.
    pub fn too_large(description: impl Into<String>) -> Self {
        Self::refused(StatusCode::PAYLOAD_TOO_LARGE, "invalid_request", description)
    }

    /// 415: the body is not JSON.
    pub fn unsupported_media_type(description: impl Into<String>) -> Self {
        Self::refused(StatusCode::UNSUPPORTED_MEDIA_TYPE, "invalid_request", description)
    }

    /// 500: stored data could not be read; the cause is logged, not shown.
    pub fn failed(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "admin request met unreadable stored data");
        Self::refused(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "stored data could not be read")
    }

    /// 503: storage failed; the cause is logged, not shown.
    pub fn unavailable(cause: impl fmt::Display) -> Self {
        tracing::error!(error = %cause, "admin request failed in storage");
        Self::refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the server cannot reach its database; try again",
        )
    }
}

/// Every refusal of the application layer, as the admin API answers it.
impl From<AppError> for AdminError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Forbidden(_) | AppError::Beyond(_) => {
                OAuthFailure(OAuthError::new(ErrorCode::InsufficientScope, error.to_string())).into()
            }
            AppError::Unauthenticated(description) => {
                OAuthFailure(OAuthError::new(ErrorCode::InvalidToken, description)).into()
            }
            AppError::NotFound(description) => Self::not_found(description),
            AppError::InvalidMetadata { field, message } => Self::invalid_metadata(field, message),
            AppError::Invalid(description) => Self::bad_request(description),
            AppError::Conflict(description) => Self::conflict(description),
            AppError::Unavailable(cause) => Self::unavailable(format!("{cause:#}")),
            AppError::Corrupt(cause) => Self::failed(cause),
        }
    }
}

impl From<OAuthFailure> for AdminError {
    fn from(failure: OAuthFailure) -> Self {
        Self::Token(failure.into())
    }
}

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoToken | Self::NoPersonalToken => f.write_str("no access token"),
            Self::Token(failure) => failure.fmt(f),
            Self::Refused(refusal) => write!(f, "{}: {}", refusal.error, refusal.error_description),
        }
    }
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NoToken | Self::NoPersonalToken => StatusCode::UNAUTHORIZED,
            Self::Token(failure) => failure.status_code(),
            Self::Refused(refusal) => refusal.status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::NoToken => {
                let mut response = HttpResponse::Unauthorized();
                no_store(&mut response);
                response.insert_header((header::WWW_AUTHENTICATE, no_token_challenge())).json(serde_json::json!({
                    "error": "invalid_request",
                    "error_description": "an admin access token is required (Authorization: Bearer or DPoP)",
                }))
            }
            Self::NoPersonalToken => {
                let mut response = HttpResponse::Unauthorized();
                no_store(&mut response);
                response.insert_header((header::WWW_AUTHENTICATE, r#"Bearer realm="portcullis-portal""#)).json(
                    serde_json::json!({
                        "error": "invalid_request",
                        "error_description": "a personal access token is required (Authorization: Bearer pcp_…)",
                    }),
                )
            }
            Self::Token(failure) => failure.error_response(),
            Self::Refused(refusal) => {
                let mut response = HttpResponse::build(refusal.status);
                no_store(&mut response);
                // A client told to come back is told when (RFC 9110 §10.2.3).
                if refusal.status == StatusCode::SERVICE_UNAVAILABLE {
                    response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECONDS));
                }
                response.json(refusal)
            }
        }
    }
}
