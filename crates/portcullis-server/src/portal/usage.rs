//! An app's monitoring in the portal: its requests, tokens issued, errors,
//! failed authentications and latency over 1 h, 24 h or 7 d (the console's
//! charts, in the user's language), its failed authentications by reason,
//! and its recent events; for every member of its team.

use super::session::{signed, Frame};
use crate::console::chart::Chart;
use crate::console::context::ConsoleContext;
use crate::console::unusual::{Flagged, Language};
use crate::console::Posted;
use crate::pages::PageError;
use crate::views::render;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::TimeDelta;
use portcullis_app::audit::{TeamEventView, TeamEventsQuery};
use portcullis_app::usage::UsageRange;

/// The ranges offered: a name, its span in hours and its step in seconds.
const RANGES: [(&str, i64, i64); 3] = [("1h", 1, 60), ("24h", 24, 3600), ("7d", 168, 6 * 3600)];
/// How many events the page lists.
const EVENTS: i64 = 20;
/// How many summaries of failed authentications (one per address and
/// window) the reasons are counted from, newest first.
const FAILURE_WINDOWS: i64 = 200;

/// A failure reason and how often it happened in the events listed.
struct Reason {
    reason: String,
    count: u64,
    last: String,
}

#[derive(Template)]
#[template(path = "portal/usage.html")]
struct UsagePage {
    frame: Frame,
    client_id: String,
    path: String,
    range: &'static str,
    ranges: [&'static str; 3],
    figures: [String; 4],
    classes: String,
    charts: Vec<Chart>,
    reasons: Vec<Reason>,
    events: Vec<TeamEventView>,
    flagged: Vec<Flagged>,
}

/// `GET /portal/apps/{client_id}/usage?range=1h|24h|7d`.
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx);
    let client_id = path.into_inner();
    let wanted = Posted::query(&req).text("range");
    let (range, hours, step) = RANGES.into_iter().find(|(name, ..)| *name == wanted).unwrap_or(RANGES[1]);
    let (actor, id) = (signed.actor(&req, &ctx), client_id.clone());
    let read = ctx
        .run(move |app| {
            Ok((|| {
                let range = UsageRange::new(None, None, Some(step), TimeDelta::hours(hours), app.now())?;
                let usage = app.client_usage(&actor, &id, range)?;
                let team_id = app.client(&actor, &id)?.team_id.unwrap_or_default();
                let query =
                    TeamEventsQuery { client_id: Some(&id), limit: EVENTS, ..TeamEventsQuery::default() };
                let events = app.team_events(&actor, &team_id, &query)?;
                // The failures of the range shown, summarised a window at a time.
                let failed = TeamEventsQuery {
                    action: Some("auth.client_failed"),
                    from: Some(range.from),
                    limit: FAILURE_WINDOWS,
                    ..query
                };
                let failures = app.team_events(&actor, &team_id, &failed)?;
                let mut unusual = app.unusual_now(&actor, Some(&team_id))?;
                unusual.retain(|u| u.client_id == id);
                Ok::<_, portcullis_app::AppError>((usage, events, (failures, unusual)))
            })())
        })
        .await?;
    let (usage, events, (failures, unusual)) = match read {
        Ok(read) => read,
        Err(refusal) => return super::refused(&signed, signed.t.usage.title, refusal),
    };
    let t = &signed.t.usage;
    let (points, totals) = (&usage.points, &usage.totals);
    let words = &t.chart;
    let charts = vec![
        Chart::counts(t.figures[0], points, |p| p.requests).in_words(words),
        Chart::counts(t.figures[1], points, |p| p.tokens_issued).in_words(words),
        Chart::counts(t.figures[4], points, |p| p.errors.auth).in_words(words),
        Chart::error_rate(t.figures[5], points).in_words(words),
        Chart::of(t.figures[3], points, |p| p.latency_ms.p95.unwrap_or(0.0), |v| format!("{v:.0} ms"))
            .in_words(words),
    ];
    let mut reasons: Vec<Reason> = Vec::new();
    for entry in &failures {
        let Some(counted) = entry.details.get("reasons").and_then(|r| r.as_object()) else { continue };
        for (reason, count) in counted {
            let count = count.as_u64().unwrap_or(0);
            match reasons.iter_mut().find(|r| r.reason == *reason) {
                Some(known) => known.count += count,
                None => reasons.push(Reason { reason: reason.clone(), count, last: entry.at.clone() }),
            }
        }
    }
    let path = format!("{}/usage", super::apps::app_path(&client_id));
    let flagged = unusual.iter().map(|u| Flagged::of(u, Language::of(signed.t.lang), path.clone())).collect();
    let page = UsagePage {
        frame: signed.frame(),
        flagged,
        path,
        client_id,
        range,
        ranges: RANGES.map(|(name, ..)| name),
        figures: [
            totals.requests.to_string(),
            totals.tokens_issued.to_string(),
            totals.errors.total().to_string(),
            totals.latency_ms.p95.map_or("—".into(), |ms| format!("{ms:.0} ms")),
        ],
        classes: format!(
            "{} {} · {} {} · {} {}",
            t.classes[0],
            totals.errors.auth,
            t.classes[1],
            totals.errors.client,
            t.classes[2],
            totals.errors.server
        ),
        charts,
        reasons,
        events,
    };
    render(StatusCode::OK, &page)
}
