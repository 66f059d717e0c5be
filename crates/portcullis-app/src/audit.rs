//! The audit log: every event becomes an entry (its name the action, its
//! fields the details) in the transaction of the change it records; its
//! chain is checked by [`portcullis_store::audit::verify`]. What is
//! recorded is who did what to what, from where, and how it ended; never a
//! secret. Reading and verifying the log are operations too.
//!
//! The free-form details and the source address are [`Sealing`]: sealed
//! with AES-256-GCM under the key-encryption key before they are written,
//! opened when read. The columns searched (time, actor, action, target,
//! outcome) stay clear. The chain hashes what is stored, so verifying it
//! needs no key and still detects any change, sealed parts included.

use crate::event::Outcome;
use crate::{Actor, App, AppError, Event, Permission};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use portcullis_jose::KeyEncryptionKey;
use portcullis_store::audit::{self, hashed_time, Entry, Filter, NewEntry, Verified};
use portcullis_store::{server_settings, DbConnection, StoreError};
use serde::Serialize;
use serde_json::Value;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

/// How sealed values begin: `sealed:v1:{kek id}:{base64}`.
const SEALED: &str = "sealed:v1:";
/// The column a sealed details value was written for.
const DETAILS: &str = "audit.details";
/// The column a sealed source address was written for.
const SOURCE: &str = "audit.source";

/// What a sealed part of an entry is bound to (AES-GCM associated data):
/// its column and the entry's clear columns, so that it opens in no other
/// column or entry.
fn bound(column: &str, actor: &str, action: &str, target: &str, outcome: &str) -> Vec<u8> {
    [column, actor, action, target, outcome].join("\0").into_bytes()
}

/// How the details and source of entries are kept: sealed under the
/// key-encryption key once one is [set](Sealing::set) (the server and the
/// CLI always set it), in clear before (tests and tools without one).
/// Cloning shares it.
#[derive(Clone, Default)]
pub struct Sealing(Arc<OnceLock<Arc<KeyEncryptionKey>>>);

impl Sealing {
    /// Seals from now on under `kek` (the first key set stays).
    pub fn set(&self, kek: Arc<KeyEncryptionKey>) {
        let _ = self.0.set(kek);
    }

    /// The key-encryption key, if one is set.
    pub fn kek(&self) -> Option<&Arc<KeyEncryptionKey>> {
        self.0.get()
    }

    /// A short keyed digest of an identifier that names nothing known (see
    /// [`secrets::identifier_digest`](crate::secrets::identifier_digest)),
    /// keyed from the key-encryption key: every instance gives the same
    /// digest for the same text, so repeats can be told apart across them.
    pub fn identifier_digest(&self, presented: &str) -> String {
        match self.kek() {
            Some(kek) => crate::secrets::keyed_digest(&kek.derive("identifier digests"), presented),
            None => crate::secrets::identifier_digest(presented),
        }
    }

    /// `text` as stored, bound to `context`: sealed when a key is set;
    /// empty stays empty.
    pub(crate) fn seal(&self, text: &str, context: &[u8]) -> String {
        match self.kek() {
            Some(kek) if !text.is_empty() => {
                format!("{SEALED}{}:{}", kek.id(), STANDARD_NO_PAD.encode(kek.seal(text.as_bytes(), context)))
            }
            _ => text.to_owned(),
        }
    }

    /// `text` sealed, bound to `context`; refused without a key, for what
    /// must never be stored in clear (second-factor secrets).
    pub(crate) fn seal_required(&self, text: &str, context: &[u8]) -> Result<String, AppError> {
        match self.kek() {
            Some(_) => Ok(self.seal(text, context)),
            None => Err(AppError::Unavailable(anyhow::anyhow!(
                "no key-encryption key is configured to seal a secret"
            ))),
        }
    }

    /// A value [sealed](Sealing::seal_required) under the key, opened; a
    /// value in clear is refused (this server did not write it).
    pub(crate) fn open_required(&self, stored: &str, context: &[u8]) -> Result<String, &'static str> {
        if !stored.starts_with(SEALED) {
            return Err("not sealed");
        }
        self.open(stored, context)
    }

    /// A stored value as written: opened when sealed, as is when not (older
    /// entries were written in clear).
    pub(crate) fn open(&self, stored: &str, context: &[u8]) -> Result<String, &'static str> {
        let Some(sealed) = stored.strip_prefix(SEALED) else { return Ok(stored.to_owned()) };
        let kek = self.kek().ok_or("sealed; the key-encryption key is not configured")?;
        let (kek_id, encoded) = sealed.split_once(':').ok_or("sealed, but malformed")?;
        if kek_id != kek.id() {
            return Err("sealed under another key-encryption key");
        }
        let bytes = STANDARD_NO_PAD.decode(encoded).map_err(|_| "sealed, but malformed")?;
        let opened = kek.open(&bytes, context).map_err(|_| "sealed, but does not open: altered")?;
        String::from_utf8(opened.to_vec()).map_err(|_| "sealed, but not text")
    }

    /// `entry` as views show it, its details and source opened.
    pub fn view(&self, entry: Entry) -> EntryView {
        let bound = |column| bound(column, &entry.actor, &entry.action, &entry.target, &entry.outcome);
        let details = match self.open(&entry.details, &bound(DETAILS)) {
            Ok(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
            Err(why) => serde_json::json!({ "sealed": why }),
        };
        let source = self.open(&entry.source, &bound(SOURCE)).unwrap_or_else(|why| format!("({why})"));
        EntryView { details, source, ..EntryView::from(entry) }
    }
}

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

