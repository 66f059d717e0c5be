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

pub use crate::console::changed;
use crate::pages::PageError;
use actix_web::{web, HttpResponse};
use portcullis_app::AppError;

/// An operation's refusal on a page titled `title`, in the signed-in
/// user's language (the reason as the application layer says it), or the
/// pages' one error for a failure.
pub fn refused(signed: &session::Signed, title: &str, error: AppError) -> Result<HttpResponse, PageError> {
    let (status, text) = crate::console::refusal(error)?;
    crate::views::message_in(signed.t.lang, status, title, &text)
}

/// Mounts the portal's pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/portal").route(web::get().to(teams::home)))
        .service(web::resource(sign_in::SIGN_IN_PATH).route(web::get().to(sign_in::start)))
        .service(web::resource(portcullis_app::portal::CALLBACK_PATH).route(web::get().to(sign_in::callback)))
        .service(web::resource(sign_in::SIGN_OUT_PATH).route(web::post().to(sign_in::sign_out)))
        .service(web::resource(sign_in::SIGNED_OUT_PATH).route(web::get().to(sign_in::signed_out)))
        .service(
            web::resource(crate::admin::teams::JOIN_PATH)
                .route(web::get().to(teams::join_form))
                .route(web::post().to(teams::join)),
        )
        .service(web::resource("/portal/teams/{team_id}").route(web::get().to(teams::team)))
        .service(web::resource("/portal/teams/{team_id}/regenerate").route(web::post().to(apps::regenerate)))
        .service(web::resource("/portal/teams/{team_id}/invitations").route(web::post().to(teams::invite)))
        .service(
            web::resource("/portal/teams/{team_id}/invitations/{invitation_id}/withdraw")
                .route(web::post().to(teams::withdraw_invitation)),
        )
        .service(
            web::resource("/portal/teams/{team_id}/members/{user_id}").route(web::post().to(teams::member)),
        )
        .service(
            web::resource("/portal/teams/{team_id}/tokens")
                .route(web::get().to(tokens::list))
                .route(web::post().to(tokens::create)),
        )
        .service(web::resource("/portal/tokens/{token_id}/revoke").route(web::post().to(tokens::revoke)))
        .service(
            web::resource("/portal/teams/{team_id}/webhooks")
                .route(web::get().to(webhooks::list))
                .route(web::post().to(webhooks::create)),
        )
        .service(web::resource("/portal/webhooks/{webhook_id}").route(web::get().to(webhooks::show)))
        .service(web::resource("/portal/webhooks/{webhook_id}/test").route(web::post().to(webhooks::test)))
        .service(
            web::resource("/portal/webhooks/{webhook_id}/state").route(web::post().to(webhooks::set_state)),
        )
        .service(
            web::resource("/portal/webhooks/{webhook_id}/delete").route(web::post().to(webhooks::delete)),
        )
        .service(
            web::resource("/portal/teams/{team_id}/apps/new")
                .route(web::get().to(apps::new))
                .route(web::post().to(apps::create)),
        )
        .service(web::resource("/portal/apps/{client_id}").route(web::get().to(apps::show)))
        .service(web::resource("/portal/apps/{client_id}/usage").route(web::get().to(usage::show)))
        .service(
            web::resource("/portal/apps/{client_id}/edit")
                .route(web::get().to(changes::edit))
                .route(web::post().to(changes::submit)),
        )
        .service(web::resource("/portal/apps/{client_id}/versions").route(web::get().to(versions::show)))
        .service(
            web::resource("/portal/apps/{client_id}/versions/{version}/rollback")
                .route(web::get().to(versions::confirm_rollback))
                .route(web::post().to(versions::roll_back)),
        )
        .service(web::resource("/portal/apps/{client_id}/secrets").route(web::post().to(apps::add_secret)))
        .service(
            web::resource("/portal/apps/{client_id}/secrets/{secret_id}/revoke")
                .route(web::post().to(apps::revoke_secret)),
        )
        .service(
            web::resource("/portal/apps/{client_id}/scope-request/withdraw")
                .route(web::post().to(apps::withdraw_scope_request)),
        );
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
