//! `GET /console`: the overview. Each tile needs its permission (usage,
//! its charts, the clients failing most, alerts, what is unusual now (each
//! with its chart against what is usual) and the SOC 2 controls' status
//! `admin:monitoring`, keys `admin:keys`, security events
//! `admin:audit`); a tile the user may not see is left out.

use super::chart::Chart;
use super::clients::urlencoding;
use super::session::{current, Frame, Signed};
use super::unusual::{Flagged, Language};
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::views::render;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use portcullis_app::audit::Query;
use portcullis_app::compliance::Facts;
use portcullis_app::usage::UsageRange;
use portcullis_app::{Actor, App, AppError, Permission};

/// The last day's traffic.
struct Usage {
    requests: i64,
    tokens_issued: i64,
    error_rate: String,
    charts: [Chart; 3],
    failing: Vec<Failing>,
}

/// A client among those failing most.
struct Failing {
    client_id: String,
    path: String,
    requests: i64,
    error_rate: String,
}

/// The controls of the SOC 2 report by status.
struct Compliance {
    pass: usize,
    warn: usize,
    fail: usize,
}

/// An active signing key.
struct ActiveKey {
    alg: &'static str,
    age: String,
}

/// A security event.
struct SecurityEvent {
    at: String,
    action: String,
    target: String,
}

/// What refreshes by itself: the tiles and the recent events.
struct Live {
    usage: Option<Usage>,
    unusual: Vec<Flagged>,
    firing: usize,
    keys: Option<Vec<ActiveKey>>,
    events: Option<Vec<SecurityEvent>>,
    compliance: Option<Compliance>,
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage {
    frame: Frame,
    roles: String,
    live: Live,
}

/// The part of the overview the page's script fetches every five seconds.
#[derive(Template)]
#[template(path = "console/live.html")]
struct LivePart {
    live: Live,
}

/// How long ago `at` (RFC 3339) was, roughly.
fn age(at: Option<&str>, now: DateTime<Utc>) -> String {
    let Some(at) = at.and_then(|at| DateTime::parse_from_rfc3339(at).ok()) else { return "—".into() };
    let days = (now - at.to_utc()).num_days();
    if days >= 1 {
        format!("{days} d")
    } else {
        format!("{} h", (now - at.to_utc()).num_hours())
    }
}

/// What the overview shows `actor`, each part only with its permission.
fn gather(app: &App, actor: &Actor, permissions: &[Permission], facts: &Facts) -> Result<Live, AppError> {
    let now = app.now();
    let may = |p: Permission| permissions.contains(&p);
    let (mut usage, mut firing, mut compliance, mut unusual) = (None, 0, None, Vec::new());
    if may(Permission::Monitoring) {
        // Clock hours, the one under way last, so that a refresh moves no bar.
        let to = now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now) + TimeDelta::hours(1);
        let range =
            UsageRange::new(Some(to - TimeDelta::days(1)), Some(to), Some(3600), TimeDelta::days(1), now)?;
        let summary = app.usage_summary(actor, range, (5, None))?;
        let totals = &summary.totals;
        let points = &summary.points;
        usage = Some(Usage {
            requests: totals.requests,
            tokens_issued: totals.tokens_issued,
            error_rate: format!("{:.1} %", totals.error_rate * 100.0),
            charts: [
                Chart::counts("Tokens issued", points, |p| p.tokens_issued),
                Chart::counts("Failed authentications", points, |p| p.errors.auth),
                Chart::error_rate("Error rate", points),
            ],
            failing: summary
                .top_by_error_rate
                .iter()
                .filter(|c| c.error_rate > 0.0)
                .map(|c| Failing {
                    path: format!("/console/monitoring/clients/{}", urlencoding(&c.client_id)),
                    client_id: c.client_id.clone(),
                    requests: c.requests,
                    error_rate: format!("{:.1} %", c.error_rate * 100.0),
                })
                .collect(),
        });
        firing = app.alert_rules(actor)?.iter().map(|rule| rule.firing.len()).sum();
        let path = |client_id: &str| format!("/console/monitoring/clients/{}", urlencoding(client_id));
        let flagged = app.unusual_now(actor, None)?;
        unusual = flagged.iter().map(|u| Flagged::of(u, Language::English, path(&u.client_id))).collect();
        let report = app.compliance_report(actor, "soc2", facts)?;
        let summary = report.summary;
        compliance = Some(Compliance { pass: summary.pass, warn: summary.warn, fail: summary.fail });
    }
    let keys = if may(Permission::Keys) {
        let active = app.keys(actor)?.into_iter().filter(|k| k.state == "active");
        Some(active.map(|k| ActiveKey { alg: k.alg, age: age(k.activated_at.as_deref(), now) }).collect())
    } else {
        None
    };
    let events = if may(Permission::Audit) {
        let newest =
            Query { outcome: Some("failure".into()), newest_first: true, limit: 10, ..Query::default() };
        let page = app.audit_entries(actor, newest)?;
        Some(
            page.entries
                .into_iter()
                .map(|e| SecurityEvent { at: e.at, action: e.action, target: e.target })
                .collect(),
        )
    } else {
        None
    };
    Ok(Live { usage, unusual, firing, keys, events, compliance })
}

/// The live part for the request's session, or the way to sign in.
async fn live(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    facts: web::Data<Facts>,
) -> Result<Result<(Signed, Live), HttpResponse>, PageError> {
    let signed = match current(req, ctx).await? {
        Ok(signed) => signed,
        Err(sign_in) => return Ok(Err(sign_in)),
    };
    let actor = signed.session.actor(ctx.proxies.client_ip(req));
    let permissions = signed.session.permissions.clone();
    let live = ctx.run(move |app| gather(app, &actor, &permissions, &facts)).await?;
    Ok(Ok((signed, live)))
}

/// `GET /console`.
pub async fn show(
    req: HttpRequest,
    ctx: web::Data<ConsoleContext>,
    facts: web::Data<Facts>,
) -> Result<HttpResponse, PageError> {
    let (signed, live) = match live(&req, &ctx, facts).await? {
        Ok(found) => found,
        Err(sign_in) => return Ok(sign_in),
    };
    let roles = signed.session.permissions.iter().map(|p| p.scope()).collect::<Vec<_>>().join(", ");
    let page = OverviewPage { frame: signed.frame("overview"), roles, live };
    render(StatusCode::OK, &page)
}

/// `GET /console/overview/live`: the tiles and events alone; 401 once
/// the session ended (the page keeps what it shows).
pub async fn show_live(
    req: HttpRequest,
    ctx: web::Data<ConsoleContext>,
    facts: web::Data<Facts>,
) -> Result<HttpResponse, PageError> {
    match live(&req, &ctx, facts).await? {
        Ok((_, live)) => render(StatusCode::OK, &LivePart { live }),
        Err(_) => Ok(HttpResponse::Unauthorized().finish()),
    }
}
