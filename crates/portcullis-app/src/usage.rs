//! Usage analytics (issue 11): per client and minute, the requests
//! answered, errors by class (401/403, other 4xx, 5xx), access tokens issued
//! and a latency histogram.
//!
//! Counting costs a request one short lock on this instance's
//! [`UsageRecorder`], never a database write: a job writes the finished
//! minutes in one batch every [`FLUSH_INTERVAL`] (and everything at
//! shutdown). The same tally keeps the networks a client authenticated
//! from that minute (see [`crate::sightings`]), written beside its rollup.
//! Each instance writes rows of its own, which readers add up; the
//! latency is kept as a histogram of fixed buckets because histograms add
//! up where percentiles do not, so p50 and p95 hold across instances (to
//! the bucket's width, [`LATENCY_GROWTH`]).

use crate::clock::{minute_of, minute_start};
use crate::once_every::OnceEvery;
use crate::{Actor, App, AppError, Permission};
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_core::team::TeamPermission;
use portcullis_store::sightings::{self, NetworkSighting};
use portcullis_store::usage::{self, Counts, Rollup};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// How often each instance writes its finished minutes.
pub const FLUSH_INTERVAL: Duration = Duration::from_secs(15);
/// The upper bound of the first latency bucket, in milliseconds.
pub const LATENCY_FIRST_MS: f64 = 0.25;
/// Each latency bucket is this many times wider than the one before.
pub const LATENCY_GROWTH: f64 = 1.5;
/// The latency buckets: the last one holds everything above about 31 s.
pub const LATENCY_BUCKETS: usize = 31;
/// The client-minutes an instance holds before writing them; past this
/// (a database down for long), new ones are dropped, counted and logged.
pub const MAX_PENDING: usize = 200_000;
/// The most points one series may hold.
pub const MAX_POINTS: i64 = 1440;
/// The longest range one query may cover.
pub const MAX_RANGE: TimeDelta = TimeDelta::days(31);
/// The earliest time a range may name.
const FIRST: DateTime<Utc> = DateTime::from_timestamp(-62_167_219_200, 0).expect("0000-01-01");
/// The latest time a range may name.
const LAST: DateTime<Utc> = DateTime::from_timestamp(253_402_300_799, 0).expect("9999-12-31T23:59:59Z");
/// Clients with fewer requests than this are left out of the error-rate
/// ranking: one failure out of two requests says little.
pub const MIN_REQUESTS_FOR_RATE: i64 = 20;

/// One answered request, as the adapter that answered it saw it.
#[derive(Clone, Copy, Debug)]
pub struct Answered<'a> {
    /// The registered client the request was for.
    pub client_id: &'a str,
    /// When it was answered.
    pub at: DateTime<Utc>,
    /// The HTTP status.
    pub status: u16,
    /// How long answering took.
    pub took: Duration,
    /// Access tokens it issued.
    pub tokens_issued: u32,
    /// Where the client authenticated from, when it did.
    pub authenticated_from: Option<IpAddr>,
}

/// A latency histogram over the fixed buckets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Latency([u64; LATENCY_BUCKETS]);

impl Default for Latency {
    fn default() -> Self {
        Self([0; LATENCY_BUCKETS])
    }
}

/// The upper bound of bucket `i`, in milliseconds.
fn bound(i: usize) -> f64 {
    LATENCY_FIRST_MS * LATENCY_GROWTH.powi(i as i32)
}

impl Latency {
    /// Counts one request that took `ms` milliseconds.
    pub fn observe(&mut self, ms: f64) {
        let i = if ms <= LATENCY_FIRST_MS {
            0
        } else {
            ((ms / LATENCY_FIRST_MS).ln() / LATENCY_GROWTH.ln()).ceil() as usize
        };
        self.0[i.min(LATENCY_BUCKETS - 1)] += 1;
    }

    /// Adds stored bucket counts (fewer buckets than ours are fine; more are
    /// added to the last).
    pub fn add(&mut self, counts: &[u64]) {
        for (i, count) in counts.iter().enumerate() {
            self.0[i.min(LATENCY_BUCKETS - 1)] += count;
        }
    }

