//! The authorization code grant (RFC 6749 §4.1.3, OpenID Connect Core
//! §3.1.3): a code is exchanged, once, by the client it was issued to, with
//! the redirect URI and the PKCE verifier it was bound to.

use super::revocation::{revoke_grant, GrantRevocation};
use super::{
    access_token, audience, id_token, invalid_grant, Authenticated, GrantContext, Issued, Requested,
    TokenResponse,
};
use crate::form::FormParams;
use crate::{secrets, storage};
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_core::grant::{CodeDetails, RefreshDetails};
use portcullis_core::{AuthorizationCode, CodeVerifier, GrantType, OAuthError, RefreshToken};
use portcullis_store::codes::{self, Redemption};
use portcullis_store::refresh::{self, FamilyRecord, RefreshRecord};
use portcullis_store::Database;

/// Refresh-token idle lifetime for clients that set none.
pub const DEFAULT_REFRESH_IDLE: u64 = 14 * 24 * 60 * 60;
/// Refresh-token family lifetime for clients that set none.
pub const DEFAULT_REFRESH_ABSOLUTE: u64 = 90 * 24 * 60 * 60;

/// The token request of this grant (RFC 6749 §4.1.3, RFC 7636 §4.5).
pub struct CodeRequest {
    /// The code.
    pub code: AuthorizationCode,
    /// `redirect_uri`, when sent.
    pub redirect_uri: Option<String>,
    /// `code_verifier`, when sent.
    pub verifier: Option<CodeVerifier>,
    /// `scope` and `resource`.
    pub requested: Requested,
}

impl CodeRequest {
    /// The request in `form`.
    pub fn parse(form: &FormParams) -> Result<Self, OAuthError> {
        Ok(Self {
            code: AuthorizationCode::new(form.require("code")?.to_owned()),
            redirect_uri: form.get("redirect_uri").map(str::to_owned),
            verifier: form.get("code_verifier").map(|v| CodeVerifier::new(v.to_owned())),
            requested: Requested::parse(form),
        })
    }
}

/// The registry's entry point: parses the form, then [`issue`]s.
pub fn handle<'a>(context: &'a GrantContext<'a>, form: &'a FormParams) -> Issued<'a> {
    Box::pin(async move { issue(context, CodeRequest::parse(form)?).await })
}

/// Exchanges a code for tokens.
pub async fn issue(context: &GrantContext<'_>, request: CodeRequest) -> Result<TokenResponse, OAuthError> {
    let GrantContext { client, settings, keys, db, revocations, events } = *context;
    let record = match redeem(db, &request.code, settings.clock.now()).await? {
        Redemption::Redeemed(record) => record,
        Redemption::Invalid => return Err(invalid_grant("the code is invalid or expired")),
        Redemption::Replayed { grant_id, .. } => {
            let why = GrantRevocation::CodeReplayed;
            revoke_grant((db, revocations, events), (client.id.as_str(), &grant_id), why).await?;
            tracing::warn!(client_id = %client.id, grant_id = %grant_id, "authorization code replayed; its tokens are revoked");
            return Err(invalid_grant("the code was already used; the tokens issued from it are revoked"));
        }
    };
    // RFC 6749 §4.1.3: the code must have been issued to this client.
    if record.client_id != client.id.as_str() {
        return Err(invalid_grant("the code was issued to another client"));
    }
    let details = &record.details;
    check_redirect_uri(request.redirect_uri.as_deref(), details)?;
    check_pkce(request.verifier.as_ref(), details)?;

    let aud = audience(&request.requested, client, &settings.issuer)?;
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
        Some(start_refresh_family(context, &record.grant_id, details).await?)
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
fn check_redirect_uri(sent: Option<&str>, details: &CodeDetails) -> Result<(), OAuthError> {
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
fn check_pkce(verifier: Option<&CodeVerifier>, details: &CodeDetails) -> Result<(), OAuthError> {
    match (&details.code_challenge, verifier) {
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
    context: &GrantContext<'_>,
    grant_id: &str,
    details: &CodeDetails,
) -> Result<RefreshToken, OAuthError> {
    let (client, now) = (context.client, context.settings.clock.now());
    let token = RefreshToken::new(secrets::random_token());
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
    storage::run(context.db, move |conn| refresh::start_family(conn, &family, &first)).await?;
    Ok(token)
}

// What this grant needs from storage: redeeming a code once, and starting
// a refresh-token family (above).

/// Consumes the code at `now`; of concurrent redemptions exactly one wins.
async fn redeem(
    db: &Database,
    code: &AuthorizationCode,
    now: DateTime<Utc>,
) -> Result<Redemption, OAuthError> {
    let code_hash = secrets::hash(code.expose());
    Ok(storage::run(db, move |conn| codes::redeem(conn, &code_hash, now)).await?)
}
