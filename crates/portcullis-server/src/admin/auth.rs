//! Who may call the admin API: the holder of an active access token this
//! server issued by client credentials, carrying the admin scope the route
//! needs, or `admin`, which stands for all of them.

use crate::access_tokens::{bearer_header, TokenCheck};
use crate::admin::error::AdminError;
use crate::authorization::Authorization;
use crate::grants::TokenSettings;
use crate::mirror::RevocationList;
use crate::oauth_response::OAuthFailure;
use crate::KeyRing;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::{ready, Ready};
use portcullis_core::{ErrorCode, OAuthError, Scope};
use std::net::IpAddr;

/// The scope that grants every admin scope.
pub const ADMIN: &str = "admin";

/// What a route of the admin API needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminScope {
    /// Clients, their versions and secrets.
    Clients,
    /// Signing keys.
    Keys,
    /// Users.
    Users,
    /// The audit log.
    Audit,
}

impl AdminScope {
    /// The scope value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clients => "admin:clients",
            Self::Keys => "admin:keys",
            Self::Users => "admin:users",
            Self::Audit => "admin:audit",
        }
    }
}

/// Where the admin client of a request is put once it is authenticated,
/// for the audit log; shared, so that it can be read even when the request
/// ends in an error (a deadline) rather than a response.
#[derive(Clone, Debug, Default)]
pub struct ActorSlot(pub std::rc::Rc<std::cell::RefCell<Option<String>>>);

/// An authenticated admin: the client whose token was presented.
#[derive(Debug)]
pub struct Admin {
    /// The admin client, recorded as the author of every change it makes.
    pub client_id: String,
    /// Where the request came from.
    pub address: Option<IpAddr>,
    scope: Scope,
}

impl Admin {
    /// Checks that the token carries `needed` (or `admin`); 403 otherwise.
    pub fn require(&self, needed: AdminScope) -> Result<(), AdminError> {
        if self.scope.contains(ADMIN) || self.scope.contains(needed.as_str()) {
            return Ok(());
        }
        let description = format!("this needs the scope {} (or {ADMIN})", needed.as_str());
        Err(OAuthFailure(OAuthError::new(ErrorCode::InsufficientScope, description)).into())
    }
}

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
    let token = bearer_header(req).ok_or(AdminError::NoToken)?;
    let check = TokenCheck { keys, issuer: &settings.issuer, revocations, clients: &flow.clients };
    let claims = check
        .active(&token)
        .ok_or_else(|| invalid_token("the access token is invalid, expired or revoked"))?;
    if claims.grant_id.is_some() {
        // A user's token acts for the user; only a client's own token administers.
        return Err(invalid_token("the admin API takes client-credentials tokens only"));
    }
    // RFC 9068 §4: a resource server accepts only tokens meant for it; the
    // admin API is this server itself.
    if claims.aud != settings.issuer.as_str() {
        return Err(invalid_token("the access token was issued for another audience"));
    }
    let scope = Scope::parse(claims.scope.as_deref().unwrap_or_default()).unwrap_or_default();
    if let Some(slot) = req.extensions().get::<ActorSlot>() {
        *slot.0.borrow_mut() = Some(claims.client_id.clone());
    }
    Ok(Admin { client_id: claims.client_id, address: flow.proxies.client_ip(req), scope })
}

impl FromRequest for Admin {
    type Error = AdminError;
    type Future = Ready<Result<Self, AdminError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}