    /// The bucket counts, without trailing empty buckets.
    pub fn counts(&self) -> Vec<u64> {
        let used = self.0.iter().rposition(|&c| c > 0).map_or(0, |last| last + 1);
        self.0[..used].to_vec()
    }

    /// The `q` quantile in milliseconds, interpolated within its bucket as
    /// Prometheus does; `None` without requests.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total: u64 = self.0.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = q * total as f64;
        let mut below = 0.0;
        for (i, &count) in self.0.iter().enumerate() {
            let count = count as f64;
            if count > 0.0 && below + count >= rank {
                let lower = if i == 0 { 0.0 } else { bound(i - 1) };
                if i == LATENCY_BUCKETS - 1 {
                    return Some(lower);
                }
                let value = lower + (bound(i) - lower) * ((rank - below) / count);
                return Some(crate::hundredths(value));
            }
            below += count;
        }
        None
    }
}

/// The most networks kept of one client in one minute (a public client's
/// users can come from anywhere).
pub const MAX_NETWORKS: usize = 1_000;
/// The most networks an instance holds before writing them (past this, a
/// database down for long, new ones go unnoted).
pub const MAX_PENDING_NETWORKS: usize = 100_000;

/// What one client did in one minute, and the networks it authenticated from.
#[derive(Clone, Debug, Default)]
struct Tally {
    counts: Counts,
    latency: Latency,
    networks: HashSet<IpAddr>,
}

impl Tally {
    fn count(&mut self, answered: &Answered<'_>) {
        let c = &mut self.counts;
        c.requests += 1;
        match answered.status {
            401 | 403 => c.auth_errors += 1,
            400..=499 => c.other_errors += 1,
            500..=599 => c.server_errors += 1,
            _ => {}
        }
        c.tokens_issued += i64::from(answered.tokens_issued);
        self.latency.observe(answered.took.as_secs_f64() * 1000.0);
    }

    /// Notes `network` within both bounds, counting it in `held` (the
    /// networks every tally holds).
    fn note(&mut self, network: IpAddr, held: &mut usize) {
        let room = *held < MAX_PENDING_NETWORKS && self.networks.len() < MAX_NETWORKS;
        if room && self.networks.insert(network) {
            *held += 1;
        }
    }

    fn merge(&mut self, rollup: &Rollup) {
        self.counts.add(&rollup.counts);
        self.latency.add(&rollup.latency);
    }
}

/// This instance's counts not yet written, by minute and client.
pub struct UsageRecorder {
    pending: Mutex<Pending>,
    dropped: AtomicU64,
    warning: OnceEvery,
}

impl Default for UsageRecorder {
    fn default() -> Self {
        Self {
            pending: Mutex::default(),
            dropped: AtomicU64::new(0),
            warning: OnceEvery::new(Duration::from_secs(60)),
        }
    }
}

#[derive(Default)]
struct Pending {
    minutes: HashMap<i64, HashMap<String, Tally>>,
    /// Tallies held.
    size: usize,
    /// Networks held, across tallies.
    networks: usize,
}

impl Pending {
    /// The tally of `client_id` in `minute`, made if there is room.
    fn tally_of(&mut self, client_id: &str, minute: DateTime<Utc>) -> Option<&mut Tally> {
        let clients = self.minutes.entry(minute_of(minute)).or_default();
        if !clients.contains_key(client_id) {
            if self.size >= MAX_PENDING {
                return None;
            }
            self.size += 1;
        }
        Some(clients.entry(client_id.to_owned()).or_default())
    }
}

/// What one write takes: the rollups of the minutes, and the networks of each.
#[derive(Default)]
struct Batch {
    rollups: Vec<Rollup>,
    networks: Vec<NetworkSighting>,
}

impl UsageRecorder {
    /// Counts one answered request.
    pub fn record(&self, answered: &Answered<'_>) {
        let mut pending = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Pending { minutes, size, networks } = &mut *pending;
        let clients = minutes.entry(minute_of(answered.at)).or_default();
        let tally = match clients.get_mut(answered.client_id) {
            Some(tally) => tally,
            None if *size < MAX_PENDING => {
                *size += 1;
                clients.entry(answered.client_id.to_owned()).or_default()
            }
            None => {
                drop(pending);
                return self.dropped(1);
            }
        };
        tally.count(answered);
        if let Some(ip) = answered.authenticated_from {
            tally.note(crate::sightings::network_start(ip), networks);
        }
    }

