//! The client credentials grant (RFC 6749 §4.4): a confidential client gets
//! an access token for itself. Nothing is written to the database.

use super::{audience, granted_scope, TokenResponse, TokenSettings};
use crate::clients::RegisteredClient;
use crate::form::FormParams;
use crate::KeyRing;
use chrono::Utc;
use portcullis_core::{ErrorCode, GrantType, OAuthError, TokenEndpointAuthMethod};
use portcullis_jose::AccessTokenClaims;

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
    let lifetime = client.metadata.access_token_lifetime.unwrap_or(settings.access_token_lifetime.as_secs());
    let alg = client.metadata.access_token_signed_response_alg;
    let key = keys
        .signer(alg)
        .ok_or_else(|| OAuthError::new(ErrorCode::ServerError, format!("no active {alg} key")))?;
    let now = Utc::now().timestamp();
    let scope = scope.to_string();
    let claims = AccessTokenClaims {
        iss: settings.issuer.as_str().to_owned(),
        sub: client.id.as_str().to_owned(),
        aud,
        client_id: client.id.as_str().to_owned(),
        scope: (!scope.is_empty()).then(|| scope.clone()),
        jti: uuid::Uuid::new_v4().to_string(),
        iat: now,
        exp: now + i64::try_from(lifetime).unwrap_or(i64::MAX / 2),
    };
    let access_token = claims.sign(key).map_err(|e| {
        tracing::error!(error = %e, "signing an access token failed");
        OAuthError::new(ErrorCode::ServerError, "the token could not be signed")
    })?;
    Ok(TokenResponse { access_token, token_type: "Bearer", expires_in: lifetime, scope })
}
