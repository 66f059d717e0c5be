//! Repository of pushed authorization requests (RFC 9126): stored under the
//! hash of their `request_uri`, taken at most once.

use crate::schema::pushed_requests;
use crate::{json, DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use portcullis_core::authorization_request::AuthorizationRequest;

/// Stores `request`, pushed by its client, under `request_hash` until `expires_at`.
pub fn insert(
    conn: &mut DbConnection,
    request_hash: &[u8],
    request: &AuthorizationRequest,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(pushed_requests::table)
        .values((
            pushed_requests::request_hash.eq(request_hash),
            pushed_requests::client_id.eq(request.client_id.as_str()),
            pushed_requests::request.eq(json::write("pushed_requests", request)?),
            pushed_requests::expires_at.eq(expires_at.naive_utc()),
        ))
        .execute(conn)
        .map_err(StoreError::from_write)?;
    Ok(())
}

/// Takes the request `client_id` pushed under `request_hash`, with when it
/// expires, if it is still live at `now`: one consuming delete decides, so of several
/// concurrent uses one gets it. Another client's use takes nothing, so it
/// cannot spend the request either.
pub fn take(
    conn: &mut DbConnection,
    request_hash: &[u8],
    client_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<(AuthorizationRequest, DateTime<Utc>)>, StoreError> {
    let taken: Option<(String, NaiveDateTime)> = diesel::delete(
        pushed_requests::table
            .filter(pushed_requests::request_hash.eq(request_hash))
            .filter(pushed_requests::client_id.eq(client_id)),
    )
    .returning((pushed_requests::request, pushed_requests::expires_at))
    .get_result(conn)
    .optional()?;
    match taken {
        Some((request, expires_at)) if expires_at > now.naive_utc() => {
            Ok(Some((json::read("pushed_requests", "a pushed request", &request)?, expires_at.and_utc())))
        }
        _ => Ok(None),
    }
}

/// Deletes requests that expired before `now`; returns how many.
pub fn delete_expired(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(pushed_requests::table.filter(pushed_requests::expires_at.lt(now.naive_utc())))
        .execute(conn)?)
}
