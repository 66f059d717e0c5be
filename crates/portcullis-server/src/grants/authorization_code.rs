//! The authorization code grant (RFC 6749 §4.1.3, OpenID Connect Core
//! §3.1.3): a code is exchanged, once, by the client it was issued to, with
//! the redirect URI and the PKCE verifier it was bound to.

use super::{access_token, audience, id_token, invalid_grant, Authenticated, TokenResponse, TokenSettings};
use crate::clients::RegisteredClient;
use crate::form::FormParams;
use crate::mirror::RevocationList;
use crate::{secrets, storage, KeyRing};
use chrono::{TimeDelta, Utc};
use portcullis_app::audit::{self, Record};
use portcullis_app::{Actor, Event};
use portcullis_core::client::MAX_ACCESS_TOKEN_LIFETIME;
use portcullis_core::grant::{CodeDetails, RefreshDetails};
use portcullis_core::{CodeVerifier, ErrorCode, GrantType, OAuthError, RefreshToken};
use portcullis_store::change_log::{self, ChangeKind};
use portcullis_store::codes::{self, Redemption};
use portcullis_store::refresh::{self, FamilyRecord, RefreshRecord};
use portcullis_store::Database;

/// Refresh-token idle lifetime for clients that set none.
pub const DEFAULT_REFRESH_IDLE: u64 = 14 * 24 * 60 * 60;
/// Refresh-token family lifetime for clients that set none.
pub const DEFAULT_REFRESH_ABSOLUTE: u64 = 90 * 24 * 60 * 60;

/// Exchanges a code for tokens.
pub async fn issue(
    client: &RegisteredClient,
    form: &FormParams,
    settings: &TokenSettings,
    keys: &KeyRing,
    db: &Database,
    revocations: &RevocationList,
) -> Result<TokenResponse, OAuthError> {
    if !client.metadata.allows_grant(GrantType::AuthorizationCode) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use authorization_code",
        ));
    }
    let code_hash = secrets::hash(form.require("code")?);
    let redemption = storage::run(db, move |conn| codes::redeem(conn, &code_hash, Utc::now())).await?;
    let record = match redemption {
        Redemption::Redeemed(record) => record,
        Redemption::Invalid => return Err(invalid_grant("the code is invalid or expired")),
        Redemption::Replayed { grant_id, .. } => {
            let why = GrantRevocation::CodeReplayed;
            revoke_grant(db, revocations, (client.id.as_str(), &grant_id), why).await?;
            tracing::warn!(client_id = %client.id, grant_id = %grant_id, "authorization code replayed; its tokens are revoked");
            return Err(invalid_grant("the code was already used; the tokens issued from it are revoked"));
        }
    };
    // RFC 6749 §4.1.3: the code must have been issued to this client.
    if record.client_id != client.id.as_str() {
        return Err(invalid_grant("the code was issued to another client"));
    }
    let details = &record.details;
    check_redirect_uri(form, details)?;
    check_pkce(form, details)?;

    let aud = audience(form, client, &settings.issuer)?;
    let minted = access_token(
        client,
        settings,
        keys,
        &details.user_id,
        &details.scope,
        aud,
        Some(record.grant_id.clone()),
    )?;
    let authenticated = Authenticated {
        user_id: &details.user_id,
        auth_time: details.auth_time,
        sid: &details.sid,
        nonce: details.nonce.as_deref(),
    };
    let id_token = details
        .scope
        .contains("openid")
        .then(|| id_token(client, settings, keys, &authenticated, &minted))
        .transpose()?;
    let refresh_token = if client.metadata.allows_grant(GrantType::RefreshToken) {
        Some(start_refresh_family(client, db, &record.grant_id, details).await?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token: minted.token,
        token_type: "Bearer",
        expires_in: minted.lifetime,
        scope: details.scope.to_string(),
        id_token,
        refresh_token,
    })
}

/// RFC 6749 §4.1.3: the redirect URI must be repeated when the request had one.
fn check_redirect_uri(form: &FormParams, details: &CodeDetails) -> Result<(), OAuthError> {
    let sent = form.get("redirect_uri");
    let matches = match sent {
        Some(uri) => uri == details.redirect_uri,
        None => !details.redirect_uri_sent,
    };
    if matches {
        Ok(())
    } else {
        Err(invalid_grant("redirect_uri does not match the authorization request"))
    }
}

