//! Keeps this instance's in-memory mirrors (clients, revoked tokens, keys) in step
//! with the database: a background thread reads the change log as soon as a
//! change is announced (PostgreSQL `LISTEN/NOTIFY`, [`ChangeListener`]) and
//! at least every [`POLL_INTERVAL`], so a change made on any instance applies
//! on every instance within milliseconds, and well within a second when an
//! announcement is lost.
//!
//! The log stays the source of truth: an announcement only says "read the
//! log now", so one lost while the listener reconnects (or never sent, on
//! SQLite) costs at most one poll interval.

use crate::clients::ClientRegistry;
use crate::KeyRing;
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_app::{Event, LocalMirror};
use portcullis_core::client::MAX_ACCESS_TOKEN_LIFETIME;
use portcullis_store::change_log::{self, Change, ChangeKind};
use portcullis_store::change_notices::ChangeListener;
use portcullis_store::{Backend, Database, DbConnection, StoreError};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Condvar, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

/// How often the change log is read when no change is announced.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// How long a listener that lost its connection waits before listening again.
const RELISTEN_AFTER: Duration = Duration::from_secs(1);
/// The least time between two reads of the log: changes announced in a
/// burst are read together.
const MIN_READ_INTERVAL: Duration = Duration::from_millis(10);
/// How long a hole in the log's positions is waited for. A transaction that
/// took a position may commit after a later one; one that rolled back leaves
/// a hole for ever.
const GAP_TIMEOUT: Duration = Duration::from_secs(10);
/// Most changes read per poll.
const BATCH: i64 = 1000;

/// Revoked access tokens (by `jti`) and grants (by grant id) whose tokens
/// have not all expired.
#[derive(Default)]
pub struct RevocationList {
    tokens: RwLock<HashMap<String, DateTime<Utc>>>,
    grants: RwLock<HashMap<String, DateTime<Utc>>>,
}

impl RevocationList {
    /// Loads the revocations that still matter.
    pub fn load(db: &Database) -> Result<Self, StoreError> {
        let mut conn = db.get()?;
        let now = Utc::now();
        let tokens = change_log::revocations(&mut conn, ChangeKind::Token, now)?.into_iter().collect();
        let grants = change_log::revocations(&mut conn, ChangeKind::Grant, now)?.into_iter().collect();
        Ok(Self { tokens: RwLock::new(tokens), grants: RwLock::new(grants) })
    }

    /// Whether the token `jti`, or the grant it was issued from, is revoked.
    /// A token exchanged from a token of no grant (a client's own, RFC 8693)
    /// names that token's `jti` as its grant, and is revoked with it.
    pub fn is_revoked(&self, jti: &str, grant_id: Option<&str>) -> bool {
        let token_revoked = {
            let tokens = self.tokens.read().expect("revocation lock");
            tokens.contains_key(jti) || grant_id.is_some_and(|grant| tokens.contains_key(grant))
        };
        token_revoked || grant_id.is_some_and(|grant| self.is_grant_revoked(grant))
    }

    /// Whether the grant `grant_id` is revoked.
    pub fn is_grant_revoked(&self, grant_id: &str) -> bool {
        self.grants.read().expect("revocation lock").contains_key(grant_id)
    }

    /// Records a token's revocation until its expiry.
    pub fn insert(&self, jti: String, expires_at: DateTime<Utc>) {
        self.tokens.write().expect("revocation lock").insert(jti, expires_at);
    }

    /// Records a grant's revocation until the last of its tokens expires.
    pub fn insert_grant(&self, grant_id: String, until: DateTime<Utc>) {
        self.grants.write().expect("revocation lock").insert(grant_id, until);
    }

    fn prune(&self, now: DateTime<Utc>) {
        self.tokens.write().expect("revocation lock").retain(|_, until| *until > now);
        self.grants.write().expect("revocation lock").retain(|_, until| *until > now);
    }
}

