//! `/console/monitoring`: usage, alert rules, remediations, webhooks and
//! compliance in the console, as the signed-in user (`admin:monitoring`).
//! The index shows the busiest clients (each with its usage charts), the
//! alert rules and what fires, what rules did to clients (undone here, with
//! `admin:clients`), the webhook endpoints and the compliance templates;
//! each has its pages in a module of its own, over the REST API's operations.

pub mod alert_rules;
pub mod compliance;
pub mod webhooks;

use super::chart::Chart;
use super::clients::{client_path, urlencoding};
use super::session::Frame;
use super::unusual::{baseline_chart, Flagged, Language};
use super::{refused, signed, Posted};
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::views::render;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::TimeDelta;
use portcullis_app::alerts::RuleView;
use portcullis_app::compliance::TEMPLATES;
use portcullis_app::remediation::RemediationView;
use portcullis_app::usage::{ClientTotals, UsageRange};
use portcullis_app::webhooks::WebhookView;
use portcullis_app::{AppError, Permission};

/// What a page says monitoring needs.
pub const WHAT: &str = "Monitoring";

/// A client among the busiest, with the link to its usage.
struct Busy {
    path: String,
    totals: ClientTotals,
    error_rate: String,
}

#[derive(Template)]
#[template(path = "console/monitoring.html")]
struct IndexPage {
    frame: Frame,
    team: Option<String>,
    busiest: Vec<Busy>,
    rules: Vec<RuleView>,
    remediations: Vec<RemediationView>,
    webhooks: Vec<WebhookView>,
    templates: Vec<(&'static str, &'static str)>,
}

/// `GET /console/monitoring?team=…`: with `team`, the busiest clients of
/// that team.
pub async fn index(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Monitoring, WHAT);
    let actor = signed.actor(&req, &ctx);
    let team = Posted::query(&req).get("team").filter(|team| !team.is_empty()).map(str::to_owned);
    let of_team = team.clone();
    let (summary, rules, remediations, webhooks) = ctx
        .run(move |app| {
            let range = UsageRange::new(None, None, None, TimeDelta::days(1), app.now())?;
            let summary = app.usage_summary(&actor, range, (20, of_team.as_deref()))?;
            Ok((summary, app.alert_rules(&actor)?, app.remediations(&actor, None)?, app.webhooks(&actor)?))
        })
        .await?;
    let busiest = summary
        .top_by_requests
        .into_iter()
        .map(|totals| Busy {
            path: format!("/console/monitoring/clients/{}", urlencoding(&totals.client_id)),
            error_rate: format!("{:.1} %", totals.error_rate * 100.0),
            totals,
        })
        .collect();
    let page = IndexPage {
        frame: signed.frame("monitoring"),
        team,
        busiest,
        rules,
        remediations,
        webhooks,
        templates: TEMPLATES.iter().map(|t| (t.id, t.title)).collect(),
    };
    render(StatusCode::OK, &page)
}

/// The ranges the usage page offers: a name, its span and its step.
const RANGES: [(&str, i64, i64); 3] = [("1h", 1, 60), ("24h", 24, 3600), ("7d", 168, 6 * 3600)];

