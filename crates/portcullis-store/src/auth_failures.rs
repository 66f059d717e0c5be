//! Recent failed authentications, counted across every instance: what login
//! throttling decides on. A subject is whatever the caller counts by (an
//! account, an address), stored only as its SHA-256.

use crate::schema::auth_failures;
use crate::{DbConnection, StoreError};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// Records one failure at `at` for each of `subject_hashes`; returns the
/// ids of the rows written, so that they can be [`forget`]-ten.
pub fn record(
    conn: &mut DbConnection,
    subject_hashes: &[&[u8]],
    at: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    // One statement per row: diesel has no batch insert over both backends.
    subject_hashes
        .iter()
        .map(|hash| {
            let id = uuid::Uuid::new_v4().to_string();
            diesel::insert_into(auth_failures::table)
                .values((
                    auth_failures::id.eq(&id),
                    auth_failures::subject_hash.eq(hash.to_vec()),
                    auth_failures::failed_at.eq(at.naive_utc()),
                ))
                .execute(conn)?;
            Ok(id)
        })
        .collect()
}

/// Deletes the failures `ids` that [`record`] wrote.
pub fn forget(conn: &mut DbConnection, ids: &[String]) -> Result<usize, StoreError> {
    Ok(diesel::delete(auth_failures::table.filter(auth_failures::id.eq_any(ids))).execute(conn)?)
}

/// How many failures `subject_hash` has had since `since`.
pub fn count_since(
    conn: &mut DbConnection,
    subject_hash: &[u8],
    since: DateTime<Utc>,
) -> Result<i64, StoreError> {
    Ok(auth_failures::table
        .filter(auth_failures::subject_hash.eq(subject_hash))
        .filter(auth_failures::failed_at.gt(since.naive_utc()))
        .count()
        .get_result(conn)?)
}

/// Forgets the failures of `subject_hash` (after a success).
pub fn clear(conn: &mut DbConnection, subject_hash: &[u8]) -> Result<usize, StoreError> {
    Ok(diesel::delete(auth_failures::table.filter(auth_failures::subject_hash.eq(subject_hash)))
        .execute(conn)?)
}

/// Deletes failures older than `cutoff`, which no longer count.
pub fn delete_before(conn: &mut DbConnection, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(auth_failures::table.filter(auth_failures::failed_at.lt(cutoff.naive_utc())))
        .execute(conn)?)
}

/// The oldest and the newest of some failures.
pub type Span = (DateTime<Utc>, DateTime<Utc>);

/// The oldest and the newest failure of `subject_hash` since `since`,
/// leaving out the rows `excluding` (an attempt's own).
pub fn span_since(
    conn: &mut DbConnection,
    subject_hash: &[u8],
    since: DateTime<Utc>,
    excluding: &[String],
) -> Result<Option<Span>, StoreError> {
    use diesel::dsl::{max, min};
    let (oldest, newest): (Option<chrono::NaiveDateTime>, Option<chrono::NaiveDateTime>) =
        auth_failures::table
            .filter(auth_failures::subject_hash.eq(subject_hash))
            .filter(auth_failures::failed_at.gt(since.naive_utc()))
            .filter(auth_failures::id.ne_all(excluding))
            .select((min(auth_failures::failed_at), max(auth_failures::failed_at)))
            .get_result(conn)?;
    Ok(oldest.zip(newest).map(|(oldest, newest)| (oldest.and_utc(), newest.and_utc())))
}