    /// Takes the counts (and networks) of minutes before `before` (all of
    /// them for `None`): the lock is held only to move them out.
    fn take(&self, before: Option<i64>) -> Batch {
        let due: Vec<(i64, HashMap<String, Tally>)> = {
            let mut pending = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let minutes: Vec<i64> =
                pending.minutes.keys().copied().filter(|m| before.is_none_or(|b| *m < b)).collect();
            let due: Vec<(i64, HashMap<String, Tally>)> = minutes
                .into_iter()
                .filter_map(|minute| Some((minute, pending.minutes.remove(&minute)?)))
                .collect();
            pending.size -= due.iter().map(|(_, clients)| clients.len()).sum::<usize>();
            let networks: usize =
                due.iter().flat_map(|(_, clients)| clients.values()).map(|t| t.networks.len()).sum();
            pending.networks -= networks;
            due
        };
        let mut batch = Batch::default();
        for (minute, clients) in due {
            for (client_id, tally) in clients {
                let minute = minute_start(minute);
                batch.networks.extend(tally.networks.iter().map(|start| NetworkSighting {
                    client_id: client_id.clone(),
                    minute,
                    network: crate::sightings::network_text(*start),
                }));
                batch.rollups.push(Rollup {
                    client_id,
                    minute,
                    counts: tally.counts,
                    latency: tally.latency.counts(),
                });
            }
        }
        batch
    }

    /// Puts back what could not be written, to be written next time.
    fn put_back(&self, batch: Batch) {
        let mut pending = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut lost = 0;
        for rollup in &batch.rollups {
            match pending.tally_of(&rollup.client_id, rollup.minute) {
                Some(tally) => tally.merge(rollup),
                None => lost += rollup.counts.requests as u64,
            }
        }
        for sighting in &batch.networks {
            let Some(start) = crate::sightings::first_address(&sighting.network) else { continue };
            let mut held = pending.networks;
            if let Some(tally) = pending.tally_of(&sighting.client_id, sighting.minute) {
                tally.note(start, &mut held);
            }
            pending.networks = held;
        }
        drop(pending);
        self.dropped(lost);
    }

    fn dropped(&self, requests: u64) {
        if requests == 0 {
            return;
        }
        let dropped = self.dropped.fetch_add(requests, Ordering::Relaxed) + requests;
        if self.warning.due() {
            tracing::warn!(
                dropped,
                "usage counts are not being written; requests past the limit go uncounted"
            );
        }
    }
}

/// One step of a series: its counts and latency.
#[derive(Clone, Debug, Serialize)]
pub struct UsagePoint {
    /// The step's start, RFC 3339.
    pub start: String,
    /// Requests answered.
    pub requests: i64,
    /// Errors by class.
    pub errors: ErrorCounts,
    /// Access tokens issued.
    pub tokens_issued: i64,
    /// Latency percentiles in milliseconds (`null` without requests).
    pub latency_ms: LatencyView,
}

/// Errors by class.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ErrorCounts {
    /// 401 and 403.
    pub auth: i64,
    /// Other 4xx.
    pub client: i64,
    /// 5xx.
    pub server: i64,
}

impl ErrorCounts {
    /// Every error, whatever its class.
    pub fn total(&self) -> i64 {
        self.auth + self.client + self.server
    }
}

impl From<&Counts> for ErrorCounts {
    fn from(c: &Counts) -> Self {
        Self { auth: c.auth_errors, client: c.other_errors, server: c.server_errors }
    }
}

/// Latency percentiles, in milliseconds.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct LatencyView {
    /// The median.
    pub p50: Option<f64>,
    /// The 95th percentile.
    pub p95: Option<f64>,
}

impl UsagePoint {
    fn of(start: DateTime<Utc>, tally: &Tally) -> Self {
        let c = &tally.counts;
        Self {
            start: crate::time(start),
            requests: c.requests,
            errors: c.into(),
            tokens_issued: c.tokens_issued,
            latency_ms: LatencyView { p50: tally.latency.quantile(0.5), p95: tally.latency.quantile(0.95) },
        }
    }
}

