//! Usage rollups: per client and minute, what one instance counted
//! (requests, errors by class, tokens issued, a latency histogram). Each
//! instance writes its own rows, in batches; readers add rows up, so
//! several instances' rollups of one minute sum.

use crate::schema::{clients, usage_rollups};
use crate::{json, DbConnection, StoreError};
use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

/// The counters of a rollup, which add up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests answered.
    pub requests: i64,
    /// Answered 401 or 403.
    pub auth_errors: i64,
    /// Answered another 4xx.
    pub other_errors: i64,
    /// Answered 5xx.
    pub server_errors: i64,
    /// Access tokens issued.
    pub tokens_issued: i64,
}

impl Counts {
    /// Adds `other` to these.
    pub fn add(&mut self, other: &Counts) {
        self.requests += other.requests;
        self.auth_errors += other.auth_errors;
        self.other_errors += other.other_errors;
        self.server_errors += other.server_errors;
        self.tokens_issued += other.tokens_issued;
    }

    /// The errors of every class.
    pub fn errors(&self) -> i64 {
        self.auth_errors + self.other_errors + self.server_errors
    }
}

/// One client's minute, as one instance counted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rollup {
    /// The client.
    pub client_id: String,
    /// The minute's start.
    pub minute: DateTime<Utc>,
    /// What was counted.
    pub counts: Counts,
    /// How many requests took each latency bucket's time (the buckets are
    /// the caller's; trailing empty buckets may be left out).
    pub latency: Vec<u64>,
}

/// Writes `rollups`, one statement per row (diesel has no batch insert over
/// both backends): callers write a batch in one transaction.
pub fn insert(conn: &mut DbConnection, rollups: &[Rollup]) -> Result<usize, StoreError> {
    for rollup in rollups {
        let c = &rollup.counts;
        diesel::insert_into(usage_rollups::table)
            .values((
                usage_rollups::id.eq(uuid::Uuid::new_v4().to_string()),
                usage_rollups::client_id.eq(&rollup.client_id),
                usage_rollups::minute.eq(rollup.minute.naive_utc()),
                usage_rollups::requests.eq(c.requests),
                usage_rollups::auth_errors.eq(c.auth_errors),
                usage_rollups::other_errors.eq(c.other_errors),
                usage_rollups::server_errors.eq(c.server_errors),
                usage_rollups::tokens_issued.eq(c.tokens_issued),
                usage_rollups::latency.eq(json::write("usage_rollups", &rollup.latency)?),
            ))
            .execute(conn)?;
    }
    Ok(rollups.len())
}

type Row = (String, String, chrono::NaiveDateTime, i64, i64, i64, i64, i64, String);

