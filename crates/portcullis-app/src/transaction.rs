//! How every operation runs: the actor's permission is checked, the change
//! and the audit entry of each event it emits are written in one
//! transaction, this instance's mirrors apply it, and the events are
//! published. A refused attempt is audited on its own.

use crate::audit::{self, Record};
use crate::{Actor, App, AppError, Event, Permission};
use chrono::{DateTime, Utc};
use portcullis_store::DbConnection;
use std::net::IpAddr;

/// The transaction an operation works in.
pub(crate) struct Tx<'c> {
    /// Its connection, inside the transaction.
    pub conn: &'c mut DbConnection,
    /// The time of the change, by the application's clock.
    pub now: DateTime<Utc>,
    events: Vec<Event>,
    source: Option<IpAddr>,
}

impl Tx<'_> {
    /// Audits this change as coming from `source` rather than from the
    /// actor's own address (a system job acting on a request).
    pub fn from(&mut self, source: Option<IpAddr>) {
        self.source = source;
    }

    /// Records `event`: audited in this transaction, published after it commits.
    pub fn emit(&mut self, event: Event) {
        self.events.push(event);
    }
}

/// What an operation attempts: the permission it needs, and the action and
/// target its refusal is audited under.
pub(crate) struct Attempt<'a> {
    pub permission: Permission,
    pub action: &'static str,
    pub target: &'a str,
}

impl App {
    /// Runs the change `work` for `actor` as `attempt` says.
    pub(crate) fn change<T>(
        &self,
        actor: &Actor,
        attempt: Attempt<'_>,
        work: impl FnOnce(&mut Tx<'_>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let done = actor.require(attempt.permission).and_then(|()| self.commit(actor, work));
        if let Err(error) = &done {
            if error.is_refusal() {
                self.audit_refusal(actor, &attempt, error);
            }
        }
        done
    }

    /// Checks `actor`'s permission for `attempt` before work done outside
    /// the transaction (hashing, key generation), auditing a refusal.
    pub(crate) fn permit(&self, actor: &Actor, attempt: &Attempt<'_>) -> Result<(), AppError> {
        actor.require(attempt.permission).inspect_err(|error| self.audit_refusal(actor, attempt, error))
    }

    /// Runs the read `work` for `actor`, who needs `permission`.
    pub(crate) fn read<T>(
        &self,
        actor: &Actor,
        permission: Permission,
        work: impl FnOnce(&mut DbConnection) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        actor.require(permission)?;
        work(&mut *self.db.get()?)
    }

    /// Runs the change `work` for `actor` without a permission check: for
    /// protocol operations, whose authority is the authenticated party.
    pub(crate) fn commit<T>(
        &self,
        actor: &Actor,
        work: impl FnOnce(&mut Tx<'_>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let mut conn = self.db.get()?;
        let now = self.clock.now();
        let (value, events) = conn.atomically(|conn| {
            portcullis_store::audit::lock_head(conn)?;
            let mut tx = Tx { conn, now, events: Vec::new(), source: actor.address() };
            let value = work(&mut tx)?;
            let Tx { conn, events, source, .. } = tx;
            for event in &events {
                audit::append(conn, &Record::of(actor, event).from(source), &self.sealing)?;
            }
            Ok::<_, AppError>((value, events))
        })?;
        for mirror in &self.mirrors {
            mirror.apply(&mut conn, &events);
        }
        self.bus.publish(actor, now, &events);
        Ok(value)
    }

    /// Audits that `actor` was refused `attempt` for `error`.
    pub(crate) fn audit_refusal(&self, actor: &Actor, attempt: &Attempt<'_>, error: &AppError) {
        let record = Record::refused(actor, attempt.action, attempt.target, error);
        let written = self.db.get().and_then(|mut conn| audit::append(&mut conn, &record, &self.sealing));
        if let Err(e) = written {
            tracing::error!(error = %e, action = attempt.action, "a refusal could not be audited");
        }
    }
}
