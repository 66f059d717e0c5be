//! Webhook endpoints in the console: registered (the signing secret shown
//! once), changed, sent a test event, their delivery log, deleted after a
//! confirmation.

use super::super::session::Frame;
use super::super::{confirm_deletion, refusal, see_other, signed, Posted};
use super::{changed, refused, WHAT};
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::views::render;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::webhooks::{readable_events, DeliveryView, WebhookInput, WebhookView};
use portcullis_app::{Actor, Permission};

/// Deliveries the log shows.
const LOG: i64 = 50;

#[derive(Template)]
#[template(path = "console/webhook.html")]
struct WebhookPage {
    frame: Frame,
    action: String,
    webhook: Option<WebhookView>,
    url: String,
    description: String,
    events: String,
    enabled: bool,
    deliveries: Vec<DeliveryView>,
    secret: Option<String>,
    error: Option<String>,
    /// The events this admin's permissions read, so may select.
    pickable: Vec<&'static str>,
    /// Whether they are every event (so an empty selection may stand).
    picks_all: bool,
}

impl WebhookPage {
    /// An empty form posting to `action`, offering what `actor` may select.
    fn blank(frame: Frame, actor: &Actor, action: String) -> Self {
        let pickable = readable_events(actor);
        Self {
            frame,
            action,
            webhook: None,
            url: String::new(),
            description: String::new(),
            events: String::new(),
            enabled: true,
            deliveries: Vec::new(),
            secret: None,
            error: None,
            picks_all: actor.require(Permission::Audit).is_ok(),
            pickable,
        }
    }

    /// The page of `webhook` as it is stored, with its `deliveries`, and its
    /// signing `secret` when it was just made.
    fn of(
        frame: Frame,
        actor: &Actor,
        webhook: WebhookView,
        deliveries: Vec<DeliveryView>,
        secret: Option<String>,
    ) -> Self {
        let action = webhook_path(&webhook.webhook_id);
        Self {
            url: webhook.url.clone(),
            description: webhook.description.clone(),
            events: webhook.events.join(" "),
            enabled: webhook.enabled,
            webhook: Some(webhook),
            deliveries,
            secret,
            ..Self::blank(frame, actor, action)
        }
    }
}

/// `/console/monitoring/webhooks/{id}`.
fn webhook_path(id: &str) -> String {
    format!("/console/monitoring/webhooks/{}", super::urlencoding(id))
}

/// The endpoint the form describes.
fn input(form: &Posted) -> WebhookInput {
    WebhookInput {
        url: Some(form.text("url")),
        description: Some(form.text("description")),
        events: Some(form.text("events").split_whitespace().map(str::to_owned).collect()),
        enabled: Some(form.get("enabled").is_some()),
    }
}

/// The form as `actor` posted it, answered with why it was refused and its status.
fn again(
    frame: Frame,
    actor: &Actor,
    action: String,
    webhook: Option<WebhookView>,
    form: &Posted,
    (status, error): (StatusCode, String),
) -> Result<HttpResponse, PageError> {
    let page = WebhookPage {
        webhook,
        url: form.text("url"),
        description: form.text("description"),
        events: form.text("events"),
        enabled: form.get("enabled").is_some(),
        error: Some(error),
        ..WebhookPage::blank(frame, actor, action)
    };
    render(status, &page)
}

/// `GET /console/monitoring/webhooks/new`.
pub async fn new(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Monitoring, WHAT);
    let actor = signed.actor(&req, &ctx);
    let page =
        WebhookPage::blank(signed.frame("monitoring"), &actor, "/console/monitoring/webhooks/new".into());
    render(StatusCode::OK, &page)
}

/// `POST /console/monitoring/webhooks/new`: the endpoint's page, its secret shown once.
pub async fn create(
    req: HttpRequest,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Monitoring, WHAT, form);
    let actor = signed.actor(&req, &ctx);
    let (wanted, creator) = (input(&form), actor.clone());
    match ctx.run(move |app| Ok(app.create_webhook(&creator, wanted))).await? {
        Ok(created) => {
            let secret = Some(created.secret.expose().to_owned());
            let page =
                WebhookPage::of(signed.frame("monitoring"), &actor, created.webhook, Vec::new(), secret);
            render(StatusCode::OK, &page)
        }
        Err(error) => {
            let refused = refusal(error)?;
            let action = "/console/monitoring/webhooks/new".into();
            again(signed.frame("monitoring"), &actor, action, None, &form, refused)
        }
    }
}

/// `GET /console/monitoring/webhooks/{webhook_id}`: its form and delivery log.
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Monitoring, WHAT);
    let actor = signed.actor(&req, &ctx);
    let (id, reader) = (path.into_inner(), actor.clone());
    let found = ctx
        .run(move |app| {
            Ok(app.webhook(&reader, &id).and_then(|w| Ok((app.webhook_deliveries(&reader, &id, LOG)?, w))))
        })
        .await?;
    let (deliveries, webhook) = match found {
        Ok(found) => found,
        Err(error) => return refused("Webhook", error),
    };
    render(StatusCode::OK, &WebhookPage::of(signed.frame("monitoring"), &actor, webhook, deliveries, None))
}

/// `POST /console/monitoring/webhooks/{webhook_id}`: changes it.
pub async fn update(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Monitoring, WHAT, form);
    let actor = signed.actor(&req, &ctx);
    let (id, wanted, changer) = (path.into_inner(), input(&form), actor.clone());
    let target = id.clone();
    let done = ctx
        .run(move |app| {
            let done = app.update_webhook(&changer, &target, wanted);
            // The page shows the endpoint again, its controls with it.
            let current = done.is_err().then(|| app.webhook(&changer, &target).ok()).flatten();
            Ok((done, current))
        })
        .await?;
    match done {
        (Ok(webhook), _) => Ok(see_other(&webhook_path(&webhook.webhook_id))),
        (Err(error), current) => {
            let refused = refusal(error)?;
            again(signed.frame("monitoring"), &actor, webhook_path(&id), current, &form, refused)
        }
    }
}

/// `POST /console/monitoring/webhooks/{webhook_id}/test`: queues a test
/// event; the log shows its delivery.
pub async fn test(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Monitoring, WHAT, form);
    let actor = signed.actor(&req, &ctx);
    let id = path.into_inner();
    let target = id.clone();
    match ctx.run(move |app| Ok(app.send_test_webhook(&actor, &target))).await? {
        Ok(_) => Ok(see_other(&webhook_path(&id))),
        Err(error) => refused("Webhook", error),
    }
}

/// `GET /console/monitoring/webhooks/{webhook_id}/delete`: asks first.
pub async fn confirm_delete(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Monitoring, WHAT);
    let text = "No more events are sent to it, and its delivery log is deleted with it.";
    confirm_deletion(signed.frame("monitoring"), "Delete the webhook endpoint", text, &webhook_path(&path))
}

/// `POST /console/monitoring/webhooks/{webhook_id}/delete`.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Monitoring, WHAT, form);
    let id = path.into_inner();
    changed(&req, &ctx, &signed, "Webhook", move |app, actor| app.delete_webhook(actor, &id)).await
}