/// The rows of `client_id` for minutes in `[from, to)`, oldest first.
pub fn of_client(
    conn: &mut DbConnection,
    client_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Rollup>, StoreError> {
    let rows: Vec<Row> = usage_rollups::table
        .filter(usage_rollups::client_id.eq(client_id))
        .filter(usage_rollups::minute.ge(from.naive_utc()))
        .filter(usage_rollups::minute.lt(to.naive_utc()))
        .order(usage_rollups::minute)
        .select((
            usage_rollups::id,
            usage_rollups::client_id,
            usage_rollups::minute,
            usage_rollups::requests,
            usage_rollups::auth_errors,
            usage_rollups::other_errors,
            usage_rollups::server_errors,
            usage_rollups::tokens_issued,
            usage_rollups::latency,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(
            |(
                id,
                client_id,
                minute,
                requests,
                auth_errors,
                other_errors,
                server_errors,
                tokens_issued,
                latency,
            )| {
                Ok(Rollup {
                    client_id,
                    minute: minute.and_utc(),
                    counts: Counts { requests, auth_errors, other_errors, server_errors, tokens_issued },
                    latency: json::read("usage_rollups", &id, &latency)?,
                })
            },
        )
        .collect()
}

/// One counter summed by the database.
type Sum = diesel::expression::SqlLiteral<BigInt>;

/// The counters of [`Counts`], summed by the database (SUM of a BIGINT is
/// NUMERIC on PostgreSQL: cast back on both backends).
fn sums() -> (Sum, Sum, Sum, Sum, Sum) {
    (
        sql::<BigInt>("CAST(SUM(requests) AS BIGINT)"),
        sql::<BigInt>("CAST(SUM(auth_errors) AS BIGINT)"),
        sql::<BigInt>("CAST(SUM(other_errors) AS BIGINT)"),
        sql::<BigInt>("CAST(SUM(server_errors) AS BIGINT)"),
        sql::<BigInt>("CAST(SUM(tokens_issued) AS BIGINT)"),
    )
}

/// The [`sums`] as loaded.
type Summed = (i64, i64, i64, i64, i64);

/// The [`sums`] read back.
fn counts((requests, auth_errors, other_errors, server_errors, tokens_issued): Summed) -> Counts {
    Counts { requests, auth_errors, other_errors, server_errors, tokens_issued }
}

/// The ids of team `team`'s clients (deleted ones too).
fn clients_of(
    team: &str,
) -> diesel::dsl::Select<
    diesel::dsl::Filter<clients::table, diesel::dsl::Eq<clients::team_id, String>>,
    clients::client_id,
> {
    clients::table.filter(clients::team_id.eq(team.to_owned())).select(clients::client_id)
}

/// The rollups of the minutes in `[$from, $to)` (of team `$team`'s clients
/// only, when it is named), summed by the database by `$key` and in its
/// order. The team's filter is added only when named: the query without it
/// stays plain, the one with it a semi-join the per-client index serves.
macro_rules! summed_by {
    ($conn:expr, ($from:expr, $to:expr), $team:expr, $key:expr) => {{
        let in_range = usage_rollups::table
            .filter(usage_rollups::minute.ge($from.naive_utc()))
            .filter(usage_rollups::minute.lt($to.naive_utc()));
        match $team {
            None => in_range.group_by($key).order($key).select(($key, sums())).load($conn),
            Some(team) => in_range
                .filter(usage_rollups::client_id.eq_any(clients_of(team)))
                .group_by($key)
                .order($key)
                .select(($key, sums()))
                .load($conn),
        }
    }};
}

/// The first minute any rollup kept counts, if any.
pub fn earliest_minute(conn: &mut DbConnection) -> Result<Option<DateTime<Utc>>, StoreError> {
    let earliest: Option<chrono::NaiveDateTime> =
        usage_rollups::table.select(diesel::dsl::min(usage_rollups::minute)).first(conn)?;
    Ok(earliest.map(|at| at.and_utc()))
}

/// The counts of each client with any in `[from, to)` (of team `team`'s
/// clients only, when named), summed by the database.
pub fn totals_by_client(
    conn: &mut DbConnection,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    team: Option<&str>,
) -> Result<Vec<(String, Counts)>, StoreError> {
    let rows: Vec<(String, Summed)> = summed_by!(conn, (from, to), team, usage_rollups::client_id)?;
    Ok(rows.into_iter().map(|(client_id, summed)| (client_id, counts(summed))).collect())
}

/// The counts of all clients together (of team `team`'s only, when named)
/// for each minute in `[from, to)` that has any, oldest first, summed by
/// the database.
pub fn totals_by_minute(
    conn: &mut DbConnection,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    team: Option<&str>,
) -> Result<Vec<(DateTime<Utc>, Counts)>, StoreError> {
    let rows: Vec<(chrono::NaiveDateTime, Summed)> =
        summed_by!(conn, (from, to), team, usage_rollups::minute)?;
    Ok(rows.into_iter().map(|(minute, summed)| (minute.and_utc(), counts(summed))).collect())
}

/// Deletes the rollups of minutes before `cutoff` (retention).
pub fn delete_before(conn: &mut DbConnection, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(usage_rollups::table.filter(usage_rollups::minute.lt(cutoff.naive_utc())))
        .execute(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend_tests;
    use chrono::TimeDelta;

    fn rollup(client_id: &str, minute: DateTime<Utc>, requests: i64, latency: Vec<u64>) -> Rollup {
        let counts = Counts { requests, auth_errors: 1, other_errors: 2, server_errors: 0, tokens_issued: 3 };
        Rollup { client_id: client_id.into(), minute, counts, latency }
    }

    backend_tests! {
        #[test]
        fn rollups_of_several_writers_add_up_and_expire(db) {
            let database = db.connect();
            let conn = &mut *database.get().unwrap();
            let minute = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().with_timezone(&Utc);
            let next = minute + TimeDelta::minutes(1);
            // Two instances counted the same minute of `app`.
            insert(conn, &[rollup("app", minute, 5, vec![1, 4]), rollup("other", minute, 7, vec![])]).unwrap();
            insert(conn, &[rollup("app", minute, 2, vec![0, 0, 2]), rollup("app", next, 1, vec![1])]).unwrap();

            let rows = of_client(conn, "app", minute, next).unwrap();
            assert_eq!(rows.len(), 2, "only the first minute: `to` is excluded");
            assert!(rows.iter().any(|r| r.latency == vec![0, 0, 2]));

            let mut totals = totals_by_client(conn, (minute, next + TimeDelta::minutes(1)), None).unwrap();
            totals.sort_by(|a, b| a.0.cmp(&b.0));
            let app = Counts { requests: 8, auth_errors: 3, other_errors: 6, server_errors: 0, tokens_issued: 9 };
            assert_eq!(totals[0], ("app".to_owned(), app));
            assert_eq!(totals[1].1.requests, 7);
            assert_eq!(app.errors(), 9);

            assert_eq!(delete_before(conn, next).unwrap(), 3);
            assert_eq!(of_client(conn, "app", minute, next + TimeDelta::minutes(1)).unwrap().len(), 1);
        }
    }
}
