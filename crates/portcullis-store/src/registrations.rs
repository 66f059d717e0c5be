//! Dynamic client registration (RFC 7591/7592): the initial access tokens
//! admins issue, and the registration of each client that registered
//! itself. Tokens arrive already hashed; policies are stored as JSON and
//! read back as [`RegistrationPolicy`].

use crate::schema::{client_registrations, initial_access_tokens};
use crate::{json, DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use portcullis_core::RegistrationPolicy;

/// An initial access token as stored (never its value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialAccessTokenRecord {
    /// Its id, to list and revoke it by.
    pub token_id: String,
    /// What it is for, in the issuing admin's words.
    pub description: String,
    /// What the clients it admits may be.
    pub policy: RegistrationPolicy,
    /// Who issued it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it stops admitting, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// How many registrations it admits at most; unlimited when `None`.
    pub max_uses: Option<i64>,
    /// How many it admitted.
    pub uses: i64,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The team its clients land in (its policy theirs), if a team's.
    pub team_id: Option<String>,
}

/// What issuing an initial access token writes.
pub struct NewInitialAccessToken<'a> {
    /// Its id.
    pub token_id: &'a str,
    /// SHA-256 of its value.
    pub token_hash: &'a [u8],
    /// What it is for.
    pub description: &'a str,
    /// The policy of the clients it admits.
    pub policy: &'a RegistrationPolicy,
    /// Who issues it.
    pub created_by: &'a str,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it stops admitting, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// How many registrations it admits at most.
    pub max_uses: Option<i64>,
    /// The team its clients land in, if any.
    pub team_id: Option<&'a str>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = initial_access_tokens)]
struct TokenRow {
    token_id: String,
    description: String,
    policy: String,
    created_by: String,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
    max_uses: Option<i64>,
    uses: i64,
    revoked_at: Option<NaiveDateTime>,
    team_id: Option<String>,
}

impl TryFrom<TokenRow> for InitialAccessTokenRecord {
    type Error = StoreError;

    fn try_from(row: TokenRow) -> Result<Self, StoreError> {
        Ok(Self {
            policy: json::read("initial_access_tokens", &row.token_id, &row.policy)?,
            token_id: row.token_id,
            description: row.description,
            created_by: row.created_by,
            created_at: row.created_at.and_utc(),
            expires_at: row.expires_at.map(|t| t.and_utc()),
            max_uses: row.max_uses,
            uses: row.uses,
            revoked_at: row.revoked_at.map(|t| t.and_utc()),
            team_id: row.team_id,
        })
    }
}

/// Writes a new initial access token.
pub fn issue(conn: &mut DbConnection, new: &NewInitialAccessToken<'_>) -> Result<(), StoreError> {
    let policy = json::write("initial_access_tokens", new.policy)?;
    diesel::insert_into(initial_access_tokens::table)
        .values((
            initial_access_tokens::token_id.eq(new.token_id),
            initial_access_tokens::token_hash.eq(new.token_hash),
            initial_access_tokens::description.eq(new.description),
            initial_access_tokens::policy.eq(&policy),
            initial_access_tokens::created_by.eq(new.created_by),
            initial_access_tokens::created_at.eq(new.created_at.naive_utc()),
            initial_access_tokens::expires_at.eq(new.expires_at.map(|t| t.naive_utc())),
            initial_access_tokens::max_uses.eq(new.max_uses),
            initial_access_tokens::uses.eq(0),
            initial_access_tokens::team_id.eq(new.team_id),
        ))
        .execute(conn)
        .map_err(StoreError::from_write)?;
    Ok(())
}

/// Every initial access token (or only team `team_id`'s), newest first.
pub fn all(
    conn: &mut DbConnection,
    team_id: Option<&str>,
) -> Result<Vec<InitialAccessTokenRecord>, StoreError> {
    let mut query = initial_access_tokens::table.into_boxed();
    if let Some(team_id) = team_id {
        query = query.filter(initial_access_tokens::team_id.eq(team_id));
    }
    let rows: Vec<TokenRow> = query
        .select(TokenRow::as_select())
        .order((initial_access_tokens::created_at.desc(), initial_access_tokens::token_id))
        .load(conn)?;
    rows.into_iter().map(TryFrom::try_from).collect()
}

/// The initial access token `token_id`.
pub fn find_token(
    conn: &mut DbConnection,
    token_id: &str,
) -> Result<Option<InitialAccessTokenRecord>, StoreError> {
    let row: Option<TokenRow> =
        initial_access_tokens::table.find(token_id).select(TokenRow::as_select()).first(conn).optional()?;
    row.map(TryFrom::try_from).transpose()
}

/// The token whose value hashes to `token_hash`.
pub fn find_by_hash(
    conn: &mut DbConnection,
    token_hash: &[u8],
) -> Result<Option<InitialAccessTokenRecord>, StoreError> {
    let row: Option<TokenRow> = initial_access_tokens::table
        .filter(initial_access_tokens::token_hash.eq(token_hash))
        .select(TokenRow::as_select())
        .first(conn)
        .optional()?;
    row.map(TryFrom::try_from).transpose()
}

