//! `POST /introspect` (RFC 7662): resource servers ask whether a token is
//! active. The caller authenticates as a client allowed to introspect; it
//! gets JSON, or a signed JWT when it asks for one (RFC 9701).

use crate::client_authentication::HttpClientAuthenticator;
use crate::form::FormParams;
use crate::oauth_response::{no_store, OAuthFailure};
use crate::KeyRing;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
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
    let body = match check.active(token) {
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

/// Whether `req` accepts a JWT response (RFC 9701 §4): its `Accept` names
/// `application/token-introspection+jwt` (with any parameters, in any case).
fn asks_for_jwt(req: &HttpRequest) -> bool {
    req.headers().get_all(header::ACCEPT).filter_map(|value| value.to_str().ok()).any(|value| {
        value
            .split(',')
            .any(|range| range.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case(MEDIA_TYPE))
    })
}
