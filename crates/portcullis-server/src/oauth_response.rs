//! OAuth error responses: RFC 6749 §5.2 JSON, the right status, never cached.

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};
use portcullis_app::AppError;
use portcullis_core::{ErrorCode, OAuthError};
use portcullis_oauth::access_tokens::Presentation;
use std::fmt;

/// The header carrying the server's DPoP nonce (RFC 9449 §8).
pub const DPOP_NONCE: &str = "dpop-nonce";

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
        if let Some(nonce) = &self.0.dpop_nonce {
            response.insert_header((DPOP_NONCE, nonce.as_str()));
        }
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
                    self.0.error_description
                );
                response.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
            _ => {}
        }
        response.json(&self.0)
    }
}

/// An error at a resource of this server (UserInfo) to a request that
/// presented its token as `scheme`: for `DPoP`, 401 with a `DPoP`
/// challenge naming the error and the proof algorithms (RFC 9449 §7.1),
/// else as [`OAuthFailure`] answers it.
#[derive(Debug)]
pub struct ResourceFailure {
    /// What went wrong.
    pub error: OAuthError,
    /// How the token was presented.
    pub scheme: Presentation,
}

impl fmt::Display for ResourceFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl From<OAuthFailure> for ResourceFailure {
    fn from(failure: OAuthFailure) -> Self {
        Self { error: failure.0, scheme: Presentation::Bearer }
    }
}

/// The `DPoP` challenge's `algs` (RFC 9449 §7.1).
fn dpop_algs() -> String {
    portcullis_jose::dpop::PROOF_ALGORITHMS.join(" ")
}

/// The challenges of a resource to a request that sent no token: either
/// scheme will do (RFC 9449 §7.2).
pub fn no_token_challenge() -> String {
    format!(r#"Bearer realm="portcullis", DPoP realm="portcullis", algs="{}""#, dpop_algs())
}

impl ResponseError for ResourceFailure {
    fn status_code(&self) -> StatusCode {
        match self.error.error {
            // RFC 9449 §7.1: at a resource, a proof that does not pass is an authentication failure.
            ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce => StatusCode::UNAUTHORIZED,
            _ => OAuthFailure(self.error.clone()).status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let dpop = self.scheme == Presentation::Dpop
            || matches!(self.error.error, ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce);
        if !dpop || self.error.error.status() >= 500 {
            return OAuthFailure(self.error.clone()).error_response();
        }
        let mut response = HttpResponse::build(self.status_code());
        no_store(&mut response);
        if let Some(nonce) = &self.error.dpop_nonce {
            response.insert_header((DPOP_NONCE, nonce.as_str()));
        }
        let challenge = format!(
            r#"DPoP realm="portcullis", error="{}", error_description="{}", algs="{}""#,
            self.error.error.as_str(),
            self.error.error_description,
            dpop_algs()
        );
        response.insert_header((header::WWW_AUTHENTICATE, challenge));
        response.json(&self.error)
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache`, required on every
/// response that carries tokens or credentials (RFC 6749 §5.1).
pub fn no_store(response: &mut HttpResponseBuilder) {
    response
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .insert_header((header::PRAGMA, "no-cache"));
}
