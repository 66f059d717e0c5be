//! Scopes a team's policy reserves for an admin's approval. A member's
//! change that adds one is written without it, and the scopes wait in a
//! scope request (one pending per client; a later one replaces it). An
//! admin approves it, which adds the scopes as a new version, or rejects
//! it; its team's members may withdraw it. Every step is audited.

use super::reach::ClientReach;
use super::{find, view_of, ClientView};
use crate::transaction::{Attempt, Tx};
use crate::{time, Actor, App, AppError, Event, Permission};
use portcullis_core::client_fields::is_short_text;
use portcullis_core::team::TeamPermission;
use portcullis_store::scope_requests::{self as stored, RequestState, ScopeRequestRecord};
use portcullis_store::DbConnection;
use serde::Serialize;

/// How many of a client's requests its history shows.
const HISTORY: i64 = 20;

/// A scope request as views show it.
#[derive(Clone, Debug, Serialize)]
pub struct ScopeRequestView {
    /// Its id.
    pub request_id: String,
    /// The client that would hold the scopes.
    pub client_id: String,
    /// The client's team.
    pub team_id: String,
    /// The scopes asked for, space-separated.
    pub scope: String,
    /// Who asked.
    pub requested_by: String,
    /// When.
    pub requested_at: String,
    /// `pending`, `approved`, `rejected` or `withdrawn`.
    pub state: &'static str,
    /// Who decided it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// When.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    /// Why, as the admin said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

fn request_view(record: ScopeRequestRecord) -> ScopeRequestView {
    ScopeRequestView {
        request_id: record.request_id,
        client_id: record.client_id,
        team_id: record.team_id,
        scope: record.scopes.join(" "),
        requested_by: record.requested_by,
        requested_at: time(record.requested_at),
        state: record.state.as_str(),
        decided_by: record.decided_by,
        decided_at: record.decided_at.map(time),
        reason: record.reason,
    }
}

/// The pending request of `client_id`, as views show it.
pub(crate) fn pending_view(
    conn: &mut DbConnection,
    client_id: &str,
) -> Result<Option<ScopeRequestView>, AppError> {
    Ok(stored::pending_of(conn, client_id)?.map(request_view))
}

/// The scopes a request of `asked` for `client_id` waits for: with those
/// of the client's pending request, which it replaces (nothing asked,
/// nothing waits anew).
pub(crate) fn waiting_with_pending(
    conn: &mut portcullis_store::DbConnection,
    client_id: &str,
    asked: Vec<String>,
) -> Result<Vec<String>, AppError> {
    if asked.is_empty() {
        return Ok(asked);
    }
    let mut scopes = stored::pending_of(conn, client_id)?.map(|pending| pending.scopes).unwrap_or_default();
    scopes.extend(asked.into_iter().filter(|scope| !scopes.contains(scope)).collect::<Vec<_>>());
    Ok(scopes)
}

/// Files a request of `scopes` for `client_id` of team `team_id` by
/// `actor`, in `tx`, in place of the client's pending one, whose scopes
/// it keeps waiting.
pub(crate) fn file(
    tx: &mut Tx<'_>,
    actor: &Actor,
    (client_id, team_id): (&str, &str),
    scopes: Vec<String>,
) -> Result<(), AppError> {
    let scopes = waiting_with_pending(tx.conn, client_id, scopes)?;
    if let Some(pending) = stored::pending_of(tx.conn, client_id)? {
        withdraw(tx, &actor.name(), &pending)?;
    }
    let record = ScopeRequestRecord {
        request_id: format!("sr_{}", uuid::Uuid::new_v4().simple()),
        client_id: client_id.to_owned(),
        team_id: team_id.to_owned(),
        scopes,
        requested_by: actor.name(),
        requested_at: tx.now,
        state: RequestState::Pending,
        decided_by: None,
        decided_at: None,
        reason: None,
    };
    stored::file(tx.conn, &record)?;
    tx.emit(Event::ClientScopeRequested {
        client_id: client_id.to_owned(),
        team_id: team_id.to_owned(),
        request_id: record.request_id,
        scope: record.scopes.join(" "),
    });
    Ok(())
}

/// Withdraws the pending request of `client_id`, if it has one, as the
/// change it goes with (its deletion).
pub(crate) fn withdraw_pending(tx: &mut Tx<'_>, client_id: &str) -> Result<(), AppError> {
    match stored::pending_of(tx.conn, client_id)? {
        Some(pending) => withdraw(tx, "(client deleted)", &pending),
        None => Ok(()),
    }
}

fn withdraw(tx: &mut Tx<'_>, by: &str, pending: &ScopeRequestRecord) -> Result<(), AppError> {
    if stored::decide(tx.conn, &pending.request_id, RequestState::Withdrawn, (by, tx.now, None))? {
        tx.emit(Event::ClientScopeWithdrawn {
            client_id: pending.client_id.clone(),
            request_id: pending.request_id.clone(),
        });
    }
    Ok(())
}

fn no_request(request_id: &str) -> AppError {
    AppError::NotFound(format!("there is no pending scope request {request_id}"))
}

impl App {
    /// Every pending scope request, oldest first (admins only).
    pub fn pending_scope_requests(&self, actor: &Actor) -> Result<Vec<ScopeRequestView>, AppError> {
        self.read(actor, Permission::Clients, |conn| {
            Ok(stored::pending(conn)?.into_iter().map(request_view).collect())
        })
    }

