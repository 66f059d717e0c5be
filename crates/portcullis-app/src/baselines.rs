//! What is usual for each client (issue 25), learnt hour by hour from
//! what the server records anyway: the usage rollups (requests, errors,
//! tokens issued), the failure summaries (failed client authentications)
//! and the network sightings (distinct networks). The model is
//! [`portcullis_core::baseline`]'s: a decaying mean and spread per hour of
//! the week, the hour of the day standing in for the first three weeks, and
//! nothing judged before a week of history.
//!
//! Learning runs in the detection job, never on a request path: once an
//! hour has ended and [`LEARN_DELAY`] passed (every instance has written
//! its counts), each client's baselines learn the hours since they last
//! did (at most a week back), zeros included: a quiet hour is what makes a
//! busy one unusual. A client gets baselines from its first hour with a
//! request. Every instance learns; each saves only over the row it read
//! (compare and swap), so each hour is learnt once, and the baselines are
//! shared by all of them.

use crate::alerts::{Summaries, CLIENT_FAILED};
use crate::sightings::SIGHTING_RETENTION;
use crate::{Actor, App, AppError};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use portcullis_core::baseline::{window_hours, Baseline, HourOfWeek, Signal, Tolerance, Usual};
use portcullis_store::baselines::{self, BaselineRecord};
use portcullis_store::{clients, sightings, usage, DbConnection};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// How long after an hour ends it is learnt: every instance has written its
/// usage counts and failure summaries by then.
pub const LEARN_DELAY: TimeDelta = TimeDelta::minutes(2);
/// The most hours learnt at once after a pause (a week: a server stopped for
/// longer forgets nothing, it just does not learn the hours it missed).
const CATCH_UP_HOURS: i64 = 168;
const HOUR: TimeDelta = TimeDelta::hours(1);

/// What an `anomaly` alert names: the signal, what was observed over the
/// window, and what is usual for it.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Unusual {
    /// The signal.
    pub signal: Signal,
    /// What was observed over the window.
    pub observed: f64,
    /// What is usual for that window.
    pub usual: f64,
    /// How widely it usually varies.
    pub spread: f64,
    /// The window, in minutes.
    pub window_minutes: u32,
    /// By what it was judged.
    pub judged_by: JudgedBy,
}

/// What a window is judged by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JudgedBy {
    /// The same hours of the week.
    HourOfWeek,
    /// The same hours of the day, while the hours of the week have fewer
    /// than three weeks of history.
    HourOfDay,
}

/// Each client's value of one signal over a window, with the volume that
/// must reach a rule's minimum (the value itself, or the requests of a rate).
pub(crate) type WindowValues = BTreeMap<String, (f64, f64)>;

/// Each client's value of the `wanted` signals over `[from, to)`, each
/// read only when wanted.
pub(crate) fn values(
    conn: &mut DbConnection,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    summaries: &mut Summaries<'_>,
    wanted: &[Signal],
) -> Result<BTreeMap<Signal, WindowValues>, AppError> {
    let mut values: BTreeMap<Signal, WindowValues> = BTreeMap::new();
    let mut put = |signal: Signal, client_id: &str, value: f64, volume: f64| {
        if wanted.contains(&signal) {
            values.entry(signal).or_default().insert(client_id.to_owned(), (value, volume));
        }
    };
    let counted = [Signal::Requests, Signal::TokensIssued, Signal::ErrorRate];
    if counted.iter().any(|signal| wanted.contains(signal)) {
        for (client_id, counts) in usage::totals_by_client(conn, (from, to), None)? {
            let requests = counts.requests as f64;
            put(Signal::Requests, &client_id, requests, requests);
            put(Signal::TokensIssued, &client_id, counts.tokens_issued as f64, counts.tokens_issued as f64);
            if counts.requests > 0 {
                put(Signal::ErrorRate, &client_id, counts.errors() as f64 * 100.0 / requests, requests);
            }
        }
    }
    if wanted.contains(&Signal::FailedAuthentications) {
        for (client_id, failed) in summaries.counts(conn, CLIENT_FAILED, None)? {
            put(Signal::FailedAuthentications, &client_id, failed as f64, failed as f64);
        }
    }
    if wanted.contains(&Signal::Networks) {
        for (client_id, networks) in sightings::distinct_networks(conn, (from, to))? {
            put(Signal::Networks, &client_id, networks as f64, networks as f64);
        }
    }
    Ok(values)
}

/// How the hours a window spans weigh in what is usual for it: a count
/// over the window expects each hour's share of its usual value; a rate,
/// or distinct networks (which do not add up minute by minute), its usual
/// value weighted by the share of the window spent in that hour.
pub(crate) fn weights(signal: Signal, from: DateTime<Utc>, window_minutes: u32) -> Vec<(HourOfWeek, f64)> {
    let per_hour = signal.is_rate() || signal == Signal::Networks;
    let whole = if per_hour { f64::from(window_minutes) } else { 60.0 };
    window_hours(from.timestamp(), window_minutes)
        .into_iter()
        .map(|(hour, minutes)| (hour, f64::from(minutes) / whole))
        .collect()
}

