//! The audit log: appended under the chain head's lock, so that every
//! instance extends one chain; read back by filters and in order for
//! verification; pruned from the oldest end.

use crate::schema::{audit_head, audit_log};
use crate::{DbConnection, StoreError};
use chrono::{DateTime, DurationRound, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use portcullis_core::audit::{entry_hash, ChainedFields, GENESIS};

/// An entry to append; it is stamped with the time it is appended.
#[derive(Clone, Debug)]
pub struct NewEntry<'a> {
    /// Who acted.
    pub actor: &'a str,
    /// What was done.
    pub action: &'a str,
    /// On what.
    pub target: &'a str,
    /// From which address (empty when unknown).
    pub source: &'a str,
    /// `success`, `failure` or `refused`.
    pub outcome: &'a str,
    /// Anything else, JSON.
    pub details: &'a str,
}

/// An entry as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct Entry {
    /// Its position.
    pub seq: i64,
    /// When, as stored (UTC, microseconds).
    pub at: NaiveDateTime,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// From where.
    pub source: String,
    /// How it ended.
    pub outcome: String,
    /// Details, JSON.
    pub details: String,
    /// The hash of the entry before.
    pub prev_hash: Vec<u8>,
    /// This entry's hash.
    pub hash: Vec<u8>,
}

/// The time as hashed: RFC 3339, microseconds, UTC.
pub fn hashed_time(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl Entry {
    /// The fields its hash covers.
    pub fn fields<'a>(&'a self, at: &'a str) -> ChainedFields<'a> {
        ChainedFields {
            seq: self.seq,
            at,
            actor: &self.actor,
            action: &self.action,
            target: &self.target,
            source: &self.source,
            outcome: &self.outcome,
            details: &self.details,
        }
    }
}

/// Takes the chain head's lock for the rest of the transaction. A change
/// that will append calls it first: on SQLite the transaction is then a
/// writer from its first statement (a reader that later writes can fail
/// with `SQLITE_BUSY` when another writer went first), and on PostgreSQL
/// concurrent changes queue here instead of deadlocking later.
pub fn lock_head(conn: &mut DbConnection) -> Result<(), StoreError> {
    diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
        .set(audit_head::seq.eq(audit_head::seq))
        .execute(conn)?;
    Ok(())
}

/// Appends `entry` after the chain's head, in one transaction; returns it as stored.
pub fn append(conn: &mut DbConnection, entry: &NewEntry<'_>) -> Result<Entry, StoreError> {
    conn.transaction(|conn| {
        // Writing the head first takes its lock: concurrent appends queue here.
        diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
            .set(audit_head::seq.eq(audit_head::seq + 1))
            .execute(conn)?;
        let now = Utc::now();
        let at = now.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(now).naive_utc();
        let (seq, prev_hash): (i64, Vec<u8>) = audit_head::table
            .filter(audit_head::id.eq(1))
            .select((audit_head::seq, audit_head::hash))
            .first(conn)?;
        let mut stored = Entry {
            seq,
            at,
            actor: entry.actor.to_owned(),
            action: entry.action.to_owned(),
            target: entry.target.to_owned(),
            source: entry.source.to_owned(),
            outcome: entry.outcome.to_owned(),
            details: entry.details.to_owned(),
            prev_hash,
            hash: Vec::new(),
        };
        let time = hashed_time(at);
        stored.hash = entry_hash(&stored.prev_hash, &stored.fields(&time)).to_vec();
        diesel::insert_into(audit_log::table)
            .values((
                audit_log::seq.eq(stored.seq),
                audit_log::at.eq(stored.at),
                audit_log::actor.eq(&stored.actor),
                audit_log::action.eq(&stored.action),
                audit_log::target.eq(&stored.target),
                audit_log::source.eq(&stored.source),
                audit_log::outcome.eq(&stored.outcome),
                audit_log::details.eq(&stored.details),
                audit_log::prev_hash.eq(&stored.prev_hash),
                audit_log::hash.eq(&stored.hash),
            ))
            .execute(conn)?;
        diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
            .set(audit_head::hash.eq(&stored.hash))
            .execute(conn)?;
        Ok(stored)
    })
}

/// The chain's head: the last position written and its hash.
pub fn head(conn: &mut DbConnection) -> Result<(i64, Vec<u8>), StoreError> {
    Ok(audit_head::table
        .filter(audit_head::id.eq(1))
        .select((audit_head::seq, audit_head::hash))
        .first(conn)?)
}

/// What to select from the log.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
    /// This actor only.
    pub actor: Option<String>,
    /// This action only.
    pub action: Option<String>,
    /// This target only.
    pub target: Option<String>,
    /// About this team only: the team itself, its clients (deleted ones
    /// too), its personal access tokens, registration tokens and webhooks.
    pub team: Option<String>,
    /// This outcome only (`success`, `refused`, `failure`).
    pub outcome: Option<String>,
    /// Newest first: the position then bounds from above.
    pub newest_first: bool,
    /// At or before this position only.
    pub through: Option<i64>,
}

