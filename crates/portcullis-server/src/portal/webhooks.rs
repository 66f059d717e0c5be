//! A team's webhook endpoints in the portal: registered by its developers
//! (the signing secret shown once), each receiving what the team's members
//! read of the team's events, sent through the server's guarded outbound
//! client as the admins' are. Each endpoint's page shows its latest
//! deliveries, and sends a test event, turns it off or on, deletes it.

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
use portcullis_app::webhooks::{DeliveryView, WebhookInput, WebhookView};

/// Deliveries an endpoint's page lists.
const DELIVERIES: i64 = 50;

/// Where team `team_id`'s endpoints are listed.
fn list_path(team_id: &str) -> String {
    format!("/portal/teams/{}/webhooks", urlencoding(team_id))
}

/// Where endpoint `webhook_id`'s page is.
fn webhook_path(webhook_id: &str) -> String {
    format!("/portal/webhooks/{}", urlencoding(webhook_id))
}

#[derive(Template)]
#[template(path = "portal/webhooks.html")]
struct ListPage {
    frame: Frame,
    team_id: String,
    webhooks: Vec<WebhookView>,
    runs_hooks: bool,
}

/// `GET /portal/teams/{team_id}/webhooks`.
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
            Ok(app.team_webhooks(&actor, &team).and_then(|webhooks| {
                let (_, access) = app.team(&actor, &team)?;
                Ok((webhooks, super::runs_apps(&access)))
            }))
        })
        .await?;
    match read {
        Ok((webhooks, runs_hooks)) => {
            render(StatusCode::OK, &ListPage { frame: signed.frame(), team_id, webhooks, runs_hooks })
        }
        Err(refusal) => super::refused(&signed, signed.t.webhooks.title, refusal),
    }
}

/// `POST /portal/teams/{team_id}/webhooks` with a URL, events (one a line
/// or separated by spaces; none: every event the team receives) and a
/// description: the signing secret, shown once.
pub async fn create(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, form);
    let (actor, team_id) = (signed.actor(&req, &ctx), path.into_inner());
    let input = WebhookInput {
        url: Some(form.text("url")),
        description: Some(form.text("description")),
        events: Some(form.text("events").split_whitespace().map(str::to_owned).collect()),
        enabled: None,
    };
    let team = team_id.clone();
    match ctx.run(move |app| Ok(app.create_team_webhook(&actor, &team, input))).await? {
        Ok(created) => {
            shown_once::page(&signed, created.secret.expose(), &webhook_path(&created.webhook.webhook_id))
        }
        Err(refusal) => super::refused(&signed, signed.t.webhooks.title, refusal),
    }
}

#[derive(Template)]
#[template(path = "portal/webhook.html")]
struct WebhookPage {
    frame: Frame,
    webhook: WebhookView,
    deliveries: Vec<DeliveryView>,
    runs_hooks: bool,
    back: String,
}

/// `GET /portal/webhooks/{webhook_id}`: the endpoint and its latest deliveries.
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx);
    let (actor, id) = (signed.actor(&req, &ctx), path.into_inner());
    let read = ctx
        .run(move |app| {
            Ok((|| {
                let webhook = app.webhook(&actor, &id)?;
                let deliveries = app.webhook_deliveries(&actor, &id, DELIVERIES)?;
                let (_, access) = app.team(&actor, webhook.team_id.as_deref().unwrap_or_default())?;
                Ok::<_, portcullis_app::AppError>((webhook, deliveries, super::runs_apps(&access)))
            })())
        })
        .await?;
    match read {
        Ok((webhook, deliveries, runs_hooks)) => {
            let back = list_path(webhook.team_id.as_deref().unwrap_or_default());
            let page = WebhookPage { frame: signed.frame(), webhook, deliveries, runs_hooks, back };
            render(StatusCode::OK, &page)
        }
        Err(refusal) => super::refused(&signed, signed.t.webhooks.title, refusal),
    }
}

/// `POST /portal/webhooks/{webhook_id}/test`: a `webhook.test` event queued.
pub async fn test(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, form);
    let id = path.into_inner();
    let back = webhook_path(&id);
    super::changed((&req, &ctx, &signed), signed.t.webhooks.title, &back, move |app, actor| {
        app.send_test_webhook(actor, &id).map(drop)
    })
    .await
}

/// `POST /portal/webhooks/{webhook_id}/state` with `enabled` set or not.
pub async fn set_state(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, form);
    let id = path.into_inner();
    let (back, enabled) = (webhook_path(&id), form.get("enabled").is_some());
    super::changed((&req, &ctx, &signed), signed.t.webhooks.title, &back, move |app, actor| {
        let input = WebhookInput { enabled: Some(enabled), ..WebhookInput::default() };
        app.update_webhook(actor, &id, input).map(drop)
    })
    .await
}

/// `POST /portal/webhooks/{webhook_id}/delete` with `team`, the list to return to.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, form);
    let (id, back) = (path.into_inner(), list_path(&form.text("team")));
    super::changed((&req, &ctx, &signed), signed.t.webhooks.title, &back, move |app, actor| {
        app.delete_webhook(actor, &id)
    })
    .await
}
