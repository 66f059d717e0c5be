//! Who calls the admin API: the holder of an active access token this
//! server issued by client credentials for this server, as a bearer token
//! or, for a DPoP-bound one, as `Authorization: DPoP` with a proof of its
//! key for this request (RFC 9449 §7). Which admin scope each call needs is
//! the application layer's to check.

use crate::admin::error::AdminError;
use crate::authorization::Authorization;
use crate::headers;
use crate::oauth_response::{ResourceFailure, DPOP_NONCE};
use crate::KeyRing;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, ResponseError};
use futures_util::future::LocalBoxFuture;
use portcullis_app::Actor;
use portcullis_core::{ErrorCode, OAuthError, Scope};
use portcullis_oauth::access_tokens::{check_holder, Presentation, TokenCheck};
use portcullis_oauth::dpop::Dpop;
use portcullis_oauth::grants::{self, TokenSettings};
use portcullis_oauth::mirror::RevocationList;

fn invalid_token(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidToken, description)
}

/// The authenticated caller of an API, as the actor of the operations it
/// calls: of the admin API, the client whose token was presented; of the
/// portal's ([`PortalCallers`]), the user whose personal access token was.
#[derive(Debug)]
pub struct Caller(pub Actor);

/// Marks a scope whose callers are portal users rather than admin clients.
#[derive(Clone, Copy, Debug)]
pub struct PortalCallers;

/// The header in which a portal page's script sends its session's CSRF
/// token (the one its forms carry) with a call that changes something.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The portal user presenting a personal access token as a bearer token
/// (RFC 6750 §2.1), or, without one, signed in to the portal
/// ([`session_caller`]); any other credential is refused.
async fn authenticate_portal_user(req: HttpRequest) -> Result<Caller, AdminError> {
    let (Some(app), Some(flow)) =
        (req.app_data::<web::Data<portcullis_app::App>>(), req.app_data::<web::Data<Authorization>>())
    else {
        return Err(AdminError::unavailable("the portal API is mounted without its state"));
    };
    let Some((scheme, token)) = headers::access_token(&req) else {
        return session_caller(&req, app, flow).await?.ok_or(AdminError::NoPersonalToken);
    };
    let refused = || {
        let error = invalid_token("the personal access token is invalid, expired or revoked");
        AdminError::Token(ResourceFailure { error, scheme })
    };
    if scheme != Presentation::Bearer {
        return Err(refused());
    }
    let used = crate::admin::operation(app, move |app| app.use_personal_token(&token)).await?;
    let used = used.ok_or_else(refused)?;
    Ok(Caller(used.actor(flow.proxies.client_ip(&req))))
}

/// The user of the live portal session whose cookie `req` carries: for a
/// method that changes something, only with the session's CSRF token in
/// [`CSRF_HEADER`] (a cookie alone comes with any site's request, a
/// header only with this origin's script).
async fn session_caller(
    req: &HttpRequest,
    app: &web::Data<portcullis_app::App>,
    flow: &Authorization,
) -> Result<Option<Caller>, AdminError> {
    let Some(cookie) = req.cookie(crate::portal::session::COOKIE) else { return Ok(None) };
    let token = cookie.value().to_owned();
    let Some(session) = crate::admin::operation(app, move |app| app.portal_session(&token)).await? else {
        return Ok(None);
    };
    if !req.method().is_safe() {
        let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !session.csrf_matches(sent) {
            return Err(AdminError::forbidden(
                "a change with the portal's session needs its CSRF token in X-CSRF-Token",
            ));
        }
    }
    Ok(Some(Caller(session.actor(flow.proxies.client_ip(req)))))
}

