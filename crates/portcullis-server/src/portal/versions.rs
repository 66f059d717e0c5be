//! An app's versions in the portal: the timeline, any two side by side,
//! and rollback to one after a confirmation showing what it would change.
//! A member's rollback stays within the team's policy, as any change of
//! theirs does: what the policy holds back is left out, and a scope
//! needing approval waits for an admin.

use super::apps::app_path;
use super::session::{signed, Frame};
use crate::console::clients::diff::Row;
use crate::console::clients::form::Words;
use crate::console::clients::versions::{compare, Compared};
use crate::console::context::ConsoleContext;
use crate::console::{refusal, see_other, Posted};
use crate::pages::PageError;
use crate::views::{message_in, render};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::clients::{ClientView, VersionView};
use portcullis_app::{Actor, AppError};
use portcullis_core::team::TeamPermission;

#[derive(Template)]
#[template(path = "portal/versions.html")]
struct VersionsPage {
    frame: Frame,
    path: String,
    client: ClientView,
    versions: Vec<VersionView>,
    compared: Compared,
    runs_apps: bool,
}

/// `GET /portal/apps/{client_id}/versions?left=&right=`: the timeline; by
/// default the newest version compared with the one before.
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx);
    let (actor, client_id, words) = (signed.actor(&req, &ctx), path.into_inner(), Words::of(signed.t.lang));
    let params = Posted::query(&req);
    let chosen = |name| params.get(name).and_then(|v| v.parse::<i64>().ok());
    let (left, right) = (chosen("left"), chosen("right"));
    let found = ctx
        .run(move |app| {
            Ok((|| {
                let client = app.client(&actor, &client_id)?;
                let versions = app.client_versions(&actor, &client_id)?;
                let right = right.unwrap_or(client.version);
                let left = left.unwrap_or(right.saturating_sub(1).max(1));
                let compared = compare((app, &actor), &client_id, (left, right), words)?;
                let (_, access) = app.team(&actor, client.team_id.as_deref().unwrap_or_default())?;
                Ok::<_, AppError>((client, versions, compared, super::runs_apps(&access)))
            })())
        })
        .await?;
    match found {
        Ok((client, versions, compared, runs_apps)) => {
            let (frame, path) = (signed.frame(), app_path(&client.client_id));
            render(StatusCode::OK, &VersionsPage { frame, path, client, versions, compared, runs_apps })
        }
        Err(error) => super::refused(&signed, signed.t.changes.versions, error),
    }
}

#[derive(Template)]
#[template(path = "portal/rollback.html")]
struct RollbackPage {
    frame: Frame,
    path: String,
    client: ClientView,
    version: i64,
    rows: Vec<Row>,
    error: Option<String>,
}

/// The rollback confirmation for `version`, with `error` from a refused attempt.
async fn confirmation(
    (ctx, signed, actor): (&ConsoleContext, &super::session::Signed, Actor),
    client_id: String,
    version: i64,
    error: Option<(StatusCode, String)>,
) -> Result<HttpResponse, PageError> {
    let words = Words::of(signed.t.lang);
    let found = ctx
        .run(move |app| {
            Ok((|| {
                let client = app.client(&actor, &client_id)?;
                // Only the team's developers roll back: the page offers nothing to others.
                app.team_for(&actor, client.team_id.as_deref().unwrap_or_default(), TeamPermission::Apps)?;
                let compared = compare((app, &actor), &client_id, (client.version, version), words)?;
                Ok::<_, AppError>((client, compared))
            })())
        })
        .await?;
    let (client, compared) = match found {
        Ok(found) => found,
        Err(error) => return super::refused(signed, signed.t.changes.roll_back[0], error),
    };
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, e)| (s, Some(e)));
    let rows = compared.rows.into_iter().filter(|r| r.changed).collect();
    let (frame, path) = (signed.frame(), app_path(&client.client_id));
    render(status, &RollbackPage { frame, path, client, version, rows, error })
}

/// `GET /portal/apps/{client_id}/versions/{version}/rollback`: what
/// rolling back would change, and the button to do it.
pub async fn confirm_rollback(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx);
    let (client_id, version) = path.into_inner();
    let actor = signed.actor(&req, &ctx);
    confirmation((&ctx, &signed, actor), client_id, version, None).await
}

/// `POST /portal/apps/{client_id}/versions/{version}/rollback` with
/// `based_on`, the version the confirmation showed as current.
pub async fn roll_back(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, form);
    let (client_id, version) = path.into_inner();
    let t = &signed.t.changes;
    // The version the confirmation showed: never the current one by
    // default, or a change made meanwhile would be rolled over unseen.
    let Some(based_on) = form.get("based_on").and_then(|v| v.parse::<i64>().ok()) else {
        return message_in(signed.t.lang, StatusCode::BAD_REQUEST, t.roll_back[0], t.unread[0]);
    };
    let actor = signed.actor(&req, &ctx);
    let (id, who) = (client_id.clone(), actor.clone());
    let done = ctx.run(move |app| Ok(app.roll_back_client(&who, &id, version, Some(based_on)))).await?;
    match done {
        Ok(client) => Ok(see_other(&format!("{}/versions", app_path(&client.client_id)))),
        Err(error) => {
            let (status, text) = refusal(error)?;
            confirmation((&ctx, &signed, actor), client_id, version, Some((status, text))).await
        }
    }
}
