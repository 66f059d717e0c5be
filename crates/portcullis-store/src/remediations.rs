//! What alert rules did to clients (issue 11's automated remediation): one
//! row per action, marked undone (once, by compare-and-swap) when an admin
//! reverses it.

use crate::schema::remediations;
use crate::{DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

/// One action a rule took.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = remediations)]
pub struct RemediationRecord {
    /// Its id.
    pub remediation_id: String,
    /// The rule that took it (`default` for the lockout flags' rule).
    pub rule_id: String,
    /// The client it was taken against.
    pub client_id: String,
    /// `lock`, `disable` or `revoke_tokens`.
    pub action: String,
    /// Why, in a few words.
    pub reason: String,
    /// When.
    pub applied_at: NaiveDateTime,
    /// For a lock, when it ends.
    pub locked_until: Option<NaiveDateTime>,
    /// When an admin undid it.
    pub undone_at: Option<NaiveDateTime>,
    /// Who undid it.
    pub undone_by: Option<String>,
}

/// Records an action.
pub fn insert(conn: &mut DbConnection, record: &RemediationRecord) -> Result<(), StoreError> {
    diesel::insert_into(remediations::table).values(record).execute(conn)?;
    Ok(())
}

/// The action `remediation_id`.
pub fn find(conn: &mut DbConnection, remediation_id: &str) -> Result<Option<RemediationRecord>, StoreError> {
    Ok(remediations::table
        .filter(remediations::remediation_id.eq(remediation_id))
        .select(RemediationRecord::as_select())
        .first(conn)
        .optional()?)
}

/// The latest `limit` actions, newest first, of `client_id` when given.
pub fn latest(
    conn: &mut DbConnection,
    client_id: Option<&str>,
    limit: i64,
) -> Result<Vec<RemediationRecord>, StoreError> {
    let mut query = remediations::table
        .select(RemediationRecord::as_select())
        .order((remediations::applied_at.desc(), remediations::remediation_id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some(client_id) = client_id {
        query = query.filter(remediations::client_id.eq(client_id));
    }
    Ok(query.load(conn)?)
}

/// Marks the action undone by `by` at `at`; false when it was undone already.
pub fn mark_undone(
    conn: &mut DbConnection,
    remediation_id: &str,
    by: &str,
    at: NaiveDateTime,
) -> Result<bool, StoreError> {
    let target = remediations::table
        .filter(remediations::remediation_id.eq(remediation_id))
        .filter(remediations::undone_at.is_null());
    let updated = diesel::update(target)
        .set((remediations::undone_at.eq(at), remediations::undone_by.eq(by)))
        .execute(conn)?;
    Ok(updated == 1)
}

/// When the latest token revocation of `client_id` still in force (not
/// undone) was applied.
pub fn latest_revocation(
    conn: &mut DbConnection,
    client_id: &str,
) -> Result<Option<NaiveDateTime>, StoreError> {
    Ok(remediations::table
        .filter(remediations::client_id.eq(client_id))
        .filter(remediations::action.eq(REVOKE_TOKENS))
        .filter(remediations::undone_at.is_null())
        .select(diesel::dsl::max(remediations::applied_at))
        .first(conn)?)
}

/// The action that revokes a client's tokens.
const REVOKE_TOKENS: &str = "revoke_tokens";

/// Forgets actions applied before `before`, except token revocations still
/// in force (only undoing them restores the tokens); how many.
pub fn delete_before(conn: &mut DbConnection, before: DateTime<Utc>) -> Result<usize, StoreError> {
    let old = remediations::table
        .filter(remediations::applied_at.lt(before.naive_utc()))
        .filter(remediations::undone_at.is_not_null().or(remediations::action.ne(REVOKE_TOKENS)));
    Ok(diesel::delete(old).execute(conn)?)
}