/// A range of whole minutes split into steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsageRange {
    /// The first minute.
    pub from: DateTime<Utc>,
    /// The end (excluded).
    pub to: DateTime<Utc>,
    /// Each step's length.
    pub step: TimeDelta,
}

impl UsageRange {
    /// The range `[from, to)` with steps of `step_seconds` (a multiple of
    /// 60; `None`: one step for the whole range), its ends rounded down to
    /// the minute; `to` defaults to `now`, `from` to `default_span` before
    /// `to`. A `from` after `to` makes an empty range.
    pub fn new(
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        step_seconds: Option<i64>,
        default_span: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Self, AppError> {
        // Within four-digit years, which both backends store and compare alike.
        let (first, last) = (minute_start(minute_of(FIRST)), minute_start(minute_of(LAST)));
        let to = minute_start(minute_of(to.unwrap_or(now))).clamp(first, last);
        let from = minute_start(minute_of(from.unwrap_or(to - default_span))).clamp(first, to);
        let step = step_seconds.unwrap_or((to - from).num_seconds().max(60));
        if step < 60 || step % 60 != 0 {
            return Err(AppError::Invalid(
                "step must be a whole number of minutes, in seconds (60, 300, 3600)".into(),
            ));
        }
        Ok(Self { from, to, step: TimeDelta::seconds(step) })
    }

    /// How many steps the range holds (the last may be shorter).
    pub fn points(&self) -> i64 {
        let (span, step) = ((self.to - self.from).num_seconds(), self.step.num_seconds());
        (span + step - 1) / step
    }

    /// This range as a series can show it: at most [`MAX_RANGE`] before
    /// `to`, its step widened (to whole minutes) to make at most
    /// [`MAX_POINTS`] points.
    pub fn bounded(self) -> Self {
        let from = self.from.max(self.to - MAX_RANGE);
        let span = (self.to - from).num_minutes();
        let fewest_minutes = (span + MAX_POINTS - 1) / MAX_POINTS;
        let step = self.step.max(TimeDelta::minutes(fewest_minutes));
        Self { from, to: self.to, step }
    }
}

/// A client's usage over a range.
#[derive(Clone, Debug, Serialize)]
pub struct ClientUsage {
    /// The client.
    pub client_id: String,
    /// The range's start, RFC 3339.
    pub from: String,
    /// The range's end (excluded), RFC 3339.
    pub to: String,
    /// Each step's length in seconds.
    pub step: i64,
    /// The whole range.
    pub totals: UsagePoint,
    /// One point per step, oldest first, empty steps included.
    pub points: Vec<UsagePoint>,
}

/// A client's totals over a range.
#[derive(Clone, Debug, Serialize)]
pub struct ClientTotals {
    /// The client.
    pub client_id: String,
    /// Requests answered.
    pub requests: i64,
    /// Errors by class.
    pub errors: ErrorCounts,
    /// The share of requests answered with an error, 0 to 1.
    pub error_rate: f64,
    /// Access tokens issued.
    pub tokens_issued: i64,
}

impl ClientTotals {
    fn of(client_id: String, c: &Counts) -> Self {
        let error_rate = if c.requests == 0 { 0.0 } else { c.errors() as f64 / c.requests as f64 };
        Self {
            client_id,
            requests: c.requests,
            errors: c.into(),
            error_rate: (error_rate * 10_000.0).round() / 10_000.0,
            tokens_issued: c.tokens_issued,
        }
    }
}

/// Every client's usage over a range.
#[derive(Clone, Debug, Serialize)]
pub struct UsageSummary {
    /// The range's start, RFC 3339.
    pub from: String,
    /// The range's end (excluded), RFC 3339.
    pub to: String,
    /// All clients together.
    pub totals: ClientTotals,
    /// How many clients were used.
    pub clients: usize,
    /// The busiest clients, by requests.
    pub top_by_requests: Vec<ClientTotals>,
    /// The clients with the highest error rate among those with at least
    /// [`MIN_REQUESTS_FOR_RATE`] requests.
    pub top_by_error_rate: Vec<ClientTotals>,
    /// Where the series starts: the range [bounded](UsageRange::bounded).
    pub series_from: String,
    /// Each point's length in seconds.
    pub step: i64,
    /// All clients together step by step from `series_from`, oldest
    /// first, empty steps included; without latency (summed across
    /// clients, it is not kept).
    pub points: Vec<UsagePoint>,
}

impl App {
    /// Where this instance counts usage.
    pub fn usage(&self) -> &UsageRecorder {
        &self.usage
    }

