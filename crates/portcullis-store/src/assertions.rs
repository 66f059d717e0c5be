//! Used client-assertion identifiers and DPoP proofs, for refusing replays.

use crate::schema::{client_assertion_jtis, dpop_proofs};
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

/// Records the DPoP proof `proof_hash` (of its key and `jti`), acceptable
/// until `expires_at`. Returns `false` when it was seen before: a replay.
pub fn record_dpop_proof(
    conn: &mut DbConnection,
    proof_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    StoreError::first_insert(
        diesel::insert_into(dpop_proofs::table)
            .values((
                dpop_proofs::proof_hash.eq(proof_hash),
                dpop_proofs::expires_at.eq(expires_at.naive_utc()),
            ))
            .execute(conn),
    )
}

/// Deletes the assertion identifiers and DPoP proofs that expired before
/// `now` (a replay of those is refused for its time anyway); returns how many.
pub fn delete_expired(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let now = now.naive_utc();
    Ok(diesel::delete(client_assertion_jtis::table.filter(client_assertion_jtis::expires_at.lt(now)))
        .execute(conn)?
        + diesel::delete(dpop_proofs::table.filter(dpop_proofs::expires_at.lt(now))).execute(conn)?)
}
