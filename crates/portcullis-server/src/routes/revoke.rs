//! `POST /revoke` (RFC 7009): a client revokes one of its own tokens, an
//! access token or a refresh token (§2: both MUST be supported). The
//! revocation is recorded in the change log (which every instance follows)
//! and applied to this instance at once.

use crate::access_tokens::TokenCheck;
use crate::client_auth::ClientAuthenticator;
use crate::clients::RegisteredClient;
use crate::form::FormParams;
use crate::grants::revocation::{revoke_grant, GrantRevocation};
use crate::grants::TokenSettings;
use crate::mirror::RevocationList;
use crate::oauth_response::{no_store, OAuthFailure};
use crate::{secrets, storage, KeyRing};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use portcullis_app::audit::{self, Record};
use portcullis_app::{Actor, Event, EventBus};
use portcullis_core::{ErrorCode, OAuthError};
use portcullis_store::change_log::{self, ChangeKind};
use portcullis_store::{refresh, Database};

/// `POST /revoke`.
pub async fn revoke(
    req: HttpRequest,
    form: FormParams,
    auth: web::Data<ClientAuthenticator>,
    settings: web::Data<TokenSettings>,
    keys: web::Data<KeyRing>,
    (db, revocations, events): (web::Data<Database>, web::Data<RevocationList>, web::Data<EventBus>),
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
    let Some(claims) = check.issued_here(token) else {
        revoke_refresh_token(&caller, token, (&db, &revocations, &events)).await?;
        return Ok(done());
    };
    // RFC 7009 §2.1: a client may revoke only tokens issued to it.
    if claims.client_id != caller.id.as_str() {
        return Err(not_yours().into());
    }
    let expires_at = DateTime::<Utc>::from_timestamp(claims.exp, 0).unwrap_or_else(Utc::now);
    if expires_at <= Utc::now() || revocations.is_revoked(&claims.jti, claims.grant_id.as_deref()) {
        return Ok(done());
    }
    let jti = claims.jti.clone();
    let event = Event::TokenRevoked {
        client_id: caller.id.as_str().to_owned(),
        token_type: "access_token",
        jti: Some(jti.clone()),
        grant_id: claims.grant_id.clone(),
    };
    let party =
        Actor::Party { client_id: Some(caller.id.as_str().to_owned()), address: auth.client_ip(&req) };
    let record = Record::of(&party, &event);
    storage::run(&db, move |conn| {
        conn.in_transaction(|conn| {
            // The audit head first, as every change takes it: no lock-order deadlock.
            portcullis_store::audit::lock_head(conn)?;
            change_log::append(conn, ChangeKind::Token, &jti, Some(expires_at))?;
            audit::append(conn, &record).map(drop)
        })
    })
    .await?;
    revocations.insert(claims.jti, expires_at);
    events.publish(&party, Utc::now(), &[event]);
    tracing::info!(client_id = %caller.id, "access token revoked");
    Ok(done())
}

/// RFC 7009 §2.1: the token is not the caller's to revoke.
fn not_yours() -> OAuthError {
    OAuthError::new(ErrorCode::UnauthorizedClient, "the token was not issued to this client")
}

/// Revokes a refresh token of `caller`: its family ends, and with it (RFC
/// 7009 §2.1) every access token of the same grant, on every instance. An
/// unknown, expired or already revoked token is answered with 200 (§2.2).
async fn revoke_refresh_token(
    caller: &RegisteredClient,
    token: &str,
    (db, revocations, events): (&Database, &RevocationList, &EventBus),
) -> Result<(), OAuthError> {
    let hash = secrets::hash(token);
    let Some((family, _)) = storage::run(db, move |conn| refresh::find(conn, &hash)).await? else {
        return Ok(());
    };
    if family.client_id != caller.id.as_str() {
        return Err(not_yours());
    }
    if family.expires_at <= Utc::now() || revocations.is_grant_revoked(&family.grant_id) {
        return Ok(());
    }
    revoke_grant(
        (db, revocations, events),
        (caller.id.as_str(), &family.grant_id),
        GrantRevocation::ByClient,
    )
    .await?;
    tracing::info!(client_id = %caller.id, "refresh token revoked with its grant");
    Ok(())
}
