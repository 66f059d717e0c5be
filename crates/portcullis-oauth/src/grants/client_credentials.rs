//! The client credentials grant (RFC 6749 §4.4): a confidential client gets
//! an access token for itself. Nothing is written to the database.

use super::{
    access_token, audience, granted_scope, GrantContext, Grantee, Issued, Requested, TokenResponse,
    TokenSettings,
};
use crate::clients::RegisteredClient;
use crate::params::Params;
use portcullis_core::{ErrorCode, OAuthError, Scope, TokenEndpointAuthMethod};

/// The token request of this grant (RFC 6749 §4.4.2): only `scope` and `resource`.
pub struct CredentialsRequest {
    /// `scope` and `resource`.
    pub requested: Requested,
}

/// The registry's entry point: parses the form, then [`issue`]s.
pub fn handle<'a>(context: &'a GrantContext<'a>, form: &'a Params) -> Issued<'a> {
    let request = CredentialsRequest { requested: Requested::parse(form) };
    Box::pin(std::future::ready(issue(context, &request)))
}

/// What the client may be granted: refused unless it is confidential
/// (RFC 6749 §4.4), else the scope and audience its token carries.
pub fn decide(
    client: &RegisteredClient,
    settings: &TokenSettings,
    requested: &Requested,
) -> Result<(Scope, String), OAuthError> {
    if client.metadata.token_endpoint_auth_method == TokenEndpointAuthMethod::None {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use client_credentials",
        ));
    }
    let scope = granted_scope(requested, &client.metadata.scope)?;
    Ok((scope, audience(requested, client, &settings.issuer)?))
}

/// Issues an RFC 9068 access token to an authenticated client.
pub fn issue(context: &GrantContext<'_>, request: &CredentialsRequest) -> Result<TokenResponse, OAuthError> {
    let GrantContext { client, settings, keys, .. } = *context;
    let (scope, aud) = decide(client, settings, &request.requested)?;
    let minted =
        access_token(client, settings, keys, &Grantee::client(client, context.dpop_jkt), &scope, aud)?;
    Ok(TokenResponse {
        access_token: minted.token,
        token_type: context.token_type(),
        issued_token_type: None,
        expires_in: minted.lifetime,
        scope: scope.to_string(),
        id_token: None,
        refresh_token: None,
    })
}
