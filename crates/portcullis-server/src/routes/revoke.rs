//! `POST /revoke` (RFC 7009): a client revokes one of its own tokens. The
//! revocation is recorded in the change log (which every instance follows)
//! and applied to this instance at once.

use crate::access_tokens::TokenCheck;
use crate::client_auth::ClientAuthenticator;
use crate::form::FormParams;
use crate::grants::TokenSettings;
use crate::mirror::RevocationList;
use crate::oauth_response::{no_store, OAuthFailure};
use crate::{audit, KeyRing};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use portcullis_core::{ErrorCode, OAuthError};
use portcullis_store::change_log::{self, ChangeKind};
use portcullis_store::Database;

/// `POST /revoke`.
pub async fn revoke(
    req: HttpRequest,
    form: FormParams,
    auth: web::Data<ClientAuthenticator>,
    settings: web::Data<TokenSettings>,
    keys: web::Data<KeyRing>,
    revocations: web::Data<RevocationList>,
    db: web::Data<Database>,
) -> Result<HttpResponse, OAuthFailure> {
    let caller = auth.authenticate(&req, &form).await?;
    let token = form.require("token")?;
    // `token_type_hint` is only a hint (RFC 7009 §2.1); every type is searched.
    let check = TokenCheck {
        keys: &keys,
        issuer: &settings.issuer,
        revocations: &revocations,
        clients: auth.clients(),
    };
    let done = || {
        let mut ok = HttpResponse::Ok();
        no_store(&mut ok);
        ok.finish()
    };
    // RFC 7009 §2.2: an invalid or unknown token is answered with 200.
    let Some(claims) = check.issued_here(token) else { return Ok(done()) };
    // RFC 7009 §2.1: a client may revoke only tokens issued to it.
    if claims.client_id != caller.id.as_str() {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "the token was not issued to this client",
        )
        .into());
    }
    let expires_at = DateTime::<Utc>::from_timestamp(claims.exp, 0).unwrap_or_else(Utc::now);
    if expires_at <= Utc::now() || revocations.is_revoked(&claims.jti, claims.grant_id.as_deref()) {
        return Ok(done());
    }
    let jti = claims.jti.clone();
    let event = audit::Event {
        actor: caller.id.as_str().to_owned(),
        action: "token.revoke".to_owned(),
        target: jti.clone(),
        source: auth.client_ip(&req),
        outcome: audit::Outcome::Success,
        details: serde_json::json!({}),
    };
    web::block(move || {
        db.get()?.in_transaction(|conn| {
            change_log::append(conn, ChangeKind::Token, &jti, Some(expires_at))?;
            audit::append(conn, &event).map(drop)
        })
    })
    .await
    .map_err(|e| OAuthError::new(ErrorCode::ServerError, format!("revocation did not run: {e}")))?
    .map_err(|e| {
        tracing::error!(error = %e, "recording a revocation failed");
        OAuthError::new(ErrorCode::ServerError, "the revocation could not be recorded; try again")
    })?;
    revocations.insert(claims.jti, expires_at);
    tracing::info!(client_id = %caller.id, "access token revoked");
    Ok(done())
}