/// A revocation committed on this instance applies here at once, until the
/// longest an access token can live; the change-log follower then sets the
/// revoked token's own expiry.
impl LocalMirror for RevocationList {
    fn apply(&self, _conn: &mut DbConnection, events: &[Event]) {
        let until = Utc::now() + TimeDelta::seconds(MAX_ACCESS_TOKEN_LIFETIME as i64);
        for event in events {
            match event {
                Event::TokenRevoked { jti: Some(jti), .. } => self.insert(jti.clone(), until),
                Event::TokenRevoked { grant_id: Some(grant_id), .. }
                | Event::TokenCodeReplayed { grant_id, .. }
                | Event::TokenRefreshReused { grant_id, family_only: false, .. } => {
                    self.insert_grant(grant_id.clone(), until)
                }
                _ => {}
            }
        }
    }
}

/// The position up to which every change has been applied, and the changes
/// applied beyond a hole.
struct Cursor {
    done: i64,
    applied_above: BTreeSet<i64>,
    gap_since: Option<Instant>,
}

impl Cursor {
    /// The changes not applied yet.
    fn unapplied(&self, changes: Vec<Change>) -> impl Iterator<Item = Change> + '_ {
        changes.into_iter().filter(|c| !self.applied_above.contains(&c.seq))
    }

    /// Records that the change at `seq` has been applied.
    fn applied(&mut self, seq: i64) {
        self.applied_above.insert(seq);
    }

    /// Advances past every position that is applied, or has been a hole for
    /// longer than [`GAP_TIMEOUT`].
    fn settle(&mut self, now: Instant) {
        self.advance();
        if self.applied_above.is_empty() {
            self.gap_since = None;
        } else if now.duration_since(*self.gap_since.get_or_insert(now)) > GAP_TIMEOUT {
            self.done = self.applied_above.first().expect("not empty") - 1;
            self.gap_since = None;
            self.advance();
        }
    }

    fn advance(&mut self) {
        while self.applied_above.remove(&(self.done + 1)) {
            self.done += 1;
        }
    }
}

/// When this instance last had the whole change log applied, for the
/// mirror-lag metric.
#[derive(Default)]
pub struct LastRead(std::sync::Mutex<Option<Instant>>);

impl LastRead {
    /// Seconds since this instance last had every change of the log applied
    /// (since start when it never had): how far behind the other instances'
    /// changes it may be, beyond [`POLL_INTERVAL`].
    pub fn seconds_ago(&self, started: Instant) -> f64 {
        let last = *self.0.lock().expect("last read lock");
        last.unwrap_or(started).elapsed().as_secs_f64()
    }

    fn now(&self) {
        *self.0.lock().expect("last read lock") = Some(Instant::now());
    }
}

/// The in-memory mirrors one instance keeps.
pub struct Mirrors {
    /// The clients.
    pub clients: Arc<ClientRegistry>,
    /// Revoked tokens and grants.
    pub revocations: Arc<RevocationList>,
    /// The signing keys.
    pub keys: Arc<KeyRing>,
}

struct WeakMirrors {
    clients: Weak<ClientRegistry>,
    revocations: Weak<RevocationList>,
    keys: Weak<KeyRing>,
}

impl WeakMirrors {
    fn upgrade(&self) -> Option<Mirrors> {
        Some(Mirrors {
            clients: self.clients.upgrade()?,
            revocations: self.revocations.upgrade()?,
            keys: self.keys.upgrade()?,
        })
    }
}

/// How often the mirrors are refreshed whole, for what ages without a
/// change: expired revocations, retired keys whose tokens have all expired.
const REFRESH_INTERVAL: Duration = Duration::from_secs(60);

/// Whether a change was announced since the mirror thread last read the log.
#[derive(Default)]
struct Announced {
    pending: Mutex<bool>,
    changed: Condvar,
}

impl Announced {
    fn announce(&self) {
        *self.pending.lock().expect("announcement lock") = true;
        self.changed.notify_one();
    }

    /// Waits until a change is announced or `timeout` passes.
    fn wait(&self, timeout: Duration) {
        let pending = self.pending.lock().expect("announcement lock");
        let (mut pending, _) = self
            .changed
            .wait_timeout_while(pending, timeout, |pending| !*pending)
            .expect("announcement lock");
        *pending = false;
    }
}

