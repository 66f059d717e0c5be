//! Recording to the audit log (its chain is checked by
//! [`portcullis_store::audit::verify`]). What is recorded is
//! who did what to what, from where, and how it ended; never a secret.

use portcullis_store::audit::{self, Entry, NewEntry};
use portcullis_store::{Database, DbConnection, StoreError};
use std::net::IpAddr;

/// How an audited action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It was done.
    Success,
    /// It was refused (bad input, no permission, a conflict).
    Refused,
    /// It failed: a security event (a wrong credential, a replay) or an error.
    Failure,
}

impl Outcome {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Refused => "refused",
            Self::Failure => "failure",
        }
    }
}

/// One thing to record.
#[derive(Clone, Debug)]
pub struct Event {
    /// Who: a client id, or empty when unknown.
    pub actor: String,
    /// What, e.g. `client.authentication`.
    pub action: String,
    /// On what.
    pub target: String,
    /// From where.
    pub source: Option<IpAddr>,
    /// How it ended.
    pub outcome: Outcome,
    /// Anything else.
    pub details: serde_json::Value,
}

/// Appends `event` on this connection.
pub fn append(conn: &mut DbConnection, event: &Event) -> Result<Entry, StoreError> {
    let source = event.source.map(|ip| ip.to_string()).unwrap_or_default();
    let details = event.details.to_string();
    audit::append(
        conn,
        &NewEntry {
            actor: &event.actor,
            action: &event.action,
            target: &event.target,
            source: &source,
            outcome: event.outcome.as_str(),
            details: &details,
        },
    )
}

/// Appends `event` off the request threads. A failure to record is logged
/// (without the event's details) and does not fail the request.
pub async fn record(db: &Database, event: Event) {
    let action = event.action.clone();
    if let Err(e) = crate::storage::run(db, move |conn| append(conn, &event)).await {
        tracing::error!(error = %e, action = %action, "an audit entry could not be written");
    }
}
