//! Repository of authorization codes: stored hashed, consumed atomically at
//! most once.

use crate::schema::authorization_codes;
use crate::{json, DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use portcullis_core::grant::CodeDetails;

/// A code as issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeRecord {
    /// SHA-256 of the code.
    pub code_hash: Vec<u8>,
    /// The grant the code starts: every token issued from it carries this id.
    pub grant_id: String,
    /// The client the code was issued to.
    pub client_id: String,
    /// What the token endpoint needs.
    pub details: CodeDetails,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// What presenting a code found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redemption {
    /// The code was valid and is now consumed.
    Redeemed(Box<CodeRecord>),
    /// The code was consumed before: a replay of grant `grant_id` (RFC 6749 §4.1.2).
    Replayed {
        /// The grant whose tokens must be revoked.
        grant_id: String,
        /// The client the code was issued to.
        client_id: String,
    },
    /// No such code, or it expired unused.
    Invalid,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = authorization_codes)]
struct Row {
    code_hash: Vec<u8>,
    grant_id: String,
    client_id: String,
    details: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    consumed_at: Option<NaiveDateTime>,
    user_id: Option<String>,
}

/// Stores a newly issued code.
pub fn insert(conn: &mut DbConnection, code: &CodeRecord) -> Result<(), StoreError> {
    let row = Row {
        code_hash: code.code_hash.clone(),
        grant_id: code.grant_id.clone(),
        client_id: code.client_id.clone(),
        details: json::write("authorization_codes", &code.details)?,
        created_at: code.created_at.naive_utc(),
        expires_at: code.expires_at.naive_utc(),
        consumed_at: None,
        user_id: Some(code.details.user_id.clone()),
    };
    diesel::insert_into(authorization_codes::table)
        .values(row)
        .execute(conn)
        .map_err(StoreError::from_write)?;
    Ok(())
}

/// Consumes the code with hash `code_hash` at `now`. One conditional update
/// decides, so of several concurrent redemptions exactly one succeeds, and
/// returns the code (one round trip); only a code it did not consume is read
/// again, to tell a replay from an unknown or expired code.
pub fn redeem(
    conn: &mut DbConnection,
    code_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Redemption, StoreError> {
    let now = now.naive_utc();
    let this_code = authorization_codes::code_hash.eq(code_hash);
    let consumed: Option<(String, String, String, NaiveDateTime, NaiveDateTime)> = diesel::update(
        authorization_codes::table
            .filter(this_code)
            .filter(authorization_codes::consumed_at.is_null())
            .filter(authorization_codes::expires_at.gt(now)),
    )
    .set(authorization_codes::consumed_at.eq(now))
    // A tuple: diesel's MultiConnection has no `as_returning` for a struct.
    .returning((
        authorization_codes::grant_id,
        authorization_codes::client_id,
        authorization_codes::details,
        authorization_codes::created_at,
        authorization_codes::expires_at,
    ))
    .get_result(conn)
    .optional()?;
    if let Some((grant_id, client_id, details, created_at, expires_at)) = consumed {
        return Ok(Redemption::Redeemed(Box::new(CodeRecord {
            details: json::read("authorization_codes", &format!("the code of grant {grant_id}"), &details)?,
            code_hash: code_hash.to_vec(),
            grant_id,
            client_id,
            created_at: created_at.and_utc(),
            expires_at: expires_at.and_utc(),
        })));
    }
    let row: Option<Row> =
        authorization_codes::table.filter(this_code).select(Row::as_select()).first(conn).optional()?;
    Ok(match row {
        Some(row) if row.consumed_at.is_some() => {
            Redemption::Replayed { grant_id: row.grant_id, client_id: row.client_id }
        }
        _ => Redemption::Invalid,
    })
}

/// Withdraws the codes issued for `user_id` and not yet redeemed (the user
/// was disabled); returns how many.
pub fn withdraw_user_codes(conn: &mut DbConnection, user_id: &str) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        authorization_codes::table
            .filter(authorization_codes::user_id.eq(user_id))
            .filter(authorization_codes::consumed_at.is_null()),
    )
    .execute(conn)?)
}

/// Deletes codes that expired before `before`; returns how many.
pub fn delete_expired(conn: &mut DbConnection, before: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        authorization_codes::table.filter(authorization_codes::expires_at.lt(before.naive_utc())),
    )
    .execute(conn)?)
}
