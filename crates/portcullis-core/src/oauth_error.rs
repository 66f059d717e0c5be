//! The error response of RFC 6749 §5.2, shared by every endpoint.

use serde::Serialize;
use std::fmt;

/// An error code of RFC 6749 §5.2 or of the RFCs that extend it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// Missing, repeated or malformed parameter (RFC 6749 §5.2).
    InvalidRequest,
    /// Client authentication failed (RFC 6749 §5.2).
    InvalidClient,
    /// The grant (code, refresh token, credentials) is invalid (RFC 6749 §5.2).
    InvalidGrant,
    /// The client may not use this grant type (RFC 6749 §5.2).
    UnauthorizedClient,
    /// The grant type is unknown to the server (RFC 6749 §5.2).
    UnsupportedGrantType,
    /// The scope is unknown, malformed or exceeds the client's (RFC 6749 §5.2).
    InvalidScope,
    /// The `resource` is not allowed for the client (RFC 8707 §2).
    InvalidTarget,
    /// The token type hint names a type the server cannot revoke (RFC 7009 §2.2.1).
    UnsupportedTokenType,
    /// The request is refused, e.g. from a disallowed address.
    AccessDenied,
    /// The access token is missing, expired or revoked (RFC 6750 §3.1).
    InvalidToken,
    /// The access token lacks the scope the request needs (RFC 6750 §3.1).
    InsufficientScope,
    /// The response type is not supported (RFC 6749 §4.1.2.1).
    UnsupportedResponseType,
    /// The user must log in, but `prompt=none` forbids asking (OpenID Connect Core §3.1.2.6).
    LoginRequired,
    /// The user must consent, but `prompt=none` forbids asking (OpenID Connect Core §3.1.2.6).
    ConsentRequired,
    /// The request object is not signed by the client, not meant for this
    /// server, expired or malformed (RFC 9101 §7, OpenID Connect Core §3.1.2.6).
    InvalidRequestObject,
    /// The `request_uri` names a location the client did not register, or
    /// one that could not be fetched (RFC 9101 §7).
    InvalidRequestUri,
    /// The DPoP proof is missing where required, malformed, replayed, or
    /// does not match the request or the token (RFC 9449 §5, §7.1).
    InvalidDpopProof,
    /// The DPoP proof must carry the server's nonce, sent in `DPoP-Nonce`
    /// (RFC 9449 §8).
    UseDpopNonce,
    /// A redirect URI of a registration is not valid (RFC 7591 §3.2.2).
    InvalidRedirectUri,
    /// A member of a registration is not valid (RFC 7591 §3.2.2).
    InvalidClientMetadata,
    /// The software statement is not valid (RFC 7591 §3.2.2).
    InvalidSoftwareStatement,
    /// The software statement is not from an issuer this server trusts (RFC 7591 §3.2.2).
    UnapprovedSoftwareStatement,
    /// The server failed; nothing the client can correct.
    ServerError,
    /// The server cannot answer now (its database is unreachable); the
    /// request may be retried (RFC 6749 §4.1.2.1).
    TemporarilyUnavailable,
    /// The caller is over its rate limit: 429, try again after `Retry-After`
    /// (the registered OAuth error of RFC 8628 §3.5).
    SlowDown,
    /// RFC 8628 §3.5: the user has not yet approved or denied the device.
    AuthorizationPending,
    /// RFC 8628 §3.5: the device polls faster than its interval, which is
    /// now 5 s longer (`slow_down`, a 400 like the grant's other errors).
    PollingTooFast,
    /// RFC 8628 §3.5: the user denied the device (`access_denied`, 400).
    DeviceDenied,
    /// RFC 8628 §3.5: the device code expired; the device starts again.
    ExpiredToken,
}

