//! The console, at `/console`: server-rendered pages (see
//! [`crate::views`]) for admin users, one module per page group, each a thin
//! handler over the same application operations as the REST API, so the
//! two cannot disagree. Signing in goes through this server's own
//! authorization endpoint ([`sign_in`]); every page then runs as the
//! signed-in user ([`session`]).

pub mod audit;
pub mod chart;
pub mod clients;
pub mod context;
pub mod devices;
pub mod keys;
pub mod monitoring;
pub mod overview;
pub mod registration;
pub mod session;
pub mod sign_in;
pub mod teams;
pub mod unusual;
pub mod user_attributes;
pub mod users;

use crate::pages::PageError;
use actix_web::http::StatusCode;
use actix_web::web;
use portcullis_app::AppError;

/// The signed-in session of a console page that needs a permission, or
/// returns the handler's response instead (sign in, or 403):
/// `signed!(req, ctx, Permission::Clients, "Managing clients")`. With a
/// posted `form` last, its CSRF token must be the session's too (or the
/// answer is the expired form's page).
macro_rules! signed {
    ($req:expr, $ctx:expr, $permission:expr, $what:expr) => {
        match $crate::console::session::require(&$req, &$ctx, $permission, $what).await? {
            Ok(signed) => signed,
            Err(response) => return Ok(response),
        }
    };
    ($req:expr, $ctx:expr, $permission:expr, $what:expr, $form:expr) => {{
        let signed = $crate::console::signed!($req, $ctx, $permission, $what);
        if !signed.posted_by_console(&$form) {
            return $crate::console::session::form_expired();
        }
        signed
    }};
}
pub(crate) use signed;

/// A console form (or query string) as sent: its fields in order, a name
/// possibly repeated (check boxes). Unlike the OAuth endpoints' forms,
/// which RFC 6749 §3.2 keeps to one value a name.
#[derive(Default)]
pub struct Posted(Vec<(String, String)>);

impl Posted {
    /// The fields of an `application/x-www-form-urlencoded` body.
    pub fn parse(body: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    /// The fields of `req`'s query string.
    pub fn query(req: &actix_web::HttpRequest) -> Self {
        Self::parse(req.query_string().as_bytes())
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, trimmed; empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().trim().to_owned()
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }
}

/// The most a console form may carry: a client's configuration with its
/// keys fits many times over.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// A console form's body that was not read, answered with a page.
#[derive(Debug, thiserror::Error)]
#[error("{why}")]
pub struct FormRefused {
    why: crate::form::BodyRefusal,
    /// The language of the page: the portal's user's, or the console's English.
    lang: &'static str,
}

impl actix_web::ResponseError for FormRefused {
    fn status_code(&self) -> StatusCode {
        use crate::form::BodyRefusal;
        match self.why {
            BodyRefusal::NotForm => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            BodyRefusal::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            BodyRefusal::TooSlow => StatusCode::REQUEST_TIMEOUT,
            BodyRefusal::Unreadable => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        let (title, text) = match self.lang {
            "de" => crate::portal::texts::form_refused_in_german(&self.why),
            _ => ("Form not accepted", format!("The form was not accepted: {}.", self.why)),
        };
        crate::views::message_in(self.lang, self.status_code(), title, &text)
            .unwrap_or_else(|_| actix_web::HttpResponse::build(self.status_code()).finish())
    }
}

/// A console form, read as the OAuth endpoints read theirs (one
/// Content-Type, a size limit, a time limit) so that slow or large bodies
/// cannot hold the server, but with repeatable names.
impl actix_web::FromRequest for Posted {
    type Error = FormRefused;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, FormRefused>>>>;

    fn from_request(req: &actix_web::HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let body = crate::form::read_form_body(req, payload, MAX_FORM_BYTES);
        // The portal's pages speak the browser's language; the console's English.
        let portal = req.path().starts_with(crate::portal::sign_in::SITE.home);
        let lang = if portal { crate::portal::texts::of(req).lang } else { "en" };
        Box::pin(
            async move { body.await.map(|body| Self::parse(&body)).map_err(|why| FormRefused { why, lang }) },
        )
    }
}

/// An operation's refusal as a page shows it: its status and what to say.
/// A failure (storage, unreadable data) stays the pages' one error.
pub fn refusal(error: AppError) -> Result<(StatusCode, String), PageError> {
    let status = match &error {
        AppError::Forbidden(_) | AppError::Beyond(_) => StatusCode::FORBIDDEN,
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Invalid(_) | AppError::InvalidMetadata { .. } => StatusCode::BAD_REQUEST,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::Unavailable(_) | AppError::Corrupt(_) => return Err(error.into()),
    };
    Ok((status, error.to_string()))
}

/// A value shown this once (a password, an invitation link), with a copy
/// button and the way on.
#[derive(askama::Template)]
#[template(path = "console/shown_once.html")]
pub struct ShownOnce<'a> {
    /// The layout's part.
    pub frame: session::Frame,
    /// The heading.
    pub title: &'a str,
    /// What to do with it, now.
    pub warning: &'a str,
    /// The value.
    pub value: &'a str,
    /// Where Done leads.
    pub path: &'a str,
}

/// A page asking to confirm an action that cannot be undone.
#[derive(askama::Template)]
#[template(path = "console/confirm.html")]
pub struct Confirm<'a> {
    /// The layout's part.
    pub frame: session::Frame,
    /// The heading.
    pub title: &'a str,
    /// What the action does.
    pub text: &'a str,
    /// Where the confirmation posts.
    pub action: &'a str,
    /// The button's words.
    pub button: &'a str,
    /// Where Cancel leads.
    pub back: &'a str,
}