#[derive(Template)]
#[template(path = "console/client_usage.html")]
struct UsagePage {
    frame: Frame,
    client_id: String,
    client_path: String,
    path: String,
    range: &'static str,
    ranges: [&'static str; 3],
    requests: i64,
    tokens_issued: i64,
    errors: i64,
    p95: String,
    charts: Vec<Chart>,
    flagged: Vec<Flagged>,
    baselines: Vec<(Chart, &'static str)>,
}

/// `GET /console/monitoring/clients/{client_id}?range=1h|24h|7d`: the
/// client's requests, errors, tokens and latency, step by step.
pub async fn client_usage(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Monitoring, WHAT);
    let client_id = path.into_inner();
    let wanted = Posted::query(&req).text("range");
    let (range, hours, step) = RANGES.into_iter().find(|(name, ..)| *name == wanted).unwrap_or(RANGES[1]);
    let actor = signed.actor(&req, &ctx);
    let id = client_id.clone();
    let read = ctx
        .run(move |app| {
            Ok((|| {
                let range = UsageRange::new(None, None, Some(step), TimeDelta::hours(hours), app.now())?;
                let usage = app.client_usage(&actor, &id, range)?;
                let mut unusual = app.unusual_now(&actor, None)?;
                unusual.retain(|u| u.client_id == id);
                Ok::<_, AppError>((usage, unusual, app.client_baselines(&actor, &id)?))
            })())
        })
        .await?;
    let (usage, unusual, baselines) = match read {
        Ok(read) => read,
        Err(error) => return refused("Usage", error),
    };
    let path = format!("/console/monitoring/clients/{}", urlencoding(&client_id));
    let flagged = unusual.iter().map(|u| Flagged::of(u, Language::English, path.clone())).collect();
    let baselines = baselines
        .iter()
        .map(|view| {
            let judged_by = match view.judged_by {
                "hour_of_week" => "judged by the same hour of the week",
                "hour_of_day" => "judged by the same hour of the day (under three weeks of history)",
                _ => "still learning (under a week of history): nothing is judged",
            };
            (baseline_chart(view, Language::English), judged_by)
        })
        .collect();
    let points = &usage.points;
    let totals = &usage.totals;
    let page = UsagePage {
        frame: signed.frame("monitoring"),
        client_path: client_path(&client_id),
        path,
        client_id,
        range,
        ranges: RANGES.map(|(name, ..)| name),
        requests: totals.requests,
        tokens_issued: totals.tokens_issued,
        errors: totals.errors.total(),
        p95: totals.latency_ms.p95.map_or("—".into(), |ms| format!("{ms:.0} ms")),
        charts: vec![
            Chart::counts("Requests", points, |p| p.requests),
            Chart::counts("Tokens issued", points, |p| p.tokens_issued),
            Chart::counts("Failed authentications", points, |p| p.errors.auth),
            Chart::error_rate("Error rate", points),
            Chart::of("Latency p95", points, |p| p.latency_ms.p95.unwrap_or(0.0), |v| format!("{v:.0} ms")),
        ],
        flagged,
        baselines,
    };
    render(StatusCode::OK, &page)
}

/// Runs the change `work` as the signed-in user, then back to the
/// monitoring page; or its refusal on a page titled `title`.
async fn changed(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    signed: &super::session::Signed,
    title: &str,
    work: impl FnOnce(&portcullis_app::App, &portcullis_app::Actor) -> Result<(), AppError> + Send + 'static,
) -> Result<HttpResponse, PageError> {
    super::changed((req, ctx, signed), title, "/console/monitoring", work).await
}

/// `POST /console/monitoring/remediations/{remediation_id}/undo`: undoes
/// what a rule did to a client (`admin:clients` too, as over REST).
pub async fn undo_remediation(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Monitoring, WHAT, form);
    let id = path.into_inner();
    changed(&req, &ctx, &signed, "Remediation", move |app, actor| app.undo_remediation(actor, &id).map(drop))
        .await
}

/// Mounts the monitoring pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/console/monitoring").route(web::get().to(index)))
        .service(web::resource("/console/monitoring/clients/{client_id}").route(web::get().to(client_usage)))
        .service(
            web::resource("/console/monitoring/remediations/{remediation_id}/undo")
                .route(web::post().to(undo_remediation)),
        )
        .service(
            web::resource("/console/monitoring/alert-rules/new")
                .route(web::get().to(alert_rules::new))
                .route(web::post().to(alert_rules::create)),
        )
        .service(
            web::resource("/console/monitoring/alert-rules/{rule_id}")
                .route(web::get().to(alert_rules::edit))
                .route(web::post().to(alert_rules::update)),
        )
        .service(
            web::resource("/console/monitoring/alert-rules/{rule_id}/delete")
                .route(web::get().to(alert_rules::confirm_delete))
                .route(web::post().to(alert_rules::delete)),
        )
        .service(
            web::resource("/console/monitoring/webhooks/new")
                .route(web::get().to(webhooks::new))
                .route(web::post().to(webhooks::create)),
        )
        .service(
            web::resource("/console/monitoring/webhooks/{webhook_id}")
                .route(web::get().to(webhooks::show))
                .route(web::post().to(webhooks::update)),
        )
        .service(
            web::resource("/console/monitoring/webhooks/{webhook_id}/test")
                .route(web::post().to(webhooks::test)),
        )
        .service(
            web::resource("/console/monitoring/webhooks/{webhook_id}/delete")
                .route(web::get().to(webhooks::confirm_delete))
                .route(web::post().to(webhooks::delete)),
        )
        .service(
            web::resource("/console/monitoring/compliance/{template}").route(web::get().to(compliance::show)),
        )
        .service(
            web::resource("/console/monitoring/compliance/{template}/export")
                .route(web::get().to(compliance::export)),
        );
}