impl ErrorCode {
    /// The code as it appears in the `error` member.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InvalidRequestObject => "invalid_request_object",
            ErrorCode::InvalidRequestUri => "invalid_request_uri",
            ErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            ErrorCode::UseDpopNonce => "use_dpop_nonce",
            ErrorCode::InvalidRedirectUri => "invalid_redirect_uri",
            ErrorCode::InvalidClientMetadata => "invalid_client_metadata",
            ErrorCode::InvalidSoftwareStatement => "invalid_software_statement",
            ErrorCode::UnapprovedSoftwareStatement => "unapproved_software_statement",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::SlowDown | ErrorCode::PollingTooFast => "slow_down",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::DeviceDenied => "access_denied",
            ErrorCode::ExpiredToken => "expired_token",
        }
    }

    /// The HTTP status that goes with the code.
    pub fn status(self) -> u16 {
        match self {
            // RFC 6749 §5.2: 401 when the client authenticated through a header
            // (always answered with 401 here, with WWW-Authenticate).
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => 401,
            ErrorCode::AccessDenied | ErrorCode::InsufficientScope => 403,
            ErrorCode::ServerError => 500,
            ErrorCode::TemporarilyUnavailable => 503,
            ErrorCode::SlowDown => 429,
            _ => 400,
        }
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// `description` as an `error_description` may carry it (RFC 6749 §5.2,
/// RFC 6750 §3: %x20-21 / %x23-5B / %x5D-7E, so also inside a
/// `WWW-Authenticate` challenge): quotes and backslashes become
/// apostrophes, `§` the word, anything else outside printable ASCII `?`.
pub fn description_text(description: &str) -> String {
    let mut text = String::with_capacity(description.len());
    for c in description.chars() {
        match c {
            '"' | '\\' => text.push('\''),
            '§' => text.push_str("section "),
            ' '..='~' => text.push(c),
            _ => text.push('?'),
        }
    }
    text
}

/// An error response: a code and a human-readable description (RFC 6749 §5.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OAuthError {
    /// The error code.
    pub error: ErrorCode,
    /// What went wrong, for the developer of the client.
    pub error_description: String,
    /// Seconds after which a retry may succeed (`Retry-After`), for
    /// `slow_down` and `temporarily_unavailable`.
    #[serde(skip)]
    pub retry_after: Option<u64>,
    /// The server's current DPoP nonce (`DPoP-Nonce`), for `use_dpop_nonce`
    /// (RFC 9449 §8).
    #[serde(skip)]
    pub dpop_nonce: Option<String>,
}

impl OAuthError {
    /// An error with `code` and `description`, kept to the characters an
    /// `error_description` may hold ([`description_text`]).
    pub fn new(error: ErrorCode, description: impl Into<String>) -> Self {
        let error_description = description_text(&description.into());
        Self { error, error_description, retry_after: None, dpop_nonce: None }
    }

    /// `use_dpop_nonce`: the proof must carry `nonce`, the server's current one (RFC 9449 §8).
    pub fn use_dpop_nonce(nonce: String) -> Self {
        let description = "use the server's DPoP nonce (DPoP-Nonce)";
        Self { dpop_nonce: Some(nonce), ..Self::new(ErrorCode::UseDpopNonce, description) }
    }

    /// `slow_down` (429): over a rate limit until `retry_after` seconds pass.
    pub fn slow_down(description: impl Into<String>, retry_after: u64) -> Self {
        Self { retry_after: Some(retry_after), ..Self::new(ErrorCode::SlowDown, description) }
    }

    /// `invalid_request` with `description`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// `temporarily_unavailable` (503) with `description`, which must name
    /// no internal detail.
    pub fn unavailable(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::TemporarilyUnavailable, description)
    }

    /// `invalid_client`, always with the same description so that a caller
    /// cannot tell an unknown client from a wrong secret.
    pub fn invalid_client() -> Self {
        Self::new(ErrorCode::InvalidClient, "client authentication failed")
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error.as_str(), self.error_description)
    }
}

impl std::error::Error for OAuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_description_carries_only_what_rfc_6749_allows() {
        let error = OAuthError::invalid_request(r#"refuses "RS256" (§5.4.1) \ é"#);
        assert_eq!(error.error_description, "refuses 'RS256' (section 5.4.1) ' ?");
        let text = description_text("any\u{7f}\n\tthing");
        assert!(text.bytes().all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'), "{text}");
    }

    #[test]
    fn serialises_as_the_rfc_6749_error_object() {
        let error = OAuthError::invalid_request("grant_type is missing");
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            serde_json::json!({"error": "invalid_request", "error_description": "grant_type is missing"})
        );
    }

    #[test]
    fn codes_carry_their_status() {
        assert_eq!(ErrorCode::InvalidClient.status(), 401);
        assert_eq!(ErrorCode::InvalidScope.status(), 400);
        assert_eq!(ErrorCode::AccessDenied.status(), 403);
        assert_eq!(serde_json::to_value(ErrorCode::UnsupportedGrantType).unwrap(), "unsupported_grant_type");
        assert_eq!(ErrorCode::InvalidTarget.as_str(), "invalid_target");
    }
}
