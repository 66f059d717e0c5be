//! The audit log: every event becomes an entry (its name the action, its
//! fields the details) in the transaction of the change it records; its
//! chain is checked by [`portcullis_store::audit::verify`]. What is
//! recorded is who did what to what, from where, and how it ended; never a
//! secret. Reading and verifying the log are operations too.

use crate::event::Outcome;
use crate::{Actor, App, AppError, Event, Permission};
use chrono::{DateTime, Utc};
use portcullis_store::audit::{self, hashed_time, Entry, Filter, NewEntry, Verified};
use portcullis_store::{DbConnection, StoreError};
use serde::Serialize;
use serde_json::Value;
use std::net::IpAddr;

/// One entry to append.
#[derive(Clone, Debug)]
pub struct Record {
    /// Who: as [`Actor::name`].
    pub actor: String,
    /// What: an event name.
    pub action: String,
    /// On what.
    pub target: String,
    /// From where.
    pub source: Option<IpAddr>,
    /// How it ended.
    pub outcome: Outcome,
    /// The event's fields, and how the actor acted.
    pub details: Value,
}

impl Record {
    /// The entry recording `event` done by `actor`.
    pub fn of(actor: &Actor, event: &Event) -> Self {
        let mut details = event.fields();
        merge(&mut details, actor.details());
        Self {
            actor: actor.name(),
            action: event.name().to_owned(),
            target: event.target().to_owned(),
            source: actor.address(),
            outcome: event.outcome(),
            details,
        }
    }

    /// The entry recording that `actor` attempted `action` on `target` and
    /// was refused.
    pub fn refused(actor: &Actor, action: &str, target: &str, error: &AppError) -> Self {
        let mut details = serde_json::json!({ "error": error.to_string() });
        merge(&mut details, actor.details());
        Self {
            actor: actor.name(),
            action: action.to_owned(),
            target: target.to_owned(),
            source: actor.address(),
            outcome: Outcome::Refused,
            details,
        }
    }

    /// This record, from `source`.
    pub fn from(self, source: Option<IpAddr>) -> Self {
        Self { source, ..self }
    }
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        into.extend(from);
    }
}

/// Appends `record` on this connection (in its transaction, if one is open).
pub fn append(conn: &mut DbConnection, record: &Record) -> Result<Entry, StoreError> {
    let source = record.source.map(|ip| ip.to_string()).unwrap_or_default();
    let details = record.details.to_string();
    audit::append(
        conn,
        &NewEntry {
            actor: &record.actor,
            action: &record.action,
            target: &record.target,
            source: &source,
            outcome: record.outcome.as_str(),
            details: &details,
        },
    )
}

/// An entry as views show it; the hashes in hex.
#[derive(Clone, Debug, Serialize)]
pub struct EntryView {
    /// Its position in the chain.
    pub seq: i64,
    /// When, RFC 3339 with microseconds (as hashed).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What: an event name (older entries name an admin route).
    pub action: String,
    /// On what.
    pub target: String,
    /// From where.
    pub source: String,
    /// `success`, `refused` or `failure`.
    pub outcome: String,
    /// The event's fields.
    pub details: Value,
    /// The hash of the entry before.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl From<Entry> for EntryView {
    fn from(entry: Entry) -> Self {
        Self {
            seq: entry.seq,
            at: hashed_time(entry.at),
            details: serde_json::from_str(&entry.details).unwrap_or(Value::String(entry.details)),
            actor: entry.actor,
            action: entry.action,
            target: entry.target,
            source: entry.source,
            outcome: entry.outcome,
            prev_hash: hex(&entry.prev_hash),
            hash: hex(&entry.hash),
        }
    }
}

/// Which entries to read.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// From this time on.
    pub from: Option<DateTime<Utc>>,
    /// Before this time.
    pub to: Option<DateTime<Utc>>,
    /// By this actor only.
    pub actor: Option<String>,
    /// This action only.
    pub action: Option<String>,
    /// On this target only.
    pub target: Option<String>,
    /// After this position.
    pub after: i64,
    /// At most this many.
    pub limit: i64,
}

/// A page of entries.
#[derive(Clone, Debug, Serialize)]
pub struct Page {
    /// The entries, oldest first.
    pub entries: Vec<EntryView>,
    /// Where the next page starts, if there is one.
    pub next_cursor: Option<i64>,
}

impl App {
    /// Reads a page of the audit log.
    pub fn audit_entries(&self, actor: &Actor, query: Query) -> Result<Page, AppError> {
        self.read(actor, Permission::Audit, |conn| {
            let filter = Filter {
                from: query.from,
                to: query.to,
                actor: query.actor,
                action: query.action,
                target: query.target,
            };
            let mut entries = audit::entries(conn, &filter, query.after, query.limit + 1)?;
            let next_cursor = (entries.len() as i64 > query.limit).then(|| {
                entries.truncate(query.limit as usize);
                entries.last().map(|e| e.seq)
            });
            Ok(Page {
                entries: entries.into_iter().map(EntryView::from).collect(),
                next_cursor: next_cursor.flatten(),
            })
        })
    }

    /// Checks the whole chain (without the statement timeout: it may take long).
    pub fn verify_audit_log(&self, actor: &Actor) -> Result<Verified, anyhow::Error> {
        actor.require(Permission::Audit)?;
        self.database().maintenance(|conn| audit::verify(conn).map_err(anyhow::Error::from))
    }
}