    /// Writes this instance's counts of the finished minutes (of every
    /// minute when `everything`), with the networks each client
    /// authenticated from, in one transaction; returns the rollups written.
    /// What could not be written is kept for next time.
    pub fn flush_usage(&self, everything: bool) -> Result<usize, AppError> {
        let before = (!everything).then(|| minute_of(self.now()));
        // The connection first: while the database is down, the counts stay
        // where requests add to them, untouched.
        let mut conn = self.db.get()?;
        let batch = self.usage.take(before);
        if batch.rollups.is_empty() {
            return Ok(0);
        }
        let written = conn.atomically(|conn| {
            let rows = usage::insert(conn, &batch.rollups)?;
            sightings::insert_networks(conn, &batch.networks)?;
            Ok::<_, portcullis_store::StoreError>(rows)
        });
        match written {
            Ok(rows) => Ok(rows),
            Err(e) => {
                self.usage.put_back(batch);
                Err(e.into())
            }
        }
    }

    /// Writes what only this instance holds, as it stops: the usage counted
    /// since the last batch and the failure summaries still open.
    pub fn flush_before_stopping(&self) -> Result<(), AppError> {
        let failures = self.failures.flush(Utc::now(), true).map_err(AppError::from);
        let usage = self.flush_usage(true).map(drop);
        let sightings = self.flush_sightings().map(drop);
        failures.and(usage).and(sightings)
    }

    /// Writes this instance's finished minutes for `actor`'s read, so that
    /// what it shows is not a batch behind.
    fn flush_for(&self, actor: &Actor) -> Result<(), AppError> {
        actor.require(Permission::Monitoring)?;
        if let Err(e) = self.flush_usage(false) {
            tracing::warn!(error = %e, "usage counts could not be written before a read; it shows the last batch");
        }
        Ok(())
    }

    /// The usage of `client_id` over `range` [bounded](UsageRange::bounded),
    /// step by step: for admins monitoring, and for the members of its team.
    pub fn client_usage(
        &self,
        actor: &Actor,
        client_id: &str,
        range: UsageRange,
    ) -> Result<ClientUsage, AppError> {
        let range = range.bounded();
        if let Err(e) = self.flush_usage(false) {
            tracing::warn!(error = %e, "usage counts could not be written before a read; it shows the last batch");
        }
        self.read_client_monitoring(actor, client_id, |conn| {
            let rows = usage::of_client(conn, client_id, range.from, range.to)?;
            let mut totals = Tally::default();
            let points = series(range, |steps, step_of| {
                for row in &rows {
                    if let Some(tally) = step_of(row.minute).and_then(|i| steps.get_mut(i)) {
                        tally.merge(row);
                    }
                    totals.merge(row);
                }
            });
            Ok(ClientUsage {
                client_id: client_id.to_owned(),
                from: crate::time(range.from),
                to: crate::time(range.to),
                step: range.step.num_seconds(),
                totals: UsagePoint::of(range.from, &totals),
                points,
            })
        })
    }

    /// Reads with `work` what is monitored of `client_id`: for admins
    /// monitoring, and for the members of its team (a member reads their
    /// team's clients', and nothing else); a client that does not exist is
    /// not found.
    pub(crate) fn read_client_monitoring<T>(
        &self,
        actor: &Actor,
        client_id: &str,
        work: impl FnOnce(&mut portcullis_store::DbConnection) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        if let Err(refused) = actor.require(Permission::Monitoring) {
            if actor.portal_user().is_none() {
                return Err(refused);
            }
            crate::clients::reach::reach(&mut *self.db.get()?, actor, client_id, TeamPermission::Read)?;
        }
        let conn = &mut *self.db.get()?;
        if portcullis_store::clients::find(conn, client_id)?.is_none() {
            return Err(AppError::NotFound(format!("no client `{client_id}`")));
        }
        work(conn)
    }

