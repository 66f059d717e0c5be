//! Repository of end users. Passwords arrive already hashed; claims and
//! custom attributes are stored as JSON and read back as [`StandardClaims`]
//! and a JSON object.

use crate::schema::users;
use crate::{json, DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use portcullis_core::StandardClaims;
use serde_json::{Map, Value};
use std::fmt;

/// A user as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The stable identifier, used as `sub`.
    pub user_id: String,
    /// The login name, in lower case.
    pub username: String,
    /// The argon2id PHC string of the password.
    pub password_hash: String,
    /// OpenID Connect standard claims.
    pub claims: StandardClaims,
    /// Custom attributes, by name (checked against the schema on write).
    pub attributes: Map<String, Value>,
    /// When the user was created.
    pub created_at: DateTime<Utc>,
    /// When the user last changed (the `updated_at` claim).
    pub updated_at: DateTime<Utc>,
    /// When the user was disabled, if it is.
    pub disabled_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("user_id", &self.user_id)
            .field("username", &self.username)
            .field("disabled_at", &self.disabled_at)
            .finish_non_exhaustive()
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
struct Row {
    user_id: String,
    username: String,
    password_hash: String,
    claims: String,
    attributes: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    disabled_at: Option<NaiveDateTime>,
}

impl TryFrom<Row> for UserRecord {
    type Error = StoreError;

    fn try_from(row: Row) -> Result<Self, StoreError> {
        Ok(UserRecord {
            claims: json::read("users", &format!("user {}", row.user_id), &row.claims)?,
            attributes: json::read("users", &format!("user {}", row.user_id), &row.attributes)?,
            user_id: row.user_id,
            username: row.username,
            password_hash: row.password_hash,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            disabled_at: row.disabled_at.map(|t| t.and_utc()),
        })
    }
}

/// Stores a new user. A taken `username` or `user_id` is a [`StoreError::Conflict`].
pub fn create(conn: &mut DbConnection, user: &UserRecord) -> Result<(), StoreError> {
    let row = Row {
        user_id: user.user_id.clone(),
        username: user.username.clone(),
        password_hash: user.password_hash.clone(),
        claims: json::write("users", &user.claims)?,
        attributes: json::write("users", &user.attributes)?,
        created_at: user.created_at.naive_utc(),
        updated_at: user.updated_at.naive_utc(),
        disabled_at: user.disabled_at.map(|t| t.naive_utc()),
    };
    diesel::insert_into(users::table).values(row).execute(conn).map_err(StoreError::from_write)?;
    Ok(())
}

/// The user with login name `username` (already in lower case).
pub fn find_by_username(conn: &mut DbConnection, username: &str) -> Result<Option<UserRecord>, StoreError> {
    let row =
        users::table.filter(users::username.eq(username)).select(Row::as_select()).first(conn).optional()?;
    row.map(UserRecord::try_from).transpose()
}

/// The user `user_id`.
pub fn find(conn: &mut DbConnection, user_id: &str) -> Result<Option<UserRecord>, StoreError> {
    let row =
        users::table.filter(users::user_id.eq(user_id)).select(Row::as_select()).first(conn).optional()?;
    row.map(UserRecord::try_from).transpose()
}

/// Every user, by username.
pub fn all(conn: &mut DbConnection) -> Result<Vec<UserRecord>, StoreError> {
    let rows = users::table.order(users::username.asc()).select(Row::as_select()).load(conn)?;
    rows.into_iter().map(UserRecord::try_from).collect()
}

/// A change to a user; `None` leaves a field as it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct UserChange<'a> {
    /// New standard claims.
    pub claims: Option<&'a StandardClaims>,
    /// New custom attributes (all of them).
    pub attributes: Option<&'a Map<String, Value>>,
    /// A new argon2id password hash.
    pub password_hash: Option<&'a str>,
    /// Disable (`true`) or enable (`false`).
    pub disabled: Option<bool>,
}

/// Applies `change` to `user_id`; returns `false` when there is no such user.
pub fn update(conn: &mut DbConnection, user_id: &str, change: UserChange<'_>) -> Result<bool, StoreError> {
    let now = Utc::now().naive_utc();
    conn.transaction(|conn| {
        let this_user = || users::table.filter(users::user_id.eq(user_id));
        let touched = diesel::update(this_user()).set(users::updated_at.eq(now)).execute(conn)?;
        if touched == 0 {
            return Ok(false);
        }
        if let Some(claims) = change.claims {
            let claims = json::write("users", claims)?;
            diesel::update(this_user()).set(users::claims.eq(claims)).execute(conn)?;
        }
        if let Some(attributes) = change.attributes {
            let attributes = json::write("users", attributes)?;
            diesel::update(this_user()).set(users::attributes.eq(attributes)).execute(conn)?;
        }
        if let Some(hash) = change.password_hash {
            diesel::update(this_user()).set(users::password_hash.eq(hash)).execute(conn)?;
        }
        if let Some(disabled) = change.disabled {
            diesel::update(this_user()).set(users::disabled_at.eq(disabled.then_some(now))).execute(conn)?;
        }
        Ok(true)
    })
}
