//! `/console/monitoring/compliance/{template}`: the SOC 2, GDPR or PCI DSS
//! report of this installation, control by control with each check's
//! evidence, exported as the REST API exports it (JSON or CSV).

use super::super::session::{require, Frame, Signed};
use super::super::Posted;
use super::{refused, WHAT};
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::views::{message, render};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::compliance::{Facts, Report, Status, TEMPLATES};
use portcullis_app::exports::compliance_csv;
use portcullis_app::Permission;

#[derive(Template)]
#[template(path = "console/compliance.html")]
struct ReportPage {
    frame: Frame,
    report: Report,
    templates: Vec<(&'static str, &'static str)>,
}

/// A status as the page names it (and its class).
pub fn status_name(status: &Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Warn => "warn",
        Status::NotApplicable => "n/a",
    }
}

/// The report of `template` for the signed-in user, or the page saying why not.
async fn report(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    facts: web::Data<Facts>,
    template: String,
) -> Result<Result<(Signed, Report), HttpResponse>, PageError> {
    let signed = match require(req, ctx, Permission::Monitoring, WHAT).await? {
        Ok(signed) => signed,
        Err(response) => return Ok(Err(response)),
    };
    let actor = signed.actor(req, ctx);
    let facts = facts.into_inner();
    match ctx.run(move |app| Ok(app.compliance_report(&actor, &template, &facts))).await? {
        Ok(report) => Ok(Ok((signed, report))),
        Err(error) => Ok(Err(refused("Compliance", error)?)),
    }
}

/// `GET /console/monitoring/compliance/{template}`.
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
    facts: web::Data<Facts>,
) -> Result<HttpResponse, PageError> {
    let (signed, report) = match report(&req, &ctx, facts, path.into_inner()).await? {
        Ok(found) => found,
        Err(response) => return Ok(response),
    };
    let page = ReportPage {
        frame: signed.frame("monitoring"),
        report,
        templates: TEMPLATES.iter().map(|t| (t.id, t.title)).collect(),
    };
    render(StatusCode::OK, &page)
}

/// `GET /console/monitoring/compliance/{template}/export?format=csv|json`: a download.
pub async fn export(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
    facts: web::Data<Facts>,
) -> Result<HttpResponse, PageError> {
    let format = Posted::query(&req).text("format");
    if format != "csv" && format != "json" {
        return message(StatusCode::BAD_REQUEST, "Export", "The format is csv or json.");
    }
    let (_, report) = match report(&req, &ctx, facts, path.into_inner()).await? {
        Ok(found) => found,
        Err(response) => return Ok(response),
    };
    let (content_type, body) = if format == "csv" {
        ("text/csv; charset=utf-8", compliance_csv(&report))
    } else {
        ("application/json", serde_json::to_string_pretty(&report).map_err(PageError::failed)?)
    };
    let name = format!("{}-report.{format}", report.template);
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body))
}
