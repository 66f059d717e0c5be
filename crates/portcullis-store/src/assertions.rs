//! Used client-assertion identifiers, for refusing replays.

use crate::schema::client_assertion_jtis;
use crate::{DbConnection, StoreError};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// Records that `client_id` used the assertion `jti`, valid until
/// `expires_at`. Returns `false` when it was used before: a replay.
/// Expired entries of the same client are removed on the way.
pub fn record_jti(
    conn: &mut DbConnection,
    client_id: &str,
    jti: &str,
    expires_at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let now = Utc::now().naive_utc();
    diesel::delete(
        client_assertion_jtis::table
            .filter(client_assertion_jtis::client_id.eq(client_id))
            .filter(client_assertion_jtis::expires_at.lt(now)),
    )
    .execute(conn)?;
    StoreError::first_insert(
        diesel::insert_into(client_assertion_jtis::table)
            .values((
                client_assertion_jtis::client_id.eq(client_id),
                client_assertion_jtis::jti.eq(jti),
                client_assertion_jtis::expires_at.eq(expires_at.naive_utc()),
            ))
            .execute(conn),
    )
}

/// Deletes the identifiers of assertions that expired before `now` (a
/// replay of those is refused for its `exp` anyway); returns how many.
pub fn delete_expired(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        client_assertion_jtis::table.filter(client_assertion_jtis::expires_at.lt(now.naive_utc())),
    )
    .execute(conn)?)
}
