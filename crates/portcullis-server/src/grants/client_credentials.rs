//! The client credentials grant (RFC 6749 §4.4): a confidential client gets
//! an access token for itself. Nothing is written to the database.

use super::{access_token, audience, granted_scope, TokenResponse, TokenSettings};
use crate::clients::RegisteredClient;
use crate::form::FormParams;
use crate::KeyRing;
use portcullis_core::{ErrorCode, GrantType, OAuthError, TokenEndpointAuthMethod};

/// Issues an RFC 9068 access token to an authenticated client.
pub fn issue(
    client: &RegisteredClient,
    form: &FormParams,
    settings: &TokenSettings,
    keys: &KeyRing,
) -> Result<TokenResponse, OAuthError> {
    // RFC 6749 §4.4: only confidential clients may use this grant.
    if !client.metadata.allows_grant(GrantType::ClientCredentials)
        || client.metadata.token_endpoint_auth_method == TokenEndpointAuthMethod::None
    {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use client_credentials",
        ));
    }
    let scope = granted_scope(form, &client.metadata.scope)?;
    let aud = audience(form, client, &settings.issuer)?;
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