/// Adds how the actor acted (`from`) to an event's fields (`into`): the
/// event's own win, should a name be both.
fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(into), Value::Object(from)) = (into, from) {
        for (name, value) in from {
            into.entry(name).or_insert(value);
        }
    }
}

/// Appends `record` on this connection (in its transaction, if one is
/// open), its details and source sealed as `sealing` says.
pub fn append(conn: &mut DbConnection, record: &Record, sealing: &Sealing) -> Result<Entry, StoreError> {
    let bound =
        |column| bound(column, &record.actor, &record.action, &record.target, record.outcome.as_str());
    let source = sealing.seal(&record.source.map(|ip| ip.to_string()).unwrap_or_default(), &bound(SOURCE));
    let details = sealing.seal(&record.details.to_string(), &bound(DETAILS));
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

/// The entry as stored: sealed parts as they are (see [`Sealing::view`]).
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
    /// On this team or its clients only.
    pub team: Option<String>,
    /// With this outcome only (`success`, `refused`, `failure`).
    pub outcome: Option<String>,
    /// Past this position: after it, or before it when `newest_first`
    /// (0: from the newest).
    pub after: i64,
    /// Newest first.
    pub newest_first: bool,
    /// At most this many.
    pub limit: i64,
}

/// A page of entries.
#[derive(Clone, Debug, Serialize)]
pub struct Page {
    /// The entries, oldest first (or newest first, as asked).
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
                team: query.team,
                outcome: query.outcome,
                newest_first: query.newest_first,
                through: None,
            };
            let mut entries = audit::entries(conn, &filter, query.after, query.limit + 1)?;
            let next_cursor = (entries.len() as i64 > query.limit).then(|| {
                entries.truncate(query.limit as usize);
                entries.last().map(|e| e.seq)
            });
            Ok(Page {
                entries: entries.into_iter().map(|entry| self.sealing.view(entry)).collect(),
                next_cursor: next_cursor.flatten(),
            })
        })
    }

    /// The newest entries about team `team_id` and its clients (or only its
    /// client `client_id`) that `query` asks for: what its members may read
    /// of the log. Only what was done and what failed (a refusal's reason may
    /// name what the team may not see), each as a [`TeamEventView`].
    pub fn team_events(
        &self,
        actor: &Actor,
        team_id: &str,
        query: &TeamEventsQuery<'_>,
    ) -> Result<Vec<TeamEventView>, AppError> {
        let conn = &mut *self.db.get()?;
        let (team, _) =
            crate::teams::reach(conn, actor, team_id, Some(portcullis_core::team::TeamPermission::Read))?;
        let (target, team) = match query.client_id {
            Some(client_id) => {
                let ours = portcullis_store::clients::find(conn, client_id)?
                    .is_some_and(|client| client.team_id.as_deref() == Some(team.team_id.as_str()));
                if !ours {
                    return Err(AppError::NotFound(format!("there is no client {client_id}")));
                }
                (Some(client_id.to_owned()), None)
            }
            None => (None, Some(team.team_id)),
        };
        let filter = Filter {
            from: query.from,
            action: query.action.map(str::to_owned),
            target,
            team,
            newest_first: true,
            ..Filter::default()
        };
        let limit = query.limit.clamp(1, 200);
        let entries = audit::entries(conn, &filter, 0, limit * 2)?;
        Ok(entries
            .into_iter()
            .map(|entry| self.sealing.view(entry))
            .filter(team_reads)
            .take(limit as usize)
            .map(TeamEventView::of)
            .collect())
    }

    /// The last verification of the chain: whether it was intact, when, and
    /// what was found; `None` before the first.
    pub fn last_audit_verification(
        &self,
        actor: &Actor,
    ) -> Result<Option<(bool, DateTime<Utc>, String)>, AppError> {
        self.read(actor, Permission::Audit, |conn| {
            Ok(last_verification(conn)?.map(|v| (v.ok, v.at(), v.detail)))
        })
    }

    /// Checks the whole chain (without the statement timeout: it may take
    /// long), and keeps the outcome for compliance reports unless the
    /// database could not be read.
    pub fn verify_audit_log(&self, actor: &Actor) -> Result<Verified, anyhow::Error> {
        actor.require(Permission::Audit)?;
        let at = self.now();
        let outcome = self.database().maintenance(|conn| audit::verify(conn).map_err(anyhow::Error::from));
        // Kept when the chain was read through, intact or not; best effort:
        // a role that may only read still gets its answer.
        let broken = outcome.as_ref().err().and_then(|e| e.downcast_ref::<audit::VerifyError>());
        if outcome.is_ok() || matches!(broken, Some(audit::VerifyError::Broken(_))) {
            let kept = self
                .db
                .get()
                .map_err(AppError::from)
                .and_then(|mut conn| record_verification(&mut conn, &outcome, at));
            if let Err(e) = kept {
                tracing::warn!(error = %e, "the audit verification could not be kept for compliance reports");
            }
        }
        outcome
    }
}

