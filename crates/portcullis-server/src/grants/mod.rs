//! One module per grant type of the token endpoint, and what they share.

pub mod client_credentials;

use crate::clients::RegisteredClient;
use crate::form::FormParams;
use portcullis_core::{ErrorCode, Issuer, OAuthError, Scope};
use serde::Serialize;
use std::time::Duration;

/// What every grant needs to mint tokens.
pub struct TokenSettings {
    /// The issuer, the `iss` of every token.
    pub issuer: Issuer,
    /// Access-token lifetime for clients that configure none.
    pub access_token_lifetime: Duration,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// Always `Bearer` (RFC 6750).
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The granted scope.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
}

/// The scope to grant: the requested one when the client may have all of
/// it, else `invalid_scope`; the client's own scope when none is asked.
pub fn granted_scope(form: &FormParams, allowed: &Scope) -> Result<Scope, OAuthError> {
    let Some(requested) = form.get("scope") else { return Ok(allowed.clone()) };
    let requested =
        Scope::parse(requested).map_err(|e| OAuthError::new(ErrorCode::InvalidScope, e.to_string()))?;
    if !requested.is_subset(allowed) {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "the requested scope exceeds what the client may have",
        ));
    }
    Ok(requested)
}

/// The audience: the RFC 8707 `resource` when the client may ask for it,
/// else the client's default resource, else the issuer.
pub fn audience(form: &FormParams, client: &RegisteredClient, issuer: &Issuer) -> Result<String, OAuthError> {
    let invalid = |message: &str| OAuthError::new(ErrorCode::InvalidTarget, message);
    match form.all("resource") {
        [] => Ok(client.metadata.default_resource.clone().unwrap_or_else(|| issuer.as_str().to_owned())),
        [resource] if client.metadata.resources.contains(resource) => Ok(resource.clone()),
        [_] => Err(invalid("the resource is not one this client may ask for")),
        _ => Err(invalid("ask for one resource per request")),
    }
}
