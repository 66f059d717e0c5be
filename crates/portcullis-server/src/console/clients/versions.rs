//! A client's versions: the timeline (who changed what, when), any two
//! versions side by side, and rollback to one after a confirmation that
//! shows what it would change. A version written meanwhile by someone
//! else, or one past the rollback window, is explained on the page.

use super::super::session::Frame;
use super::super::{refusal, refused, see_other, signed, Posted};
use super::diff::{rows, Row};
use super::edit::as_object;
use super::form::Words;
use super::{client_path, WHAT};
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::views::{message, render};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::clients::{ClientView, VersionView};
use portcullis_app::{Actor, App, AppError, Permission};

/// Two versions compared.
pub struct Compared {
    /// The older version.
    pub left: i64,
    /// The newer one.
    pub right: i64,
    /// Their members side by side.
    pub rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "console/versions.html")]
struct VersionsPage {
    frame: Frame,
    path: String,
    client: ClientView,
    versions: Vec<VersionView>,
    compared: Option<Compared>,
}

/// Versions `left` and `right` of `client_id`, side by side, labelled in `words`.
pub fn compare(
    (app, actor): (&App, &Actor),
    client_id: &str,
    (left, right): (i64, i64),
    words: Words,
) -> Result<Compared, AppError> {
    let configuration = |version| {
        app.client_version(actor, client_id, version)
            .map(|v| v.metadata.as_ref().map(as_object).unwrap_or_default())
    };
    let rows = rows(&configuration(left)?, &configuration(right)?, false, words);
    Ok(Compared { left, right, rows })
}

/// `GET /console/clients/{client_id}/versions?left=&right=`: the timeline;
/// by default the newest version compared with the one before.
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT);
    let client_id = path.into_inner();
    let params = Posted::query(&req);
    let chosen = |name| params.get(name).and_then(|v| v.parse::<i64>().ok());
    let (left, right) = (chosen("left"), chosen("right"));
    let actor = signed.actor(&req, &ctx);
    let found = ctx
        .run(move |app| {
            Ok((|| {
                let client = app.client(&actor, &client_id)?;
                let versions = app.client_versions(&actor, &client_id)?;
                let right = right.unwrap_or(client.version);
                let left = left.unwrap_or(right.saturating_sub(1).max(1));
                let compared = compare((app, &actor), &client_id, (left, right), Words::English)?;
                Ok::<_, AppError>((client, versions, compared))
            })())
        })
        .await?;
    let (client, versions, compared) = match found {
        Ok(found) => found,
        Err(error) => return refused("Versions", error),
    };
    let page = VersionsPage {
        frame: signed.frame("clients"),
        path: client_path(&client.client_id),
        client,
        versions,
        compared: Some(compared),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "console/rollback.html")]
struct RollbackPage {
    frame: Frame,
    path: String,
    client: ClientView,
    version: i64,
    rows: Vec<Row>,
    error: Option<String>,
}

/// The rollback confirmation for `version`, with `error` from a refused attempt.
async fn rollback_page(
    ctx: &ConsoleContext,
    frame: Frame,
    actor: Actor,
    client_id: String,
    version: i64,
    error: Option<(StatusCode, String)>,
) -> Result<HttpResponse, PageError> {
    let found = ctx
        .run(move |app| {
            Ok((|| {
                let client = app.client(&actor, &client_id)?;
                let compared = compare((app, &actor), &client_id, (client.version, version), Words::English)?;
                Ok::<_, AppError>((client, compared))
            })())
        })
        .await?;
    let (client, compared) = match found {
        Ok(found) => found,
        Err(error) => return refused("Roll back", error),
    };
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, e)| (s, Some(e)));
    let rows = compared.rows.into_iter().filter(|r| r.changed).collect();
    let page = RollbackPage { frame, path: client_path(&client.client_id), client, version, rows, error };
    render(status, &page)
}

/// `GET /console/clients/{client_id}/versions/{version}/rollback`: what
/// rolling back would change, and the button to do it.
pub async fn confirm_rollback(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT);
    let (client_id, version) = path.into_inner();
    let actor = signed.actor(&req, &ctx);
    rollback_page(&ctx, signed.frame("clients"), actor, client_id, version, None).await
}

/// `POST /console/clients/{client_id}/versions/{version}/rollback` with
/// `based_on`, the version the confirmation showed as current.
pub async fn roll_back(
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT, form);
    let (client_id, version) = path.into_inner();
    // The version the confirmation showed: never the current one by default,
    // or a change made meanwhile would be rolled over unseen.
    let Some(based_on) = form.get("based_on").and_then(|v| v.parse::<i64>().ok()) else {
        return message(
            StatusCode::BAD_REQUEST,
            "Roll back",
            "The form does not say which version it showed.",
        );
    };
    let actor = signed.actor(&req, &ctx);
    let (id, who) = (client_id.clone(), actor.clone());
    let done = ctx
        .run(move |app| {
            let done = app.roll_back_client(&who, &id, version, Some(based_on));
            // Stale only when the client moved on since the confirmation.
            let moved = matches!(done, Err(AppError::Conflict(_)))
                && app.client(&who, &id).is_ok_and(|c| c.version != based_on);
            Ok((done, moved))
        })
        .await?;
    match done {
        (Ok(client), _) => Ok(see_other(&format!("{}/versions", client_path(&client.client_id)))),
        (Err(error), stale) => {
            let (status, mut text) = refusal(error)?;
            if stale {
                text = format!(
                    "{text}. Nothing was rolled back. The page now shows what rolling back would change from the current version; confirm again if you still want it."
                );
            }
            rollback_page(&ctx, signed.frame("clients"), actor, client_id, version, Some((status, text)))
                .await
        }
    }
}
