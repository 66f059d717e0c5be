//! Repository of browser sessions, pending interactions and remembered
//! consents: what the login and consent pages keep between requests.

use crate::schema::{consents, interactions, sessions};
use crate::{json, DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use portcullis_core::authorization_request::{AuthorizationRequest, Pushed};

/// A browser session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the cookie value.
    pub session_hash: Vec<u8>,
    /// The public identifier, `sid` in ID tokens.
    pub session_id: String,
    /// The user.
    pub user_id: String,
    /// When the user last authenticated in this session.
    pub auth_time: DateTime<Utc>,
    /// When the session began.
    pub created_at: DateTime<Utc>,
    /// When it ends by itself.
    pub expires_at: DateTime<Utc>,
    /// When its user last gave a second factor in it, if ever.
    pub second_factor_at: Option<DateTime<Utc>>,
}

/// An authorization request waiting for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InteractionRecord {
    /// SHA-256 of the interaction id.
    pub interaction_hash: Vec<u8>,
    /// The validated request.
    pub request: AuthorizationRequest,
    /// SHA-256 of the CSRF token its forms carry.
    pub csrf_hash: Vec<u8>,
    /// The session the user logged in with for it, once they have.
    pub session_id: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it is abandoned.
    pub expires_at: DateTime<Utc>,
    /// For a request pushed (RFC 9126), what a reload takes it back by.
    pub pushed: Option<Pushed>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
struct SessionRow {
    session_hash: Vec<u8>,
    session_id: String,
    user_id: String,
    auth_time: NaiveDateTime,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    second_factor_at: Option<NaiveDateTime>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = interactions)]
struct InteractionRow {
    interaction_hash: Vec<u8>,
    request: String,
    csrf_hash: Vec<u8>,
    session_id: Option<String>,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    pushed_hash: Option<Vec<u8>>,
    pushed_until: Option<NaiveDateTime>,
}

/// Stores a new session.
pub fn create_session(conn: &mut DbConnection, session: &SessionRecord) -> Result<(), StoreError> {
    let row = SessionRow {
        session_hash: session.session_hash.clone(),
        session_id: session.session_id.clone(),
        user_id: session.user_id.clone(),
        auth_time: session.auth_time.naive_utc(),
        created_at: session.created_at.naive_utc(),
        expires_at: session.expires_at.naive_utc(),
        second_factor_at: session.second_factor_at.map(|at| at.naive_utc()),
    };
    diesel::insert_into(sessions::table).values(row).execute(conn).map_err(StoreError::from_write)?;
    Ok(())
}

/// The session whose cookie hashes to `session_hash`, unless it ended or expired.
pub fn live_session(
    conn: &mut DbConnection,
    session_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<SessionRecord>, StoreError> {
    let row: Option<SessionRow> = sessions::table
        .filter(sessions::session_hash.eq(session_hash))
        .filter(sessions::ended_at.is_null())
        .filter(sessions::expires_at.gt(now.naive_utc()))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(|r| SessionRecord {
        session_hash: r.session_hash,
        session_id: r.session_id,
        user_id: r.user_id,
        auth_time: r.auth_time.and_utc(),
        created_at: r.created_at.and_utc(),
        expires_at: r.expires_at.and_utc(),
        second_factor_at: r.second_factor_at.map(|at| at.and_utc()),
    }))
}

/// Records that the user of the live session `session_id` gave a second
/// factor at `at`; false when the session ended.
pub fn record_second_factor(
    conn: &mut DbConnection,
    session_id: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let live =
        sessions::table.filter(sessions::session_id.eq(session_id)).filter(sessions::ended_at.is_null());
    Ok(diesel::update(live).set(sessions::second_factor_at.eq(at.naive_utc())).execute(conn)? == 1)
}

/// Ends a session (logout); returns whether it was live.
pub fn end_session(
    conn: &mut DbConnection,
    session_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let ended = diesel::update(
        sessions::table.filter(sessions::session_hash.eq(session_hash)).filter(sessions::ended_at.is_null()),
    )
    .set(sessions::ended_at.eq(now.naive_utc()))
    .execute(conn)?;
    Ok(ended == 1)
}

/// Ends every session of a user (when the user is disabled); returns how many.
pub fn end_user_sessions(
    conn: &mut DbConnection,
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::ended_at.is_null()),
    )
    .set(sessions::ended_at.eq(now.naive_utc()))
    .execute(conn)?)
}

/// Deletes the sessions and interactions that expired before `now`;
/// returns how many rows went.
pub fn delete_expired(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let now = now.naive_utc();
    let sessions = diesel::delete(sessions::table.filter(sessions::expires_at.lt(now))).execute(conn)?;
    let interactions =
        diesel::delete(interactions::table.filter(interactions::expires_at.lt(now))).execute(conn)?;
    Ok(sessions + interactions)
}

