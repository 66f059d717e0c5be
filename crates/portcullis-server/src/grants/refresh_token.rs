//! The refresh token grant (RFC 6749 §6) with rotation (RFC 9700 §4.14.2):
//! every use returns a new refresh token and retires the old one; presenting
//! a retired one again revokes the family and every access token of its grant.

use super::authorization_code::DEFAULT_REFRESH_IDLE;
use super::revocation::{revoke_grant, GrantRevocation};
use super::{
    access_token, audience, granted_scope, id_token, invalid_grant, Authenticated, GrantContext, Issued,
    Requested, TokenResponse,
};
use crate::form::FormParams;
use crate::{secrets, storage};
use chrono::TimeDelta;
use portcullis_core::{OAuthError, RefreshToken};
use portcullis_store::refresh::{self, RefreshRecord, Rotation};

/// The token request of this grant (RFC 6749 §6).
pub struct RefreshRequest {
    /// The refresh token presented.
    pub token: RefreshToken,
    /// `scope` (at most the original grant's) and `resource`.
    pub requested: Requested,
}

impl RefreshRequest {
    /// The request in `form`.
    pub fn parse(form: &FormParams) -> Result<Self, OAuthError> {
        Ok(Self {
            token: RefreshToken::new(form.require("refresh_token")?.to_owned()),
            requested: Requested::parse(form),
        })
    }
}

/// The registry's entry point: parses the form, then [`issue`]s.
pub fn handle<'a>(context: &'a GrantContext<'a>, form: &'a FormParams) -> Issued<'a> {
    Box::pin(async move { issue(context, RefreshRequest::parse(form)?).await })
}

/// Rotates a refresh token and issues new tokens.
pub async fn issue(context: &GrantContext<'_>, request: RefreshRequest) -> Result<TokenResponse, OAuthError> {
    let GrantContext { client, settings, keys, db, revocations, events } = *context;
    let presented = secrets::hash(request.token.expose());
    let found = storage::run(db, move |conn| refresh::find(conn, &presented)).await?;
    let Some((family, record)) = found else { return Err(invalid_grant("the refresh token is invalid")) };
    // RFC 6749 §6: a refresh token is bound to the client it was issued to.
    if family.client_id != client.id.as_str() {
        return Err(invalid_grant("the refresh token was issued to another client"));
    }
    let carried = &record.details;
    // RFC 6749 §6: a narrower scope may be asked, never a wider one.
    let scope = granted_scope(&request.requested, &carried.scope)?;

    let token = RefreshToken::new(secrets::random_token());
    let now = settings.clock.now();
    let idle = client.metadata.refresh_token_idle_lifetime.unwrap_or(DEFAULT_REFRESH_IDLE);
    let next = RefreshRecord {
        token_hash: secrets::hash(token.expose()).to_vec(),
        family_id: family.family_id.clone(),
        // The family keeps the whole original grant; only this access token is narrowed.
        details: record.details.clone(),
        created_at: now,
        expires_at: now + TimeDelta::seconds(i64::try_from(idle).unwrap_or(i64::MAX / 2)),
    };
    let grace = TimeDelta::seconds(client.metadata.refresh_token_reuse_interval.unwrap_or(0) as i64);
    let rotation = storage::run(db, move |conn| refresh::rotate(conn, &presented, &next, now, grace)).await?;
    match rotation {
        Rotation::Rotated { .. } => {}
        Rotation::Reused { family_revoked: true, .. } => {
            let why = GrantRevocation::RefreshReused;
            revoke_grant((db, revocations, events), (client.id.as_str(), &family.grant_id), why).await?;
            tracing::warn!(client_id = %client.id, family = %family.family_id, "refresh token reused; its family is revoked");
            return Err(invalid_grant(
                "the refresh token was already used; every token of its family is revoked",
            ));
        }
        Rotation::Reused { family_revoked: false, .. } => {
            return Err(invalid_grant("the refresh token was just rotated; use the new one"))
        }
        Rotation::Invalid => return Err(invalid_grant("the refresh token is invalid, expired or revoked")),
    }
    let aud = audience(&request.requested, client, &settings.issuer)?;
    let minted =
        access_token(client, settings, keys, &family.user_id, &scope, aud, Some(family.grant_id.clone()))?;
    let authenticated = Authenticated {
        user_id: &family.user_id,
        auth_time: carried.auth_time,
        sid: &carried.sid,
        nonce: None,
    };
    let id_token = scope
        .contains("openid")
        .then(|| id_token(client, settings, keys, &authenticated, &minted))
        .transpose()?;
    Ok(TokenResponse {
        access_token: minted.token,
        token_type: "Bearer",
        expires_in: minted.lifetime,
        scope: scope.to_string(),
        id_token,
        refresh_token: Some(token),
    })
}
