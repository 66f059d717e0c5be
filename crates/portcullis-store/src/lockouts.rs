//! Consecutive failed authentications per client, and lockouts: counted
//! with atomic updates, so instances failing the same client at once count
//! every failure and lock it once.

use crate::change_log::{self, ChangeKind};
use crate::schema::client_lockouts;
use crate::{DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;

/// The lockout rule.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    /// Consecutive failures that lock the client.
    pub threshold: i64,
    /// The first lockout's length; each further one doubles it.
    pub cooldown: TimeDelta,
    /// The longest lockout.
    pub max_cooldown: TimeDelta,
}

/// What a failure led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Counted: this many in a row now.
    Counted(i64),
    /// The client is locked until then; this is its `lockouts`-th lockout.
    Locked {
        /// When the lockout ends.
        until: DateTime<Utc>,
        /// How many times it has been locked.
        lockouts: i64,
    },
    /// The client is locked already: nothing was counted, so failures
    /// during a lockout cannot lengthen the next one.
    AlreadyLocked,
    /// No such client.
    Unknown,
}

/// Creates the counter of a new client.
pub fn start(conn: &mut DbConnection, client_id: &str) -> Result<(), StoreError> {
    diesel::insert_into(client_lockouts::table)
        .values((
            client_lockouts::client_id.eq(client_id),
            client_lockouts::failures.eq(0),
            client_lockouts::lockouts.eq(0),
        ))
        .execute(conn)?;
    Ok(())
}

/// Counts a failed authentication of `client_id` at `now`, locking it when
/// the count reaches the policy's threshold. A client that is locked at
/// `now` counts nothing.
pub fn record_failure(
    conn: &mut DbConnection,
    client_id: &str,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Result<Failure, StoreError> {
    conn.transaction(|conn| {
        let this = || client_lockouts::table.filter(client_lockouts::client_id.eq(client_id));
        let unlocked =
            client_lockouts::locked_until.is_null().or(client_lockouts::locked_until.le(now.naive_utc()));
        if diesel::update(this().filter(unlocked))
            .set(client_lockouts::failures.eq(client_lockouts::failures + 1))
            .execute(conn)?
            == 0
        {
            let exists = this().count().get_result::<i64>(conn)? > 0;
            return Ok(if exists { Failure::AlreadyLocked } else { Failure::Unknown });
        }
        let (failures, lockouts): (i64, i64) =
            this().select((client_lockouts::failures, client_lockouts::lockouts)).first(conn)?;
        if failures < policy.threshold {
            return Ok(Failure::Counted(failures));
        }
        let lockouts = lockouts + 1;
        let doubled =
            policy.cooldown * 2i32.saturating_pow(u32::try_from(lockouts - 1).unwrap_or(u32::MAX).min(20));
        let until = now + doubled.min(policy.max_cooldown);
        diesel::update(this())
            .set((
                client_lockouts::failures.eq(0),
                client_lockouts::lockouts.eq(lockouts),
                client_lockouts::locked_until.eq(until.naive_utc()),
            ))
            .execute(conn)?;
        change_log::append(conn, ChangeKind::Client, client_id, None)?;
        Ok(Failure::Locked { until, lockouts })
    })
}

/// Lifts a lockout and resets the count (an admin enabling the client, or
/// the policy disabling it instead of locking it).
pub fn clear(conn: &mut DbConnection, client_id: &str) -> Result<(), StoreError> {
    diesel::update(client_lockouts::table.filter(client_lockouts::client_id.eq(client_id)))
        .set((client_lockouts::failures.eq(0), client_lockouts::locked_until.eq(None::<NaiveDateTime>)))
        .execute(conn)?;
    Ok(())
}

/// Resets the count after a successful authentication.
pub fn reset(conn: &mut DbConnection, client_id: &str) -> Result<(), StoreError> {
    diesel::update(client_lockouts::table.filter(client_lockouts::client_id.eq(client_id)))
        .set(client_lockouts::failures.eq(0))
        .execute(conn)?;
    change_log::append(conn, ChangeKind::Client, client_id, None)
}

/// A client's failures in a row and the end of its lockout, if any.
pub type LockoutState = (String, i64, Option<DateTime<Utc>>);

/// The failures counted and the lockout end of every client (or only of `only`).
pub fn states(conn: &mut DbConnection, only: Option<&[String]>) -> Result<Vec<LockoutState>, StoreError> {
    let mut query = client_lockouts::table
        .select((client_lockouts::client_id, client_lockouts::failures, client_lockouts::locked_until))
        .into_boxed();
    if let Some(client_ids) = only {
        query = query.filter(client_lockouts::client_id.eq_any(client_ids.to_vec()));
    }
    let rows: Vec<(String, i64, Option<NaiveDateTime>)> = query.load(conn)?;
    Ok(rows.into_iter().map(|(id, failures, until)| (id, failures, until.map(|t| t.and_utc()))).collect())
}
