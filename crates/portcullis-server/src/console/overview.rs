//! `GET /console`: the overview. Each tile needs its permission (usage and
//! alerts `admin:monitoring`, keys `admin:keys`, security events
//! `admin:audit`); a tile the user may not see is left out.

use super::session::{current, Frame, Signed};
use crate::authorization::Authorization;
use crate::pages::PageError;
use crate::views::render;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_app::audit::Query;
use portcullis_app::usage::UsageRange;
use portcullis_app::{Actor, App, AppError, Permission};

/// The last day's traffic.
struct Usage {
    requests: i64,
    tokens_issued: i64,
    error_rate: String,
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
    firing: usize,
    keys: Option<Vec<ActiveKey>>,
    events: Option<Vec<SecurityEvent>>,
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
fn gather(app: &App, actor: &Actor, permissions: &[Permission]) -> Result<Live, AppError> {
    let now = app.now();
    let may = |p: Permission| permissions.contains(&p);
    let (mut usage, mut firing) = (None, 0);
    if may(Permission::Monitoring) {
        let range = UsageRange::new(None, None, None, TimeDelta::days(1), now)?;
        let summary = app.usage_summary(actor, range, 0)?;
        let totals = summary.totals;
        usage = Some(Usage {
            requests: totals.requests,
            tokens_issued: totals.tokens_issued,
            error_rate: format!("{:.1} %", totals.error_rate * 100.0),
        });
        firing = app.alert_rules(actor)?.iter().map(|rule| rule.firing.len()).sum();
    }
    let keys = if may(Permission::Keys) {
        let active = app.keys(actor)?.into_iter().filter(|k| k.state == "active");
        Some(active.map(|k| ActiveKey { alg: k.alg, age: age(k.activated_at.as_deref(), now) }).collect())
    } else {
        None
    };
    let events = if may(Permission::Audit) {
        let page = app.audit_entries(actor, Query { limit: 200, ..Query::default() })?;
        let failures = page.entries.into_iter().filter(|e| e.outcome == "failure").take(10);
        Some(failures.map(|e| SecurityEvent { at: e.at, action: e.action, target: e.target }).collect())
    } else {
        None
    };
    Ok(Live { usage, firing, keys, events })
}

/// The live part for the request's session, or the way to sign in.
async fn live(
    req: &HttpRequest,
    flow: &Authorization,
) -> Result<Result<(Signed, Live), HttpResponse>, PageError> {
    let signed = match current(req, flow).await? {
        Ok(signed) => signed,
        Err(sign_in) => return Ok(Err(sign_in)),
    };
    let actor = signed.session.actor(flow.proxies.client_ip(req));
    let permissions = signed.session.permissions.clone();
    let live = flow.run(move |app| gather(app, &actor, &permissions)).await?;
    Ok(Ok((signed, live)))
}

/// `GET /console`.
pub async fn show(req: HttpRequest, flow: web::Data<Authorization>) -> Result<HttpResponse, PageError> {
    let (signed, live) = match live(&req, &flow).await? {
        Ok(found) => found,
        Err(sign_in) => return Ok(sign_in),
    };
    let roles = signed.session.permissions.iter().map(|p| p.scope()).collect::<Vec<_>>().join(", ");
    let page = OverviewPage { frame: signed.frame("overview"), roles, live };
    render(StatusCode::OK, &page)
}

/// `GET /console/overview/live`: the tiles and events alone; 401 once
/// the session ended (the page keeps what it shows).
pub async fn show_live(req: HttpRequest, flow: web::Data<Authorization>) -> Result<HttpResponse, PageError> {
    match live(&req, &flow).await? {
        Ok((_, live)) => render(StatusCode::OK, &LivePart { live }),
        Err(_) => Ok(HttpResponse::Unauthorized().finish()),
    }
}
