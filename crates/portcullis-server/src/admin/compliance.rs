//! `GET /admin/v1/compliance/{template}`: a SOC 2, GDPR or PCI DSS report of
//! this installation (see [`portcullis_app::compliance`]), as JSON or CSV
//! (`format=csv` or `Accept: text/csv`).

use crate::admin::auth::Caller;
use crate::admin::error::AdminError;
use crate::admin::{json_ok, operation, query};
use crate::oauth_response::no_store;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::compliance::Facts;
use portcullis_app::exports::compliance_csv;
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

/// `GET /admin/v1/compliance/{template}?format=json|csv`.
pub async fn report(
    Caller(actor): Caller,
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
    Ok(response.content_type("text/csv; charset=utf-8").body(compliance_csv(&report)))
}
