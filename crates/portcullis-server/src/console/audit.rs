//! `/console/audit`: the audit log in the console. Filters by time range,
//! actor, action, target and outcome (a GET form, so every view has a link),
//! pages by cursor, exports the filtered view as CSV or JSON lines (the
//! REST API's writer), and shows and renews the chain's verification. All
//! over the operations the REST API uses, as the signed-in user (`admin:audit`).

use super::session::Frame;
use super::{see_other, signed, Posted};
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::views::{message, render};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, Datelike, NaiveDateTime, TimeDelta, Utc};
use portcullis_app::audit::{EntryView, Query};
use portcullis_app::exports::{audit_entries, outcome, AuditFormat, OUTCOMES};
use portcullis_app::{AppError, Permission};

/// Entries a page shows.
const PAGE: i64 = 50;
/// The most entries one export holds.
const EXPORT_LIMIT: i64 = 10_000;

/// The filters as the form shows them.
#[derive(Default)]
struct Filters {
    from: String,
    to: String,
    actor: String,
    action: String,
    target: String,
    team: String,
    outcome: String,
}

/// The last verification, as shown.
struct Shown {
    ok: bool,
    at: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    frame: Frame,
    filters: Filters,
    outcomes: [&'static str; 3],
    verification: Option<Shown>,
    entries: Vec<EntryView>,
    error: Option<String>,
    query: String,
    next: Option<String>,
    export_limit: i64,
}

/// A time from the form (`2026-12-01T10:00`, UTC) or RFC 3339.
fn time(raw: &str) -> Result<Option<DateTime<Utc>>, String> {
    if raw.is_empty() {
        return Ok(None);
    }
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.to_utc())
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M").map(|t| t.and_utc()))
        .ok()
        // Four-digit years, which both backends store and compare alike.
        .filter(|t| (1..=9999).contains(&t.year()))
        .map(Some)
        .ok_or_else(|| format!("`{raw}` is not a time such as 2026-12-01T10:00"))
}

/// The filters of `params` as the form shows them, and as a query.
fn filters(params: &Posted, now: DateTime<Utc>) -> (Filters, Result<Query, String>) {
    let text = |name: &str| params.get(name).unwrap_or_default().trim().to_owned();
    let shown = Filters {
        from: text("from"),
        to: text("to"),
        actor: text("actor"),
        action: text("action"),
        target: text("target"),
        team: text("team"),
        outcome: text("outcome"),
    };
    let some = |value: &str| (!value.is_empty()).then(|| value.to_owned());
    let query = (|| {
        let (from, to) = (time(&shown.from)?, time(&shown.to)?);
        let outcome = outcome(some(&shown.outcome).as_deref())?;
        Ok(Query {
            // Without a range, the last day.
            from: from.or((to.is_none()).then(|| now - TimeDelta::days(1))),
            to,
            actor: some(&shown.actor),
            action: some(&shown.action),
            target: some(&shown.target),
            team: some(&shown.team),
            outcome,
            after: params.get("cursor").and_then(|c| c.parse().ok()).filter(|c| *c >= 0).unwrap_or(0),
            limit: PAGE,
            newest_first: true,
        })
    })();
    (shown, query)
}

/// The filters as a query string (without the cursor).
fn query_string(shown: &Filters) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("from", &shown.from),
        ("to", &shown.to),
        ("actor", &shown.actor),
        ("action", &shown.action),
        ("target", &shown.target),
        ("team", &shown.team),
        ("outcome", &shown.outcome),
    ] {
        if !value.is_empty() {
            serializer.append_pair(name, value);
        }
    }
    serializer.finish()
}

/// What a page says the audit log needs.
const WHAT: &str = "Reading the audit log";

/// `GET /console/audit?from=&to=&actor=&action=&target=&team=&outcome=&cursor=`.
pub async fn show(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Audit, WHAT);
    let params = Posted::query(&req);
    let (shown, wanted) = filters(&params, ctx.app.now());
    let actor = signed.actor(&req, &ctx);
    let (page, verification) = ctx
        .run(move |app| {
            let page = match wanted {
                Ok(query) => Ok(app.audit_entries(&actor, query)?),
                Err(why) => Err(why),
            };
            Ok((page, app.last_audit_verification(&actor)?))
        })
        .await?;
    let query = query_string(&shown);
    let (entries, next, error, status) = match page {
        Ok(page) => {
            let next = page.next_cursor.map(|c| {
                if query.is_empty() {
                    format!("cursor={c}")
                } else {
                    format!("{query}&cursor={c}")
                }
            });
            (page.entries, next, None, StatusCode::OK)
        }
        Err(why) => (Vec::new(), None, Some(why), StatusCode::BAD_REQUEST),
    };
    let verification =
        verification.map(|(ok, at, detail)| Shown { ok, at: portcullis_app::time(at), detail });
    let page = AuditPage {
        frame: signed.frame("audit"),
        filters: shown,
        outcomes: OUTCOMES,
        verification,
        entries,
        error,
        query,
        next,
        export_limit: EXPORT_LIMIT,
    };
    render(status, &page)
}

/// `GET /console/audit/export?…&format=csv|jsonl`: the filtered view, up to
/// [`EXPORT_LIMIT`] entries (the newest), as a download in the chain's
/// order, oldest first.
pub async fn download(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Audit, WHAT);
    let params = Posted::query(&req);
    let format = match params.get("format") {
        Some("csv") => AuditFormat::Csv,
        Some("jsonl") => AuditFormat::JsonLines,
        _ => return message(StatusCode::BAD_REQUEST, "Export", "The format is csv or jsonl."),
    };
    let (_, wanted) = filters(&params, ctx.app.now());
    let Ok(mut query) = wanted else {
        return message(StatusCode::BAD_REQUEST, "Export", "The filters are not valid.");
    };
    let actor = signed.actor(&req, &ctx);
    let entries = ctx
        .run(move |app| {
            let mut entries = Vec::new();
            query.limit = 1_000;
            while (entries.len() as i64) < EXPORT_LIMIT {
                let page = app.audit_entries(&actor, query.clone())?;
                entries.extend(page.entries);
                match page.next_cursor {
                    Some(cursor) => query.after = cursor,
                    None => break,
                }
            }
            entries.truncate(EXPORT_LIMIT as usize);
            // The newest of the view, written in the chain's order.
            entries.reverse();
            Ok::<_, AppError>(entries)
        })
        .await?;
    let (content_type, body) = audit_entries(&entries, format);
    let name = if format == AuditFormat::Csv { "audit-log.csv" } else { "audit-log.jsonl" };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body))
}

/// `POST /console/audit/verify` with the console's CSRF token: checks the
/// whole chain now, then back to the log, which shows the outcome.
pub async fn verify(
    req: HttpRequest,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Audit, WHAT, form);
    let actor = signed.actor(&req, &ctx);
    // A broken chain is an outcome to show, not a failure of the page.
    ctx.run(move |app| Ok(app.verify_audit_log(&actor).map(drop).ok())).await?;
    Ok(see_other("/console/audit"))
}
