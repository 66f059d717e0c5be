//! `GET /admin/v1/compliance/{template}`: a SOC 2, GDPR or PCI DSS report of
//! this installation (see [`portcullis_app::compliance`]), as JSON or CSV
//! (`format=csv` or `Accept: text/csv`).

use crate::admin::auth::Admin;
use crate::admin::error::AdminError;
use crate::admin::{csv_row, json_ok, operation, query};
use crate::oauth_response::no_store;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::compliance::{Facts, Report};
use portcullis_app::App;

/// Whether the answer is CSV: `format=csv`, or `Accept: text/csv`.
fn wants_csv(req: &HttpRequest) -> Result<bool, AdminError> {
    match query(req)?.get("format") {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(other) => Err(AdminError::bad_request(format!("format must be json or csv, not `{other}`"))),
        None => Ok(req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/csv"))),
    }
}

/// One row per check: template, control, its status, the check's.
pub fn csv(report: &Report) -> String {
    let mut text = csv_row(
        &[
            "template",
            "control",
            "control_title",
            "control_status",
            "check",
            "status",
            "evidence",
            "verified_at",
        ]
        .map(str::to_owned),
    );
    for control in &report.controls {
        for check in &control.checks {
            let status = |s| {
                serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
            };
            text += &csv_row(&[
                report.template.to_owned(),
                control.control.to_owned(),
                control.title.to_owned(),
                status(control.status),
                check.check.to_owned(),
                status(check.status),
                check.evidence.clone(),
                check.verified_at.clone(),
            ]);
        }
    }
    text
}

/// `GET /admin/v1/compliance/{template}?format=json|csv`.
pub async fn report(
    Admin(actor): Admin,
    req: HttpRequest,
    path: web::Path<String>,
    facts: web::Data<Facts>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let as_csv = wants_csv(&req)?;
    let facts = facts.into_inner();
    let report = operation(&app, move |app| app.compliance_report(&actor, &path, &facts)).await?;
    if !as_csv {
        return Ok(json_ok(report));
    }
    let mut response = HttpResponse::Ok();
    no_store(&mut response);
    Ok(response.content_type("text/csv; charset=utf-8").body(csv(&report)))
}