/// Announces to the mirror thread; false once it has ended.
fn announce(announced: &Weak<Announced>) -> bool {
    announced.upgrade().map(|a| a.announce()).is_some()
}

/// On PostgreSQL, listens for announced changes on a thread and connection
/// of its own, reconnecting when the connection is lost (a failover, a cut
/// link: its keepalives end a silent one), at most every [`RELISTEN_AFTER`];
/// ends within that once `announced` is dropped.
fn listen(db: &Database, announced: Weak<Announced>) {
    if db.backend() != Backend::Postgres {
        return;
    }
    let (url, timeout) = (db.url().clone(), db.timeout());
    let thread = move || {
        let mut healthy = true;
        while announced.strong_count() > 0 {
            let opened = Instant::now();
            let mut listener = match ChangeListener::open(&url, timeout) {
                None => return,
                Some(Ok(listener)) => listener,
                Some(Err(e)) => {
                    if std::mem::take(&mut healthy) {
                        tracing::warn!(error = %e, "cannot listen for changes; polling the change log meanwhile");
                    }
                    std::thread::sleep(RELISTEN_AFTER);
                    continue;
                }
            };
            if !std::mem::replace(&mut healthy, true) {
                tracing::info!("listening for changes again");
            }
            // What was announced while nobody listened is read now.
            announce(&announced);
            loop {
                match listener.wait(RELISTEN_AFTER) {
                    Ok(true) if !announce(&announced) => return,
                    Ok(_) if announced.strong_count() == 0 => return,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "stopped listening for changes; polling the change log meanwhile");
                        healthy = false;
                        // A connection ended as soon as it listened is not reopened at once.
                        std::thread::sleep(RELISTEN_AFTER.saturating_sub(opened.elapsed()));
                        break;
                    }
                }
            }
        }
    };
    std::thread::Builder::new()
        .name("portcullis-listen".to_owned())
        .spawn(thread)
        .expect("spawn the listener");
}

/// Starts the mirror thread. `after` is the log position read before the
/// mirrors were loaded; the thread ends once the mirrors are dropped. It
/// notes each successful read in what it returns.
pub fn spawn(db: Database, mirrors: &Mirrors, after: i64) -> Arc<LastRead> {
    let last_read = Arc::new(LastRead::default());
    let noted = last_read.clone();
    let weak = WeakMirrors {
        clients: Arc::downgrade(&mirrors.clients),
        revocations: Arc::downgrade(&mirrors.revocations),
        keys: Arc::downgrade(&mirrors.keys),
    };
    let mut cursor = Cursor { done: after, applied_above: BTreeSet::new(), gap_since: None };
    let announced = Arc::new(Announced::default());
    listen(&db, Arc::downgrade(&announced));
    std::thread::Builder::new()
        .name("portcullis-mirror".to_owned())
        .spawn(move || mirror_loop(&db, &weak, &mut cursor, &noted, &announced))
        .expect("spawn the mirror thread");
    last_read
}

fn mirror_loop(
    db: &Database,
    weak: &WeakMirrors,
    cursor: &mut Cursor,
    last_read: &LastRead,
    announced: &Announced,
) {
    let mut healthy = true;
    let mut last_refresh = Instant::now();
    let mut read_at = Instant::now();
    loop {
        announced.wait(POLL_INTERVAL);
        std::thread::sleep(MIN_READ_INTERVAL.saturating_sub(read_at.elapsed()));
        read_at = Instant::now();
        let Some(mirrors) = weak.upgrade() else { return };
        let result = poll_once(db, &mirrors, cursor);
        match (&result, healthy) {
            (Err(e), true) => tracing::warn!(error = %e, "cannot read the change log; retrying"),
            (Ok(_), false) => tracing::info!("reading the change log again"),
            _ => {}
        }
        healthy = result.is_ok();
        if result.is_ok_and(|caught_up| caught_up) {
            last_read.now();
        }
        if last_refresh.elapsed() > REFRESH_INTERVAL {
            mirrors.revocations.prune(Utc::now());
            if let Err(e) = mirrors.keys.reload() {
                tracing::warn!(error = %e, "cannot reload the signing keys; retrying");
            }
            last_refresh = Instant::now();
        }
    }
}