/// RFC 7636 §4.6, and RFC 9700 §4.8.2: a verifier without a challenge is a downgrade.
fn check_pkce(form: &FormParams, details: &CodeDetails) -> Result<(), OAuthError> {
    let verifier = form.get("code_verifier").map(|v| CodeVerifier::new(v.to_owned()));
    match (&details.code_challenge, &verifier) {
        (Some(challenge), Some(verifier)) if challenge.verify(verifier) => Ok(()),
        (Some(_), Some(_)) => Err(invalid_grant("code_verifier does not match the code_challenge")),
        (Some(_), None) => Err(invalid_grant("code_verifier is missing")),
        (None, Some(_)) => {
            Err(invalid_grant("code_verifier sent, but the authorization request had no code_challenge"))
        }
        (None, None) => Ok(()),
    }
}

async fn start_refresh_family(
    client: &RegisteredClient,
    db: &Database,
    grant_id: &str,
    details: &CodeDetails,
) -> Result<RefreshToken, OAuthError> {
    let token = RefreshToken::new(secrets::random_token());
    let now = Utc::now();
    let seconds = |s: u64| TimeDelta::seconds(i64::try_from(s).unwrap_or(i64::MAX / 2));
    let metadata = &client.metadata;
    let family = FamilyRecord {
        family_id: uuid::Uuid::new_v4().to_string(),
        grant_id: grant_id.to_owned(),
        client_id: client.id.as_str().to_owned(),
        user_id: details.user_id.clone(),
        created_at: now,
        expires_at: now
            + seconds(metadata.refresh_token_absolute_lifetime.unwrap_or(DEFAULT_REFRESH_ABSOLUTE)),
    };
    let carried = RefreshDetails {
        scope: details.scope.clone(),
        auth_time: details.auth_time,
        sid: details.sid.clone(),
    };
    let first = RefreshRecord {
        token_hash: secrets::hash(token.expose()).to_vec(),
        family_id: family.family_id.clone(),
        details: carried,
        created_at: now,
        expires_at: now + seconds(metadata.refresh_token_idle_lifetime.unwrap_or(DEFAULT_REFRESH_IDLE)),
    };
    storage::run(db, move |conn| refresh::start_family(conn, &family, &first)).await?;
    Ok(token)
}

/// Why every token of a grant is revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantRevocation {
    /// An authorization code was presented again (RFC 6749 §4.1.2).
    CodeReplayed,
    /// A rotated refresh token was presented again (RFC 9700 §4.14.2).
    RefreshReused,
    /// The client revoked one of the grant's refresh tokens (RFC 7009 §2.1).
    ByClient,
}

/// Revokes every token issued from a grant, on every instance: its access
/// tokens through the change log, its refresh-token families in storage,
/// with an audit entry in the same transaction.
pub async fn revoke_grant(
    db: &Database,
    revocations: &RevocationList,
    (client_id, grant_id): (&str, &str),
    why: GrantRevocation,
) -> Result<(), OAuthError> {
    // No access token of the grant outlives the longest configurable lifetime.
    let until = Utc::now() + TimeDelta::seconds(MAX_ACCESS_TOKEN_LIFETIME as i64);
    let grant = grant_id.to_owned();
    let (client, grant_id_owned) = (client_id.to_owned(), grant_id.to_owned());
    let (reason, event) = match why {
        GrantRevocation::CodeReplayed => (
            "authorization code replayed",
            Event::TokenCodeReplayed { client_id: client, grant_id: grant_id_owned },
        ),
        GrantRevocation::RefreshReused => (
            "refresh token reused",
            Event::TokenRefreshReused { client_id: client, grant_id: grant_id_owned },
        ),
        GrantRevocation::ByClient => (
            "revoked by the client",
            Event::TokenRevoked {
                client_id: client,
                token_type: "refresh_token",
                jti: None,
                grant_id: Some(grant_id_owned),
            },
        ),
    };
    let record = Record::of(&Actor::Party { client_id: Some(client_id.to_owned()), address: None }, &event);
    storage::run(db, move |conn| {
        conn.in_transaction(|conn| {
            refresh::revoke_grant_families(conn, &grant, reason, Utc::now())?;
            change_log::append(conn, ChangeKind::Grant, &grant, Some(until))?;
            // A security event is recorded with the revocation, or neither is.
            audit::append(conn, &record).map(drop)
        })
    })
    .await?;
    revocations.insert_grant(grant_id.to_owned(), until);
    Ok(())
}