    /// Every client's usage over `range` (of team `team`'s clients only,
    /// when named): totals, the `top` busiest and most failing clients, and
    /// all of them together step by step.
    pub fn usage_summary(
        &self,
        actor: &Actor,
        range: UsageRange,
        (top, team): (usize, Option<&str>),
    ) -> Result<UsageSummary, AppError> {
        self.flush_for(actor)?;
        self.read(actor, Permission::Monitoring, |conn| {
            let bounded = range.bounded();
            let minutes = usage::totals_by_minute(conn, (bounded.from, bounded.to), team)?;
            let points = series(bounded, |steps, step_of| {
                for (minute, counts) in &minutes {
                    if let Some(tally) = step_of(*minute).and_then(|i| steps.get_mut(i)) {
                        tally.counts.add(counts);
                    }
                }
            });
            let by_client = usage::totals_by_client(conn, (range.from, range.to), team)?;
            let mut all = Counts::default();
            for (_, counts) in &by_client {
                all.add(counts);
            }
            let mut clients: Vec<ClientTotals> =
                by_client.into_iter().map(|(id, counts)| ClientTotals::of(id, &counts)).collect();
            clients.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.client_id.cmp(&b.client_id)));
            let used = clients.len();
            let mut failing: Vec<ClientTotals> =
                clients.iter().filter(|c| c.requests >= MIN_REQUESTS_FOR_RATE).cloned().collect();
            failing.sort_by(|a, b| {
                b.error_rate.total_cmp(&a.error_rate).then_with(|| a.client_id.cmp(&b.client_id))
            });
            failing.truncate(top);
            clients.truncate(top);
            Ok(UsageSummary {
                from: crate::time(range.from),
                to: crate::time(range.to),
                totals: ClientTotals::of("(all)".into(), &all),
                clients: used,
                top_by_requests: clients,
                top_by_error_rate: failing,
                series_from: crate::time(bounded.from),
                step: bounded.step.num_seconds(),
                points,
            })
        })
    }
}

/// The points of `range`, step by step: `fill` adds the rows to the
/// steps, given which step a minute falls in (none outside the range).
fn series(
    range: UsageRange,
    fill: impl FnOnce(&mut [Tally], &dyn Fn(DateTime<Utc>) -> Option<usize>),
) -> Vec<UsagePoint> {
    let mut steps = vec![Tally::default(); range.points() as usize];
    let step_of = |minute: DateTime<Utc>| {
        let offset = (minute - range.from).num_seconds();
        (offset >= 0).then(|| (offset / range.step.num_seconds()) as usize)
    };
    fill(&mut steps, &step_of);
    steps
        .iter()
        .enumerate()
        .map(|(i, tally)| UsagePoint::of(range.from + range.step * i as i32, tally))
        .collect()
}

