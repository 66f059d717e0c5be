//! `/admin/v1/webhooks`: registering endpoints (the signing secret shown
//! once), changing and deleting them, their delivery log, and a test event.
//! Deliveries themselves are [`crate::webhook_sender`]'s.

use crate::admin::auth::Caller;
use crate::admin::body::json_of;
use crate::admin::error::AdminError;
use crate::admin::{json_ok, number_param, operation, query};
use crate::oauth_response::no_store;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::webhooks::WebhookInput;
use portcullis_app::App;

/// The most deliveries one page of the log holds.
const MAX_DELIVERIES: i64 = 200;

/// The body as a [`WebhookInput`].
async fn input(req: &HttpRequest, payload: web::Payload) -> Result<WebhookInput, AdminError> {
    json_of(req, payload, "a webhook").await
}

/// `POST /admin/v1/webhooks` with `{"url", "events", "description",
/// "enabled"}`: 201 with the endpoint and its `secret`, shown this once.
pub async fn create(
    Caller(actor): Caller,
    req: HttpRequest,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let input = input(&req, payload).await?;
    let created = operation(&app, move |app| app.create_webhook(&actor, input)).await?;
    Ok(created_response(created))
}

/// 201 with the endpoint and its `secret`, shown this once.
fn created_response(created: portcullis_app::webhooks::CreatedWebhook) -> HttpResponse {
    let mut body = serde_json::to_value(&created.webhook).unwrap_or_default();
    body["secret"] = created.secret.expose().into();
    let mut response = HttpResponse::Created();
    no_store(&mut response);
    response.json(body)
}

/// `POST /portal/v1/teams/{team_id}/webhooks` with the body of [`create`]:
/// an endpoint of the team, receiving what its members read of the
/// team's events.
pub async fn create_in_team(
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let input = input(&req, payload).await?;
    let created = operation(&app, move |app| app.create_team_webhook(&actor, &path, input)).await?;
    Ok(created_response(created))
}

/// `GET /portal/v1/teams/{team_id}/webhooks`: the team's endpoints.
pub async fn of_team(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let webhooks = operation(&app, move |app| app.team_webhooks(&actor, &path)).await?;
    Ok(json_ok(serde_json::json!({ "webhooks": webhooks })))
}

/// `GET /admin/v1/webhooks`.
pub async fn list(Caller(actor): Caller, app: web::Data<App>) -> Result<HttpResponse, AdminError> {
    let webhooks = operation(&app, move |app| app.webhooks(&actor)).await?;
    Ok(json_ok(serde_json::json!({ "webhooks": webhooks })))
}

/// `GET /admin/v1/webhooks/{webhook_id}`.
pub async fn get(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    Ok(json_ok(operation(&app, move |app| app.webhook(&actor, &path)).await?))
}

/// `PATCH /admin/v1/webhooks/{webhook_id}`: the members sent change.
pub async fn update(
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let input = input(&req, payload).await?;
    Ok(json_ok(operation(&app, move |app| app.update_webhook(&actor, &path, input)).await?))
}

/// `DELETE /admin/v1/webhooks/{webhook_id}`: 204, its deliveries gone too.
pub async fn delete(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    operation(&app, move |app| app.delete_webhook(&actor, &path)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /admin/v1/webhooks/{webhook_id}/test`: 202 with the queued delivery.
pub async fn test(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let delivery = operation(&app, move |app| app.send_test_webhook(&actor, &path)).await?;
    let mut response = HttpResponse::Accepted();
    no_store(&mut response);
    Ok(response.json(delivery))
}

/// `GET /admin/v1/webhooks/{webhook_id}/deliveries?limit=…`: newest first.
pub async fn deliveries(
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let limit = number_param(&query(&req)?, "limit", 50, 1..=MAX_DELIVERIES)?;
    let deliveries = operation(&app, move |app| app.webhook_deliveries(&actor, &path, limit)).await?;
    Ok(json_ok(serde_json::json!({ "deliveries": deliveries })))
}
