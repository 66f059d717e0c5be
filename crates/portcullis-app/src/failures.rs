//! The event bus's policy for high-volume security events (DESIGN
//! "Events"): failed client authentications, failed logins and throttled
//! logins can be caused by anyone, and uses of a client from outside its
//! countries happen on every request, so none costs a write each. Each
//! instance counts them in memory per kind, presented id, source address
//! and window (a minute by default); when a window ends, each group becomes
//! one summary event (`auth.client_failed`, `auth.login_failed`,
//! `auth.login_throttled`, `client.outside_countries`) with its count,
//! first and last time and reasons, written to the audit log and published
//! on the bus. Ids that name no client or user are grouped together per
//! address (with a few keyed-hash samples, never the raw text, which may be
//! a secret typed in the wrong field). Past [`MAX_GROUPS`] groups a window
//! stops telling addresses apart (a client's failures still count as its
//! own, for alert rules, up to [`MAX_IDS`] clients) and collapses the rest
//! into one group per kind.
//! Counting takes a mutex and a hash lookup.

use crate::audit::{self, Record};
use crate::event::FailureSummary;
use crate::{time, Actor, Event, EventBus};
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_store::{Database, StoreError};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

/// The window failures are summed over unless configured otherwise.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60);
/// The most groups one window keeps apart by address; the rest are
/// counted per client alone (alert rules read a client's own), or together.
pub const MAX_GROUPS: usize = 200;
/// The most groups of clients one window keeps at all; the rest are counted
/// together. Only registered clients have groups of their own: an attacker
/// cannot make more than there are.
pub const MAX_IDS: usize = 1_000;
/// How many hashed samples of unknown ids a group keeps.
const MAX_SAMPLES: usize = 5;
/// What stands for every id that names no client.
pub const UNKNOWN_CLIENT: &str = "(unknown client)";
/// What stands for every username that names no user.
pub const UNKNOWN_USER: &str = "(unknown user)";
/// What stands for every group past [`MAX_IDS`].
const OTHERS: &str = "(others)";

/// A kind of high-volume failure.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum FailureKind {
    /// Client authentication at the token, introspection or revocation endpoint.
    Client,
    /// A wrong password (or an unknown or disabled user) at the login page.
    Login,
    /// A login refused unchecked because its account or address is throttled.
    LoginThrottled,
    /// A client authenticated from a country outside its `allowed_countries`.
    OutsideCountries,
}

impl FailureKind {
    /// What stands for every presented id that names nothing known.
    fn unknown(self) -> &'static str {
        match self {
            Self::Client | Self::OutsideCountries => UNKNOWN_CLIENT,
            Self::Login | Self::LoginThrottled => UNKNOWN_USER,
        }
    }
}

/// Who presented what, and when.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct Group {
    kind: FailureKind,
    presented: String,
    source: Option<IpAddr>,
    window: DateTime<Utc>,
}

#[derive(Debug)]
struct Tally {
    count: u64,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    reasons: BTreeMap<&'static str, u64>,
    samples: BTreeSet<String>,
}

impl Tally {
    /// Adds `other`'s failures to these.
    fn absorb(&mut self, other: Tally) {
        self.count += other.count;
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
        for (reason, count) in other.reasons {
            *self.reasons.entry(reason).or_default() += count;
        }
        let room = MAX_SAMPLES.saturating_sub(self.samples.len());
        self.samples.extend(other.samples.into_iter().take(room));
    }
}

/// One failed authentication.
pub struct Failure<'a> {
    /// What failed.
    pub kind: FailureKind,
    /// The client id or username presented, if it names a known client or
    /// user; else `None`.
    pub known: Option<&'a str>,
    /// What was presented as the id when it names no client (hashed here).
    pub presented: &'a str,
    /// Where it came from.
    pub source: Option<IpAddr>,
    /// Why it failed, in a few words.
    pub reason: &'static str,
    /// When.
    pub at: DateTime<Utc>,
}

/// The failures of the windows still open, summarised into `db`'s audit
/// log and onto the bus.
pub struct FailureLog {
    db: Database,
    sealing: crate::audit::Sealing,
    bus: EventBus,
    window: TimeDelta,
    groups: Mutex<HashMap<Group, Tally>>,
    observers: RwLock<Vec<Observer>>,
}

