//! Signing in to the portal ([`crate::site_sign_in`]) as any enabled user
//! (a member of a team that requires one gives a second factor), coming
//! back to the page that asked; signing out ends the session.

use super::session::{self, current};
use super::texts;
use crate::console::context::ConsoleContext;
use crate::console::Posted;
use crate::pages::PageError;
use crate::site_sign_in::{self, Refused, SignInSite};
use crate::views::{render, Message};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::console::PORTAL;

/// Where signing in starts.
pub const SIGN_IN_PATH: &str = "/portal/sign-in";
/// Where the portal's forms sign out.
pub const SIGN_OUT_PATH: &str = "/portal/sign-out";
/// The page after signing out.
pub const SIGNED_OUT_PATH: &str = "/portal/signed-out";

/// The portal as a site signed in to.
pub const SITE: SignInSite = SignInSite {
    site: &PORTAL,
    home: "/portal",
    sign_in_path: SIGN_IN_PATH,
    words: |req| &texts::of(req).sign_in,
    pending: "portcullis_portal_sign_in",
    session: session::COOKIE,
    csrf: session::CSRF_COOKIE,
    prompt_login: false,
    same_site: actix_web::cookie::SameSite::Lax,
};

/// `GET /portal/sign-in?then=…`.
pub async fn start(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let query = Posted::query(&req);
    site_sign_in::start(&SITE, &ctx, query.get("then")).await
}

/// `GET /portal/callback?code=…&state=…&iss=…`.
pub async fn callback(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let t = texts::of(&req);
    site_sign_in::callback(&SITE, &req, &ctx, move |app, code, source| {
        Ok(app.start_portal_session(code, source)?.ok_or(Refused {
            status: StatusCode::BAD_REQUEST,
            title: t.sign_in.title,
            text: t.not_the_portals,
            again: true,
        }))
    })
    .await
}

/// `POST /portal/sign-out` with the portal's CSRF token.
pub async fn sign_out(
    req: HttpRequest,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed_out = || SITE.signed_out(SIGNED_OUT_PATH, ctx.secure_cookies);
    // A session that timed out is signed out already: its cookies go too.
    let Ok(signed) = current(&req, &ctx).await? else { return Ok(signed_out()) };
    if !signed.posted_by_portal(&form) {
        return signed.form_expired();
    }
    let source = ctx.proxies.client_ip(&req);
    let session = signed.session;
    ctx.run(move |app| app.end_portal_session(&session, source)).await?;
    Ok(signed_out())
}

/// `GET /portal/signed-out`.
pub async fn signed_out(req: HttpRequest) -> Result<HttpResponse, PageError> {
    let t = texts::of(&req);
    let [title, text, again] = t.signed_out;
    let page = Message { title, text, error: false, link: Some((SIGN_IN_PATH, again)), lang: t.lang };
    render(StatusCode::OK, &page)
}
