//! Addresses locked out of a client after repeated failed authentications,
//! shared by every instance. Their failures are counted in
//! [`auth_failures`](crate::auth_failures); a lockout is written here with
//! a change-log entry for its client, so every instance's mirror of the
//! client holds it within a second and refuses the address without asking
//! the database.

use crate::change_log::{self, ChangeKind};
use crate::schema::address_lockouts;
use crate::{DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;

/// The most lockouts in force one client's record carries; the newest win.
pub const MAX_PER_CLIENT: i64 = 1_000;

/// Locks `address` out of `client_id` at `now` for `cooldown`, doubled for
/// each earlier lockout, at most `max_cooldown`; returns its end and how
/// many lockouts there have been, or `None` when it is locked already (by
/// another instance that counted the same failures).
pub fn lock(
    conn: &mut DbConnection,
    client_id: &str,
    address: &str,
    (cooldown, max_cooldown): (TimeDelta, TimeDelta),
    now: DateTime<Utc>,
) -> Result<Option<(DateTime<Utc>, i64)>, StoreError> {
    let this = || {
        address_lockouts::table
            .filter(address_lockouts::client_id.eq(client_id))
            .filter(address_lockouts::address.eq(address))
    };
    let before: Option<(i64, NaiveDateTime)> =
        this().select((address_lockouts::lockouts, address_lockouts::locked_until)).first(conn).optional()?;
    if before.is_some_and(|(_, until)| until.and_utc() > now) {
        return Ok(None);
    }
    let lockouts = before.map_or(0, |(lockouts, _)| lockouts) + 1;
    let doubled = cooldown * 2i32.saturating_pow(u32::try_from(lockouts - 1).unwrap_or(u32::MAX).min(20));
    let until = now + doubled.min(max_cooldown);
    let written = match before {
        Some(_) => diesel::update(this())
            .set((
                address_lockouts::lockouts.eq(lockouts),
                address_lockouts::locked_until.eq(until.naive_utc()),
            ))
            .execute(conn)?,
        None => diesel::insert_into(address_lockouts::table)
            .values((
                address_lockouts::client_id.eq(client_id),
                address_lockouts::address.eq(address),
                address_lockouts::lockouts.eq(lockouts),
                address_lockouts::locked_until.eq(until.naive_utc()),
            ))
            .execute(conn)
            .map_err(StoreError::from_write)?,
    };
    if written != 1 {
        return Ok(None);
    }
    change_log::append(conn, ChangeKind::Client, client_id, None)?;
    Ok(Some((until, lockouts)))
}

/// The lockouts in force at `now` (of `only`, or of every client): client,
/// address, end; at most [`MAX_PER_CLIENT`] per client, the latest ending.
pub fn in_force(
    conn: &mut DbConnection,
    only: Option<&[String]>,
    now: DateTime<Utc>,
) -> Result<Vec<(String, String, DateTime<Utc>)>, StoreError> {
    let mut query = address_lockouts::table
        .filter(address_lockouts::locked_until.gt(now.naive_utc()))
        .select((address_lockouts::client_id, address_lockouts::address, address_lockouts::locked_until))
        .order((address_lockouts::client_id, address_lockouts::locked_until.desc()))
        .into_boxed();
    if let Some(client_ids) = only {
        query = query.filter(address_lockouts::client_id.eq_any(client_ids.to_vec()));
    }
    let rows: Vec<(String, String, NaiveDateTime)> = query.load(conn)?;
    let mut kept: Vec<(String, String, DateTime<Utc>)> = Vec::with_capacity(rows.len());
    let mut of_client = 0;
    for (client_id, address, until) in rows {
        of_client =
            if kept.last().is_some_and(|(last, _, _)| *last == client_id) { of_client + 1 } else { 1 };
        if of_client <= MAX_PER_CLIENT {
            kept.push((client_id, address, until.and_utc()));
        }
    }
    Ok(kept)
}

/// Forgets lockouts that ended before `cutoff` (the next one starts again
/// from the shortest cooldown).
pub fn delete_ended_before(conn: &mut DbConnection, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(address_lockouts::table.filter(address_lockouts::locked_until.lt(cutoff.naive_utc())))
        .execute(conn)?)
}
