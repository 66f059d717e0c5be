//! Signing in to the console as an OpenID Connect client of this server
//! (code + PKCE, RFC 7636 S256; `iss` checked per RFC 9207): `start` sends
//! the browser to `/authorize` with a fresh `state` and challenge and
//! `prompt=login` (the state and verifier wait in a short-lived cookie for
//! `/console`); the login page and its second-factor step sign the user in;
//! `callback` checks the state, redeems the code through the operation the
//! token endpoint uses, checks its redirect URI and verifier as the token
//! endpoint does, and opens a console session. Signing out ends it.

use super::session::{self, current};
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::session_cookie::{scoped, scoped_removal, Scope};
use crate::views::{message, render, Message};
use crate::{form::FormParams, secrets};
use actix_web::cookie::SameSite;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use portcullis_app::console::{callback_uri, Refusal, CONSOLE_CLIENT_ID};
use portcullis_app::grants::Caller;
use portcullis_core::{AuthorizationCode, CodeVerifier};
use portcullis_oauth::endpoints;
use portcullis_oauth::grants::authorization_code::redeem_own;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Where signing in starts.
pub const SIGN_IN_PATH: &str = "/console/sign-in";
/// Where the console's forms sign out.
pub const SIGN_OUT_PATH: &str = "/console/sign-out";
/// The page after signing out.
pub const SIGNED_OUT_PATH: &str = "/console/signed-out";
/// The cookie holding a sign-in's state and PKCE verifier.
const PENDING: &str = "portcullis_console_sign_in";
/// Where it goes: `/console`, and with the redirect back from the login
/// page (a top-level navigation, which `SameSite=Lax` allows).
const PENDING_SCOPE: Scope = Scope { path: "/console", same_site: SameSite::Lax };
/// How long a sign-in may take.
const PENDING_LIFETIME: Duration = Duration::from_secs(600);

fn no_store(response: &mut actix_web::HttpResponseBuilder) -> &mut actix_web::HttpResponseBuilder {
    response.insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
}

/// `GET /console/sign-in`: to the authorization endpoint, once the
/// console's client is registered (at the first sign-in of an installation,
/// or again when the issuer changed).
pub async fn start(ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let issuer = ctx.issuer.as_str().to_owned();
    ctx.run(move |app| app.ensure_console_client(&issuer)).await?;
    let (state, verifier) = (secrets::random_token(), secrets::random_token());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", CONSOLE_CLIENT_ID)
        .append_pair("redirect_uri", &callback_uri(ctx.issuer.as_str()))
        .append_pair("scope", "openid")
        // The password at every console sign-in, then the second factor.
        .append_pair("prompt", "login")
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let pending =
        scoped(PENDING, format!("{state}.{verifier}"), ctx.secure_cookies, PENDING_LIFETIME, PENDING_SCOPE);
    Ok(no_store(&mut HttpResponse::SeeOther())
        .insert_header((header::LOCATION, format!("{}?{query}", endpoints::AUTHORIZE)))
        .cookie(pending)
        .finish())
}

/// A sign-in that cannot go on: a page with a link to start again, its
/// pending state gone.
fn start_again(status: StatusCode, text: &str, secure: bool) -> Result<HttpResponse, PageError> {
    let link = Some((SIGN_IN_PATH, "Sign in again"));
    let mut response = render(status, &Message { title: "Console sign-in", text, error: true, link })?;
    response.add_cookie(&scoped_removal(PENDING, secure, PENDING_SCOPE)).map_err(PageError::failed)?;
    Ok(response)
}

