//! Usage analytics: `GET /admin/v1/clients/{client_id}/usage` (a series)
//! and `GET /admin/v1/usage` (totals and top clients), over the rollups
//! every instance writes (see [`portcullis_app::usage`]).

use crate::admin::auth::Caller;
use crate::admin::error::AdminError;
use crate::admin::{json_ok, number_param, operation, query, time_param};
use crate::form::FormParams;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::TimeDelta;
use portcullis_app::usage::UsageRange;
use portcullis_app::App;

/// The most clients each ranking of the summary lists.
const MAX_TOP: i64 = 100;
/// The longest step: the longest range.
const MAX_STEP: i64 = 31 * 86_400;

/// `from` and `to` of `query`, in steps of `step` seconds (`None`: one);
/// the range defaults to the `default_span` before now.
fn range(
    query: &FormParams,
    step: Option<i64>,
    default_span: TimeDelta,
    app: &App,
) -> Result<UsageRange, AdminError> {
    let (from, to) = (time_param(query, "from")?, time_param(query, "to")?);
    Ok(UsageRange::new(from, to, step, default_span, app.now())?)
}

/// `GET /admin/v1/clients/{client_id}/usage?from=…&to=…&step=…`: by default
/// the last hour, minute by minute.
pub async fn client(
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let query = query(&req)?;
    let step = number_param(&query, "step", 60, 60..=MAX_STEP)?;
    let range = range(&query, Some(step), TimeDelta::hours(1), &app)?;
    let id = path.into_inner();
    let usage = operation(&app, move |app| app.client_usage(&actor, &id, range)).await?;
    Ok(json_ok(usage))
}

/// `GET /admin/v1/usage?from=…&to=…&step=…&limit=…&team=…`: by default
/// the last 24 hours, its series in one step; with `team`, of that team's
/// clients only.
pub async fn summary(
    Caller(actor): Caller,
    req: HttpRequest,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let query = query(&req)?;
    let step = match query.get("step") {
        Some(_) => Some(number_param(&query, "step", 60, 60..=MAX_STEP)?),
        None => None,
    };
    let range = range(&query, step, TimeDelta::days(1), &app)?;
    let top = number_param(&query, "limit", 10, 1..=MAX_TOP)? as usize;
    let team = query.get("team").filter(|team| !team.is_empty()).map(str::to_owned);
    let summary =
        operation(&app, move |app| app.usage_summary(&actor, range, (top, team.as_deref()))).await?;
    Ok(json_ok(summary))
}
