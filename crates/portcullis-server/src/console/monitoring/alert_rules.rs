//! Alert rules in the console: created and edited with a form (the kind,
//! its parameters as the REST API's JSON, a description, whether it is
//! checked), deleted after a confirmation.

use super::super::session::Frame;
use super::super::{confirm_deletion, refusal, see_other, signed, Posted};
use super::{changed, refused, WHAT};
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::views::render;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::alerts::parse_rule;
use portcullis_app::{AppError, Permission};
use serde_json::{Map, Value};

/// The kinds a rule may be, as the form offers them.
const KINDS: [&str; 8] = [
    "error_rate",
    "auth_failures",
    "login_failures",
    "outside_cidrs",
    "outside_countries",
    "consecutive_failures",
    "malformed_requests",
    "anomaly",
];

#[derive(Template)]
#[template(path = "console/alert_rule.html")]
struct RuleForm {
    frame: Frame,
    action: String,
    rule_id: Option<String>,
    kind: String,
    kinds: [&'static str; 8],
    parameters: String,
    description: String,
    enabled: bool,
    firing: Vec<(String, String)>,
    error: Option<String>,
}

/// The form's rule as the REST API's body.
fn body(form: &Posted) -> Result<Map<String, Value>, AppError> {
    let parameters = match form.text("parameters") {
        text if text.is_empty() => Map::new(),
        text => match serde_json::from_str(&text) {
            Ok(Value::Object(map)) => map,
            _ => {
                return Err(AppError::Invalid(
                    "the parameters are a JSON object, such as {\"per_minute\": 50}".into(),
                ))
            }
        },
    };
    let mut body = parameters;
    body.insert("kind".into(), Value::String(form.text("kind")));
    body.insert("description".into(), Value::String(form.text("description")));
    body.insert("enabled".into(), Value::Bool(form.get("enabled").is_some()));
    Ok(body)
}

/// The form as `form` posted it, answered with why it was refused and its status.
fn again(
    frame: Frame,
    action: String,
    rule_id: Option<String>,
    form: &Posted,
    (status, error): (StatusCode, String),
) -> Result<HttpResponse, PageError> {
    let page = RuleForm {
        frame,
        action,
        rule_id,
        kind: form.text("kind"),
        kinds: KINDS,
        parameters: form.text("parameters"),
        description: form.text("description"),
        enabled: form.get("enabled").is_some(),
        firing: Vec::new(),
        error: Some(error),
    };
    render(status, &page)
}

/// `GET /console/monitoring/alert-rules/new`.
pub async fn new(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Monitoring, WHAT);
    let page = RuleForm {
        frame: signed.frame("monitoring"),
        action: "/console/monitoring/alert-rules/new".into(),
        rule_id: None,
        kind: KINDS[0].into(),
        kinds: KINDS,
        parameters: "{\"threshold_percent\": 5, \"window_minutes\": 5}".into(),
        description: String::new(),
        enabled: true,
        firing: Vec::new(),
        error: None,
    };
    render(StatusCode::OK, &page)
}

/// `POST /console/monitoring/alert-rules/new`.
pub async fn create(
    req: HttpRequest,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Monitoring, WHAT, form);
    let actor = signed.actor(&req, &ctx);
    let wanted = body(&form);
    let done = ctx
        .run(move |app| {
            Ok(wanted.and_then(parse_rule).and_then(|(rule, description, enabled)| {
                app.create_alert_rule(&actor, rule, description, enabled)
            }))
        })
        .await?;
    match done {
        Ok(_) => Ok(see_other("/console/monitoring")),
        Err(error) => {
            let refused = refusal(error)?;
            again(
                signed.frame("monitoring"),
                "/console/monitoring/alert-rules/new".into(),
                None,
                &form,
                refused,
            )
        }
    }
}

/// `/console/monitoring/alert-rules/{id}`.
fn rule_path(rule_id: &str) -> String {
    format!("/console/monitoring/alert-rules/{}", super::urlencoding(rule_id))
}

/// `GET /console/monitoring/alert-rules/{rule_id}`: the rule, what fires, and its form.
pub async fn edit(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Monitoring, WHAT);
    let actor = signed.actor(&req, &ctx);
    let rule_id = path.into_inner();
    let id = rule_id.clone();
    let rule = match ctx.run(move |app| Ok(app.alert_rule(&actor, &id))).await? {
        Ok(rule) => rule,
        Err(error) => return refused("Alert rule", error),
    };
    let mut parameters = match serde_json::to_value(&rule.rule) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let kind = parameters.remove("kind").and_then(|k| k.as_str().map(str::to_owned)).unwrap_or_default();
    let page = RuleForm {
        frame: signed.frame("monitoring"),
        action: rule_path(&rule_id),
        rule_id: Some(rule_id),
        kind,
        kinds: KINDS,
        parameters: Value::Object(parameters).to_string(),
        description: rule.description,
        enabled: rule.enabled,
        firing: rule.firing.into_iter().collect(),
        error: None,
    };
    render(StatusCode::OK, &page)
}

/// `POST /console/monitoring/alert-rules/{rule_id}`: replaces the rule.
pub async fn update(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Monitoring, WHAT, form);
    let rule_id = path.into_inner();
    let actor = signed.actor(&req, &ctx);
    let (wanted, id) = (body(&form), rule_id.clone());
    let done = ctx
        .run(move |app| {
            Ok(wanted.and_then(parse_rule).and_then(|(rule, description, enabled)| {
                app.update_alert_rule(&actor, &id, rule, description, enabled)
            }))
        })
        .await?;
    match done {
        Ok(_) => Ok(see_other("/console/monitoring")),
        Err(error) => {
            let refused = refusal(error)?;
            again(signed.frame("monitoring"), rule_path(&rule_id), Some(rule_id), &form, refused)
        }
    }
}

/// `GET /console/monitoring/alert-rules/{rule_id}/delete`: asks first.
pub async fn confirm_delete(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Monitoring, WHAT);
    let text = "The rule is no longer checked; what it fires for is forgotten, not resolved.";
    confirm_deletion(signed.frame("monitoring"), "Delete the alert rule", text, &rule_path(&path))
}

/// `POST /console/monitoring/alert-rules/{rule_id}/delete`.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Monitoring, WHAT, form);
    let id = path.into_inner();
    changed(&req, &ctx, &signed, "Alert rule", move |app, actor| app.delete_alert_rule(actor, &id)).await
}
