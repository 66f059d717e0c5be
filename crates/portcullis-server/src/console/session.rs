//! The console session of a request: its cookie, and the CSRF token every
//! form of the console posts back (kept in a cookie of its own, and
//! compared with the session's hash of it).

use crate::authorization::Authorization;
use crate::pages::PageError;
use crate::session_cookie::{self, Scope};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use portcullis_app::console::{ConsoleSession, ABSOLUTE_TIMEOUT};

/// The console session's cookie.
pub const COOKIE: &str = "portcullis_console";
/// The cookie holding the console's CSRF token.
pub const CSRF_COOKIE: &str = "portcullis_console_csrf";

/// Where the console's session cookies go: only `/console`, and with no
/// request from another site.
const CONSOLE: Scope = Scope { path: "/console", same_site: SameSite::Strict };

/// A console session cookie, gone with the absolute timeout.
pub fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    let lifetime = ABSOLUTE_TIMEOUT.to_std().unwrap_or_default();
    session_cookie::scoped(name, value, secure, lifetime, CONSOLE)
}

/// A cookie that removes the console cookie `name`.
pub fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    session_cookie::scoped_removal(name, secure, CONSOLE)
}

/// The signed-in user of a console page, and the CSRF token its forms carry.
pub struct Signed {
    /// The live session.
    pub session: ConsoleSession,
    /// The CSRF token, for the page's forms.
    pub csrf: String,
}

/// The live console session of `req`, or the redirect to sign in.
pub async fn current(
    req: &HttpRequest,
    flow: &Authorization,
) -> Result<Result<Signed, HttpResponse>, PageError> {
    let token = req.cookie(COOKIE).map(|c| c.value().to_owned());
    let session = match token {
        Some(token) => flow.run(move |app| app.console_session(&token)).await?,
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
