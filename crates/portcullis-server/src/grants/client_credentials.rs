//! The client credentials grant (RFC 6749 §4.4): a confidential client gets
//! an access token for itself. Nothing is written to the database.

use super::{access_token, audience, granted_scope, GrantContext, Issued, Requested, TokenResponse};
use crate::form::FormParams;
use portcullis_core::{ErrorCode, OAuthError, TokenEndpointAuthMethod};

/// The token request of this grant (RFC 6749 §4.4.2): only `scope` and `resource`.
pub struct CredentialsRequest {
    /// `scope` and `resource`.
    pub requested: Requested,
}

/// The registry's entry point: parses the form, then [`issue`]s.
pub fn handle<'a>(context: &'a GrantContext<'a>, form: &'a FormParams) -> Issued<'a> {
    let request = CredentialsRequest { requested: Requested::parse(form) };
    Box::pin(std::future::ready(issue(context, &request)))
}

/// Issues an RFC 9068 access token to an authenticated client.
pub fn issue(context: &GrantContext<'_>, request: &CredentialsRequest) -> Result<TokenResponse, OAuthError> {
    let GrantContext { client, settings, keys, .. } = *context;
    // RFC 6749 §4.4: only confidential clients may use this grant.
    if client.metadata.token_endpoint_auth_method == TokenEndpointAuthMethod::None {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use client_credentials",
        ));
    }
    let scope = granted_scope(&request.requested, &client.metadata.scope)?;
    let aud = audience(&request.requested, client, &settings.issuer)?;
    let minted = access_token(client, settings, keys, client.id.as_str(), &scope, aud, None)?;
    Ok(TokenResponse {
        access_token: minted.token,
        token_type: "Bearer",
        expires_in: minted.lifetime,
        scope: scope.to_string(),
        id_token: None,
        refresh_token: None,
    })
}