    /// The latest scope requests of client `client_id`, newest first.
    pub fn client_scope_requests(
        &self,
        actor: &Actor,
        client_id: &str,
    ) -> Result<Vec<ScopeRequestView>, AppError> {
        self.client_read(actor, client_id, |conn| {
            Ok(stored::of_client(conn, client_id, HISTORY)?.into_iter().map(request_view).collect())
        })
    }

    /// Approves (adding its scopes to the client as a new version) or
    /// rejects the pending scope request `request_id`, for `reason`
    /// (admins only).
    pub fn decide_scope_request(
        &self,
        actor: &Actor,
        request_id: &str,
        approve: bool,
        reason: Option<&str>,
    ) -> Result<ClientView, AppError> {
        let action = if approve { "client.scope_approved" } else { "client.scope_rejected" };
        let attempt = Attempt { permission: Permission::Clients, action, target: request_id };
        self.change(actor, attempt, |tx| {
            let reason = reason.map(str::trim).filter(|reason| !reason.is_empty());
            if reason.is_some_and(|reason| !is_short_text(reason, 500)) {
                return Err(AppError::Invalid(
                    "reason: at most 500 characters without control characters".into(),
                ));
            }
            let request = stored::find(tx.conn, request_id)?
                .filter(|request| request.state == RequestState::Pending)
                .ok_or_else(|| no_request(request_id))?;
            let state = if approve { RequestState::Approved } else { RequestState::Rejected };
            if !stored::decide(tx.conn, request_id, state, (&actor.name(), tx.now, reason))? {
                return Err(no_request(request_id));
            }
            let client_id = request.client_id.as_str();
            let scope = request.scopes.join(" ");
            if approve {
                let current = view_of(tx.conn, client_id)?;
                let mut metadata = current.metadata.clone();
                metadata.scope = metadata.scope.with(&request.scopes);
                super::check(&metadata)?;
                self.scopes.check(&metadata)?;
                let summary = format!("added scope {scope}, approving request {request_id}");
                let version = self.write_version(tx, actor, &current, &metadata, &summary)?;
                tx.emit(Event::ClientUpdated { client_id: client_id.to_owned(), version, summary });
                tx.emit(Event::ClientScopeApproved {
                    client_id: client_id.to_owned(),
                    request_id: request_id.to_owned(),
                    scope,
                });
            } else {
                tx.emit(Event::ClientScopeRejected {
                    client_id: client_id.to_owned(),
                    request_id: request_id.to_owned(),
                    reason: reason.map(str::to_owned),
                });
            }
            view_of(tx.conn, client_id)
        })
    }

    /// Withdraws the pending scope request of client `client_id`.
    pub fn withdraw_scope_request(&self, actor: &Actor, client_id: &str) -> Result<ClientView, AppError> {
        let attempt =
            Attempt { permission: Permission::Clients, action: "client.scope_withdrawn", target: client_id };
        self.client_change(actor, attempt, TeamPermission::Apps, |tx, _: ClientReach| {
            find(tx.conn, client_id)?;
            let pending = stored::pending_of(tx.conn, client_id)?.ok_or_else(|| {
                AppError::NotFound(format!("client {client_id} has no pending scope request"))
            })?;
            withdraw(tx, &actor.name(), &pending)?;
            view_of(tx.conn, client_id)
        })
    }
}