async fn authenticate(req: HttpRequest) -> Result<Caller, AdminError> {
    if req.app_data::<web::Data<PortalCallers>>().is_some() {
        return authenticate_portal_user(req).await;
    }
    let (Some(keys), Some(settings), Some(revocations), Some(flow), Some(dpop)) = (
        req.app_data::<web::Data<KeyRing>>(),
        req.app_data::<web::Data<TokenSettings>>(),
        req.app_data::<web::Data<RevocationList>>(),
        req.app_data::<web::Data<Authorization>>(),
        req.app_data::<web::Data<Dpop>>(),
    ) else {
        return Err(AdminError::unavailable("the admin API is mounted without its state"));
    };
    let (scheme, token) = headers::access_token(&req).ok_or(AdminError::NoToken)?;
    let failed = |error: OAuthError| AdminError::Token(ResourceFailure { error, scheme });
    let check = TokenCheck { keys, settings, revocations, clients: &flow.clients };
    // The token first: it is checked in memory, the proof records its jti.
    let claims = check
        .active(&token)
        .ok_or_else(|| failed(invalid_token("the access token is invalid, expired or revoked")))?;
    // RFC 9449 §7.1: a token presented as DPoP comes with a proof of its key
    // for this very request (method, URL, and the token's hash).
    let proven = headers::resource_proof(&req, dpop, (scheme, &token), req.path()).await.map_err(failed)?;
    // RFC 9449 §7.2: a DPoP-bound token is never taken as a bearer token.
    check_holder(&claims, scheme, proven.as_ref().map(|proven| proven.jkt.as_str())).map_err(failed)?;
    if let Some(client) = flow.clients.get(&claims.client_id) {
        grants::ensure_proof_alg(&client, proven.as_ref()).map_err(failed)?;
    }
    if let Some(nonce) = proven.and_then(|proven| proven.nonce) {
        req.extensions_mut().insert(NextNonce(nonce));
    }
    if claims.grant_id.is_some() {
        // A user's token acts for the user, an exchanged token for its subject;
        // only a client's own token administers.
        return Err(failed(invalid_token("the admin API takes client-credentials tokens only")));
    }
    // RFC 9068 §4: a resource server accepts only tokens meant for it; the
    // admin API is this server itself.
    if claims.aud != settings.issuer.as_str() {
        return Err(failed(invalid_token("the access token was issued for another audience")));
    }
    crate::usage::attribute(&req, &claims.client_id);
    let scope = Scope::parse(claims.scope.as_deref().unwrap_or_default()).unwrap_or_default();
    Ok(Caller(Actor::AdminClient {
        client_id: claims.client_id,
        scope,
        address: flow.proxies.client_ip(&req),
    }))
}

impl FromRequest for Caller {
    type Error = AdminError;
    type Future = LocalBoxFuture<'static, Result<Self, AdminError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}

/// The DPoP nonce a request's proof passed without, to send on (RFC 9449 §8.2).
#[derive(Clone)]
struct NextNonce(String);

/// Answers a request that presented its token as DPoP as RFC 9449 §7.1
/// says: a refusal of its token that the application layer made (knowing
/// no scheme) with a `DPoP` challenge, and any answer with the `DPoP-Nonce`
/// to use next when its proof did not carry the current one.
pub async fn dpop_answers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let as_dpop = matches!(headers::access_token(req.request()), Some((Presentation::Dpop, _)));
    let res = next.call(req).await?;
    if !as_dpop {
        return Ok(res.map_into_left_body());
    }
    let nonce = res.request().extensions().get::<NextNonce>().cloned();
    let nonce = nonce.and_then(|NextNonce(nonce)| HeaderValue::from_str(&nonce).ok());
    let refused = match res.response().error().and_then(|error| error.as_error::<AdminError>()) {
        Some(AdminError::Token(failure)) if failure.scheme == Presentation::Bearer => {
            Some(failure.error.clone())
        }
        _ => None,
    };
    let mut res = match refused {
        Some(error) => {
            let answer = ResourceFailure { error, scheme: Presentation::Dpop }.error_response();
            res.into_response(answer).map_into_right_body()
        }
        None => res.map_into_left_body(),
    };
    if let Some(value) = nonce {
        res.headers_mut().insert(HeaderName::from_static(DPOP_NONCE), value);
    }
    Ok(res)
}
