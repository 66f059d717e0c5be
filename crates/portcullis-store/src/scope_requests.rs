//! Repository of scope requests: a team member asked for scopes its team's
//! policy reserves for an admin's approval. Each is decided once, by one
//! conditional update: approved or rejected by an admin, or withdrawn.

use crate::schema::scope_requests;
use crate::{DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

/// Where a scope request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestState {
    /// Waiting for an admin.
    Pending,
    /// An admin approved it: the client holds the scopes.
    Approved,
    /// An admin rejected it.
    Rejected,
    /// Its requester withdrew it, or a later request replaced it.
    Withdrawn,
}

impl RequestState {
    /// Its stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Withdrawn => "withdrawn",
        }
    }

    fn parse(id: &str, name: &str) -> Result<Self, StoreError> {
        [Self::Pending, Self::Approved, Self::Rejected, Self::Withdrawn]
            .into_iter()
            .find(|state| state.as_str() == name)
            .ok_or_else(|| StoreError::Corrupt {
                table: "scope_requests",
                reason: format!("{id}: unknown state `{name}`"),
            })
    }
}

/// A scope request as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeRequestRecord {
    /// Its id.
    pub request_id: String,
    /// The client that would hold the scopes.
    pub client_id: String,
    /// The client's team.
    pub team_id: String,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// Who asked (the audit log's name of the actor).
    pub requested_by: String,
    /// When.
    pub requested_at: DateTime<Utc>,
    /// Where it stands.
    pub state: RequestState,
    /// Who decided it, once decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// Why, as the decider said.
    pub reason: Option<String>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = scope_requests)]
struct Row {
    request_id: String,
    client_id: String,
    team_id: String,
    scopes: String,
    requested_by: String,
    requested_at: NaiveDateTime,
    state: String,
    decided_by: Option<String>,
    decided_at: Option<NaiveDateTime>,
    reason: Option<String>,
}

impl TryFrom<Row> for ScopeRequestRecord {
    type Error = StoreError;

    fn try_from(row: Row) -> Result<Self, StoreError> {
        Ok(Self {
            state: RequestState::parse(&row.request_id, &row.state)?,
            request_id: row.request_id,
            client_id: row.client_id,
            team_id: row.team_id,
            scopes: row.scopes.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            requested_by: row.requested_by,
            requested_at: row.requested_at.and_utc(),
            decided_by: row.decided_by,
            decided_at: row.decided_at.map(|t| t.and_utc()),
            reason: row.reason,
        })
    }
}

fn records(rows: Vec<Row>) -> Result<Vec<ScopeRequestRecord>, StoreError> {
    rows.into_iter().map(ScopeRequestRecord::try_from).collect()
}

/// Files `request` (pending).
pub fn file(conn: &mut DbConnection, request: &ScopeRequestRecord) -> Result<(), StoreError> {
    diesel::insert_into(scope_requests::table)
        .values(Row {
            request_id: request.request_id.clone(),
            client_id: request.client_id.clone(),
            team_id: request.team_id.clone(),
            scopes: request.scopes.join(" "),
            requested_by: request.requested_by.clone(),
            requested_at: request.requested_at.naive_utc(),
            state: RequestState::Pending.as_str().to_owned(),
            decided_by: None,
            decided_at: None,
            reason: None,
        })
        .execute(conn)?;
    Ok(())
}

/// The request `request_id`, if there is one.
pub fn find(conn: &mut DbConnection, request_id: &str) -> Result<Option<ScopeRequestRecord>, StoreError> {
    let row: Option<Row> =
        scope_requests::table.find(request_id).select(Row::as_select()).first(conn).optional()?;
    row.map(ScopeRequestRecord::try_from).transpose()
}

/// The pending request of client `client_id`, if it has one.
pub fn pending_of(
    conn: &mut DbConnection,
    client_id: &str,
) -> Result<Option<ScopeRequestRecord>, StoreError> {
    let row: Option<Row> = scope_requests::table
        .filter(scope_requests::client_id.eq(client_id))
        .filter(scope_requests::state.eq(RequestState::Pending.as_str()))
        .select(Row::as_select())
        .first(conn)
        .optional()?;
    row.map(ScopeRequestRecord::try_from).transpose()
}

/// The requests of client `client_id`, newest first, at most `limit`.
pub fn of_client(
    conn: &mut DbConnection,
    client_id: &str,
    limit: i64,
) -> Result<Vec<ScopeRequestRecord>, StoreError> {
    records(
        scope_requests::table
            .filter(scope_requests::client_id.eq(client_id))
            .order((scope_requests::requested_at.desc(), scope_requests::request_id.desc()))
            .limit(limit)
            .select(Row::as_select())
            .load(conn)?,
    )
}

/// Every pending request, oldest first (the order an admin works through them).
pub fn pending(conn: &mut DbConnection) -> Result<Vec<ScopeRequestRecord>, StoreError> {
    records(
        scope_requests::table
            .filter(scope_requests::state.eq(RequestState::Pending.as_str()))
            .order((scope_requests::requested_at.asc(), scope_requests::request_id.asc()))
            .select(Row::as_select())
            .load(conn)?,
    )
}

/// Decides the pending request `request_id` as `state`, by `by` at `at`,
/// for `reason`: `false` when it is not pending (any more).
pub fn decide(
    conn: &mut DbConnection,
    request_id: &str,
    state: RequestState,
    (by, at, reason): (&str, DateTime<Utc>, Option<&str>),
) -> Result<bool, StoreError> {
    let target = scope_requests::table
        .filter(scope_requests::request_id.eq(request_id))
        .filter(scope_requests::state.eq(RequestState::Pending.as_str()));
    let updated = diesel::update(target)
        .set((
            scope_requests::state.eq(state.as_str()),
            scope_requests::decided_by.eq(by),
            scope_requests::decided_at.eq(at.naive_utc()),
            scope_requests::reason.eq(reason),
        ))
        .execute(conn)?;
    Ok(updated == 1)
}
