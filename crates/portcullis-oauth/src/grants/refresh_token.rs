//! The refresh token grant (RFC 6749 §6) with rotation (RFC 9700 §4.14.2):
//! every use returns a new refresh token and retires the old one; presenting
//! a retired one again revokes the family and every access token of its grant.
//! A client with `refresh_token_rotation` off (FAPI 2.0 §5.3.2.1) keeps its
//! token: the answer carries none (RFC 6749 §5.1), and the token stays.
//! A family a token exchange started mints the exchanged token again
//! ([`token_exchange::mint`]).

use super::token_exchange;
use super::{
    audience, granted_scope, invalid_grant, reads_user, user_tokens, GrantContext, Issued, Requested,
    TokenResponse, UserGrant,
};
use crate::params::Params;
use crate::storage::protocol_operation;
use portcullis_app::grants::{RefreshPolicy, Rotated};
use portcullis_app::sightings::TokenKind;
use portcullis_core::{OAuthError, RefreshToken};

/// The token request of this grant (RFC 6749 §6).
pub struct RefreshRequest {
    /// The refresh token presented.
    pub token: RefreshToken,
    /// `scope` (at most the original grant's) and `resource`.
    pub requested: Requested,
}

impl RefreshRequest {
    /// The request in `form`.
    pub fn parse(form: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            token: RefreshToken::new(form.require("refresh_token")?.to_owned()),
            requested: Requested::parse(form),
        })
    }
}

/// The registry's entry point: parses the form, then [`issue`]s.
pub fn handle<'a>(context: &'a GrantContext<'a>, form: &'a Params) -> Issued<'a> {
    Box::pin(async move { issue(context, RefreshRequest::parse(form)?).await })
}

/// Rotates a refresh token and issues new tokens.
pub async fn issue(context: &GrantContext<'_>, request: RefreshRequest) -> Result<TokenResponse, OAuthError> {
    let GrantContext { client, settings, app, .. } = *context;
    let token = request.token;
    let Some(family) = protocol_operation(app, move |app| app.refresh_grant(&token)).await? else {
        return Err(invalid_grant("the refresh token is invalid"));
    };
    // RFC 6749 §6: a refresh token is bound to the client it was issued to.
    if family.client_id != client.id.as_str() {
        return Err(invalid_grant("the refresh token was issued to another client"));
    }
    if client.revoked_at_issue(family.started_at) {
        return Err(invalid_grant("the refresh token is invalid, expired or revoked"));
    }
    // RFC 9449 §5: a public client's family is refreshed with a proof of its
    // key only; checked before rotating, so a thief without it spends nothing.
    if !context.proves(family.details.dpop_jkt.as_deref()) {
        return Err(invalid_grant("the refresh token is bound to a DPoP key this request does not prove"));
    }
    // RFC 6749 §6: a narrower scope may be asked, never a wider one.
    let scope = granted_scope(&request.requested, &family.details.scope)?;
    let aud = match &family.details.exchanged {
        Some(exchanged) => {
            token_exchange::recheck(context, exchanged)?;
            token_exchange::refreshed_audience(&request.requested, exchanged)?
        }
        None => audience(&request.requested, client, &settings.issuer)?,
    };
    let reads_user = family.details.exchanged.is_none() && reads_user(client, &family.details.claims);
    let (caller, policy) = (context.caller(), RefreshPolicy::of(&client.metadata));
    let (family, rotated, user) = protocol_operation(app, move |app| {
        let rotated = app.rotate_refresh(&caller, policy, &family)?;
        let user = if reads_user { app.user_claims(&family.user_id)? } else { None };
        Ok((family, rotated, user))
    })
    .await?;
    let token = match rotated {
        Rotated::Rotated(token) => Some(token),
        Rotated::Kept => None,
        Rotated::Reused => {
            return Err(invalid_grant(
                "the refresh token was already used; every token of its family is revoked",
            ))
        }
        Rotated::JustRotated => {
            return Err(invalid_grant("the refresh token was just rotated; use the new one"))
        }
        Rotated::Invalid => return Err(invalid_grant("the refresh token is invalid, expired or revoked")),
    };
    if let (true, Some(ip)) = (app.places().is_some_and(|p| p.locates()), context.address) {
        // Where the family is used from, for impossible travel (judged later, off this path).
        app.sightings().token(TokenKind::RefreshFamily, &family.family_id, &family.client_id, ip, app.now());
    }
    let carried = &family.details;
    if let Some(exchanged) = &carried.exchanged {
        let (access_token, lifetime) =
            token_exchange::mint(context, exchanged, Some(family.grant_id), &scope)?;
        return Ok(TokenResponse {
            access_token,
            token_type: context.token_type(),
            issued_token_type: None,
            expires_in: lifetime,
            scope: scope.to_string(),
            id_token: None,
            refresh_token: token,
        });
    }
    let grant = UserGrant {
        user_id: &family.user_id,
        grant_id: &family.grant_id,
        requested: &carried.claims,
        auth_time: carried.auth_time,
        sid: &carried.sid,
        nonce: None,
        amr: &[],
    };
    let (minted, id_token) = user_tokens(context, &grant, user.as_ref(), &scope, aud)?;
    Ok(TokenResponse {
        access_token: minted.token,
        token_type: context.token_type(),
        issued_token_type: None,
        expires_in: minted.lifetime,
        scope: scope.to_string(),
        id_token,
        refresh_token: token,
    })
}
