//! The admin roles users hold: one row per user and admin permission.

use crate::schema::user_admin_roles;
use crate::{DbConnection, StoreError};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// Grants `permission` to `user_id` at `at`; false when it was held already.
pub fn grant(
    conn: &mut DbConnection,
    user_id: &str,
    permission: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if of_user(conn, user_id)?.iter().any(|held| held == permission) {
        return Ok(false);
    }
    diesel::insert_into(user_admin_roles::table)
        .values((
            user_admin_roles::user_id.eq(user_id),
            user_admin_roles::permission.eq(permission),
            user_admin_roles::granted_at.eq(at.naive_utc()),
        ))
        .execute(conn)
        .map_err(StoreError::from_write)?;
    Ok(true)
}

/// Withdraws `permission` from `user_id`; false when it was not held.
pub fn withdraw(conn: &mut DbConnection, user_id: &str, permission: &str) -> Result<bool, StoreError> {
    let held = user_admin_roles::table
        .filter(user_admin_roles::user_id.eq(user_id))
        .filter(user_admin_roles::permission.eq(permission));
    Ok(diesel::delete(held).execute(conn)? == 1)
}

/// Every user holding any admin role, by id.
pub fn holders(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    Ok(user_admin_roles::table
        .select(user_admin_roles::user_id)
        .distinct()
        .order(user_admin_roles::user_id)
        .load(conn)?)
}

/// The permissions `user_id` holds, sorted.
pub fn of_user(conn: &mut DbConnection, user_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(user_admin_roles::table
        .filter(user_admin_roles::user_id.eq(user_id))
        .select(user_admin_roles::permission)
        .order(user_admin_roles::permission.asc())
        .load(conn)?)
}