/// Counts one registration against `token_id` if it still admits one at
/// `now` (not revoked, not expired, uses left), in one statement, so two
/// registrations racing for its last use cannot both have it.
pub fn take_use(conn: &mut DbConnection, token_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    use initial_access_tokens::dsl as t;
    let now = now.naive_utc();
    let taken = diesel::update(
        t::initial_access_tokens
            .filter(t::token_id.eq(token_id))
            .filter(t::revoked_at.is_null())
            .filter(t::expires_at.is_null().or(t::expires_at.gt(now)))
            .filter(t::max_uses.is_null().or(t::uses.lt(t::max_uses.assume_not_null()))),
    )
    .set(t::uses.eq(t::uses + 1))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Revokes `token_id` at `now`; whether there was such a token not revoked yet.
pub fn revoke(conn: &mut DbConnection, token_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    use initial_access_tokens::dsl as t;
    let revoked = diesel::update(
        t::initial_access_tokens.filter(t::token_id.eq(token_id)).filter(t::revoked_at.is_null()),
    )
    .set(t::revoked_at.eq(now.naive_utc()))
    .execute(conn)?;
    Ok(revoked == 1)
}

/// Revokes at `now` the unrevoked initial access tokens of team `team_id`
/// that `created_by` issued (they left the team, or may issue no more);
/// how many.
pub fn revoke_issued_by(
    conn: &mut DbConnection,
    team_id: &str,
    created_by: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    use initial_access_tokens::dsl as t;
    Ok(diesel::update(
        t::initial_access_tokens
            .filter(t::team_id.eq(team_id))
            .filter(t::created_by.eq(created_by))
            .filter(t::revoked_at.is_null()),
    )
    .set(t::revoked_at.eq(now.naive_utc()))
    .execute(conn)?)
}

/// How a client registered itself.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistrationRecord {
    /// The client.
    pub client_id: String,
    /// SHA-256 of its registration access token.
    pub token_hash: Vec<u8>,
    /// What admitted it: `initial access token <id>`, or `open registration`.
    pub admitted_by: String,
    /// The policy its updates follow.
    pub policy: RegistrationPolicy,
    /// When it registered.
    pub created_at: DateTime<Utc>,
    /// When its registration access token was issued.
    pub token_issued_at: DateTime<Utc>,
}

impl std::fmt::Debug for RegistrationRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrationRecord")
            .field("client_id", &self.client_id)
            .field("admitted_by", &self.admitted_by)
            .finish_non_exhaustive()
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = client_registrations)]
struct RegistrationRow {
    client_id: String,
    token_hash: Vec<u8>,
    admitted_by: String,
    policy: String,
    created_at: NaiveDateTime,
    token_issued_at: NaiveDateTime,
}

/// Records that `record.client_id` registered itself.
pub fn record(conn: &mut DbConnection, record: &RegistrationRecord) -> Result<(), StoreError> {
    let policy = json::write("client_registrations", &record.policy)?;
    diesel::insert_into(client_registrations::table)
        .values((
            client_registrations::client_id.eq(&record.client_id),
            client_registrations::token_hash.eq(&record.token_hash),
            client_registrations::admitted_by.eq(&record.admitted_by),
            client_registrations::policy.eq(&policy),
            client_registrations::created_at.eq(record.created_at.naive_utc()),
            client_registrations::token_issued_at.eq(record.token_issued_at.naive_utc()),
        ))
        .execute(conn)
        .map_err(StoreError::from_write)?;
    Ok(())
}

/// The registration of `client_id`, if it registered itself and is not deleted.
pub fn find(conn: &mut DbConnection, client_id: &str) -> Result<Option<RegistrationRecord>, StoreError> {
    let row: Option<RegistrationRow> = client_registrations::table
        .filter(client_registrations::client_id.eq(client_id))
        .select(RegistrationRow::as_select())
        .first(conn)
        .optional()?;
    row.map(|row| {
        Ok(RegistrationRecord {
            policy: json::read("client_registrations", &row.client_id, &row.policy)?,
            client_id: row.client_id,
            token_hash: row.token_hash,
            admitted_by: row.admitted_by,
            created_at: row.created_at.and_utc(),
            token_issued_at: row.token_issued_at.and_utc(),
        })
    })
    .transpose()
}

/// Replaces the registration access token of `client_id`.
pub fn replace_token(
    conn: &mut DbConnection,
    client_id: &str,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(client_registrations::table.filter(client_registrations::client_id.eq(client_id)))
        .set((
            client_registrations::token_hash.eq(token_hash),
            client_registrations::token_issued_at.eq(now.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets the registration of `client_id`: its registration access token stops working.
pub fn forget(conn: &mut DbConnection, client_id: &str) -> Result<(), StoreError> {
    diesel::delete(client_registrations::table.filter(client_registrations::client_id.eq(client_id)))
        .execute(conn)?;
    Ok(())
}