/// `GET /console/callback?code=…&state=…&iss=…`.
pub async fn callback(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let secure = ctx.secure_cookies;
    let params = FormParams::parse(req.query_string().as_bytes()).unwrap_or_default();
    let pending = req.cookie(PENDING).map(|c| c.value().to_owned()).unwrap_or_default();
    let Some((state, verifier)) = pending.split_once('.') else {
        return start_again(StatusCode::BAD_REQUEST, "This sign-in has expired.", secure);
    };
    if !secrets::matches_any(params.get("state").unwrap_or_default(), [secrets::hash(state).as_slice()]) {
        let text = "This sign-in does not match the one this browser started.";
        return start_again(StatusCode::BAD_REQUEST, text, secure);
    }
    // RFC 9207 §2.4: a response naming another issuer is refused.
    if params.get("iss").is_some_and(|iss| iss != ctx.issuer.as_str()) {
        return start_again(StatusCode::BAD_REQUEST, "The response came from another server.", secure);
    }
    // An error the response names is not shown: anyone can write one into a link.
    let Some(code) = params.get("code").map(|c| AuthorizationCode::new(c.to_owned())) else {
        return start_again(StatusCode::FORBIDDEN, "The sign-in was not completed.", secure);
    };
    let (verifier, redirect, source) = (
        CodeVerifier::new(verifier.to_owned()),
        callback_uri(ctx.issuer.as_str()),
        ctx.proxies.client_ip(&req),
    );
    let caller = Caller { client_id: CONSOLE_CLIENT_ID.to_owned(), address: source };
    let opened = ctx
        .run(move |app| {
            let Some(record) = redeem_own(app, &caller, &code, &redirect, &verifier)? else {
                return Ok(None);
            };
            app.start_console_session(&record, source).map(Some)
        })
        .await?;
    let sign_in = match opened {
        None => {
            return start_again(
                StatusCode::BAD_REQUEST,
                "This sign-in has expired or was already used.",
                secure,
            )
        }
        Some(Err(Refusal::NoRole)) => {
            let text = "This account holds no admin role: it cannot use the console.";
            return message(StatusCode::FORBIDDEN, "No admin role", text);
        }
        Some(Err(Refusal::NoSecondFactor | Refusal::NotTheConsoles)) => {
            let text = "The console needs a sign-in with a second factor.";
            return start_again(StatusCode::FORBIDDEN, text, secure);
        }
        Some(Ok(sign_in)) => sign_in,
    };
    Ok(no_store(&mut HttpResponse::SeeOther())
        .insert_header((header::LOCATION, "/console"))
        .cookie(session::cookie(session::COOKIE, sign_in.token.expose().to_owned(), secure))
        .cookie(session::cookie(session::CSRF_COOKIE, sign_in.csrf.expose().to_owned(), secure))
        .cookie(scoped_removal(PENDING, secure, PENDING_SCOPE))
        .finish())
}

/// `POST /console/sign-out` with the console's CSRF token.
pub async fn sign_out(
    req: HttpRequest,
    form: Result<FormParams, crate::oauth_response::OAuthFailure>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let secure = ctx.secure_cookies;
    let signed_out = || {
        no_store(&mut HttpResponse::SeeOther())
            .insert_header((header::LOCATION, SIGNED_OUT_PATH))
            .cookie(session::removal(session::COOKIE, secure))
            .cookie(session::removal(session::CSRF_COOKIE, secure))
            .finish()
    };
    // A session that timed out is signed out already: its cookies go too.
    let Ok(signed) = current(&req, &ctx).await? else { return Ok(signed_out()) };
    let posted = form.ok().and_then(|f| f.get("csrf").map(str::to_owned)).unwrap_or_default();
    if !signed.session.csrf_matches(&posted) {
        let text = "This form is no longer valid. Reload the page and try again.";
        return message(StatusCode::FORBIDDEN, "Form expired", text);
    }
    let source = ctx.proxies.client_ip(&req);
    let session = signed.session;
    ctx.run(move |app| app.end_console_session(&session, source)).await?;
    Ok(signed_out())
}

/// `GET /console/signed-out`.
pub async fn signed_out() -> Result<HttpResponse, PageError> {
    let page = Message {
        title: "Signed out",
        text: "You signed out of the console.",
        error: false,
        link: Some((SIGN_IN_PATH, "Sign in again")),
    };
    render(StatusCode::OK, &page)
}
