//! The cookies of the login and consent pages: the session, and the CSRF
//! token of a pending interaction. Both `HttpOnly` and `SameSite=Lax`, and
//! `Secure` whenever the issuer is https.

use actix_web::cookie::{time, Cookie, SameSite};
use std::time::Duration;

/// The session cookie.
pub const SESSION: &str = "portcullis_session";
/// The CSRF cookie of the interaction in progress.
pub const CSRF: &str = "portcullis_csrf";
/// The CSRF cookie of the device verification page's form.
pub const DEVICE_CSRF: &str = "portcullis_device_csrf";
/// The device cookie: the accounts this browser signed in to
/// ([`portcullis_app::device_cookies`]).
pub use portcullis_app::device_cookies::DEVICE_COOKIE as DEVICE;

/// The device cookie set to `value`, kept as long as its newest entry counts.
pub fn device(value: String, secure: bool) -> Cookie<'static> {
    let lifetime = portcullis_app::device_cookies::DEVICE_LIFETIME.to_std().unwrap_or_default();
    cookie(DEVICE, value, secure, lifetime)
}

/// Where a cookie goes, and with which cross-site requests.
#[derive(Clone, Copy, Debug)]
pub struct Scope {
    /// The path it is sent to.
    pub path: &'static str,
    /// The requests from other sites it goes with.
    pub same_site: SameSite,
}

/// The login pages' cookies: every path, and top-level navigations from other sites.
pub const PAGES: Scope = Scope { path: "/", same_site: SameSite::Lax };

/// A cookie with this server's attributes.
pub fn cookie(name: &'static str, value: String, secure: bool, lifetime: Duration) -> Cookie<'static> {
    scoped(name, value, secure, lifetime, PAGES)
}

/// An `HttpOnly` cookie for `scope`, `Secure` when `secure`, kept for `lifetime`.
pub fn scoped(
    name: &'static str,
    value: String,
    secure: bool,
    lifetime: Duration,
    scope: Scope,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path(scope.path)
        .http_only(true)
        .secure(secure)
        .same_site(scope.same_site)
        .max_age(time::Duration::seconds(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX)))
        .finish()
}

/// A cookie that removes `name`.
pub fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    scoped_removal(name, secure, PAGES)
}

/// A cookie that removes `name` from `scope`.
pub fn scoped_removal(name: &'static str, secure: bool, scope: Scope) -> Cookie<'static> {
    let mut cookie = scoped(name, String::new(), secure, Duration::ZERO, scope);
    cookie.make_removal();
    cookie
}
