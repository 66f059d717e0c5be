//! `POST /revoke` (RFC 7009): a client revokes one of its own tokens, an
//! access token or a refresh token (§2: both MUST be supported). The
//! revocation is recorded in the change log (which every instance follows)
//! and applied to this instance at once.

use crate::client_authentication::HttpClientAuthenticator;
use crate::form::FormParams;
use crate::oauth_response::{no_store, OAuthFailure};
use crate::KeyRing;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::DateTime;
use portcullis_app::grants::{Caller, TokenRevocation};
use portcullis_app::App;
use portcullis_core::{ErrorCode, OAuthError};
use portcullis_oauth::access_tokens::TokenCheck;
use portcullis_oauth::grants::TokenSettings;
use portcullis_oauth::mirror::RevocationList;
use portcullis_oauth::storage::protocol_operation;

/// `POST /revoke`.
pub async fn revoke(
    req: HttpRequest,
    form: FormParams,
    auth: web::Data<HttpClientAuthenticator>,
    settings: web::Data<TokenSettings>,
    keys: web::Data<KeyRing>,
    (app, revocations): (web::Data<App>, web::Data<RevocationList>),
) -> Result<HttpResponse, OAuthFailure> {
    let caller = auth.authenticate(&req, &form).await?;
    let token = form.require("token")?.to_owned();
    // `token_type_hint` is only a hint (RFC 7009 §2.1); every type is searched.
    let check =
        TokenCheck { keys: &keys, settings: &settings, revocations: &revocations, clients: auth.clients() };
    let caller = Caller { client_id: caller.id.as_str().to_owned(), address: auth.client_ip(&req) };
    let Some(claims) = check.issued_here(&token) else {
        let revocation =
            protocol_operation(&app, move |app| app.revoke_refresh_token(&caller, &token)).await?;
        if revocation == TokenRevocation::NotYours {
            return Err(not_yours().into());
        }
        return Ok(done());
    };
    // RFC 7009 §2.1: a client may revoke only tokens issued to it.
    if claims.client_id != caller.client_id {
        return Err(not_yours().into());
    }
    let now = app.now();
    let expires_at = DateTime::from_timestamp(claims.exp, 0).unwrap_or(now);
    if expires_at <= now || revocations.is_revoked(&claims.jti, claims.grant_id.as_deref()) {
        return Ok(done());
    }
    protocol_operation(&app, move |app| {
        app.revoke_access_token(&caller, &claims.jti, claims.grant_id.as_deref(), expires_at)
    })
    .await?;
    Ok(done())
}

/// 200, never cached (RFC 7009 §2.2).
fn done() -> HttpResponse {
    let mut ok = HttpResponse::Ok();
    no_store(&mut ok);
    ok.finish()
}

/// RFC 7009 §2.1: the token is not the caller's to revoke.
fn not_yours() -> OAuthError {
    OAuthError::new(ErrorCode::UnauthorizedClient, "the token was not issued to this client")
}
