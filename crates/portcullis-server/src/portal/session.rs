//! The portal session of a request: its cookie, and the CSRF token every
//! form of the portal posts back (kept in a cookie of its own, and
//! compared with the session's hash of it).

use super::texts::{self, PortalTexts};
use crate::console::context::ConsoleContext;
use crate::console::Posted;
use crate::pages::PageError;
use crate::views::message_in;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use portcullis_app::portal::PortalSession;
use portcullis_app::Actor;

/// The portal session's cookie.
pub const COOKIE: &str = "portcullis_portal";
/// The cookie holding the portal's CSRF token.
pub const CSRF_COOKIE: &str = "portcullis_portal_csrf";

/// The signed-in user of a portal page, the CSRF token its forms carry,
/// and the words of their language.
pub struct Signed {
    /// The live session.
    pub session: PortalSession,
    /// The CSRF token, for the page's forms.
    pub csrf: String,
    /// The words.
    pub t: &'static PortalTexts,
}

/// What the portal's layout shows on every page.
pub struct Frame {
    /// The words.
    pub t: &'static PortalTexts,
    /// The CSRF token of its sign-out form.
    pub csrf: String,
    /// The signed-in user's name.
    pub username: String,
}

impl Signed {
    /// The layout's part of a page.
    pub fn frame(&self) -> Frame {
        Frame { t: self.t, csrf: self.csrf.clone(), username: self.session.username.clone() }
    }

    /// The signed-in user as the operations' actor, from `req`'s address.
    pub fn actor(&self, req: &HttpRequest, ctx: &ConsoleContext) -> Actor {
        self.session.actor(ctx.proxies.client_ip(req))
    }

    /// Whether `form` carries this session's CSRF token.
    pub fn posted_by_portal(&self, form: &Posted) -> bool {
        self.session.csrf_matches(form.get("csrf").unwrap_or_default())
    }

    /// The page for a form whose CSRF token does not match.
    pub fn form_expired(&self) -> Result<HttpResponse, PageError> {
        message_in(self.t.lang, StatusCode::FORBIDDEN, self.t.form_expired.0, self.t.form_expired.1)
    }
}

/// The live portal session of `req`, or the redirect to sign in and come
/// back to this page.
pub async fn current(
    req: &HttpRequest,
    ctx: &ConsoleContext,
) -> Result<Result<Signed, HttpResponse>, PageError> {
    let token = req.cookie(COOKIE).map(|c| c.value().to_owned());
    let session = match token {
        Some(token) => ctx.run(move |app| app.portal_session(&token)).await?,
        None => None,
    };
    let csrf = req.cookie(CSRF_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    match session {
        Some(session) => Ok(Ok(Signed { session, csrf, t: texts::of(req) })),
        None => {
            // A form posted after the session ended returns to the portal's home.
            let here = match req.query_string() {
                _ if req.method() != actix_web::http::Method::GET => super::sign_in::SITE.home.to_owned(),
                "" => req.path().to_owned(),
                query => format!("{}?{query}", req.path()),
            };
            let then =
                url::form_urlencoded::Serializer::new(String::new()).append_pair("then", &here).finish();
            Ok(Err(HttpResponse::SeeOther()
                .insert_header((header::LOCATION, format!("{}?{then}", super::sign_in::SIGN_IN_PATH)))
                .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
                .finish()))
        }
    }
}

/// The signed-in session of a portal page, or returns the way to sign in:
/// `signed!(req, ctx)`. With a posted `form` last, its CSRF token must be
/// the session's too (or the answer is the expired form's page).
macro_rules! signed {
    ($req:expr, $ctx:expr) => {
        match $crate::portal::session::current(&$req, &$ctx).await? {
            Ok(signed) => signed,
            Err(response) => return Ok(response),
        }
    };
    ($req:expr, $ctx:expr, $form:expr) => {{
        let signed = $crate::portal::session::signed!($req, $ctx);
        if !signed.posted_by_portal(&$form) {
            return signed.form_expired();
        }
        signed
    }};
}
pub(crate) use signed;
