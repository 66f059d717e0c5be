//! Who calls the admin API: the holder of an active bearer access token
//! this server issued by client credentials for this server (a DPoP-bound
//! token is refused here). Which admin scope
//! each call needs is the application layer's to check.

use crate::admin::error::AdminError;
use crate::authorization::Authorization;
use crate::headers;
use crate::oauth_response::OAuthFailure;
use crate::KeyRing;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::{ready, Ready};
use portcullis_app::Actor;
use portcullis_core::{ErrorCode, OAuthError, Scope};
use portcullis_oauth::access_tokens::{check_holder, Presentation, TokenCheck};
use portcullis_oauth::grants::TokenSettings;
use portcullis_oauth::mirror::RevocationList;

/// An authenticated admin: the client whose token was presented, as the
/// actor of the operations it calls.
#[derive(Debug)]
pub struct Admin(pub Actor);

fn invalid_token(description: &str) -> AdminError {
    OAuthFailure(OAuthError::new(ErrorCode::InvalidToken, description)).into()
}

fn authenticate(req: &HttpRequest) -> Result<Admin, AdminError> {
    let (Some(keys), Some(settings), Some(revocations), Some(flow)) = (
        req.app_data::<web::Data<KeyRing>>(),
        req.app_data::<web::Data<TokenSettings>>(),
        req.app_data::<web::Data<RevocationList>>(),
        req.app_data::<web::Data<Authorization>>(),
    ) else {
        return Err(AdminError::unavailable("the admin API is mounted without its state"));
    };
    let token = headers::bearer(req).ok_or(AdminError::NoToken)?;
    let check = TokenCheck { keys, settings, revocations, clients: &flow.clients };
    let claims = check
        .active(&token)
        .ok_or_else(|| invalid_token("the access token is invalid, expired or revoked"))?;
    // RFC 9449 §7.2: a DPoP-bound token is never taken as a bearer token (and
    // the admin API takes bearer tokens only).
    check_holder(&claims, Presentation::Bearer, None)
        .map_err(|refused| AdminError::from(OAuthFailure(refused)))?;
    if claims.grant_id.is_some() {
        // A user's token acts for the user, an exchanged token for its subject;
        // only a client's own token administers.
        return Err(invalid_token("the admin API takes client-credentials tokens only"));
    }
    // RFC 9068 §4: a resource server accepts only tokens meant for it; the
    // admin API is this server itself.
    if claims.aud != settings.issuer.as_str() {
        return Err(invalid_token("the access token was issued for another audience"));
    }
    crate::usage::attribute(req, &claims.client_id);
    let scope = Scope::parse(claims.scope.as_deref().unwrap_or_default()).unwrap_or_default();
    Ok(Admin(Actor::AdminClient { client_id: claims.client_id, scope, address: flow.proxies.client_ip(req) }))
}

impl FromRequest for Admin {
    type Error = AdminError;
    type Future = Ready<Result<Self, AdminError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}
