//! Changing an app from the portal, in the console's two steps: the
//! builder posts to a review that shows the change as a diff, checked as
//! saving would check it within the team's policy (the scopes it would
//! leave waiting for an admin named), nothing written; saving then writes
//! the reviewed draft, based on the version the builder was opened at. A
//! version saved by someone else in between is explained and the draft
//! reviewed again against it: nothing typed is lost.

use super::apps::app_path;
use super::builder::{self, member_configuration, Built};
use super::session::{signed, Frame, Signed};
use crate::console::clients::diff::{rows, Row};
use crate::console::clients::edit::{as_object, reviewed, write, Reviewed, Written};
use crate::console::clients::form::Words;
use crate::console::context::ConsoleContext;
use crate::console::{refusal, see_other, Posted};
use crate::pages::PageError;
use crate::views::{message_in, render};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::clients::ClientView;
use portcullis_core::team::TeamPermission;
use serde_json::{Map, Value};

#[derive(Template)]
#[template(path = "portal/app_review.html")]
struct ReviewPage {
    frame: Frame,
    path: String,
    rows: Vec<Row>,
    waiting: Vec<String>,
    draft: String,
    based_on: i64,
    stale: Option<String>,
}

/// The app `client_id`, for `signed` to change (its team's developers),
/// or the page saying why not.
async fn found(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    signed: &Signed,
    client_id: String,
) -> Result<Result<ClientView, HttpResponse>, PageError> {
    let actor = signed.actor(req, ctx);
    let read = ctx
        .run(move |app| {
            Ok(app.client(&actor, &client_id).and_then(|client| {
                let team = client.team_id.as_deref().unwrap_or_default();
                app.team_for(&actor, team, TeamPermission::Apps).map(|_| client)
            }))
        })
        .await?;
    match read {
        Ok(client) => Ok(Ok(client)),
        Err(refusal) => super::refused(signed, signed.t.sections[0], refusal).map(Err),
    }
}

/// The builder for a change of `client` from version `based_on`.
fn form_page(
    signed: &Signed,
    client: &ClientView,
    configuration: &Map<String, Value>,
    based_on: i64,
    answer: (StatusCode, Vec<String>),
) -> Result<HttpResponse, PageError> {
    let built = Built::Change(&client.client_id, &client.metadata.client_name, based_on);
    builder::page(signed, built, configuration, answer)
}

/// `GET /portal/apps/{client_id}/edit`: the builder, filled.
pub async fn edit(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx);
    let client = match found(&req, &ctx, &signed, path.into_inner()).await? {
        Ok(client) => client,
        Err(page) => return Ok(page),
    };
    let configuration = as_object(&client.metadata);
    form_page(&signed, &client, &configuration, client.version, (StatusCode::OK, Vec::new()))
}

/// `POST /portal/apps/{client_id}/edit`: `step=review` from the builder,
/// `step=edit` back to it with the draft, `step=save` to write it.
pub async fn submit(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, form);
    let current = match found(&req, &ctx, &signed, path.into_inner()).await? {
        Ok(client) => client,
        Err(page) => return Ok(page),
    };
    let t = &signed.t.changes;
    // The version the builder showed: never the current one by default, or
    // a change made meanwhile would be overwritten unseen.
    let Some(based_on) = form.get("based_on").and_then(|v| v.parse::<i64>().ok()) else {
        return message_in(signed.t.lang, StatusCode::BAD_REQUEST, t.edit, t.unread[0]);
    };
    let draft = match form.get("draft") {
        Some(draft) => match serde_json::from_str::<Map<String, Value>>(draft) {
            Ok(draft) => draft,
            Err(_) => return message_in(signed.t.lang, StatusCode::BAD_REQUEST, t.edit, t.unread[1]),
        },
        None => {
            let (draft, problems) = member_configuration(as_object(&current.metadata), &form, &signed);
            if !problems.is_empty() {
                return form_page(&signed, &current, &draft, based_on, (StatusCode::BAD_REQUEST, problems));
            }
            draft
        }
    };
    match form.get("step") {
        Some("edit") => form_page(&signed, &current, &draft, based_on, (StatusCode::OK, Vec::new())),
        Some("save") => save(&req, &ctx, &signed, current, draft, based_on).await,
        _ => review(&req, &ctx, &signed, current, draft, based_on).await,
    }
}

/// The review of `draft` (made from version `based_on`) against `current`
/// ([`reviewed`]), in the user's language.
async fn review(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    signed: &Signed,
    current: ClientView,
    draft: Map<String, Value>,
    based_on: i64,
) -> Result<HttpResponse, PageError> {
    let (actor, words) = (signed.actor(req, ctx), Words::of(signed.t.lang));
    let (shown, checked) = (current.clone(), draft.clone());
    let done = ctx.run(move |app| Ok(reviewed((app, &actor), &shown, checked, based_on, words))).await?;
    let Reviewed { draft: rebased, checked, overlaps } = match done {
        Ok(reviewed) => reviewed,
        Err(error) => {
            let (status, text) = refusal(error)?;
            return form_page(signed, &current, &draft, based_on, (status, vec![text]));
        }
    };
    let t = &signed.t.changes;
    let stale = (based_on != current.version).then(|| match overlaps.is_empty() {
        true => t.stale[0].to_owned(),
        false => format!("{} {}: {}", t.stale[0], t.stale[1], overlaps.join(", ")),
    });
    let page = ReviewPage {
        frame: signed.frame(),
        path: app_path(&current.client_id),
        rows: rows(&as_object(&current.metadata), &as_object(&checked.metadata), true, words),
        waiting: checked.waiting,
        // What the member asked for: saving requests the waiting scopes again.
        draft: Value::Object(rebased).to_string(),
        based_on: current.version,
        stale,
    };
    render(if page.stale.is_some() { StatusCode::CONFLICT } else { StatusCode::OK }, &page)
}

/// Writes the reviewed `draft` as the version after `based_on`.
async fn save(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    signed: &Signed,
    current: ClientView,
    written: Map<String, Value>,
    based_on: i64,
) -> Result<HttpResponse, PageError> {
    match write(ctx, signed.actor(req, ctx), &current, written.clone(), based_on).await? {
        Written::Saved(client) => Ok(see_other(&app_path(&client.client_id))),
        // Someone else saved first: review the draft against their version.
        Written::Stale => review(req, ctx, signed, current, written, based_on).await,
        Written::Refused(error) => {
            let (status, text) = refusal(error)?;
            form_page(signed, &current, &written, based_on, (status, vec![text]))
        }
    }
}
