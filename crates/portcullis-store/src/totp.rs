//! Users' TOTP secrets (RFC 6238) and recovery codes. A secret is pending
//! until its first code confirms it; each accepted time step is recorded
//! by compare-and-swap, so a code is accepted once on every instance.

use crate::schema::{user_recovery_codes, user_totp};
use crate::{DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

/// A user's TOTP secret as stored.
#[derive(Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = user_totp)]
pub struct TotpRecord {
    /// The user.
    pub user_id: String,
    /// The secret, base32, sealed under the key-encryption key.
    pub secret: String,
    /// When enrolment began.
    pub created_at: NaiveDateTime,
    /// When the first code confirmed it; pending until then.
    pub confirmed_at: Option<NaiveDateTime>,
    /// The latest time step accepted.
    pub last_step: i64,
}

/// The secret is never printed.
impl std::fmt::Debug for TotpRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpRecord")
            .field("user_id", &self.user_id)
            .field("confirmed_at", &self.confirmed_at)
            .finish_non_exhaustive()
    }
}

/// `user_id`'s TOTP secret, pending or confirmed.
pub fn find(conn: &mut DbConnection, user_id: &str) -> Result<Option<TotpRecord>, StoreError> {
    Ok(user_totp::table
        .filter(user_totp::user_id.eq(user_id))
        .select(TotpRecord::as_select())
        .first(conn)
        .optional()?)
}

/// Stores a pending secret, replacing a pending one; false when a confirmed
/// secret exists (only a reset removes it).
pub fn put_pending(conn: &mut DbConnection, record: &TotpRecord) -> Result<bool, StoreError> {
    conn.transaction(|conn| {
        let pending = user_totp::table
            .filter(user_totp::user_id.eq(&record.user_id))
            .filter(user_totp::confirmed_at.is_null());
        diesel::delete(pending).execute(conn)?;
        if find(conn, &record.user_id)?.is_some() {
            return Ok(false);
        }
        diesel::insert_into(user_totp::table).values(record).execute(conn).map_err(StoreError::from_write)?;
        Ok(true)
    })
}

/// What accepting a time step came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// A step as late was accepted before (a replay), or there is no secret.
    Refused,
    /// Accepted; the secret was confirmed already.
    Accepted,
    /// Accepted, and it confirmed the pending secret (once, of concurrent firsts).
    Confirmed,
}

/// Accepts time step `step` for `user_id` at `at`, confirming a pending secret.
pub fn accept_step(
    conn: &mut DbConnection,
    user_id: &str,
    step: i64,
    at: DateTime<Utc>,
) -> Result<Step, StoreError> {
    let earlier =
        user_totp::table.filter(user_totp::user_id.eq(user_id)).filter(user_totp::last_step.lt(step));
    if diesel::update(earlier).set(user_totp::last_step.eq(step)).execute(conn)? == 0 {
        return Ok(Step::Refused);
    }
    let pending =
        user_totp::table.filter(user_totp::user_id.eq(user_id)).filter(user_totp::confirmed_at.is_null());
    let confirmed =
        diesel::update(pending).set(user_totp::confirmed_at.eq(at.naive_utc())).execute(conn)? == 1;
    Ok(if confirmed { Step::Confirmed } else { Step::Accepted })
}

/// Removes `user_id`'s secret and recovery codes; false when there was no secret.
pub fn remove(conn: &mut DbConnection, user_id: &str) -> Result<bool, StoreError> {
    diesel::delete(user_recovery_codes::table.filter(user_recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    Ok(diesel::delete(user_totp::table.filter(user_totp::user_id.eq(user_id))).execute(conn)? == 1)
}

/// Replaces `user_id`'s recovery codes with these hashes.
pub fn put_recovery_codes(
    conn: &mut DbConnection,
    user_id: &str,
    hashes: &[String],
) -> Result<(), StoreError> {
    diesel::delete(user_recovery_codes::table.filter(user_recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    for hash in hashes {
        diesel::insert_into(user_recovery_codes::table)
            .values((user_recovery_codes::user_id.eq(user_id), user_recovery_codes::code_hash.eq(hash)))
            .execute(conn)?;
    }
    Ok(())
}

/// Uses the recovery code hashed as `hash` at `at`; false when it is not
/// one of `user_id`'s or was used before.
pub fn use_recovery_code(
    conn: &mut DbConnection,
    user_id: &str,
    hash: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let unused = user_recovery_codes::table
        .filter(user_recovery_codes::user_id.eq(user_id))
        .filter(user_recovery_codes::code_hash.eq(hash))
        .filter(user_recovery_codes::used_at.is_null());
    Ok(diesel::update(unused).set(user_recovery_codes::used_at.eq(at.naive_utc())).execute(conn)? == 1)
}

/// How many of `user_id`'s recovery codes are unused.
pub fn recovery_codes_left(conn: &mut DbConnection, user_id: &str) -> Result<i64, StoreError> {
    Ok(user_recovery_codes::table
        .filter(user_recovery_codes::user_id.eq(user_id))
        .filter(user_recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)?)
}
