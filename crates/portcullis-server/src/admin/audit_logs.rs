//! `GET /admin/v1/audit-logs`: the audit log, filtered by time, actor,
//! action, target and outcome, a page at a time (`cursor`), as JSON, JSON lines or
//! CSV (`format=` or `Accept`).

use crate::admin::auth::Caller;
use crate::admin::error::AdminError;
use crate::admin::{json_ok, number_param, operation, query, time_param};
use crate::form::FormParams;
use crate::oauth_response::no_store;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::audit::Query;
use portcullis_app::exports::{audit_entries, outcome, AuditFormat};
use portcullis_app::App;

/// The most entries one page holds.
const MAX_PAGE: i64 = 1000;

/// The header that carries the next page's cursor in JSON lines and CSV.
pub const NEXT_CURSOR: &str = "x-next-cursor";

fn format_of(req: &HttpRequest, query: &FormParams) -> Result<AuditFormat, AdminError> {
    match query.get("format") {
        Some("json") => return Ok(AuditFormat::Json),
        Some("jsonl") => return Ok(AuditFormat::JsonLines),
        Some("csv") => return Ok(AuditFormat::Csv),
        Some(other) => {
            return Err(AdminError::bad_request(format!("format must be json, jsonl or csv, not `{other}`")))
        }
        None => {}
    }
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    Ok(if accept.contains("text/csv") {
        AuditFormat::Csv
    } else if accept.contains("application/x-ndjson") || accept.contains("application/jsonl") {
        AuditFormat::JsonLines
    } else {
        AuditFormat::Json
    })
}

/// `GET /admin/v1/audit-logs?from=…&to=…&actor=…&action=…&target=…&team=…&cursor=…&limit=…&order=…&format=…`:
/// oldest first unless `order=newest`.
pub async fn list(
    Caller(actor): Caller,
    req: HttpRequest,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let query = query(&req)?;
    let format = format_of(&req, &query)?;
    let wanted = Query {
        from: time_param(&query, "from")?,
        to: time_param(&query, "to")?,
        actor: query.get("actor").map(str::to_owned),
        action: query.get("action").map(str::to_owned),
        target: query.get("target").map(str::to_owned),
        team: query.get("team").map(str::to_owned),
        outcome: outcome(query.get("outcome")).map_err(AdminError::bad_request)?,
        limit: number_param(&query, "limit", 100, 1..=MAX_PAGE)?,
        after: number_param(&query, "cursor", 0, 0..=i64::MAX)?,
        newest_first: match query.get("order") {
            None | Some("oldest") => false,
            Some("newest") => true,
            Some(other) => {
                return Err(AdminError::bad_request(format!("order must be oldest or newest, not `{other}`")))
            }
        },
    };
    let page = operation(&app, move |app| app.audit_entries(&actor, wanted)).await?;
    let (views, next_cursor) = (page.entries, page.next_cursor);
    if format == AuditFormat::Json {
        return Ok(json_ok(serde_json::json!({ "entries": views, "next_cursor": next_cursor })));
    }
    let (content_type, body) = audit_entries(&views, format);
    let mut response = HttpResponse::Ok();
    no_store(&mut response);
    if let Some(cursor) = next_cursor {
        response.insert_header((NEXT_CURSOR, cursor.to_string()));
    }
    Ok(response.content_type(content_type).body(body))
}