/// How far apart the clocks of instances appending to one chain may be.
/// Entries are numbered in the order they are appended, and stamped with
/// their instance's clock: beyond twice this, an entry's time orders it.
const CLOCK_SKEW: TimeDelta = TimeDelta::seconds(30);

/// The positions that bound the entries of the time range `[from, to)`:
/// every such entry lies strictly between them (each found through the
/// time index in one step). The times still decide; the positions let a
/// filtered read walk its own index by position and stop at a page.
fn positions_of(
    conn: &mut DbConnection,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<(Option<i64>, Option<i64>), StoreError> {
    let margin = CLOCK_SKEW * 2;
    // Near the ends of time there is no margin to take, nor a bound to find.
    let before = match from.and_then(|from| from.checked_sub_signed(margin)) {
        Some(from) => audit_log::table
            .filter(audit_log::at.lt(from.naive_utc()))
            .order(audit_log::at.desc())
            .select(audit_log::seq)
            .first(conn)
            .optional()?,
        None => None,
    };
    let after = match to.and_then(|to| to.checked_add_signed(margin)) {
        Some(to) => audit_log::table
            .filter(audit_log::at.ge(to.naive_utc()))
            .order(audit_log::at.asc())
            .select(audit_log::seq)
            .first(conn)
            .optional()?,
        None => None,
    };
    Ok((before, after))
}

/// Up to `limit` entries matching `filter` past position `cursor` (after it
/// in order; before it newest first, where 0 means from the newest).
pub fn entries(
    conn: &mut DbConnection,
    filter: &Filter,
    cursor: i64,
    limit: i64,
) -> Result<Vec<Entry>, StoreError> {
    let (before, after) = positions_of(conn, filter.from, filter.to)?;
    let mut query = audit_log::table.into_boxed();
    if let Some(before) = before {
        query = query.filter(audit_log::seq.gt(before));
    }
    if let Some(after) = after {
        query = query.filter(audit_log::seq.lt(after));
    }
    if let Some(through) = filter.through {
        query = query.filter(audit_log::seq.le(through));
    }
    query = match (filter.newest_first, cursor) {
        (false, _) => query.filter(audit_log::seq.gt(cursor)).order(audit_log::seq.asc()),
        (true, 0) => query.order(audit_log::seq.desc()),
        (true, _) => query.filter(audit_log::seq.lt(cursor)).order(audit_log::seq.desc()),
    };
    if let Some(from) = filter.from {
        query = query.filter(audit_log::at.ge(from.naive_utc()));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_log::at.lt(to.naive_utc()));
    }
    if let Some(actor) = &filter.actor {
        query = query.filter(audit_log::actor.eq(actor.clone()));
    }
    if let Some(action) = &filter.action {
        // With a target, its index is the narrow one: the action is checked
        // row by row (an expression), or a flood of one action elsewhere
        // would be walked to find a few of the target's.
        query = if filter.target.is_some() || filter.team.is_some() {
            query.filter(audit_log::action.concat("").eq(action.clone()))
        } else {
            query.filter(audit_log::action.eq(action.clone()))
        };
    }
    if let Some(outcome) = &filter.outcome {
        // Three outcomes make a poor index beside an action's, an actor's or
        // a target's: with one of those, the outcome is checked row by row
        // (as an expression, which no index serves).
        let narrower = filter.action.is_some()
            || filter.actor.is_some()
            || filter.target.is_some()
            || filter.team.is_some();
        query = if narrower {
            query.filter(audit_log::outcome.concat("").eq(outcome.clone()))
        } else {
            query.filter(audit_log::outcome.eq(outcome.clone()))
        };
    }
    if let Some(target) = &filter.target {
        query = query.filter(audit_log::target.eq(target.clone()));
    }
    if let Some(team) = &filter.team {
        use crate::schema::{clients, initial_access_tokens, personal_access_tokens, webhooks};
        let clients = clients::table.filter(clients::team_id.eq(team.clone())).select(clients::client_id);
        let personal = personal_access_tokens::table
            .filter(personal_access_tokens::team_id.eq(team.clone()))
            .select(personal_access_tokens::token_id);
        let registration = initial_access_tokens::table
            .filter(initial_access_tokens::team_id.eq(team.clone()))
            .select(initial_access_tokens::token_id);
        let hooks = webhooks::table.filter(webhooks::team_id.eq(team.clone())).select(webhooks::webhook_id);
        query = query.filter(
            audit_log::target
                .eq(team.clone())
                .or(audit_log::target.eq_any(clients))
                .or(audit_log::target.eq_any(personal))
                .or(audit_log::target.eq_any(registration))
                .or(audit_log::target.eq_any(hooks)),
        );
    }
    Ok(query.limit(limit).select(Entry::as_select()).load(conn)?)
}