/// Where the last verification is kept.
const LAST_VERIFIED: &str = "audit.last_verification";

/// The last verification of the audit chain, as kept.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub(crate) struct Verification {
    /// Whether the chain verified intact.
    pub ok: bool,
    /// When, in seconds since the epoch.
    pub at: i64,
    /// What was found.
    pub detail: String,
    /// How many entries it read intact (0 where it read none, or failed).
    #[serde(default)]
    pub entries: u64,
    /// The position it verified up to: the chain's head then.
    #[serde(default)]
    pub last: i64,
}

impl Verification {
    /// When it was made.
    pub fn at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.at, 0).unwrap_or_default()
    }
}

/// The last verification of the chain, if one was kept.
pub(crate) fn last_verification(conn: &mut DbConnection) -> Result<Option<Verification>, AppError> {
    Ok(server_settings::get(conn, LAST_VERIFIED)?.and_then(|text| serde_json::from_str(&text).ok()))
}

/// Keeps the outcome of a verification of the audit chain made at `at`,
/// for compliance reports.
fn record_verification(
    conn: &mut DbConnection,
    outcome: &Result<Verified, anyhow::Error>,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    let verification = match outcome {
        Ok(v) => Verification {
            ok: true,
            at: at.timestamp(),
            detail: format!("{} entries intact, up to #{}", v.entries, v.last),
            entries: v.entries,
            last: v.last,
        },
        Err(e) => Verification { ok: false, at: at.timestamp(), detail: e.to_string(), entries: 0, last: 0 },
    };
    let text = serde_json::to_string(&verification).map_err(|e| AppError::Corrupt(e.to_string()))?;
    Ok(server_settings::put(conn, LAST_VERIFIED, &text, at)?)
}

/// What a team's events are read for: of one client, one action, since when, how many.
#[derive(Clone, Copy, Debug, Default)]
pub struct TeamEventsQuery<'a> {
    /// Only this client's (one of the team's).
    pub client_id: Option<&'a str>,
    /// Only this action.
    pub action: Option<&'a str>,
    /// Only from this time on.
    pub from: Option<DateTime<Utc>>,
    /// At most this many (1 to 200).
    pub limit: i64,
}

/// The actions a team's members read of its entries.
/// (Personal access tokens are their makers' and the owners' to see, on
/// the tokens' page: not every viewer's, nor every endpoint's.)
const TEAM_ACTIONS: [&str; 5] =
    ["client.", "team.", "auth.client_failed", "initial_access_token.", "webhook."];

/// Whether a team's members read `entry` (one about the team): what was
/// done and what failed, never a refusal, whose reason may name what the
/// team may not see.
pub(crate) fn team_reads(entry: &EntryView) -> bool {
    entry.outcome != "refused" && team_reads_action(&entry.action)
}

/// Whether a team's members read events named `action` (or a pattern
/// beginning so) about the team.
pub fn team_reads_action(action: &str) -> bool {
    TEAM_ACTIONS.iter().any(|prefix| action.starts_with(prefix))
}

/// The details a team's members read: what the event did, never where
/// from, which session, or an admin's reason.
const TEAM_DETAILS: [&str; 25] = [
    "client_name",
    "version",
    "summary",
    "restored",
    "secret_id",
    "expires_at",
    "scope",
    "request_id",
    "team_id",
    "user_id",
    "role",
    "name",
    "count",
    "reasons",
    "first_at",
    "last_at",
    "token_id",
    "webhook_id",
    "url",
    "events",
    "enabled",
    "failing_since",
    // A first sighting of the team's client: where its own credentials were used from.
    "network",
    "country",
    "known_countries",
];

/// An entry as a team's members read it.
#[derive(Clone, Debug, Serialize)]
pub struct TeamEventView {
    /// Its position in the chain.
    pub seq: i64,
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// The fields a member may read.
    pub details: Value,
}

impl TeamEventView {
    /// `entry` as a team's members read it.
    pub(crate) fn of(entry: EntryView) -> Self {
        let details = match entry.details {
            Value::Object(fields) => Value::Object(
                fields.into_iter().filter(|(name, _)| TEAM_DETAILS.contains(&name.as_str())).collect(),
            ),
            _ => Value::Null,
        };
        Self {
            seq: entry.seq,
            at: entry.at,
            actor: entry.actor,
            action: entry.action,
            target: entry.target,
            outcome: entry.outcome,
            details,
        }
    }
}