/// The confirmation before deleting what the page `back` shows: `title`,
/// what deleting does, and a form posting to `{back}/delete`.
pub fn confirm_deletion(
    frame: session::Frame,
    title: &str,
    text: &str,
    back: &str,
) -> Result<actix_web::HttpResponse, PageError> {
    let action = format!("{back}/delete");
    let page = Confirm { frame, title, text, action: &action, button: "Delete", back };
    crate::views::render(StatusCode::OK, &page)
}

/// An operation's refusal shown on its own page titled `title`, or the
/// pages' one error for a failure.
pub fn refused(title: &str, error: AppError) -> Result<actix_web::HttpResponse, PageError> {
    let (status, text) = refusal(error)?;
    crate::views::message(status, title, &text)
}

/// The signed-in user of one of the server's sites (the console, the
/// portal), as its handlers act for them and answer their refusals.
pub trait SignedIn {
    /// The user as the operations' actor, from `req`'s address.
    fn actor_of(&self, req: &actix_web::HttpRequest, ctx: &context::ConsoleContext) -> portcullis_app::Actor;

    /// An operation's refusal on a page titled `title`, or the pages' one
    /// error for a failure.
    fn refusal_page(&self, title: &str, error: AppError) -> Result<actix_web::HttpResponse, PageError>;
}

impl SignedIn for session::Signed {
    fn actor_of(&self, req: &actix_web::HttpRequest, ctx: &context::ConsoleContext) -> portcullis_app::Actor {
        self.actor(req, ctx)
    }

    fn refusal_page(&self, title: &str, error: AppError) -> Result<actix_web::HttpResponse, PageError> {
        refused(title, error)
    }
}

/// Runs the change `work` as the signed-in user, then on to `location`;
/// or its refusal on a page titled `title`.
pub async fn changed(
    (req, ctx, signed): (&actix_web::HttpRequest, &context::ConsoleContext, &impl SignedIn),
    title: &str,
    location: &str,
    work: impl FnOnce(&portcullis_app::App, &portcullis_app::Actor) -> Result<(), AppError> + Send + 'static,
) -> Result<actix_web::HttpResponse, PageError> {
    let actor = signed.actor_of(req, ctx);
    match ctx.run(move |app| Ok(work(app, &actor))).await? {
        Ok(()) => Ok(see_other(location)),
        Err(error) => signed.refusal_page(title, error),
    }
}

/// A redirect to `location` after a form was handled (POST, then GET).
pub fn see_other(location: &str) -> actix_web::HttpResponse {
    use actix_web::http::header;
    actix_web::HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
        .finish()
}

/// Mounts the console's pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    clients::configure(cfg);
    users::configure(cfg);
    monitoring::configure(cfg);
    registration::configure(cfg);
    user_attributes::configure(cfg);
    teams::configure(cfg);
    cfg.service(web::resource("/console").route(web::get().to(overview::show)))
        .service(web::resource("/console/overview/live").route(web::get().to(overview::show_live)))
        .service(web::resource("/console/keys").route(web::get().to(keys::show)))
        .service(web::resource("/console/devices").route(web::get().to(devices::show)))
        .service(
            web::resource("/console/keys/{action}/{subject}")
                .route(web::get().to(keys::confirm))
                .route(web::post().to(keys::act)),
        )
        .service(web::resource("/console/audit").route(web::get().to(audit::show)))
        .service(web::resource("/console/audit/export").route(web::get().to(audit::download)))
        .service(web::resource("/console/audit/verify").route(web::post().to(audit::verify)))
        .service(web::resource(sign_in::SIGN_IN_PATH).route(web::get().to(sign_in::start)))
        .service(
            web::resource(portcullis_app::console::CALLBACK_PATH).route(web::get().to(sign_in::callback)),
        )
        .service(web::resource(sign_in::SIGN_OUT_PATH).route(web::post().to(sign_in::sign_out)))
        .service(web::resource(sign_in::SIGNED_OUT_PATH).route(web::get().to(sign_in::signed_out)));
}
