//! The console session of a request: its cookie, and the CSRF token every
//! form of the console posts back (kept in a cookie of its own, and
//! compared with the session's hash of it).

use super::Posted;
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::views::message;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use portcullis_app::console::ConsoleSession;
use portcullis_app::{Actor, Permission};

/// The console session's cookie.
pub const COOKIE: &str = "portcullis_console";
/// The cookie holding the console's CSRF token.
pub const CSRF_COOKIE: &str = "portcullis_console_csrf";

/// The signed-in user of a console page, and the CSRF token its forms carry.
pub struct Signed {
    /// The live session.
    pub session: ConsoleSession,
    /// The CSRF token, for the page's forms.
    pub csrf: String,
}

/// What the console's layout shows on every page: where the user is, who
/// they are, and the CSRF token its sign-out form posts.
pub struct Frame {
    /// The navigation entry of the page.
    pub section: &'static str,
    /// The CSRF token.
    pub csrf: String,
    /// The signed-in user's name.
    pub username: String,
}

impl Signed {
    /// The layout's part of a page in `section`.
    pub fn frame(&self, section: &'static str) -> Frame {
        Frame { section, csrf: self.csrf.clone(), username: self.session.username.clone() }
    }

    /// The signed-in user as the operations' actor, from `req`'s address.
    pub fn actor(&self, req: &HttpRequest, ctx: &ConsoleContext) -> Actor {
        self.session.actor(ctx.proxies.client_ip(req))
    }

    /// Whether `form` carries this session's CSRF token.
    pub fn posted_by_console(&self, form: &Posted) -> bool {
        self.session.csrf_matches(form.get("csrf").unwrap_or_default())
    }
}

/// The page for a form whose CSRF token does not match.
pub fn form_expired() -> Result<HttpResponse, PageError> {
    message(
        StatusCode::FORBIDDEN,
        "Form expired",
        "This form is no longer valid. Reload the page and try again.",
    )
}

/// The live session of a console page that needs `permission` (which
/// `what` names), or the response instead: the way to sign in, or a 403.
pub async fn require(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    permission: Permission,
    what: &str,
) -> Result<Result<Signed, HttpResponse>, PageError> {
    let signed = match current(req, ctx).await? {
        Ok(signed) => signed,
        Err(sign_in) => return Ok(Err(sign_in)),
    };
    if !signed.session.permissions.contains(&permission) {
        let text = format!("{what} needs the {} role.", permission.scope());
        return Ok(Err(message(StatusCode::FORBIDDEN, what, &text)?));
    }
    Ok(Ok(signed))
}

/// The live console session of `req`, or the redirect to sign in.
pub async fn current(
    req: &HttpRequest,
    ctx: &ConsoleContext,
) -> Result<Result<Signed, HttpResponse>, PageError> {
    let token = req.cookie(COOKIE).map(|c| c.value().to_owned());
    let session = match token {
        Some(token) => ctx.run(move |app| app.console_session(&token)).await?,
        None => None,
    };
    let csrf = req.cookie(CSRF_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    match session {
        Some(session) => Ok(Ok(Signed { session, csrf })),
        None => Ok(Err(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, super::sign_in::SIGN_IN_PATH))
            .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
            .finish())),
    }
}
