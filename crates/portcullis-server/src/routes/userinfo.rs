//! `GET` and `POST /userinfo` (OpenID Connect Core §5.3): the claims of the
//! user an access token acts for, as far as its scope releases them.

use crate::authorization::Authorization;
use crate::form::FormParams;
use crate::headers;
use crate::oauth_response::{no_store, no_token_challenge, OAuthFailure, ResourceFailure, DPOP_NONCE};
use crate::KeyRing;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::sightings::TokenKind;
use portcullis_app::App;
use portcullis_core::{ErrorCode, OAuthError, Scope};
use portcullis_oauth::access_tokens::{check_holder, Presentation, TokenCheck};
use portcullis_oauth::dpop::{Dpop, Proven};
use portcullis_oauth::grants::{self, TokenSettings};
use portcullis_oauth::mirror::RevocationList;
use portcullis_oauth::storage;

fn invalid_token(description: &str) -> OAuthFailure {
    OAuthError::new(ErrorCode::InvalidToken, description).into()
}

/// Whether a token with audience `aud` was minted for this server's
/// UserInfo: its audience is the issuer (the default when no resource was
/// asked for) or the UserInfo endpoint itself.
fn for_userinfo(aud: &str, issuer: &portcullis_core::Issuer) -> bool {
    aud == issuer.as_str() || aud == issuer.endpoint(portcullis_oauth::endpoints::USERINFO)
}

/// The access token of a request (RFC 6750 §2.1 and §2.2, RFC 9449 §7.1),
/// sent one way only, and how.
fn request_token(
    req: &HttpRequest,
    body: Option<&FormParams>,
) -> Result<Option<(Presentation, String)>, OAuthFailure> {
    let in_body = body.and_then(|form| form.get("access_token")).map(str::to_owned);
    match (headers::access_token(req), in_body) {
        (Some(_), Some(_)) => {
            Err(OAuthError::invalid_request("send the access token one way only (RFC 6750 §2)").into())
        }
        (header, in_body) => Ok(header.or(in_body.map(|token| (Presentation::Bearer, token)))),
    }
}

/// What a request to UserInfo needs beside itself: the keys, the token
/// settings and revocations, the clients (through the front channel's
/// state), the operations, and DPoP.
type Resources = (
    web::Data<KeyRing>,
    web::Data<TokenSettings>,
    web::Data<RevocationList>,
    (web::Data<Authorization>, web::Data<App>, web::Data<Dpop>),
);

/// `GET /userinfo`.
pub async fn get(req: HttpRequest, resources: Resources) -> Result<HttpResponse, ResourceFailure> {
    userinfo(&req, None, &resources).await
}

/// `POST /userinfo`: the token in the header or, as a form, in the body.
pub async fn post(
    req: HttpRequest,
    body: Result<FormParams, OAuthFailure>,
    resources: Resources,
) -> Result<HttpResponse, ResourceFailure> {
    userinfo(&req, body.ok().as_ref(), &resources).await
}

async fn userinfo(
    req: &HttpRequest,
    body: Option<&FormParams>,
    resources: &Resources,
) -> Result<HttpResponse, ResourceFailure> {
    let Some((scheme, token)) = request_token(req, body)? else {
        // RFC 6750 §3.1: without any credentials, the challenge carries no error.
        return Ok(HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, no_token_challenge()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish());
    };
    let failed = |error: OAuthError| ResourceFailure { error, scheme };
    // RFC 9449 §7.1: a token presented as DPoP comes with a proof naming it.
    let (.., (_, _, dpop)) = resources;
    let endpoint = portcullis_oauth::endpoints::USERINFO;
    let proven = headers::resource_proof(req, dpop, (scheme, &token), endpoint).await.map_err(failed)?;
    let mut answer =
        answer(req, &token, scheme, proven.as_ref(), resources).await.map_err(|failure| failed(failure.0))?;
    if let Some(nonce) = proven.and_then(|proven| proven.nonce) {
        answer.headers_mut().insert(
            header::HeaderName::from_static(DPOP_NONCE),
            header::HeaderValue::from_str(&nonce).expect("a nonce is base64url"),
        );
    }
    Ok(answer)
}

/// The user's claims for `token`, presented as `scheme` with a proof of
/// the key `proven`.
async fn answer(
    req: &HttpRequest,
    token: &str,
    scheme: Presentation,
    proven: Option<&Proven>,
    (keys, settings, revocations, (flow, app, _)): &Resources,
) -> Result<HttpResponse, OAuthFailure> {
    let check = TokenCheck { keys, settings, revocations, clients: &flow.clients };
    let claims = check
        .active(token)
        .ok_or_else(|| invalid_token("the access token is invalid, expired or revoked"))?;
    check_holder(&claims, scheme, proven.map(|proven| proven.jkt.as_str()))?;
    // A token minted for another resource (RFC 8707) is that resource's, not
    // a key to the user's claims: RFC 6750 §3.1 calls it invalid here.
    if !for_userinfo(&claims.aud, &settings.issuer) {
        return Err(invalid_token("the access token is for another resource (its aud is not this issuer)"));
    }
    crate::usage::attribute(req, &claims.client_id);
    if let (true, Some(ip)) = (app.places().is_some_and(|p| p.locates()), flow.proxies.client_ip(req)) {
        // Where the token is used from, for impossible travel (judged later, off this path).
        app.sightings().token(TokenKind::AccessToken, &claims.jti, &claims.client_id, ip, app.now());
    }
    let scope = Scope::parse(claims.scope.as_deref().unwrap_or_default()).unwrap_or_default();
    // Only tokens of a user with the openid scope reach the user's claims: not a
    // client's own token, nor one exchanged from it (whose sub is the client).
    let users_token = claims.grant_id.is_some() && !flow.clients.is_client_subject(&claims.sub);
    if !users_token || !scope.contains("openid") {
        return Err(
            OAuthError::new(ErrorCode::InsufficientScope, "the access token lacks the openid scope").into()
        );
    }
    // The token is active, so its client is known.
    let client = flow.clients.get(&claims.client_id).ok_or_else(|| invalid_token("the client is gone"))?;
    grants::ensure_proof_alg(&client, proven)?;
    // OpenID Connect Core §8.1: a pairwise client's subject reads back to its user.
    let user_id = keys
        .subjects()
        .user_id(&client.metadata, &claims.sub)
        .ok_or_else(|| invalid_token("the access token names no user"))?;
    let (subject, holder, asked) = (claims.sub, client.clone(), claims.userinfo_claims);
    let mut released = storage::operation(app, move |app| {
        app.userinfo((&user_id, &subject), &scope, (&holder.metadata.claim_mappings, &asked))
    })
    .await??
    .ok_or_else(|| invalid_token("the user is no longer available"))?;
    let mut ok = HttpResponse::Ok();
    no_store(&mut ok);
    let Some(alg) = client.metadata.userinfo_signed_response_alg else { return Ok(ok.json(released)) };
    // OpenID Connect Core §5.3.2: signed, with iss and aud.
    released.insert("iss".into(), settings.issuer.as_str().into());
    released.insert("aud".into(), client.id.as_str().into());
    let signed = grants::sign(keys, alg, |key| portcullis_jose::sign_claims(key, &released))?;
    Ok(ok.content_type("application/jwt").body(signed))
}
