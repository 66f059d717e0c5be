//! The sessions of the server's own sites, the console and the portal: a
//! cookie (stored as its SHA-256) of a signed-in user, with a CSRF token
//! (also hashed), ending at its idle or absolute timeout or at sign-out.
//! Each is marked with its site ([`KIND_CONSOLE`], [`KIND_PORTAL`]) and
//! found only for it.

use crate::schema::console_sessions;
use crate::{DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

/// A session of the console.
pub const KIND_CONSOLE: &str = "console";
/// A session of the portal.
pub const KIND_PORTAL: &str = "portal";

/// A session as stored.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = console_sessions)]
pub struct ConsoleSessionRecord {
    /// SHA-256 of the cookie value.
    pub session_hash: Vec<u8>,
    /// Its public id, in audit entries.
    pub session_id: String,
    /// The user signed in.
    pub user_id: String,
    /// SHA-256 of its CSRF token.
    pub csrf_hash: Vec<u8>,
    /// When it began.
    pub created_at: NaiveDateTime,
    /// When it was last used (kept to the minute).
    pub last_seen_at: NaiveDateTime,
    /// When it ends whatever happens (the absolute timeout).
    pub expires_at: NaiveDateTime,
    /// When it was signed out.
    pub ended_at: Option<NaiveDateTime>,
    /// Its site: [`KIND_CONSOLE`] or [`KIND_PORTAL`].
    pub kind: String,
    /// Whether the sign-in that opened it gave a second factor.
    pub second_factor: bool,
}

/// Stores a new session.
pub fn create(conn: &mut DbConnection, session: &ConsoleSessionRecord) -> Result<(), StoreError> {
    diesel::insert_into(console_sessions::table)
        .values(session)
        .execute(conn)
        .map_err(StoreError::from_write)?;
    Ok(())
}

/// The session of site `kind` whose cookie hashes to `session_hash`,
/// unless it ended, or expired, or was idle since before `idle_since`.
pub fn live(
    conn: &mut DbConnection,
    kind: &str,
    session_hash: &[u8],
    (now, idle_since): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Option<ConsoleSessionRecord>, StoreError> {
    Ok(console_sessions::table
        .filter(console_sessions::session_hash.eq(session_hash))
        .filter(console_sessions::kind.eq(kind))
        .filter(console_sessions::ended_at.is_null())
        .filter(console_sessions::expires_at.gt(now.naive_utc()))
        .filter(console_sessions::last_seen_at.ge(idle_since.naive_utc()))
        .select(ConsoleSessionRecord::as_select())
        .first(conn)
        .optional()?)
}

/// Whether the portal session `session_id`, live at `now`, was opened by a
/// sign-in that gave a second factor.
pub fn gave_second_factor(
    conn: &mut DbConnection,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let given = console_sessions::table
        .filter(console_sessions::session_id.eq(session_id))
        .filter(console_sessions::kind.eq(KIND_PORTAL))
        .filter(console_sessions::ended_at.is_null())
        .filter(console_sessions::expires_at.gt(now.naive_utc()))
        .filter(console_sessions::second_factor.eq(true));
    Ok(diesel::select(diesel::dsl::exists(given)).get_result(conn)?)
}

/// Records a use of the session `session_id` at `at`.
pub fn touch(conn: &mut DbConnection, session_id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
    let session = console_sessions::table.filter(console_sessions::session_id.eq(session_id));
    diesel::update(session).set(console_sessions::last_seen_at.eq(at.naive_utc())).execute(conn)?;
    Ok(())
}

/// Ends the session `session_id` at `at`; false when it had ended.
pub fn end(conn: &mut DbConnection, session_id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
    let live = console_sessions::table
        .filter(console_sessions::session_id.eq(session_id))
        .filter(console_sessions::ended_at.is_null());
    Ok(diesel::update(live).set(console_sessions::ended_at.eq(at.naive_utc())).execute(conn)? == 1)
}

/// Ends every session of `user_id` at `at` (the user was disabled or lost
/// its roles); how many.
pub fn end_user_sessions(
    conn: &mut DbConnection,
    user_id: &str,
    at: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let live = console_sessions::table
        .filter(console_sessions::user_id.eq(user_id))
        .filter(console_sessions::ended_at.is_null());
    Ok(diesel::update(live).set(console_sessions::ended_at.eq(at.naive_utc())).execute(conn)?)
}

/// Forgets sessions that expired before `before`; how many.
pub fn delete_expired(conn: &mut DbConnection, before: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(console_sessions::table.filter(console_sessions::expires_at.lt(before.naive_utc())))
        .execute(conn)?)
}