/// Deletes the entries from before `cutoff`; the chain stays verifiable from
/// the oldest entry kept. Returns how many went.
pub fn prune(conn: &mut DbConnection, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
    // By position, not time: clocks of instances may disagree by a little,
    // and a hole in the middle of the chain would look like tampering.
    let last_old: Option<i64> = audit_log::table
        .filter(audit_log::at.lt(cutoff.naive_utc()))
        .select(diesel::dsl::max(audit_log::seq))
        .first(conn)?;
    match last_old {
        Some(last) => Ok(diesel::delete(audit_log::table.filter(audit_log::seq.le(last))).execute(conn)?),
        None => Ok(0),
    }
}

/// What a verification found intact.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    /// How many entries were checked.
    pub entries: u64,
    /// The oldest entry kept, if any.
    pub first: Option<i64>,
    /// The chain's head position.
    pub last: i64,
}

/// Checks the whole chain from the oldest entry kept: every entry follows
/// the one before (positions and hashes), every hash matches its fields,
/// and the newest entry is the chain's head. Names the first entry that
/// does not hold.
pub fn verify(conn: &mut DbConnection) -> Result<Verified, VerifyError> {
    const BATCH: i64 = 1000;
    let (head_seq, head_hash) = head(conn)?;
    let mut previous: Option<Entry> = None;
    let (mut first, mut count) = (None, 0u64);
    loop {
        let after = previous.as_ref().map_or(0, |entry| entry.seq);
        let batch = entries(conn, &Filter::default(), after, BATCH)?;
        let done = (batch.len() as i64) < BATCH;
        for entry in batch {
            let expected = entry_hash(&entry.prev_hash, &entry.fields(&hashed_time(entry.at)));
            if expected.as_slice() != entry.hash {
                return Err(VerifyError::broken(format!(
                    "entry {} was altered: its hash does not match its fields",
                    entry.seq
                )));
            }
            match &previous {
                Some(before) if entry.seq != before.seq + 1 => {
                    return Err(VerifyError::broken(format!(
                        "entries {} to {} are missing",
                        before.seq + 1,
                        entry.seq - 1
                    )))
                }
                Some(before) if entry.prev_hash != before.hash => {
                    return Err(VerifyError::broken(format!(
                        "entry {} does not follow entry {}: the chain was rewritten",
                        entry.seq, before.seq
                    )))
                }
                None if entry.seq == 1 && entry.prev_hash != GENESIS => {
                    return Err(VerifyError::broken("entry 1 does not start the chain".to_owned()))
                }
                _ => {}
            }
            first.get_or_insert(entry.seq);
            count += 1;
            previous = Some(entry);
        }
        if done {
            break;
        }
    }
    if let Some(last) = &previous {
        if last.seq != head_seq || last.hash != head_hash {
            return Err(VerifyError::broken(format!(
                "the newest entries after {} were removed (the chain's head is {head_seq})",
                last.seq
            )));
        }
    }
    Ok(Verified { entries: count, first, last: head_seq })
}

/// Why the chain does not verify.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The chain is broken where this says.
    #[error("the audit log does not verify: {0}")]
    Broken(String),
    /// It could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl VerifyError {
    fn broken(why: String) -> Self {
        Self::Broken(why)
    }
}

impl From<diesel::result::Error> for VerifyError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Store(error.into())
    }
}
