//! Rate-limit counts shared between instances: per key (stored as its
//! SHA-256), one-minute window and instance. Each instance writes only its
//! own rows (so no two writers race on a row) and reads the others' sums.

use crate::schema::rate_counts;
use crate::{DbConnection, StoreError};
use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

/// One key's count in one window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowCount {
    /// SHA-256 of the key.
    pub key_hash: Vec<u8>,
    /// The window's start.
    pub window: DateTime<Utc>,
    /// Requests counted.
    pub count: i64,
}

/// Writes `instance`'s `counts`, replacing what it wrote before for the
/// same key and window (update, or insert the first time).
pub fn write(conn: &mut DbConnection, instance: &str, counts: &[WindowCount]) -> Result<(), StoreError> {
    for c in counts {
        let mine = rate_counts::table
            .filter(rate_counts::key_hash.eq(&c.key_hash))
            .filter(rate_counts::window_start.eq(c.window.naive_utc()))
            .filter(rate_counts::instance_id.eq(instance));
        if diesel::update(mine).set(rate_counts::count.eq(c.count)).execute(conn)? == 0 {
            diesel::insert_into(rate_counts::table)
                .values((
                    rate_counts::key_hash.eq(&c.key_hash),
                    rate_counts::window_start.eq(c.window.naive_utc()),
                    rate_counts::instance_id.eq(instance),
                    rate_counts::count.eq(c.count),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Every other instance's counts of the windows starting at or after
/// `since`, summed per key and window.
pub fn others(
    conn: &mut DbConnection,
    instance: &str,
    since: DateTime<Utc>,
) -> Result<Vec<WindowCount>, StoreError> {
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back on both backends.
    let rows: Vec<(Vec<u8>, chrono::NaiveDateTime, i64)> = rate_counts::table
        .filter(rate_counts::window_start.ge(since.naive_utc()))
        .filter(rate_counts::instance_id.ne(instance))
        .group_by((rate_counts::key_hash, rate_counts::window_start))
        .select((
            rate_counts::key_hash,
            rate_counts::window_start,
            sql::<BigInt>("CAST(SUM(count) AS BIGINT)"),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(key_hash, window, count)| WindowCount { key_hash, window: window.and_utc(), count })
        .collect())
}

/// Deletes the counts of windows that started before `cutoff`.
pub fn delete_before(conn: &mut DbConnection, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(rate_counts::table.filter(rate_counts::window_start.lt(cutoff.naive_utc())))
        .execute(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend_tests;
    use chrono::TimeDelta;

    backend_tests! {
        #[test]
        fn each_instance_sees_the_sum_of_the_others(db) {
            let database = db.connect();
            let conn = &mut *database.get().unwrap();
            let window = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().to_utc();
            let count = |key: u8, count| WindowCount { key_hash: vec![key; 32], window, count };
            write(conn, "a", &[count(1, 3), count(2, 1)]).unwrap();
            write(conn, "a", &[count(1, 5)]).unwrap();
            write(conn, "b", &[count(1, 4)]).unwrap();
            write(conn, "c", &[count(1, 2)]).unwrap();

            let mut seen_by_a = others(conn, "a", window).unwrap();
            assert_eq!(seen_by_a, vec![count(1, 6)], "b's and c's, not a's own");
            seen_by_a = others(conn, "b", window).unwrap();
            seen_by_a.sort_by(|x, y| x.key_hash.cmp(&y.key_hash));
            assert_eq!(seen_by_a, vec![count(1, 7), count(2, 1)], "a's latest count replaced its first");
            assert!(others(conn, "b", window + TimeDelta::minutes(1)).unwrap().is_empty());
            assert_eq!(delete_before(conn, window + TimeDelta::minutes(1)).unwrap(), 4);
        }
    }
}
