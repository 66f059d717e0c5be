//! Pages rendered from askama templates (`templates/`, one layout for the
//! console and the sign-in steps built on it), and their stylesheet.
//!
//! askama compiles each template into the binary and checks it against its
//! struct at build time, escaping every value unless marked safe; it is the
//! maintained successor of askama/rinja, made for server-rendered HTML in
//! Rust. The pages load nothing from another origin, run no inline script
//! or style, and may not be framed: see [`CSP`].

use crate::pages::PageError;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;

/// The sign-in pages' Content-Security-Policy: their own stylesheet and
/// images (and inline `data:` images, and clients' logos over https), no script, no inline style, no
/// framing. Their forms end in a redirect to the client, which a
/// `form-action` would block, so they have none.
pub const SIGN_IN_CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' data: https:; frame-ancestors 'none'; base-uri 'none'";

/// The console's: the sign-in pages', forms posting only to this server,
/// and its one script (its own file, fetching only from this server).
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; \
                       connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Where the stylesheet is served.
pub const STYLESHEET_PATH: &str = "/assets/portcullis.css";

/// The stylesheet, embedded in the binary.
const STYLESHEET: &str = include_str!("../assets/portcullis.css");

/// `page` as an HTML response with `status` under the console's [`CSP`].
pub fn render(status: StatusCode, page: &impl Template) -> Result<HttpResponse, PageError> {
    Ok(html(status, page.render().map_err(PageError::failed)?, CSP))
}

/// An HTML document as a response with `status` under `csp`: never cached,
/// never framed, never sniffed, no referrer sent on.
pub fn html(status: StatusCode, document: String, csp: &'static str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .insert_header((header::CONTENT_SECURITY_POLICY, csp))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(document)
}

/// What every sign-in page's layout shows: its language's texts and the
/// server's brand.
#[derive(Clone, Copy)]
pub struct Chrome<'a> {
    /// The texts, in the language the browser prefers.
    pub t: &'static crate::locale::Texts,
    /// The brand.
    pub brand: &'a crate::branding::Branding,
}

impl Chrome<'static> {
    /// The layout where neither the request nor the configuration is at
    /// hand (an outage's page): English and the product's own name.
    pub fn fallback() -> Self {
        static DEFAULT: std::sync::LazyLock<crate::branding::Branding> =
            std::sync::LazyLock::new(crate::branding::Branding::default);
        Chrome { t: &crate::locale::EN, brand: &DEFAULT }
    }
}

/// A page that says one thing, with an optional link onwards.
#[derive(Template)]
#[template(path = "message.html")]
pub struct Message<'a> {
    /// Its heading.
    pub title: &'a str,
    /// What it says.
    pub text: &'a str,
    /// Whether it reports an error (announced to screen readers).
    pub error: bool,
    /// A link onwards: its target and its words.
    pub link: Option<(&'a str, &'a str)>,
    /// The language it is written in (BCP 47).
    pub lang: &'a str,
}

/// A [`Message`] in English as a response.
pub fn message(status: StatusCode, title: &str, text: &str) -> Result<HttpResponse, PageError> {
    message_in("en", status, title, text)
}

/// A [`Message`] in the language `lang` as a response.
pub fn message_in(
    lang: &str,
    status: StatusCode,
    title: &str,
    text: &str,
) -> Result<HttpResponse, PageError> {
    let error = status.is_client_error() || status.is_server_error();
    render(status, &Message { title, text, error, link: None, lang })
}

/// Where the icon is served.
pub const FAVICON_PATH: &str = "/assets/favicon.svg";

/// The icon, embedded in the binary.
const FAVICON: &str = include_str!("../assets/favicon.svg");

/// An embedded asset, cached for an hour.
fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(3600)]))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

/// Where the console's script is served.
pub const SCRIPT_PATH: &str = "/assets/console.js";

/// The console's script, embedded in the binary.
const SCRIPT: &str = include_str!("../assets/console.js");

/// `GET /assets/console.js`.
pub async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

/// `GET /assets/portcullis.css`.
pub async fn stylesheet() -> HttpResponse {
    asset("text/css; charset=utf-8", STYLESHEET)
}

/// `GET /assets/favicon.svg`.
pub async fn favicon() -> HttpResponse {
    asset("image/svg+xml", FAVICON)
}
