//! The portal's page of a user's personal access tokens for a team: made
//! here (shown once), listed with their last use, revoked. A team's owners
//! see and revoke every member's.

use super::session::{signed, Frame};
use super::shown_once;
use crate::console::clients::urlencoding;
use crate::console::context::ConsoleContext;
use crate::console::Posted;
use crate::pages::PageError;
use crate::views::render;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::personal_tokens::PersonalTokenView;
use portcullis_core::team::MAX_TOKEN_DAYS;

#[derive(Template)]
#[template(path = "portal/tokens.html")]
struct TokensPage {
    frame: Frame,
    team_id: String,
    tokens: Vec<PersonalTokenView>,
    most_days: u32,
    default_days: u32,
}

/// `GET /portal/teams/{team_id}/tokens`.
pub async fn list(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx);
    let (actor, team_id) = (signed.actor(&req, &ctx), path.into_inner());
    let team = team_id.clone();
    let read = ctx
        .run(move |app| {
            Ok(app.personal_tokens(&actor, &team).and_then(|tokens| {
                let (team, _) = app.team(&actor, &team)?;
                Ok((tokens, team.policy.max_token_lifetime_days.unwrap_or(MAX_TOKEN_DAYS)))
            }))
        })
        .await?;
    match read {
        Ok((tokens, most_days)) => {
            let default_days = most_days.min(30);
            render(
                StatusCode::OK,
                &TokensPage { frame: signed.frame(), team_id, tokens, most_days, default_days },
            )
        }
        Err(refusal) => super::refused(&signed, signed.t.sections[3], refusal),
    }
}

/// `POST /portal/teams/{team_id}/tokens` with a name, a scope and a
/// lifetime in days: the token, shown once.
pub async fn create(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, form);
    let (actor, team_id) = (signed.actor(&req, &ctx), path.into_inner());
    let (name, scope) = (form.text("name"), form.all("scope").join(" "));
    let days: u32 = form.text("days").parse().unwrap_or(0);
    let team = team_id.clone();
    match ctx.run(move |app| Ok(app.create_personal_token(&actor, &team, &name, &scope, days))).await? {
        Ok(made) => {
            shown_once::page(&signed, made.value.expose(), &format!("/portal/teams/{team_id}/tokens"))
        }
        Err(refusal) => super::refused(&signed, signed.t.sections[3], refusal),
    }
}

/// `POST /portal/tokens/{token_id}/revoke` with `team`, the page to return to.
pub async fn revoke(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, form);
    let (token_id, back) =
        (path.into_inner(), format!("/portal/teams/{}/tokens", urlencoding(&form.text("team"))));
    super::changed((&req, &ctx, &signed), signed.t.sections[3], &back, move |app, actor| {
        app.revoke_personal_token(actor, &token_id)
    })
    .await
}