/// The hours of learnt values kept for charts.
pub const RECENT_HOURS: usize = 48;

/// What is stored of one client's signal: its baseline, and its last
/// [`RECENT_HOURS`] hours, each as observed and as usual before it was learnt.
#[derive(Clone, Debug, Default, serde::Deserialize, Serialize)]
struct Model {
    baseline: Baseline,
    recent: Vec<Recent>,
}

/// One hour learnt, for charts.
#[derive(Clone, Debug, PartialEq, serde::Deserialize, Serialize)]
pub struct Recent {
    /// The hour's start, RFC 3339.
    pub start: String,
    /// What was observed.
    pub observed: f64,
    /// What was usual for it then (before it was learnt); `None` without
    /// history enough.
    pub usual: Option<f64>,
}

impl Model {
    fn learn(&mut self, hour: DateTime<Utc>, value: f64) {
        let of_week = HourOfWeek::of(hour.timestamp());
        let usual = self.baseline.usual_hour(of_week).map(|u| crate::hundredths(u.mean));
        self.baseline.observe(of_week, value);
        self.recent.push(Recent { start: crate::time(hour), observed: crate::hundredths(value), usual });
        let excess = self.recent.len().saturating_sub(RECENT_HOURS);
        self.recent.drain(..excess);
    }
}

/// What `record` holds; a damaged model starts again.
fn model(record: &BaselineRecord) -> Model {
    serde_json::from_str(&record.model).unwrap_or_else(|e| {
        tracing::warn!(client_id = %record.client_id, signal = %record.signal, error = %e, "a baseline could not be read; it is learnt again");
        Model::default()
    })
}

/// What is usual for `client_id`'s `signal` over a window whose hours
/// weigh `weights`; `None` without history enough.
pub(crate) fn usual(record: &BaselineRecord, weights: &[(HourOfWeek, f64)]) -> Option<Usual> {
    model(record).baseline.usual(weights)
}

/// How many percentage points above what is usual an error rate must also
/// be: a client that usually fails nothing is not unusual for one error in
/// 200 requests.
pub const RATE_FLOOR_POINTS: f64 = 5.0;

/// Whether `observed` (with `volume`) departs from `record` over the
/// window (a rate also by [`RATE_FLOOR_POINTS`]): the [`Unusual`] an alert
/// names if so.
pub(crate) fn judge(
    record: &BaselineRecord,
    signal: Signal,
    (from, window_minutes): (DateTime<Utc>, u32),
    (observed, volume): (f64, f64),
    tolerance: Tolerance,
) -> Option<Unusual> {
    let usual = usual(record, &weights(signal, from, window_minutes))?;
    if signal.is_rate() && observed < usual.mean + RATE_FLOOR_POINTS {
        return None;
    }
    let departure = usual.departure(observed, volume, tolerance)?;
    Some(Unusual {
        signal,
        observed: crate::hundredths(departure.observed),
        usual: crate::hundredths(departure.usual),
        spread: crate::hundredths(departure.spread),
        window_minutes,
        judged_by: if departure.by_hour_of_week { JudgedBy::HourOfWeek } else { JudgedBy::HourOfDay },
    })
}

/// What this instance last learnt through.
#[derive(Default)]
pub(crate) struct Learnt(Mutex<Option<DateTime<Utc>>>);