/// Stores a pending interaction.
pub fn create_interaction(
    conn: &mut DbConnection,
    interaction: &InteractionRecord,
) -> Result<(), StoreError> {
    let row = InteractionRow {
        interaction_hash: interaction.interaction_hash.clone(),
        request: json::write("interactions", &interaction.request)?,
        csrf_hash: interaction.csrf_hash.clone(),
        session_id: interaction.session_id.clone(),
        created_at: interaction.created_at.naive_utc(),
        expires_at: interaction.expires_at.naive_utc(),
        pushed_hash: interaction.pushed.as_ref().map(|pushed| pushed.hash.clone()),
        pushed_until: interaction
            .pushed
            .as_ref()
            .and_then(|pushed| DateTime::from_timestamp(pushed.expires_at, 0))
            .map(|at| at.naive_utc()),
    };
    diesel::insert_into(interactions::table).values(row).execute(conn).map_err(StoreError::from_write)?;
    Ok(())
}

/// The unexpired interaction whose id hashes to `interaction_hash`.
pub fn live_interaction(
    conn: &mut DbConnection,
    interaction_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<InteractionRecord>, StoreError> {
    let row: Option<InteractionRow> = interactions::table
        .filter(interactions::interaction_hash.eq(interaction_hash))
        .filter(interactions::expires_at.gt(now.naive_utc()))
        .select(InteractionRow::as_select())
        .first(conn)
        .optional()?;
    row.map(InteractionRecord::try_from).transpose()
}

impl TryFrom<InteractionRow> for InteractionRecord {
    type Error = StoreError;

    fn try_from(r: InteractionRow) -> Result<Self, StoreError> {
        Ok(Self {
            request: json::read("interactions", "a live interaction", &r.request)?,
            interaction_hash: r.interaction_hash,
            csrf_hash: r.csrf_hash,
            session_id: r.session_id,
            created_at: r.created_at.and_utc(),
            expires_at: r.expires_at.and_utc(),
            pushed: r
                .pushed_hash
                .zip(r.pushed_until)
                .map(|(hash, until)| Pushed { hash, expires_at: until.and_utc().timestamp() }),
        })
    }
}

/// Takes back the request of the live interaction started from the pushed
/// request under `pushed_hash` (a reload of `/authorize` before the
/// authorization completed), while its `request_uri` has not expired: one
/// consuming delete, so the interaction ends and of concurrent reloads one
/// gets it.
pub fn take_pushed_interaction(
    conn: &mut DbConnection,
    pushed_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<InteractionRecord>, StoreError> {
    let now = now.naive_utc();
    let taken: Option<InteractionRow> = diesel::delete(
        interactions::table
            .filter(interactions::pushed_hash.eq(pushed_hash))
            .filter(interactions::pushed_until.gt(now))
            .filter(interactions::expires_at.gt(now)),
    )
    .returning(interactions::all_columns)
    .get_results(conn)?
    .pop();
    taken.map(InteractionRecord::try_from).transpose()
}

/// Records that the user logged in, with session `session_id`, for an interaction.
pub fn attach_session(
    conn: &mut DbConnection,
    interaction_hash: &[u8],
    session_id: &str,
) -> Result<(), StoreError> {
    diesel::update(interactions::table.filter(interactions::interaction_hash.eq(interaction_hash)))
        .set(interactions::session_id.eq(session_id))
        .execute(conn)?;
    Ok(())
}

/// Removes a finished interaction, so its id cannot be used again; returns
/// whether it was still there (only one of two concurrent finishes gets `true`).
pub fn finish_interaction(conn: &mut DbConnection, interaction_hash: &[u8]) -> Result<bool, StoreError> {
    let deleted =
        diesel::delete(interactions::table.filter(interactions::interaction_hash.eq(interaction_hash)))
            .execute(conn)?;
    Ok(deleted == 1)
}

/// The scope `user_id` consented to for `client_id`, space-separated.
pub fn consented_scope(
    conn: &mut DbConnection,
    user_id: &str,
    client_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(consents::table
        .filter(consents::user_id.eq(user_id))
        .filter(consents::client_id.eq(client_id))
        .select(consents::scope)
        .first(conn)
        .optional()?)
}

/// Remembers that `user_id` consented to `scope` for `client_id`, replacing
/// what was remembered before.
pub fn remember_consent(
    conn: &mut DbConnection,
    user_id: &str,
    client_id: &str,
    scope: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        diesel::delete(
            consents::table.filter(consents::user_id.eq(user_id)).filter(consents::client_id.eq(client_id)),
        )
        .execute(conn)?;
        diesel::insert_into(consents::table)
            .values((
                consents::user_id.eq(user_id),
                consents::client_id.eq(client_id),
                consents::scope.eq(scope),
                consents::granted_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
        Ok(())
    })
}
