//! The developer portal, at `/portal`: where a team's members run their
//! own apps within the policy admins set. Server-rendered pages (English
//! and German, [`texts`]; every form works without script and posts a
//! CSRF token) and a REST API ([`api`]), both adapters over the same
//! application operations as the admin API and the console. Signing in goes
//! through this server's own authorization endpoint ([`sign_in`]) with the
//! portal's reserved client.

pub mod api;
pub mod apps;
pub mod builder;
pub mod changes;
pub mod session;
pub mod shown_once;
pub mod sign_in;
pub mod teams;
pub mod texts;
pub mod tokens;
pub mod usage;
pub mod versions;
pub mod webhooks;

use crate::admin::routes::Verb;
use crate::admin::teams::JOIN_PATH;
pub use crate::console::changed;
use crate::pages::PageError;
use actix_web::{web, HttpResponse};
use portcullis_app::AppError;
use portcullis_core::team::TeamPermission;

/// An operation's refusal on a page titled `title`, in the signed-in
/// user's language (the reason as the application layer says it), or the
/// pages' one error for a failure.
pub fn refused(signed: &session::Signed, title: &str, error: AppError) -> Result<HttpResponse, PageError> {
    let (status, text) = crate::console::refusal(error)?;
    crate::views::message_in(signed.t.lang, status, title, &text)
}

/// What a page needs of its signed-in user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Nothing more: the user's own teams, joining one.
    SignedIn,
    /// This permission in the team the page is about (an app's, an
    /// endpoint's, a token's), as the user's role there grants it: to
    /// anyone else in no such team the page's subject does not exist.
    Team(TeamPermission),
}

/// A page of the portal: how it is called, what it needs, its handler.
pub struct Page {
    /// Its method.
    pub verb: Verb,
    /// Its path.
    pub path: &'static str,
    /// What its user needs.
    pub needs: Needs,
    /// Its handler.
    pub route: fn() -> actix_web::Route,
}

macro_rules! page {
    ($verb:ident, $path:expr, $needs:expr, $handler:path) => {
        Page {
            verb: Verb::$verb,
            path: $path,
            needs: $needs,
            route: || crate::admin::routes::route!(@method $verb).to($handler),
        }
    };
}

const READ: Needs = Needs::Team(TeamPermission::Read);
const APPS: Needs = Needs::Team(TeamPermission::Apps);
const MEMBERS: Needs = Needs::Team(TeamPermission::Members);

/// The portal's pages behind its sign-in, in mounting order. Acting on
/// another member (their role, their token) needs the owner's role,
/// whatever one's own.
pub const PAGES: [Page; 30] = [
    page!(Get, "/portal", Needs::SignedIn, teams::home),
    page!(Get, JOIN_PATH, Needs::SignedIn, teams::join_form),
    page!(Post, JOIN_PATH, Needs::SignedIn, teams::join),
    page!(Get, "/portal/teams/{team_id}", READ, teams::team),
    page!(Post, "/portal/teams/{team_id}/regenerate", APPS, apps::regenerate),
    page!(Post, "/portal/teams/{team_id}/invitations", MEMBERS, teams::invite),
    page!(Post, "/portal/teams/{team_id}/settings", MEMBERS, teams::tighten),
    page!(
        Post,
        "/portal/teams/{team_id}/invitations/{invitation_id}/withdraw",
        MEMBERS,
        teams::withdraw_invitation
    ),
    page!(Post, "/portal/teams/{team_id}/members/{user_id}", MEMBERS, teams::member),
    page!(Get, "/portal/teams/{team_id}/tokens", READ, tokens::list),
    page!(Post, "/portal/teams/{team_id}/tokens", READ, tokens::create),
    page!(Post, "/portal/tokens/{token_id}/revoke", MEMBERS, tokens::revoke),
    page!(Get, "/portal/teams/{team_id}/webhooks", READ, webhooks::list),
    page!(Post, "/portal/teams/{team_id}/webhooks", APPS, webhooks::create),
    page!(Get, "/portal/webhooks/{webhook_id}", READ, webhooks::show),
    page!(Post, "/portal/webhooks/{webhook_id}/test", APPS, webhooks::test),
    page!(Post, "/portal/webhooks/{webhook_id}/state", APPS, webhooks::set_state),
    page!(Post, "/portal/webhooks/{webhook_id}/delete", APPS, webhooks::delete),
    page!(Get, "/portal/teams/{team_id}/apps/new", APPS, apps::new),
    page!(Post, "/portal/teams/{team_id}/apps/new", APPS, apps::create),
    page!(Get, "/portal/apps/{client_id}", READ, apps::show),
    page!(Get, "/portal/apps/{client_id}/usage", READ, usage::show),
    page!(Get, "/portal/apps/{client_id}/edit", APPS, changes::edit),
    page!(Post, "/portal/apps/{client_id}/edit", APPS, changes::submit),
    page!(Get, "/portal/apps/{client_id}/versions", READ, versions::show),
    page!(Get, "/portal/apps/{client_id}/versions/{version}/rollback", APPS, versions::confirm_rollback),
    page!(Post, "/portal/apps/{client_id}/versions/{version}/rollback", APPS, versions::roll_back),
    page!(Post, "/portal/apps/{client_id}/secrets", APPS, apps::add_secret),
    page!(Post, "/portal/apps/{client_id}/secrets/{secret_id}/revoke", APPS, apps::revoke_secret),
    page!(Post, "/portal/apps/{client_id}/scope-request/withdraw", APPS, apps::withdraw_scope_request),
];

/// Whether `access` to a team runs its apps (and webhooks): an admin, or
/// a member from developers up.
pub fn runs_apps(access: &portcullis_app::teams::TeamAccess) -> bool {
    match access {
        portcullis_app::teams::TeamAccess::Admin => true,
        portcullis_app::teams::TeamAccess::Member(role) => role.grants(TeamPermission::Apps),
    }
}

/// Mounts the portal's sign-in and its pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(sign_in::SIGN_IN_PATH).route(web::get().to(sign_in::start)))
        .service(web::resource(portcullis_app::portal::CALLBACK_PATH).route(web::get().to(sign_in::callback)))
        .service(web::resource(sign_in::SIGN_OUT_PATH).route(web::post().to(sign_in::sign_out)))
        .service(web::resource(sign_in::SIGNED_OUT_PATH).route(web::get().to(sign_in::signed_out)));
    let table: Vec<_> = PAGES.iter().map(|page| (page.path, page.verb, page.route)).collect();
    for resource in crate::admin::routes::resources(&table) {
        cfg.service(resource);
    }
}

impl crate::console::SignedIn for session::Signed {
    fn actor_of(
        &self,
        req: &actix_web::HttpRequest,
        ctx: &crate::console::context::ConsoleContext,
    ) -> portcullis_app::Actor {
        self.actor(req, ctx)
    }

    fn refusal_page(&self, title: &str, error: AppError) -> Result<HttpResponse, PageError> {
        refused(self, title, error)
    }
}
