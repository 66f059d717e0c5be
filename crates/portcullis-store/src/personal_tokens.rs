//! Repository of personal access tokens. A token arrives already hashed and
//! is found by its hash; revoking is one conditional update, and a use is
//! recorded at most once a minute, so a busy token does not write on
//! every request.

use crate::schema::{personal_access_tokens as tokens, users};
use crate::{DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;

/// A personal access token as stored (never the token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    /// Its id: the `client_id` introspection names it by.
    pub token_id: String,
    /// Whose it is.
    pub user_id: String,
    /// Their username, for lists.
    pub username: String,
    /// The team it acts for.
    pub team_id: String,
    /// What its user called it.
    pub name: String,
    /// Its scope, space-separated.
    pub scope: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was last used, to the minute.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Who revoked it.
    pub revoked_by: Option<String>,
    /// Whether the sign-in it was made from gave a second factor.
    pub second_factor: bool,
}

/// What making a token writes.
pub struct NewToken<'a> {
    /// Its id.
    pub token_id: &'a str,
    /// SHA-256 of the token.
    pub token_hash: &'a [u8],
    /// Whose it is.
    pub user_id: &'a str,
    /// The team it acts for.
    pub team_id: &'a str,
    /// Its name.
    pub name: &'a str,
    /// Its scope.
    pub scope: &'a str,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// Whether the sign-in it is made from gave a second factor.
    pub second_factor: bool,
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    NaiveDateTime,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<String>,
    bool,
);

fn record(row: Row) -> TokenRecord {
    let (
        token_id,
        user_id,
        username,
        team_id,
        name,
        scope,
        created,
        expires,
        used,
        revoked,
        revoked_by,
        second_factor,
    ) = row;
    TokenRecord {
        token_id,
        user_id,
        username,
        team_id,
        name,
        scope,
        created_at: created.and_utc(),
        expires_at: expires.and_utc(),
        last_used_at: used.map(|t| t.and_utc()),
        revoked_at: revoked.map(|t| t.and_utc()),
        revoked_by,
        second_factor,
    }
}

/// The most tokens one list holds.
const MAX_LISTED: i64 = 1_000;

/// The tokens matching `filter`, newest first, at most `limit`.
macro_rules! load {
    ($conn:expr, $filter:expr) => {
        load!($conn, $filter, MAX_LISTED)
    };
    ($conn:expr, $filter:expr, $limit:expr) => {{
        let rows: Vec<Row> = tokens::table
            .inner_join(users::table.on(users::user_id.eq(tokens::user_id)))
            .filter($filter)
            .order((tokens::created_at.desc(), tokens::token_id.desc()))
            .limit($limit)
            .select((
                tokens::token_id,
                tokens::user_id,
                users::username,
                tokens::team_id,
                tokens::name,
                tokens::scope,
                tokens::created_at,
                tokens::expires_at,
                tokens::last_used_at,
                tokens::revoked_at,
                tokens::revoked_by,
                tokens::second_factor,
            ))
            .load($conn)?;
        rows.into_iter().map(record).collect::<Vec<TokenRecord>>()
    }};
}

/// Stores a new token.
pub fn insert(conn: &mut DbConnection, new: &NewToken<'_>) -> Result<(), StoreError> {
    diesel::insert_into(tokens::table)
        .values((
            tokens::token_id.eq(new.token_id),
            tokens::token_hash.eq(new.token_hash),
            tokens::user_id.eq(new.user_id),
            tokens::team_id.eq(new.team_id),
            tokens::name.eq(new.name),
            tokens::scope.eq(new.scope),
            tokens::created_at.eq(new.created_at.naive_utc()),
            tokens::expires_at.eq(new.expires_at.naive_utc()),
            tokens::second_factor.eq(new.second_factor),
        ))
        .execute(conn)?;
    Ok(())
}

/// The token whose hash is `hash`, if there is one.
pub fn find_by_hash(conn: &mut DbConnection, hash: &[u8]) -> Result<Option<TokenRecord>, StoreError> {
    Ok(load!(conn, tokens::token_hash.eq(hash)).pop())
}

/// The token `token_id`, if there is one.
pub fn find(conn: &mut DbConnection, token_id: &str) -> Result<Option<TokenRecord>, StoreError> {
    Ok(load!(conn, tokens::token_id.eq(token_id)).pop())
}

/// The tokens of `user_id` for team `team_id`, newest first.
pub fn of_member(
    conn: &mut DbConnection,
    team_id: &str,
    user_id: &str,
) -> Result<Vec<TokenRecord>, StoreError> {
    Ok(load!(conn, tokens::team_id.eq(team_id).and(tokens::user_id.eq(user_id))))
}

/// The tokens for team `team_id`, newest first.
pub fn of_team(conn: &mut DbConnection, team_id: &str) -> Result<Vec<TokenRecord>, StoreError> {
    Ok(load!(conn, tokens::team_id.eq(team_id)))
}

/// Every token, newest first, at most `limit`.
pub fn all(conn: &mut DbConnection, limit: i64) -> Result<Vec<TokenRecord>, StoreError> {
    Ok(load!(conn, tokens::token_id.ne(""), limit))
}

/// Revokes the token `token_id` by `by` at `at`: `false` when it was revoked already.
pub fn revoke(
    conn: &mut DbConnection,
    token_id: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let target = tokens::table.filter(tokens::token_id.eq(token_id)).filter(tokens::revoked_at.is_null());
    let updated = diesel::update(target)
        .set((tokens::revoked_at.eq(at.naive_utc()), tokens::revoked_by.eq(by)))
        .execute(conn)?;
    Ok(updated == 1)
}

/// Revokes every unrevoked token of `user_id` for team `team_id`: how many.
pub fn revoke_of_member(
    conn: &mut DbConnection,
    team_id: &str,
    user_id: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let target = tokens::table
        .filter(tokens::team_id.eq(team_id))
        .filter(tokens::user_id.eq(user_id))
        .filter(tokens::revoked_at.is_null());
    Ok(diesel::update(target)
        .set((tokens::revoked_at.eq(at.naive_utc()), tokens::revoked_by.eq(by)))
        .execute(conn)?)
}

/// Records a use of `token_id` at `at`, unless one was recorded within the minute before.
pub fn record_use(conn: &mut DbConnection, token_id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
    let recent = (at - TimeDelta::minutes(1)).naive_utc();
    let target = tokens::table
        .filter(tokens::token_id.eq(token_id))
        .filter(tokens::last_used_at.is_null().or(tokens::last_used_at.lt(recent)));
    diesel::update(target).set(tokens::last_used_at.eq(at.naive_utc())).execute(conn)?;
    Ok(())
}
