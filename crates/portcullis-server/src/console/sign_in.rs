//! Signing in to the console ([`crate::site_sign_in`]): each sign-in asks
//! for the password (`prompt=login`) and a second factor; a user holding
//! an admin role gets a console session. Signing out ends it.

use super::session::{self, current};
use crate::console::context::ConsoleContext;
use crate::form::FormParams;
use crate::pages::PageError;
use crate::site_sign_in::{self, Refused, SignInSite, SignInWords};
use crate::views::{message, render, Message};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::console::{Refusal, CONSOLE};

/// Where signing in starts.
pub const SIGN_IN_PATH: &str = "/console/sign-in";
/// Where the console's forms sign out.
pub const SIGN_OUT_PATH: &str = "/console/sign-out";
/// The page after signing out.
pub const SIGNED_OUT_PATH: &str = "/console/signed-out";

/// The console's sign-in pages' words (the console speaks English).
const WORDS: SignInWords = SignInWords {
    lang: "en",
    title: "Console sign-in",
    again: "Sign in again",
    failed: [
        "This sign-in has expired.",
        "This sign-in does not match the one this browser started.",
        "The response came from another server.",
        "The sign-in was not completed.",
        "This sign-in has expired or was already used.",
    ],
};

/// The console as a site signed in to.
pub const SITE: SignInSite = SignInSite {
    site: &CONSOLE,
    home: "/console",
    sign_in_path: SIGN_IN_PATH,
    words: |_| &WORDS,
    pending: "portcullis_console_sign_in",
    session: session::COOKIE,
    csrf: session::CSRF_COOKIE,
    // The password at every console sign-in, then the second factor.
    prompt_login: true,
    same_site: actix_web::cookie::SameSite::Strict,
};

/// `GET /console/sign-in`.
pub async fn start(ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    site_sign_in::start(&SITE, &ctx, None).await
}

/// `GET /console/callback?code=…&state=…&iss=…`.
pub async fn callback(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    site_sign_in::callback(&SITE, &req, &ctx, |app, code, source| {
        Ok(app.start_console_session(code, source)?.map_err(|refusal| match refusal {
            Refusal::NoRole => Refused {
                status: StatusCode::FORBIDDEN,
                title: "No admin role",
                text: "This account holds no admin role: it cannot use the console.",
                again: false,
            },
            Refusal::NoSecondFactor | Refusal::NotTheConsoles => Refused {
                status: StatusCode::FORBIDDEN,
                title: WORDS.title,
                text: "The console needs a sign-in with a second factor.",
                again: true,
            },
        }))
    })
    .await
}

/// `POST /console/sign-out` with the console's CSRF token.
pub async fn sign_out(
    req: HttpRequest,
    form: Result<FormParams, crate::oauth_response::OAuthFailure>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed_out = || SITE.signed_out(SIGNED_OUT_PATH, ctx.secure_cookies);
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
        lang: "en",
        title: "Signed out",
        text: "You signed out of the console.",
        error: false,
        link: Some((SIGN_IN_PATH, "Sign in again")),
    };
    render(StatusCode::OK, &page)
}
