//! The cookies of the login and consent pages: the session, and the CSRF
//! token of a pending interaction. Both `HttpOnly` and `SameSite=Lax`, and
//! `Secure` whenever the issuer is https.

use actix_web::cookie::{time, Cookie, SameSite};
use std::time::Duration;

/// The session cookie.
pub const SESSION: &str = "portcullis_session";
/// The CSRF cookie of the interaction in progress.
pub const CSRF: &str = "portcullis_csrf";

/// A cookie with this server's attributes.
pub fn cookie(name: &'static str, value: String, secure: bool, lifetime: Duration) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX)))
        .finish()
}

/// A cookie that removes `name`.
pub fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    let mut cookie = cookie(name, String::new(), secure, Duration::ZERO);
    cookie.make_removal();
    cookie
}
