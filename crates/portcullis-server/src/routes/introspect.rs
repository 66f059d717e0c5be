//! `POST /introspect` (RFC 7662): resource servers ask whether a token is
//! active. The caller authenticates as a client allowed to introspect; it
//! gets JSON, or a signed JWT when it asks for one (RFC 9701).

use crate::client_authentication::HttpClientAuthenticator;
use crate::form::FormParams;
use crate::oauth_response::{no_store, OAuthFailure};
use crate::KeyRing;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::personal_tokens::{self, PersonalTokenUse};
use portcullis_app::App;
use portcullis_core::claim_mappings::{self, TokenKind};
use portcullis_core::{ErrorCode, OAuthError, SigningAlgorithm};
use portcullis_jose::introspection::{sign_introspection, MEDIA_TYPE};
use portcullis_oauth::access_tokens::TokenCheck;
use portcullis_oauth::grants::{self, TokenSettings};
use portcullis_oauth::mirror::RevocationList;
use portcullis_oauth::storage;
use serde_json::{json, Value};

/// `POST /introspect`.
pub async fn introspect(
    req: HttpRequest,
    form: FormParams,
    auth: web::Data<HttpClientAuthenticator>,
    settings: web::Data<TokenSettings>,
    keys: web::Data<KeyRing>,
    revocations: web::Data<RevocationList>,
    app: web::Data<App>,
) -> Result<HttpResponse, OAuthFailure> {
    let caller = auth.authenticate(&req, &form).await?;
    if !caller.metadata.introspection_allowed {
        return Err(OAuthError::new(ErrorCode::AccessDenied, "this client may not introspect tokens").into());
    }
    let token = form.require("token")?;
    let check =
        TokenCheck { keys: &keys, settings: &settings, revocations: &revocations, clients: auth.clients() };
    // RFC 7662 §2.2: an inactive token, whatever the reason, is only `active: false`.
    let body = if token.starts_with(personal_tokens::PREFIX) {
        let token = token.to_owned();
        match storage::operation(&app, move |app| app.use_personal_token(&token)).await?? {
            Some(used) => personal_token_answer(&used, settings.issuer.as_str()),
            None => json!({ "active": false }),
        }
    } else {
        match check.active(token) {
            Some(claims) => {
                let holder = auth.clients().get(&claims.client_id);
                let mappings = holder.as_deref().map_or(&[][..], |client| &client.metadata.claim_mappings);
                // The user's claims are read only when a mapping releases one here.
                let user_id = match (&claims.grant_id, &holder) {
                    (Some(_), Some(holder))
                        if claim_mappings::reads_user(mappings, &[TokenKind::Introspection]) =>
                    {
                        keys.subjects().user_id(&holder.metadata, &claims.sub)
                    }
                    _ => None,
                };
                let user = match user_id {
                    Some(user_id) => storage::operation(&app, move |app| app.user_claims(&user_id)).await??,
                    None => None,
                };
                Value::Object(grants::introspection(&claims, mappings, user.as_ref()))
            }
            None => json!({ "active": false }),
        }
    };
    let mut ok = HttpResponse::Ok();
    no_store(&mut ok);
    if !asks_for_jwt(&req) {
        return Ok(ok.json(body));
    }
    // RFC 9701 §5: signed for the resource server that asked, with its algorithm (§6).
    let Value::Object(answer) = body else { unreachable!("an introspection answer is an object") };
    let alg = caller.metadata.introspection_signed_response_alg.unwrap_or(SigningAlgorithm::Rs256);
    let (issuer, audience, now) =
        (settings.issuer.as_str(), caller.id.as_str(), settings.clock.now().timestamp());
    let signed = grants::sign(&keys, alg, |key| sign_introspection(key, issuer, audience, now, &answer))?;
    Ok(ok.content_type(MEDIA_TYPE).body(signed))
}

/// What introspection says of a personal access token in use: its user as
/// `sub`, the token as `client_id` (`pat:<id>`), its scope as it stands.
fn personal_token_answer(used: &PersonalTokenUse, issuer: &str) -> Value {
    json!({
        "active": true,
        "scope": used.scope.to_string(),
        "client_id": format!("pat:{}", used.token.token_id),
        "sub": used.token.user_id,
        "username": used.token.username,
        "team_id": used.token.team_id,
        "iss": issuer,
        "iat": used.issued_at.timestamp(),
        "exp": used.expires_at.timestamp(),
        "token_type": "Bearer",
    })
}

/// Whether `req` accepts a JWT response (RFC 9701 §4): its `Accept` names
/// `application/token-introspection+jwt` (with any parameters, in any case).
fn asks_for_jwt(req: &HttpRequest) -> bool {
    req.headers().get_all(header::ACCEPT).filter_map(|value| value.to_str().ok()).any(|value| {
        value
            .split(',')
            .any(|range| range.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case(MEDIA_TYPE))
    })
}