impl App {
    /// Learns every finished hour not learnt yet (once an hour: an instance
    /// that learnt through the last finished hour does nothing); returns
    /// the baselines this instance saved.
    pub fn learn_baselines(&self) -> Result<usize, AppError> {
        let Ok(last) = (self.now() - LEARN_DELAY).duration_trunc(HOUR).map(|end| end - HOUR) else {
            return Ok(0);
        };
        if self
            .learnt
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some_and(|at| at >= last)
        {
            return Ok(0);
        }
        let mut conn = self.db.get()?;
        baselines::delete_of_gone_clients(&mut conn)?;
        let ids = clients::ids(&mut conn)?;
        let learnt: HashMap<(String, String), DateTime<Utc>> = baselines::learnt(&mut conn)?
            .into_iter()
            .map(|(client_id, signal, at)| ((client_id, signal), at))
            .collect();
        // The first time (no baselines at all: a new server, or one just
        // upgraded), the rollups kept of the last week are learnt at once.
        // Not before the first rollup kept: a new server scans one hour, not a week.
        let kept_from = usage::earliest_minute(&mut conn)?.and_then(|at| at.duration_trunc(HOUR).ok());
        let week_back = (last - HOUR * (CATCH_UP_HOURS as i32 - 1)).max(kept_from.unwrap_or(last));
        let oldest = learnt.values().map(|at| *at + HOUR).min().unwrap_or(week_back);
        let first = oldest.max(week_back).min(last);
        let mut hours = Vec::new();
        let mut hour = first;
        while hour <= last {
            let mut summaries = Summaries::between(hour, Some(hour + HOUR), &self.sealing);
            hours.push((hour, values(&mut conn, (hour, hour + HOUR), &mut summaries, &Signal::ALL)?));
            hour += HOUR;
        }
        // Older hours' sightings are gone: not learnt as none.
        let networks_kept_from = self.now() - SIGHTING_RETENTION;
        let mut saved = 0;
        for client_id in &ids {
            let learnt_of = |signal: Signal| learnt.get(&(client_id.clone(), signal.name().to_owned()));
            let active = |values: &BTreeMap<Signal, WindowValues>| {
                values.get(&Signal::Requests).is_some_and(|v| v.contains_key(client_id))
            };
            let due = Signal::ALL.into_iter().any(|signal| learnt_of(signal).is_none_or(|at| *at < last));
            let known = Signal::ALL.into_iter().any(|signal| learnt_of(signal).is_some());
            if !due || (!known && !hours.iter().any(|(_, values)| active(values))) {
                continue;
            }
            // One client's models at a time.
            let stored: HashMap<String, BaselineRecord> = baselines::of_client(&mut conn, client_id)?
                .into_iter()
                .map(|record| (record.signal.clone(), record))
                .collect();
            for signal in Signal::ALL {
                let read = stored.get(signal.name());
                let mut learning = read.map(model).unwrap_or_default();
                let mut learnt_through = None;
                for (hour, values) in &hours {
                    let since = read.map_or(active(values), |r| *hour > r.learnt_through);
                    if !since && learnt_through.is_none() {
                        continue;
                    }
                    let value = values.get(&signal).and_then(|v| v.get(client_id)).map(|(value, _)| *value);
                    // An hour without requests teaches a rate nothing; one whose
                    // sightings are gone teaches the networks nothing.
                    let unknown =
                        signal.is_rate() || (signal == Signal::Networks && *hour < networks_kept_from);
                    if let Some(value) = value.or((!unknown).then_some(0.0)) {
                        learning.learn(*hour, value);
                    }
                    learnt_through = Some(*hour);
                }
                let Some(learnt_through) = learnt_through else { continue };
                let next = BaselineRecord {
                    client_id: client_id.clone(),
                    signal: signal.name().to_owned(),
                    learnt_through,
                    model: serde_json::to_string(&learning).map_err(|e| AppError::Corrupt(e.to_string()))?,
                };
                // Lost to another instance: it learnt the same hours.
                if conn.atomically(|conn| baselines::swap(conn, read, &next))? {
                    saved += 1;
                }
            }
        }
        *self.learnt.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(last);
        Ok(saved)
    }
}

/// One client's baseline of one signal, as the monitoring page shows it.
#[derive(Clone, Debug, Serialize)]
pub struct BaselineView {
    /// The signal.
    pub signal: Signal,
    /// The start of the last hour learnt, RFC 3339.
    pub learnt_through: String,
    /// Whether it judges the hour now beginning, and by what:
    /// `hour_of_week`, `hour_of_day`, or `learning` before a week of history.
    pub judged_by: &'static str,
    /// The last hours learnt, oldest first.
    pub recent: Vec<Recent>,
}

/// The last hours `client_id`'s `signal` learnt, oldest first.
pub(crate) fn recent(
    conn: &mut DbConnection,
    client_id: &str,
    signal: Signal,
) -> Result<Vec<Recent>, AppError> {
    let records = baselines::of_clients(conn, signal.name(), &[client_id.to_owned()])?;
    Ok(records.first().map(|record| model(record).recent).unwrap_or_default())
}

impl App {
    /// The baselines of `client_id`, one per signal learnt: for admins
    /// monitoring, and for the members of its team.
    pub fn client_baselines(&self, actor: &Actor, client_id: &str) -> Result<Vec<BaselineView>, AppError> {
        self.read_client_monitoring(actor, client_id, |conn| {
            let now = HourOfWeek::of(self.now().timestamp());
            let views = baselines::of_client(conn, client_id)?
                .iter()
                .filter_map(|record| {
                    let signal = Signal::parse(&record.signal)?;
                    let Model { baseline, recent } = model(record);
                    let judged_by = match baseline.judge_by(now) {
                        Some((_, true)) => "hour_of_week",
                        Some((_, false)) => "hour_of_day",
                        None => "learning",
                    };
                    let learnt_through = crate::time(record.learnt_through);
                    Some(BaselineView { signal, learnt_through, judged_by, recent })
                })
                .collect();
            Ok(views)
        })
    }
}
