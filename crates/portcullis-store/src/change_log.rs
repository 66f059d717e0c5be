//! The ordered log of changes every instance mirrors: client changes and
//! token revocations. Revocations stay until the token expires, so the log's
//! `token` entries are the revocation deny-list.

use crate::schema::{change_log, clients};
use crate::{DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// A client's configuration, secrets or state; the subject is its id.
    Client,
    /// A revoked access token; the subject is its `jti`.
    Token,
    /// A revoked grant: every token issued from one authorization code; the
    /// subject is the grant id.
    Grant,
    /// The signing keys; the subject is the kid that changed.
    Key,
}

impl ChangeKind {
    fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Client => "client",
            ChangeKind::Token => "token",
            ChangeKind::Grant => "grant",
            ChangeKind::Key => "key",
        }
    }
}

/// One entry of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Position in the log; increases, but a later commit may take a lower one.
    pub seq: i64,
    /// What changed.
    pub kind: ChangeKind,
    /// The client id or token id.
    pub subject: String,
    /// For a revoked token, when the token expires.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = change_log)]
struct NewRow<'a> {
    kind: &'a str,
    subject: &'a str,
    expires_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

/// Appends a change; call it in the transaction that makes the change.
pub fn append(
    conn: &mut DbConnection,
    kind: ChangeKind,
    subject: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    let row = NewRow {
        kind: kind.as_str(),
        subject,
        expires_at: expires_at.map(|t| t.naive_utc()),
        created_at: Utc::now().naive_utc(),
    };
    diesel::insert_into(change_log::table).values(row).execute(conn)?;
    if kind == ChangeKind::Client {
        // Positions in this log may commit out of order; a client's own
        // count moves in the order its changes commit.
        diesel::update(clients::table.filter(clients::client_id.eq(subject)))
            .set(clients::change_seq.eq(clients::change_seq + 1))
            .execute(conn)?;
    }
    Ok(())
}

type Row = (i64, String, String, Option<NaiveDateTime>);

fn to_change(row: Row) -> Result<Change, StoreError> {
    let (seq, kind, subject, expires_at) = row;
    let kind = match kind.as_str() {
        "client" => ChangeKind::Client,
        "token" => ChangeKind::Token,
        "grant" => ChangeKind::Grant,
        "key" => ChangeKind::Key,
        other => {
            return Err(StoreError::Corrupt { table: "change_log", reason: format!("unknown kind {other}") })
        }
    };
    Ok(Change { seq, kind, subject, expires_at: expires_at.map(|t| t.and_utc()) })
}

/// Up to `limit` changes with a position above `after`, in order.
pub fn since(conn: &mut DbConnection, after: i64, limit: i64) -> Result<Vec<Change>, StoreError> {
    change_log::table
        .filter(change_log::seq.gt(after))
        .order(change_log::seq.asc())
        .limit(limit)
        .select((change_log::seq, change_log::kind, change_log::subject, change_log::expires_at))
        .load::<Row>(conn)?
        .into_iter()
        .map(to_change)
        .collect()
}

/// The highest position written so far (0 for an empty log).
pub fn last_seq(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(change_log::table.select(diesel::dsl::max(change_log::seq)).first::<Option<i64>>(conn)?.unwrap_or(0))
}

/// Revocations of `kind` (tokens or grants) that still matter, because what
/// they revoke has not all expired: `(subject, until)`.
pub fn revocations(
    conn: &mut DbConnection,
    kind: ChangeKind,
    now: DateTime<Utc>,
) -> Result<Vec<(String, DateTime<Utc>)>, StoreError> {
    let rows: Vec<(String, Option<NaiveDateTime>)> = change_log::table
        .filter(change_log::kind.eq(kind.as_str()))
        .filter(change_log::expires_at.gt(now.naive_utc()))
        .select((change_log::subject, change_log::expires_at))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(jti, expires)| Some((jti, expires?.and_utc()))).collect())
}

/// Whether `subject` is revoked as `kind` (a token or a grant) and what it
/// revokes may not all have expired by `now`.
pub fn is_revoked(
    conn: &mut DbConnection,
    kind: ChangeKind,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let found = change_log::table
        .filter(change_log::kind.eq(kind.as_str()))
        .filter(change_log::subject.eq(subject))
        .filter(change_log::expires_at.gt(now.naive_utc()))
        .select(change_log::seq)
        .first::<i64>(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Deletes revocations (token and grant entries) whose token expired before
/// `cutoff`: nothing can present those tokens any more. Client changes stay,
/// and so does the newest entry, so the log's position never moves back.
pub fn delete_expired(conn: &mut DbConnection, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
    let newest = last_seq(conn)?;
    Ok(diesel::delete(
        change_log::table
            .filter(change_log::kind.ne(ChangeKind::Client.as_str()))
            .filter(change_log::expires_at.lt(cutoff.naive_utc()))
            .filter(change_log::seq.lt(newest)),
    )
    .execute(conn)?)
}