/// Writes `app`'s finished minutes (and its sightings) every
/// [`FLUSH_INTERVAL`] for as long as `alive` exists.
pub fn spawn(app: Arc<App>, alive: Weak<dyn std::any::Any + Send + Sync>) {
    crate::periodic::spawn("usage", FLUSH_INTERVAL, alive, move || {
        if let Err(e) = app.flush_usage(false) {
            tracing::warn!(error = %e, "usage counts could not be written; they are kept for the next try");
        }
        if let Err(e) = app.flush_sightings() {
            tracing::warn!(error = %e, "token uses could not be written; they are kept for the next try");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_buckets_grow_by_half_and_percentiles_interpolate() {
        let mut latency = Latency::default();
        latency.observe(0.1);
        assert_eq!(latency.counts(), vec![1]);
        latency.observe(0.3); // (0.25, 0.375]
        assert_eq!(latency.counts(), vec![1, 1]);
        latency.observe(1e9);
        assert_eq!(latency.counts().len(), LATENCY_BUCKETS, "the last bucket holds the rest");
        assert_eq!(Latency::default().quantile(0.5), None);

        let mut even = Latency::default();
        for _ in 0..100 {
            even.observe(10.0);
        }
        let p50 = even.quantile(0.5).unwrap();
        let p95 = even.quantile(0.95).unwrap();
        assert!((6.0..=10.0 * LATENCY_GROWTH).contains(&p50), "p50 {p50} is within 10 ms's bucket");
        assert!(p95 >= p50);
    }

    #[test]
    fn histograms_add_up_where_percentiles_would_not() {
        let (mut fast, mut slow, mut both) = (Latency::default(), Latency::default(), Latency::default());
        for _ in 0..90 {
            fast.observe(1.0);
            both.observe(1.0);
        }
        for _ in 0..10 {
            slow.observe(500.0);
            both.observe(500.0);
        }
        let mut added = Latency::default();
        added.add(&fast.counts());
        added.add(&slow.counts());
        assert_eq!(added, both);
        assert!(added.quantile(0.5).unwrap() < 2.0);
        assert!(added.quantile(0.95).unwrap() > 300.0, "the slow tenth shows at p95");
    }

    #[test]
    fn ranges_are_whole_minutes_and_series_are_bounded() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T10:30:45Z").unwrap().with_timezone(&Utc);
        let range = UsageRange::new(None, None, None, TimeDelta::hours(1), now).unwrap();
        assert_eq!(crate::time(range.to), "2026-12-01T10:30:00Z");
        assert_eq!(crate::time(range.from), "2026-12-01T09:30:00Z");
        assert_eq!((range.step, range.points()), (TimeDelta::hours(1), 1), "one step");
        let at =
            |from: DateTime<Utc>, step| UsageRange::new(Some(from), None, step, TimeDelta::hours(1), now);
        assert!(matches!(at(now, Some(90)), Err(AppError::Invalid(_))), "not whole minutes");
        assert_eq!(at(now + TimeDelta::days(1), Some(60)).unwrap().points(), 0, "from after to: empty");
        let far = DateTime::parse_from_rfc3339("9999-12-31T23:30:00-01:00").unwrap().to_utc();
        let clamped = UsageRange::new(None, Some(far), None, TimeDelta::hours(1), now).unwrap();
        assert_eq!(
            crate::time(clamped.to),
            "9999-12-31T23:59:00Z",
            "year 10000 is out of every backend's text order"
        );
        let two_days = at(now - TimeDelta::days(2), Some(60)).unwrap().bounded();
        assert_eq!(two_days.step, TimeDelta::minutes(2), "widened to make at most 1440 points");
        assert!(two_days.points() <= MAX_POINTS);
        let year = at(now - TimeDelta::days(365), Some(3600)).unwrap().bounded();
        assert_eq!(year.to - year.from, MAX_RANGE, "cut to the last 31 days");
        assert_eq!(year.step, TimeDelta::hours(1), "a wide enough step is kept");
    }

    #[test]
    fn the_recorder_counts_by_class_and_gives_back_what_was_not_written() {
        let recorder = UsageRecorder::default();
        let at = DateTime::parse_from_rfc3339("2026-12-01T10:00:10Z").unwrap().with_timezone(&Utc);
        for (status, tokens) in [(200, 1), (401, 0), (403, 0), (400, 0), (429, 0), (503, 0)] {
            let took = Duration::from_millis(3);
            let from = Some(IpAddr::from([203, 0, 113, status as u8]));
            let answered = Answered {
                client_id: "app",
                at,
                status,
                took,
                tokens_issued: tokens,
                authenticated_from: from,
            };
            recorder.record(&answered);
        }
        let later = at + TimeDelta::minutes(1);
        recorder.record(&Answered {
            client_id: "app",
            at: later,
            status: 200,
            took: Duration::ZERO,
            tokens_issued: 0,
            authenticated_from: None,
        });

        let finished = recorder.take(Some(minute_of(later)));
        assert_eq!(finished.rollups.len(), 1, "the minute still running stays");
        let expected =
            Counts { requests: 6, auth_errors: 2, other_errors: 2, server_errors: 1, tokens_issued: 1 };
        assert_eq!(finished.rollups[0].counts, expected);
        let networks: Vec<&str> = finished.networks.iter().map(|s| s.network.as_str()).collect();
        assert_eq!(networks, ["203.0.113.0/24"], "six addresses of one /24: one network");
        recorder.put_back(finished);
        let everything = recorder.take(None);
        assert_eq!(everything.rollups.len(), 2);
        assert_eq!(everything.rollups.iter().map(|r| r.counts.requests).sum::<i64>(), 7);
        assert_eq!(everything.networks.len(), 1, "put back with its counts");
        assert!(recorder.take(None).rollups.is_empty());
    }
}
