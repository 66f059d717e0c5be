//! `/admin/v1/alert-rules`: creating, reading, replacing and deleting alert rules
//! (see [`portcullis_app::alerts`]); each shows the subjects firing now.

use crate::admin::auth::Caller;
use crate::admin::body::json_object;
use crate::admin::error::AdminError;
use crate::admin::{json_ok, operation};
use crate::oauth_response::no_store;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::alerts::parse_rule;
use portcullis_app::App;

/// `POST /admin/v1/alert-rules` with `{"kind": …, parameters…, "description", "enabled"}`: 201.
pub async fn create(
    Caller(actor): Caller,
    req: HttpRequest,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let (rule, description, enabled) = parse_rule(json_object(&req, payload).await?)?;
    let created =
        operation(&app, move |app| app.create_alert_rule(&actor, rule, description, enabled)).await?;
    let mut response = HttpResponse::Created();
    no_store(&mut response);
    Ok(response.json(created))
}

/// `PUT /admin/v1/alert-rules/{rule_id}` with the body of a new rule.
pub async fn replace(
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let (rule, description, enabled) = parse_rule(json_object(&req, payload).await?)?;
    let rule_id = path.into_inner();
    let updated =
        operation(&app, move |app| app.update_alert_rule(&actor, &rule_id, rule, description, enabled))
            .await?;
    Ok(json_ok(updated))
}

/// `GET /admin/v1/alert-rules`.
pub async fn list(Caller(actor): Caller, app: web::Data<App>) -> Result<HttpResponse, AdminError> {
    let rules = operation(&app, move |app| app.alert_rules(&actor)).await?;
    Ok(json_ok(serde_json::json!({ "rules": rules })))
}

/// `GET /admin/v1/alert-rules/{rule_id}`.
pub async fn get(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    Ok(json_ok(operation(&app, move |app| app.alert_rule(&actor, &path)).await?))
}

/// `DELETE /admin/v1/alert-rules/{rule_id}`: 204.
pub async fn delete(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    operation(&app, move |app| app.delete_alert_rule(&actor, &path)).await?;
    Ok(HttpResponse::NoContent().finish())
}
