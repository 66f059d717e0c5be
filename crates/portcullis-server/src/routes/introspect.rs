//! `POST /introspect` (RFC 7662): resource servers ask whether a token is
//! active. The caller authenticates as a client allowed to introspect.

use crate::client_authentication::HttpClientAuthenticator;
use crate::form::FormParams;
use crate::oauth_response::{no_store, OAuthFailure};
use crate::KeyRing;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_core::{ErrorCode, OAuthError};
use portcullis_oauth::access_tokens::TokenCheck;
use portcullis_oauth::grants::TokenSettings;
use portcullis_oauth::mirror::RevocationList;
use serde_json::json;

/// `POST /introspect`.
pub async fn introspect(
    req: HttpRequest,
    form: FormParams,
    auth: web::Data<HttpClientAuthenticator>,
    settings: web::Data<TokenSettings>,
    keys: web::Data<KeyRing>,
    revocations: web::Data<RevocationList>,
) -> Result<HttpResponse, OAuthFailure> {
    let caller = auth.authenticate(&req, &form).await?;
    if !caller.metadata.introspection_allowed {
        return Err(OAuthError::new(ErrorCode::AccessDenied, "this client may not introspect tokens").into());
    }
    let token = form.require("token")?;
    let check =
        TokenCheck { keys: &keys, settings: &settings, revocations: &revocations, clients: auth.clients() };
    // RFC 7662 §2.2: an inactive token, whatever the reason, is only `active: false`.
    let body = match check.active(token) {
        Some(claims) => json!({
            "active": true,
            "scope": claims.scope,
            "client_id": claims.client_id,
            "sub": claims.sub,
            "aud": claims.aud,
            "iss": claims.iss,
            "exp": claims.exp,
            "iat": claims.iat,
            "jti": claims.jti,
            "token_type": "Bearer",
        }),
        None => json!({ "active": false }),
    };
    let mut ok = HttpResponse::Ok();
    no_store(&mut ok);
    Ok(ok.json(body))
}
