//! Webhook endpoints in the console: registered (the signing secret shown
//! once), changed, sent a test event, their delivery log, deleted after a
//! confirmation.

use super::super::session::Frame;
use super::super::{confirm_deletion, refusal, see_other, signed, Posted};
use super::{changed, refused, WHAT};
use crate::authorization::Authorization;
use crate::pages::PageError;
use crate::views::render;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::webhooks::{DeliveryView, WebhookInput, WebhookView};
use portcullis_app::Permission;

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
}

impl WebhookPage {
    /// The page of `webhook` as it is stored, with its `deliveries`, and its
    /// signing `secret` when it was just made.
    fn of(frame: Frame, webhook: WebhookView, deliveries: Vec<DeliveryView>, secret: Option<String>) -> Self {
        Self {
            frame,
            action: webhook_path(&webhook.webhook_id),
            url: webhook.url.clone(),
            description: webhook.description.clone(),
            events: webhook.events.join(" "),
            enabled: webhook.enabled,
            webhook: Some(webhook),
            deliveries,
            secret,
            error: None,
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

/// The form as posted, answered with why it was refused and its status.
fn again(
    frame: Frame,
    action: String,
    webhook: Option<WebhookView>,
    form: &Posted,
    (status, error): (StatusCode, String),
) -> Result<HttpResponse, PageError> {
    let page = WebhookPage {
        frame,
        action,
        webhook,
        url: form.text("url"),
        description: form.text("description"),
        events: form.text("events"),
        enabled: form.get("enabled").is_some(),
        deliveries: Vec::new(),
        secret: None,
        error: Some(error),
    };
    render(status, &page)
}

/// `GET /console/monitoring/webhooks/new`.
pub async fn new(req: HttpRequest, flow: web::Data<Authorization>) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, flow, Permission::Monitoring, WHAT);
    let page = WebhookPage {
        frame: signed.frame("monitoring"),
        action: "/console/monitoring/webhooks/new".into(),
        webhook: None,
        url: String::new(),
        description: String::new(),
        events: String::new(),
        enabled: true,
        deliveries: Vec::new(),
        secret: None,
        error: None,
    };
    render(StatusCode::OK, &page)
}

/// `POST /console/monitoring/webhooks/new`: the endpoint's page, its secret shown once.
pub async fn create(
    req: HttpRequest,
    form: Posted,
    flow: web::Data<Authorization>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, flow, Permission::Monitoring, WHAT, form);
    let actor = signed.actor(&req, &flow);
    let wanted = input(&form);
    match flow.run(move |app| Ok(app.create_webhook(&actor, wanted))).await? {
        Ok(created) => {
            let secret = Some(created.secret.expose().to_owned());
            let page = WebhookPage::of(signed.frame("monitoring"), created.webhook, Vec::new(), secret);
            render(StatusCode::OK, &page)
        }
        Err(error) => {
            let refused = refusal(error)?;
            again(signed.frame("monitoring"), "/console/monitoring/webhooks/new".into(), None, &form, refused)
        }
    }
}

/// `GET /console/monitoring/webhooks/{webhook_id}`: its form and delivery log.
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    flow: web::Data<Authorization>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, flow, Permission::Monitoring, WHAT);
    let actor = signed.actor(&req, &flow);
    let id = path.into_inner();
    let found = flow
        .run(move |app| {
            Ok(app.webhook(&actor, &id).and_then(|w| Ok((app.webhook_deliveries(&actor, &id, LOG)?, w))))
        })
        .await?;
    let (deliveries, webhook) = match found {
        Ok(found) => found,
        Err(error) => return refused("Webhook", error),
    };
    render(StatusCode::OK, &WebhookPage::of(signed.frame("monitoring"), webhook, deliveries, None))
}

/// `POST /console/monitoring/webhooks/{webhook_id}`: changes it.
pub async fn update(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    flow: web::Data<Authorization>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, flow, Permission::Monitoring, WHAT, form);
    let actor = signed.actor(&req, &flow);
    let (id, wanted) = (path.into_inner(), input(&form));
    let target = id.clone();
    let done = flow
        .run(move |app| {
            let done = app.update_webhook(&actor, &target, wanted);
            // The page shows the endpoint again, its controls with it.
            let current = done.is_err().then(|| app.webhook(&actor, &target).ok()).flatten();
            Ok((done, current))
        })
        .await?;
    match done {
        (Ok(webhook), _) => Ok(see_other(&webhook_path(&webhook.webhook_id))),
        (Err(error), current) => {
            let refused = refusal(error)?;
            again(signed.frame("monitoring"), webhook_path(&id), current, &form, refused)
        }
    }
}

/// `POST /console/monitoring/webhooks/{webhook_id}/test`: queues a test
/// event; the log shows its delivery.
pub async fn test(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    flow: web::Data<Authorization>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, flow, Permission::Monitoring, WHAT, form);
    let actor = signed.actor(&req, &flow);
    let id = path.into_inner();
    let target = id.clone();
    match flow.run(move |app| Ok(app.send_test_webhook(&actor, &target))).await? {
        Ok(_) => Ok(see_other(&webhook_path(&id))),
        Err(error) => refused("Webhook", error),
    }
}

/// `GET /console/monitoring/webhooks/{webhook_id}/delete`: asks first.
pub async fn confirm_delete(
    req: HttpRequest,
    path: web::Path<String>,
    flow: web::Data<Authorization>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, flow, Permission::Monitoring, WHAT);
    let text = "No more events are sent to it, and its delivery log is deleted with it.";
    confirm_deletion(signed.frame("monitoring"), "Delete the webhook endpoint", text, &webhook_path(&path))
}

/// `POST /console/monitoring/webhooks/{webhook_id}/delete`.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    flow: web::Data<Authorization>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, flow, Permission::Monitoring, WHAT, form);
    let id = path.into_inner();
    changed(&req, &flow, &signed, "Webhook", move |app, actor| app.delete_webhook(actor, &id)).await
}