/// Applies the changes not applied yet; true when none is left: less than a
/// batch was read and no hole is waited for.
fn poll_once(db: &Database, mirrors: &Mirrors, cursor: &mut Cursor) -> anyhow::Result<bool> {
    let Mirrors { clients, revocations, keys } = mirrors;
    let changes = change_log::since(&mut *db.get()?, cursor.done, BATCH)?;
    let whole = (changes.len() as i64) < BATCH;
    let unapplied: Vec<Change> = cursor.unapplied(changes).collect();
    // A change that fails to apply stays unapplied and is read again next time.
    let result = unapplied.into_iter().try_for_each(|change| {
        match change.kind {
            ChangeKind::Client => drop(clients.refresh(&mut *db.get()?, &change.subject)?),
            ChangeKind::Token => {
                revocations.insert(change.subject, change.expires_at.unwrap_or_else(Utc::now))
            }
            ChangeKind::Grant => {
                revocations.insert_grant(change.subject, change.expires_at.unwrap_or_else(Utc::now))
            }
            ChangeKind::Key => keys.reload()?,
        }
        cursor.applied(change.seq);
        anyhow::Ok(())
    });
    cursor.settle(Instant::now());
    result.map(|()| whole && cursor.applied_above.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(seq: i64) -> Change {
        Change { seq, kind: ChangeKind::Token, subject: seq.to_string(), expires_at: None }
    }

    /// Applies every unapplied change of `changes` and returns their positions.
    fn apply(cursor: &mut Cursor, changes: Vec<Change>, now: Instant) -> Vec<i64> {
        let seqs: Vec<i64> = cursor.unapplied(changes).map(|c| c.seq).collect();
        seqs.iter().for_each(|seq| cursor.applied(*seq));
        cursor.settle(now);
        seqs
    }

    #[test]
    fn applies_each_change_once_and_advances_over_contiguous_positions() {
        let mut cursor = Cursor { done: 0, applied_above: BTreeSet::new(), gap_since: None };
        let now = Instant::now();
        assert_eq!(apply(&mut cursor, vec![change(1), change(2)], now), [1, 2]);
        assert_eq!(cursor.done, 2);
        assert!(apply(&mut cursor, vec![], now).is_empty());
    }

    #[test]
    fn waits_for_a_late_commit_behind_a_hole() {
        let mut cursor = Cursor { done: 0, applied_above: BTreeSet::new(), gap_since: None };
        let now = Instant::now();
        assert_eq!(apply(&mut cursor, vec![change(1), change(3)], now), [1, 3]);
        assert_eq!(cursor.done, 1, "position 2 may still commit");
        // The next read starts after 1, so 3 comes again and is not re-applied.
        assert_eq!(apply(&mut cursor, vec![change(2), change(3)], now), [2]);
        assert_eq!(cursor.done, 3);
    }

    #[test]
    fn gives_up_on_a_hole_after_the_timeout() {
        let mut cursor = Cursor { done: 0, applied_above: BTreeSet::new(), gap_since: None };
        let start = Instant::now();
        apply(&mut cursor, vec![change(2)], start);
        assert_eq!(cursor.done, 0);
        apply(&mut cursor, vec![change(2)], start + GAP_TIMEOUT + Duration::from_millis(1));
        assert_eq!(cursor.done, 2, "a rolled-back position is not waited for forever");
        assert!(cursor.applied_above.is_empty());
    }

    #[test]
    fn a_change_that_was_not_applied_is_offered_again() {
        let mut cursor = Cursor { done: 0, applied_above: BTreeSet::new(), gap_since: None };
        let offered: Vec<i64> = cursor.unapplied(vec![change(1), change(2)]).map(|c| c.seq).collect();
        assert_eq!(offered, [1, 2]);
        cursor.applied(1);
        cursor.settle(Instant::now());
        assert_eq!(cursor.done, 1);
        assert_eq!(cursor.unapplied(vec![change(2)]).map(|c| c.seq).collect::<Vec<_>>(), [2]);
    }
}