/// Told of each failure as it is counted, not when its window ends.
type Observer = Box<dyn Fn(FailureKind, &'static str) + Send + Sync>;

impl FailureLog {
    /// The window failures are summed over.
    pub fn window(&self) -> TimeDelta {
        self.window
    }

    /// A log summarising every `window` into `db`, publishing on `bus`.
    pub fn new(db: Database, bus: EventBus, window: Duration, sealing: crate::audit::Sealing) -> Self {
        let window = TimeDelta::from_std(window).unwrap_or(TimeDelta::minutes(1)).max(TimeDelta::seconds(1));
        Self { db, sealing, bus, window, groups: Mutex::default(), observers: RwLock::default() }
    }

    /// Calls `observer` with each failure's kind and reason as it is
    /// counted, for counters that must move at once (`/metrics`). It runs
    /// on the failing request's thread: it must be cheap, never block and
    /// write nothing. (A log made by [`App::with_failure_window`] starts
    /// with none: observe after configuring the window.)
    ///
    /// [`App::with_failure_window`]: crate::App::with_failure_window
    pub fn observe(&self, observer: impl Fn(FailureKind, &'static str) + Send + Sync + 'static) {
        self.observers.write().expect("failure observers lock").push(Box::new(observer));
    }

    /// Counts one failure.
    pub fn count(&self, failure: &Failure<'_>) {
        for observe in self.observers.read().expect("failure observers lock").iter() {
            observe(failure.kind, failure.reason);
        }
        let step = self.window.num_milliseconds();
        let start = failure.at.timestamp_millis().div_euclid(step) * step;
        let window = DateTime::from_timestamp_millis(start).unwrap_or(failure.at);
        let kind = failure.kind;
        let presented = failure.known.unwrap_or(kind.unknown());
        let mut group = Group { kind, presented: presented.to_owned(), source: failure.source, window };
        let mut groups = self.groups.lock().expect("failure log lock");
        if !groups.contains_key(&group) && groups.len() >= MAX_GROUPS {
            group.source = None;
            let per_client = matches!(kind, FailureKind::Client | FailureKind::OutsideCountries);
            if !per_client || (!groups.contains_key(&group) && groups.len() >= MAX_IDS) {
                group.presented = OTHERS.to_owned();
            }
        }
        let tally = groups.entry(group).or_insert_with(|| Tally {
            count: 0,
            first: failure.at,
            last: failure.at,
            reasons: BTreeMap::new(),
            samples: BTreeSet::new(),
        });
        tally.count += 1;
        tally.first = tally.first.min(failure.at);
        tally.last = tally.last.max(failure.at);
        *tally.reasons.entry(failure.reason).or_default() += 1;
        if failure.known.is_none() && tally.samples.len() < MAX_SAMPLES {
            tally.samples.insert(self.sealing.identifier_digest(failure.presented));
        }
    }

    /// Takes the groups of windows that ended by `now` (every group when `all`).
    fn take_ended(&self, now: DateTime<Utc>, all: bool) -> Vec<(Group, Tally)> {
        let mut groups = self.groups.lock().expect("failure log lock");
        let ended: Vec<Group> =
            groups.keys().filter(|g| all || g.window + self.window <= now).cloned().collect();
        ended.into_iter().filter_map(|group| groups.remove_entry(&group)).collect()
    }

    /// A group as its summary event, and who it is recorded under: the
    /// presented id.
    fn event(&self, (group, tally): &(Group, Tally)) -> (Actor, Event) {
        let summary = FailureSummary {
            presented: group.presented.clone(),
            address: group.source.map(|ip| ip.to_string()),
            count: tally.count,
            reasons: tally.reasons.iter().map(|(reason, n)| ((*reason).to_owned(), *n)).collect(),
            first_at: time(tally.first),
            last_at: time(tally.last),
            window_seconds: self.window.num_seconds(),
            presented_digests: tally.samples.iter().cloned().collect(),
        };
        let party = Actor::Party { client_id: Some(group.presented.clone()), address: group.source };
        let event = match group.kind {
            FailureKind::Client => Event::AuthClientFailed(summary),
            FailureKind::Login => Event::AuthLoginFailed(summary),
            FailureKind::LoginThrottled => Event::AuthLoginThrottled(summary),
            FailureKind::OutsideCountries => Event::ClientOutsideCountries(summary),
        };
        (party, event)
    }

    /// Writes the windows that ended by `now` (all of them when `all`) to
    /// the audit log, in one transaction; what cannot be written is kept
    /// for the next try (and the failure logged and returned).
    pub fn flush(&self, now: DateTime<Utc>, all: bool) -> Result<(), StoreError> {
        let ended = self.take_ended(now, all);
        if ended.is_empty() {
            return Ok(());
        }
        let events: Vec<(Actor, Event)> = ended.iter().map(|group| self.event(group)).collect();
        let written = self.db.get().and_then(|mut conn| {
            conn.in_transaction(|conn| {
                events.iter().try_for_each(|(actor, event)| {
                    audit::append(conn, &Record::of(actor, event), &self.sealing).map(drop)
                })
            })
        });
        match written {
            Ok(()) => {
                for (actor, event) in &events {
                    self.bus.publish(actor, now, std::slice::from_ref(event));
                }
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, groups = ended.len(), "failed authentications could not be audited yet; retrying");
                let mut groups = self.groups.lock().expect("failure log lock");
                for (group, tally) in ended {
                    match groups.get_mut(&group) {
                        Some(open) => open.absorb(tally),
                        None => drop(groups.insert(group, tally)),
                    }
                }
                Err(e)
            }
        }
    }
}

/// What is still open is written when the server stops.
impl Drop for FailureLog {
    fn drop(&mut self) {
        // Logged by `flush`; nothing is left to keep it for.
        let _ = self.flush(Utc::now(), true);
    }
}

/// How often ended windows are looked for.
const FLUSH_EVERY: Duration = Duration::from_millis(500);

/// Starts the thread that writes ended windows; it ends once `log` is
/// dropped (which writes what is left).
pub fn spawn(log: &Arc<FailureLog>) {
    let weak: Weak<FailureLog> = Arc::downgrade(log);
    std::thread::Builder::new()
        .name("portcullis-failures".to_owned())
        .spawn(move || loop {
            std::thread::sleep(FLUSH_EVERY);
            let Some(log) = weak.upgrade() else { return };
            // Logged by `flush` and kept for the next try.
            let _ = log.flush(Utc::now(), false);
        })
        .expect("spawn the failure log thread");
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_store::test_support::TestDb;

    fn failure<'a>(known: Option<&'a str>, presented: &'a str, last: u8, at: DateTime<Utc>) -> Failure<'a> {
        Failure {
            kind: FailureKind::Client,
            known,
            presented,
            source: Some(IpAddr::from([192, 0, 2, last])),
            reason: "wrong secret",
            at,
        }
    }

    #[test]
    fn failures_are_grouped_per_client_address_and_window() {
        let db = TestDb::sqlite();
        let log =
            FailureLog::new(db.connect(), EventBus::default(), Duration::from_secs(60), Default::default());
        let start = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        for n in 0..1000 {
            log.count(&failure(Some("billing"), "billing", 1, start + TimeDelta::milliseconds(n)));
        }
        log.count(&failure(Some("billing"), "billing", 2, start));
        log.count(&failure(Some("billing"), "billing", 1, start + TimeDelta::minutes(1)));
        assert!(log.take_ended(start + TimeDelta::seconds(59), false).is_empty(), "the window is open");
        let mut ended: Vec<Record> = log
            .take_ended(start + TimeDelta::minutes(1), false)
            .iter()
            .map(|g| log.event(g))
            .map(|(actor, event)| Record::of(&actor, &event))
            .collect();
        ended.sort_by_key(|e| e.details["count"].as_u64());
        assert_eq!(ended.len(), 2, "one entry per address");
        assert_eq!(ended[1].details["count"], 1000);
        assert_eq!(ended[1].details["first_at"], time(start));
        assert_eq!(ended[1].details["reasons"]["wrong secret"], 1000);
        assert_eq!(log.take_ended(start + TimeDelta::minutes(5), false).len(), 1, "the next minute's");
    }

    #[test]
    fn unknown_ids_are_grouped_and_never_recorded_verbatim() {
        let db = TestDb::sqlite();
        let log =
            FailureLog::new(db.connect(), EventBus::default(), Duration::from_secs(60), Default::default());
        let now = Utc::now();
        for n in 0..100 {
            log.count(&failure(None, &format!("s3cret-password-{n}"), 1, now));
        }
        let ended: Vec<Record> = log
            .take_ended(now, true)
            .iter()
            .map(|g| log.event(g))
            .map(|(actor, event)| Record::of(&actor, &event))
            .collect();
        assert_eq!(ended.len(), 1);
        assert_eq!(
            (ended[0].actor.as_str(), ended[0].details["count"].as_u64()),
            (UNKNOWN_CLIENT, Some(100))
        );
        let text = ended[0].details.to_string();
        assert!(!text.contains("s3cret"), "{text}");
        assert_eq!(ended[0].details["presented_digests"].as_array().unwrap().len(), MAX_SAMPLES);
    }

    #[test]
    fn a_window_keeps_a_bounded_number_of_groups() {
        let db = TestDb::sqlite();
        let log =
            FailureLog::new(db.connect(), EventBus::default(), Duration::from_secs(60), Default::default());
        let now = Utc::now();
        for n in 0..2_000u32 {
            let id = n.to_string();
            log.count(&Failure {
                source: Some(IpAddr::from(n.to_be_bytes())),
                ..failure(Some(&id), &id, 0, now)
            });
        }
        let ended = log.take_ended(now, true);
        assert_eq!(ended.len(), MAX_IDS + 1);
        let total: u64 = ended.iter().map(|(_, tally)| tally.count).sum();
        assert_eq!(total, 2_000, "nothing is lost");
        for n in 0..1_000u32 {
            let name = n.to_string();
            log.count(&Failure {
                kind: FailureKind::Login,
                source: Some(IpAddr::from(n.to_be_bytes())),
                ..failure(Some(&name), &name, 0, now)
            });
        }
        assert_eq!(
            log.take_ended(now, true).len(),
            MAX_GROUPS + 1,
            "logins past the cap are counted together"
        );
    }

    #[test]
    fn past_the_address_cap_a_clients_failures_stay_its_own() {
        let db = TestDb::sqlite();
        let log =
            FailureLog::new(db.connect(), EventBus::default(), Duration::from_secs(60), Default::default());
        let now = Utc::now();
        for n in 0..(MAX_GROUPS as u32 + 100) {
            log.count(&Failure { source: Some(IpAddr::from(n.to_be_bytes())), ..failure(None, "x", 0, now) });
        }
        for last in 0..50 {
            log.count(&failure(Some("billing"), "billing", last, now));
        }
        let ended = log.take_ended(now, true);
        let billing: Vec<&Group> =
            ended.iter().map(|(g, _)| g).filter(|g| g.presented == "billing").collect();
        assert_eq!(billing.len(), 1, "one group, without an address");
        assert_eq!(billing[0].source, None);
        let count: u64 = ended.iter().filter(|(g, _)| g.presented == "billing").map(|(_, t)| t.count).sum();
        assert_eq!(count, 50);
    }

    #[test]
    fn what_stays_open_is_written_when_the_log_is_dropped() {
        let db = TestDb::sqlite();
        let log =
            FailureLog::new(db.connect(), EventBus::default(), Duration::from_secs(3600), Default::default());
        log.count(&failure(Some("billing"), "billing", 1, Utc::now()));
        drop(log);
        let entries = portcullis_store::audit::verify(&mut db.connect().get().unwrap()).unwrap();
        assert_eq!(entries.entries, 1);
    }

    #[test]
    fn kinds_are_summarised_apart_as_their_own_events() {
        let db = TestDb::sqlite();
        let log =
            FailureLog::new(db.connect(), EventBus::default(), Duration::from_secs(60), Default::default());
        let now = Utc::now();
        log.count(&failure(Some("alice"), "alice", 1, now));
        log.count(&Failure {
            kind: FailureKind::Login,
            reason: "wrong password",
            ..failure(Some("alice"), "alice", 1, now)
        });
        log.count(&Failure {
            kind: FailureKind::LoginThrottled,
            reason: "throttled",
            ..failure(None, "mallory", 1, now)
        });
        let mut names: Vec<&str> = log.take_ended(now, true).iter().map(|g| log.event(g).1.name()).collect();
        names.sort_unstable();
        assert_eq!(names, ["auth.client_failed", "auth.login_failed", "auth.login_throttled"]);
    }

    #[test]
    fn a_group_put_back_keeps_its_whole_tally() {
        let (start, later) = (Utc::now(), Utc::now() + TimeDelta::seconds(5));
        let tally = |at, reason| Tally {
            count: 2,
            first: at,
            last: at,
            reasons: BTreeMap::from([(reason, 2)]),
            samples: BTreeSet::new(),
        };
        let mut open = tally(later, "wrong secret");
        open.absorb(tally(start, "unknown client"));
        assert_eq!((open.count, open.first, open.last), (4, start, later));
        assert_eq!(open.reasons.len(), 2);
    }
}
