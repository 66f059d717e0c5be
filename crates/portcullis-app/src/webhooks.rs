//! Webhooks (issue 11): endpoints that receive every audited event, or the
//! ones they name, signed as Standard Webhooks specify.
//!
//! The audit log is the source: each entry is written in the transaction of
//! its change, so no event can be lost between commit and queueing. A job
//! on every instance copies new entries into the durable outbox
//! (`webhook_deliveries`, one row per event and endpoint) and moves a
//! shared cursor in the same transaction; of two instances racing, one
//! moves it and the other rolls back. Deliveries are then leased (a
//! compare-and-swap on their due time, so one instance attempts each),
//! sent by the server's sender outside any transaction, and recorded:
//! delivered on a 2xx, else retried on [`SCHEDULE`] (over a day) until it
//! runs out. Delivery is at least once: a receiver deduplicates by the
//! `webhook-id` header, the same on every attempt.
//!
//! A team's endpoints (issue 23) are its developers' to run from the
//! portal: each receives only what the team's members read of its events
//! ([`crate::audit::TeamEventView`]), never the rest of the log.
//!
//! Signing secrets are 32 random bytes, shown once as `whsec_` + base64,
//! stored sealed under the key-encryption key (AES-256-GCM) because signing
//! needs them back.

use crate::audit::{EntryView, Sealing};
use crate::transaction::{Attempt as Change, Tx};
use crate::{Actor, App, AppError, Event, Permission};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use portcullis_core::outbound::OutboundPolicy;
use portcullis_core::team::TeamPermission;
use portcullis_store::audit::{self, Filter};
use portcullis_store::webhooks::{self, DeliveryRecord, DeliveryStatus, WebhookRecord};
use portcullis_store::DbConnection;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// The wait before each attempt: at once, then 5 s, 5 min, 30 min, 2 h, 5 h,
/// 10 h and 10 h (about 28 hours in all; the Standard Webhooks schedule).
pub const SCHEDULE: [TimeDelta; 8] = [
    TimeDelta::zero(),
    TimeDelta::seconds(5),
    TimeDelta::minutes(5),
    TimeDelta::minutes(30),
    TimeDelta::hours(2),
    TimeDelta::hours(5),
    TimeDelta::hours(10),
    TimeDelta::hours(10),
];
/// Deliveries in flight to one endpoint at a time, at most: fewer when many
/// endpoints have deliveries waiting (see [`App::lease_webhook_deliveries`]).
pub const PER_ENDPOINT: usize = 4;
/// The most endpoints the admins may register.
pub const MAX_WEBHOOKS: i64 = 100;
/// The most endpoints a team may register.
pub const MAX_TEAM_WEBHOOKS: i64 = 10;
/// How long an endpoint may fail every delivery before it is disabled,
/// unless configured otherwise (`--webhook-failure-days`).
pub const DEFAULT_FAILURE_DAYS: u32 = 5;
/// How long an endpoint has to answer one attempt.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an attempt holds its delivery: past it, another instance may
/// try again (the sender stopped before recording).
pub const LEASE: TimeDelta = TimeDelta::seconds(60);
/// How long finished deliveries stay in the log.
pub const DELIVERY_RETENTION: TimeDelta = TimeDelta::days(30);
/// Audit entries copied into the outbox per transaction.
const BATCH: i64 = 500;
/// The longest URL, description and event list accepted.
const MAX_URL: usize = 2000;
const MAX_DESCRIPTION: usize = 200;
const MAX_EVENTS: usize = 50;
/// The event name of a test delivery.
pub const TEST_EVENT: &str = "webhook.test";

/// What an admin sends to register or change an endpoint; absent members
/// keep their value (or take the default when registering).
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// Where deliveries go: https to a public address, or http(s) to a
    /// network `--outbound-allow` names.
    pub url: Option<String>,
    /// A note for admins.
    pub description: Option<String>,
    /// Event names and prefixes (`client.*`, `*`); empty: every event.
    pub events: Option<Vec<String>>,
    /// Whether deliveries are made.
    pub enabled: Option<bool>,
}

/// An endpoint as admins see it (never its secret).
#[derive(Clone, Debug, Serialize)]
pub struct WebhookView {
    /// Its id.
    pub webhook_id: String,
    /// Where deliveries go.
    pub url: String,
    /// A note for admins.
    pub description: String,
    /// The events it receives; empty: every event.
    pub events: Vec<String>,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// When it was registered, RFC 3339.
    pub created_at: String,
    /// When it last changed, RFC 3339.
    pub updated_at: String,
    /// Since when every delivery has failed, RFC 3339; absent while the
    /// last one succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<String>,
    /// The team it belongs to; absent: the admins'.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
}

impl From<&WebhookRecord> for WebhookView {
    fn from(w: &WebhookRecord) -> Self {
        Self {
            webhook_id: w.webhook_id.clone(),
            url: w.url.clone(),
            description: w.description.clone(),
            events: w.events.clone(),
            enabled: w.enabled,
            created_at: crate::time(w.created_at),
            updated_at: crate::time(w.updated_at),
            failing_since: w.failing_since.map(crate::time),
            team_id: w.team_id.clone(),
        }
    }
}

/// A signing secret, `whsec_` + base64. Shown once; never in `Debug`.
pub struct WebhookSecret(Zeroizing<String>);

impl WebhookSecret {
    /// The secret's text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

/// A registered endpoint and its signing secret, shown this once.
#[derive(Debug)]
pub struct CreatedWebhook {
    /// The endpoint.
    pub webhook: WebhookView,
    /// Its signing secret.
    pub secret: WebhookSecret,
}

/// A delivery as admins see it.
#[derive(Clone, Debug, Serialize)]
pub struct DeliveryView {
    /// Its id, the `webhook-id` header.
    pub delivery_id: String,
    /// The event's name.
    pub event: String,
    /// `pending`, `delivered` or `failed`.
    pub status: &'static str,
    /// Attempts made.
    pub attempts: i64,
    /// When it was queued, RFC 3339.
    pub created_at: String,
    /// When it is next tried, if it will be.
    pub next_attempt_at: Option<String>,
    /// When it was last tried.
    pub last_attempt_at: Option<String>,
    /// The endpoint's last HTTP status.
    pub last_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

impl From<&DeliveryRecord> for DeliveryView {
    fn from(d: &DeliveryRecord) -> Self {
        Self {
            delivery_id: d.delivery_id.clone(),
            event: d.event.clone(),
            status: d.status.as_str(),
            attempts: d.attempts,
            created_at: crate::time(d.created_at),
            next_attempt_at: d
                .next_attempt_at
                .filter(|_| d.status == DeliveryStatus::Pending)
                .map(crate::time),
            last_attempt_at: d.last_attempt_at.map(crate::time),
            last_status: d.last_status,
            last_error: d.last_error.clone(),
        }
    }
}

/// A delivery taken for one attempt, with what sending it needs.
pub struct Attempt {
    /// The delivery.
    pub delivery: DeliveryRecord,
    /// Where to send it.
    pub url: String,
    /// Whether it goes only to a public address over https (a team's
    /// endpoint), whatever the operator allows the admins' endpoints.
    pub public_only: bool,
    secret: Zeroizing<Vec<u8>>,
    leased_until: DateTime<Utc>,
}

impl Attempt {
    /// The Standard Webhooks headers for sending now (`at`): `webhook-id`,
    /// `webhook-timestamp` and `webhook-signature`.
    pub fn headers(&self, at: DateTime<Utc>) -> [(&'static str, String); 3] {
        let timestamp = at.timestamp();
        let signature = sign(&self.secret, &self.delivery.delivery_id, timestamp, &self.delivery.payload);
        [
            ("webhook-id", self.delivery.delivery_id.clone()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", signature),
        ]
    }
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The endpoint answered with this status.
    Answered(u16),
    /// It could not be reached or did not answer in time.
    Failed(String),
}

/// The Standard Webhooks signature: `v1,` + base64 of HMAC-SHA256 over
/// `{id}.{timestamp}.{body}`, keyed with the secret's bytes.
pub fn sign(secret: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Whether `pattern` (a name, `prefix.*` or `*`) selects the event `name`.
fn selects(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// Whether an endpoint receives the event `name`.
fn receives(webhook: &WebhookRecord, name: &str) -> bool {
    webhook.enabled && (webhook.events.is_empty() || webhook.events.iter().any(|p| selects(p, name)))
}

/// A URL as events show it: without its query, which may carry a token
/// of the receiver's.
fn shown(url: &str) -> String {
    url::Url::parse(url).map_or_else(
        |_| String::new(),
        |mut url| {
            url.set_query(None);
            url.to_string()
        },
    )
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::Invalid(message.into())
}

/// Checks a delivery URL: where the outbound `policy` admits (https to a
/// public address; http or https to a network the operator allowed), with
/// no credentials or fragment. A name is checked again when delivering, on
/// the addresses it resolves to then.
fn validate_url(text: &str, policy: &OutboundPolicy) -> Result<(), AppError> {
    let url = url::Url::parse(text).map_err(|e| invalid(format!("url: not a URL ({e})")))?;
    if text.len() > MAX_URL {
        return Err(invalid(format!("url: at most {MAX_URL} characters")));
    }
    policy.check_url(&url).map_err(|refusal| invalid(format!("url: {refusal}")))?;
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(invalid("url: must carry no credentials and no fragment"));
    }
    Ok(())
}

/// Every event an endpoint can receive: the catalogue's and the test event.
fn every_event() -> impl Iterator<Item = &'static str> + Clone {
    crate::event::CATALOGUE.iter().map(|(name, _, _)| *name).chain([TEST_EVENT])
}

/// The permission that reads the event `name` besides `admin:audit`, which
/// reads them all: `admin:monitoring` reads the events of monitoring itself
/// (alerts, their rules, webhooks, and what detection announces: first
/// sightings and impossible travel); the rest is the audit log's.
pub fn reading_permission(name: &str) -> Permission {
    let detection = ["client.new_network", "client.new_country", "token.impossible_travel"];
    let monitoring = ["alert.", "alert_rule.", "webhook."].iter().any(|prefix| name.starts_with(prefix))
        || detection.contains(&name);
    if monitoring {
        Permission::Monitoring
    } else {
        Permission::Audit
    }
}

/// The events `actor` may have delivered: those its permissions read.
pub fn readable_events(actor: &Actor) -> Vec<&'static str> {
    let reads = |name: &str| {
        actor.require(Permission::Audit).is_ok() || actor.require(reading_permission(name)).is_ok()
    };
    every_event().filter(|name| reads(name)).collect()
}

/// Refuses `events` (empty: every event) when they select an event that
/// `actor` may not read, naming those events: an endpoint would otherwise
/// hand its creator what the audit log refuses them.
fn check_readable(actor: &Actor, events: &[String]) -> Result<(), AppError> {
    let readable = readable_events(actor);
    let beyond: Vec<&str> = every_event()
        .filter(|name| events.is_empty() || events.iter().any(|pattern| selects(pattern, name)))
        .filter(|name| !readable.contains(name))
        .collect();
    if beyond.is_empty() {
        return Ok(());
    }
    let selected =
        if events.is_empty() { "every event".to_owned() } else { format!("`{}`", events.join(" ")) };
    Err(AppError::Beyond(format!(
        "events: {selected} selects events only {} reads: {}",
        Permission::Audit.scope(),
        beyond.join(", ")
    )))
}

/// Checks a team endpoint's event patterns: each must select at least one
/// event its team's members read.
fn validate_team_events(events: &[String]) -> Result<(), AppError> {
    validate_events(events)?;
    match events.iter().find(|p| !every_event().any(|n| selects(p, n) && crate::audit::team_reads_action(n))) {
        Some(pattern) => Err(invalid(format!(
            "events: `{pattern}` names no event a team receives (client.*, team.*, auth.client_failed, initial_access_token.*, webhook.*)"
        ))),
        None => Ok(()),
    }
}

/// Checks the event patterns of an endpoint of `team` (or the admins'):
/// it selects only events `actor` reads, a team's member reading the
/// team's (an admin answers for a team's endpoint as for their own).
fn check_events(actor: &Actor, team: Option<&str>, events: &[String]) -> Result<(), AppError> {
    match team {
        Some(_) if actor.portal_user().is_some() => validate_team_events(events),
        Some(_) => validate_team_events(events).and_then(|()| check_readable(actor, events)),
        None => validate_events(events).and_then(|()| check_readable(actor, events)),
    }
}

/// Where an endpoint of `team` (or the admins') may send: a team's only
/// to public addresses over https, whatever the operator allows the admins'.
fn destinations<'a>(
    team: Option<&str>,
    operators: &'a OutboundPolicy,
) -> std::borrow::Cow<'a, OutboundPolicy> {
    match team {
        Some(_) => std::borrow::Cow::Owned(OutboundPolicy::default()),
        None => std::borrow::Cow::Borrowed(operators),
    }
}

/// Checks event patterns: each must select at least one catalogued event.
fn validate_events(events: &[String]) -> Result<(), AppError> {
    if events.len() > MAX_EVENTS {
        return Err(invalid(format!("events: at most {MAX_EVENTS}")));
    }
    for pattern in events {
        if !every_event().any(|name| selects(pattern, name)) {
            return Err(invalid(format!(
                "events: `{pattern}` names no event (see the README's event table)"
            )));
        }
    }
    Ok(())
}

fn validate_description(description: &str) -> Result<(), AppError> {
    if description.chars().count() > MAX_DESCRIPTION || description.chars().any(char::is_control) {
        return Err(invalid(format!(
            "description: at most {MAX_DESCRIPTION} characters, no control characters"
        )));
    }
    Ok(())
}

/// A delivery's body as Standard Webhooks shape it: the event's `type`,
/// its `timestamp` and its `data`.
fn envelope(kind: &str, at: &str, data: Value) -> String {
    json!({"type": kind, "timestamp": at, "data": data}).to_string()
}

/// The body of an event's delivery: the audit entry, opened.
fn payload(entry: &EntryView) -> String {
    let data = json!({"seq": entry.seq, "actor": entry.actor, "target": entry.target, "source": entry.source,
                      "outcome": entry.outcome, "details": entry.details});
    envelope(&entry.action, &entry.at, data)
}

/// The body of an event's delivery to a team's endpoint: the entry as the
/// team's members read it.
fn team_payload(event: &crate::audit::TeamEventView) -> String {
    let data = json!({"seq": event.seq, "actor": event.actor, "target": event.target,
                      "outcome": event.outcome, "details": event.details});
    envelope(&event.action, &event.at, data)
}

/// What a delivery's payload is sealed to: the outbox keeps the event's
/// details sealed, as the audit log does.
fn payload_context(delivery_id: &str) -> Vec<u8> {
    format!("webhook.payload\0{delivery_id}").into_bytes()
}

/// A delivery of `payload` to `webhook_id`, due `now`, its payload sealed.
fn delivery(
    webhook_id: &str,
    event: &str,
    payload: &str,
    now: DateTime<Utc>,
    sealing: &Sealing,
) -> DeliveryRecord {
    let delivery_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    DeliveryRecord {
        payload: sealing.seal(payload, &payload_context(&delivery_id)),
        delivery_id,
        webhook_id: webhook_id.to_owned(),
        event: event.to_owned(),
        created_at: now,
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: Some(now),
        last_attempt_at: None,
        last_status: None,
        last_error: None,
    }
}

fn found(record: Option<WebhookRecord>, id: &str) -> Result<WebhookRecord, AppError> {
    record.ok_or_else(|| no_webhook(id))
}

fn no_webhook(id: &str) -> AppError {
    AppError::NotFound(format!("no webhook `{id}`"))
}

/// Whether `actor` manages every endpoint: an admin holding `admin:monitoring`.
fn oversees(actor: &Actor) -> bool {
    actor.require(Permission::Monitoring).is_ok()
}

/// Refuses `actor` the endpoints of team `team_id` unless they oversee
/// every endpoint (and the team exists) or hold `needed` in the team.
fn reach_team(
    conn: &mut DbConnection,
    actor: &Actor,
    team_id: &str,
    needed: TeamPermission,
) -> Result<(), AppError> {
    crate::teams::reach_as(conn, actor, team_id, (Permission::Monitoring, needed)).map(drop)
}

/// The endpoint `id` as `actor` reaches it for `needed`: an admin holding
/// `admin:monitoring` reaches every one; a team's member the team's, as
/// their role grants. To anyone else a team's endpoint does not exist.
fn reached(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    needed: TeamPermission,
) -> Result<WebhookRecord, AppError> {
    let oversees = oversees(actor);
    if !oversees && actor.portal_user().is_none() {
        return Err(AppError::Forbidden(Permission::Monitoring));
    }
    let record = found(webhooks::find(conn, id)?, id)?;
    if oversees {
        return Ok(record);
    }
    let team = record.team_id.as_deref().ok_or_else(|| no_webhook(id))?;
    match reach_team(conn, actor, team, needed) {
        Err(AppError::NotFound(_)) => Err(no_webhook(id)),
        reached => reached.map(|()| record),
    }
}

impl App {
    fn kek(&self) -> Result<&portcullis_jose::KeyEncryptionKey, AppError> {
        self.sealing
            .kek()
            .map(|kek| &**kek)
            .ok_or_else(|| invalid("webhooks need the key-encryption key (PORTCULLIS_KEK)"))
    }

    /// Registers an endpoint of the admins; its signing secret is returned this once.
    pub fn create_webhook(&self, actor: &Actor, input: WebhookInput) -> Result<CreatedWebhook, AppError> {
        let attempt = Change { permission: Permission::Monitoring, action: "webhook.created", target: "" };
        self.permit(actor, &attempt)?;
        self.register_webhook(actor, attempt, None, input)
    }

    /// Registers an endpoint of team `team_id`, for its developers (or an
    /// admin holding `admin:monitoring`): it receives what the team's
    /// members read of the team's events. Its signing secret is returned
    /// this once.
    pub fn create_team_webhook(
        &self,
        actor: &Actor,
        team_id: &str,
        input: WebhookInput,
    ) -> Result<CreatedWebhook, AppError> {
        let attempt =
            Change { permission: Permission::Monitoring, action: "webhook.created", target: team_id };
        self.register_webhook(actor, attempt, Some(team_id), input)
    }

    fn register_webhook(
        &self,
        actor: &Actor,
        attempt: Change<'_>,
        team: Option<&str>,
        input: WebhookInput,
    ) -> Result<CreatedWebhook, AppError> {
        let audited = |e: &AppError| {
            if e.is_refusal() {
                self.audit_refusal(actor, &attempt, e)
            }
        };
        if let Some(team_id) = team {
            // Who may register comes first: nobody else learns what is valid.
            reach_team(&mut *self.db.get()?, actor, team_id, TeamPermission::Apps).inspect_err(audited)?;
        }
        let url = input.url.ok_or_else(|| invalid("url: required"))?;
        validate_url(&url, &destinations(team, &self.outbound))?;
        let events = input.events.unwrap_or_default();
        check_events(actor, team, &events).inspect_err(audited)?;
        let description = input.description.unwrap_or_default();
        validate_description(&description)?;
        let webhook_id = format!("wh_{}", uuid::Uuid::new_v4().simple());
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, bytes.as_mut());
        let kek = self.kek()?;
        let now = self.now();
        let record = WebhookRecord {
            webhook_id: webhook_id.clone(),
            url,
            description,
            events,
            secret_sealed: kek.seal(bytes.as_ref(), webhook_id.as_bytes()),
            kek_id: kek.id().to_owned(),
            enabled: input.enabled.unwrap_or(true),
            since_seq: 0,
            created_at: now,
            updated_at: now,
            failing_since: None,
            team_id: team.map(str::to_owned),
        };
        let secret = WebhookSecret(Zeroizing::new(format!("whsec_{}", STANDARD.encode(bytes.as_ref()))));
        let done = self.commit(actor, |tx| {
            if let Some(team_id) = team {
                reach_team(tx.conn, actor, team_id, TeamPermission::Apps)?;
            }
            // The head is locked for this transaction: what comes after is this
            // registration's own entry, and everything later.
            let most = if team.is_some() { MAX_TEAM_WEBHOOKS } else { MAX_WEBHOOKS };
            if webhooks::count(tx.conn, team)? >= most {
                return Err(AppError::Conflict(format!(
                    "at most {most} webhook endpoints; delete one first"
                )));
            }
            let record = WebhookRecord { since_seq: audit::head(tx.conn)?.0, ..record };
            webhooks::create(tx.conn, &record)?;
            tx.emit(Event::WebhookCreated {
                webhook_id: record.webhook_id.clone(),
                url: shown(&record.url),
                events: record.events.clone(),
                team_id: record.team_id.clone(),
            });
            Ok(CreatedWebhook { webhook: WebhookView::from(&record), secret })
        });
        if let Some(error) = done.as_ref().err().filter(|e| e.is_refusal()) {
            self.audit_refusal(actor, &attempt, error);
        }
        done
    }

    /// Runs the change `work` of the endpoint `id` for `actor`, reached
    /// for `needed` ([`reached`]), auditing a refusal as `action`.
    fn webhook_change<T>(
        &self,
        actor: &Actor,
        (action, id): (&'static str, &str),
        needed: TeamPermission,
        work: impl FnOnce(&mut Tx<'_>, WebhookRecord) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let done = self.commit(actor, |tx| {
            let record = reached(tx.conn, actor, id, needed)?;
            work(tx, record)
        });
        if let Some(error) = done.as_ref().err().filter(|e| e.is_refusal()) {
            let attempt = Change { permission: Permission::Monitoring, action, target: id };
            self.audit_refusal(actor, &attempt, error);
        }
        done
    }

    /// Changes an endpoint's URL, description, events or state.
    pub fn update_webhook(
        &self,
        actor: &Actor,
        id: &str,
        input: WebhookInput,
    ) -> Result<WebhookView, AppError> {
        self.webhook_change(actor, ("webhook.updated", id), TeamPermission::Apps, |tx, mut record| {
            if let Some(url) = input.url {
                validate_url(&url, &destinations(record.team_id.as_deref(), &self.outbound))?;
                record.url = url;
            }
            if let Some(events) = input.events {
                record.events = events;
            }
            if let Some(description) = input.description {
                validate_description(&description)?;
                record.description = description;
            }
            // Whoever changes an endpoint answers for all it receives: its
            // URL may now lead to them.
            check_events(actor, record.team_id.as_deref(), &record.events)?;
            let enabled = input.enabled.unwrap_or(record.enabled);
            if enabled && !record.enabled {
                // Turned on again: it gets a fresh period to deliver in.
                webhooks::clear_failing(tx.conn, &record.webhook_id)?;
                record.failing_since = None;
            }
            record.enabled = enabled;
            record.updated_at = tx.now;
            webhooks::update(tx.conn, &record)?;
            tx.emit(Event::WebhookUpdated {
                webhook_id: record.webhook_id.clone(),
                url: shown(&record.url),
                events: record.events.clone(),
                enabled: record.enabled,
            });
            Ok(WebhookView::from(&record))
        })
    }

    /// Deletes an endpoint and its deliveries.
    pub fn delete_webhook(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        self.webhook_change(actor, ("webhook.deleted", id), TeamPermission::Apps, |tx, _| {
            if !webhooks::delete(tx.conn, id, tx.now)? {
                return Err(AppError::NotFound(format!("no webhook `{id}`")));
            }
            tx.emit(Event::WebhookDeleted { webhook_id: id.to_owned() });
            Ok(())
        })
    }

    /// Every endpoint, the teams' too.
    pub fn webhooks(&self, actor: &Actor) -> Result<Vec<WebhookView>, AppError> {
        self.read(actor, Permission::Monitoring, |conn| {
            Ok(webhooks::all(conn)?.iter().map(WebhookView::from).collect())
        })
    }

    /// Team `team_id`'s endpoints.
    pub fn team_webhooks(&self, actor: &Actor, team_id: &str) -> Result<Vec<WebhookView>, AppError> {
        let conn = &mut *self.db.get()?;
        reach_team(conn, actor, team_id, TeamPermission::Read)?;
        Ok(webhooks::of_team(conn, team_id)?.iter().map(WebhookView::from).collect())
    }

    /// One endpoint.
    pub fn webhook(&self, actor: &Actor, id: &str) -> Result<WebhookView, AppError> {
        Ok(WebhookView::from(&reached(&mut *self.db.get()?, actor, id, TeamPermission::Read)?))
    }

    /// The latest `limit` deliveries of an endpoint, newest first.
    pub fn webhook_deliveries(
        &self,
        actor: &Actor,
        id: &str,
        limit: i64,
    ) -> Result<Vec<DeliveryView>, AppError> {
        let conn = &mut *self.db.get()?;
        reached(conn, actor, id, TeamPermission::Read)?;
        Ok(webhooks::of_webhook(conn, id, limit)?.iter().map(DeliveryView::from).collect())
    }

    /// Queues a `webhook.test` event for one endpoint (enabled or not).
    pub fn send_test_webhook(&self, actor: &Actor, id: &str) -> Result<DeliveryView, AppError> {
        self.webhook_change(actor, ("webhook.tested", id), TeamPermission::Apps, |tx, _| {
            let body =
                envelope(TEST_EVENT, &crate::time(tx.now), json!({"webhook_id": id, "actor": actor.name()}));
            let test = delivery(id, TEST_EVENT, &body, tx.now, &self.sealing);
            webhooks::enqueue(tx.conn, &test)?;
            tx.emit(Event::WebhookTested {
                webhook_id: id.to_owned(),
                delivery_id: test.delivery_id.clone(),
            });
            Ok(DeliveryView::from(&test))
        })
    }

    /// Copies audit entries written since the last call into the outbox,
    /// one delivery per entry and endpoint that receives it; returns how
    /// many were queued. Instances may call it together: one moves the
    /// cursor, the others queue nothing.
    pub fn queue_webhook_events(&self) -> Result<usize, AppError> {
        let now = self.now();
        let mut conn = self.db.get()?;
        // Nothing new (as most ticks find): no lock taken, nothing written.
        if portcullis_store::audit::head(&mut conn)?.0 <= webhooks::cursor(&mut conn)? {
            return Ok(0);
        }
        let queued = conn.atomically(|conn| {
            let from = webhooks::lock_cursor(conn)?;
            let (to, queued) = queue_entries(conn, from, now, &self.sealing)?;
            if to == from {
                return Ok(0);
            }
            if !webhooks::advance_cursor(conn, from, to)? {
                // Another instance queued these: roll this copy back.
                return Err(AppError::Conflict("the webhook cursor moved".into()));
            }
            Ok(queued)
        });
        match queued {
            Err(AppError::Conflict(_)) => Ok(0),
            other => other,
        }
    }

    /// Leases due deliveries for an attempt, while fewer than `capacity`
    /// are in flight, sharing them fairly: each endpoint with deliveries
    /// in flight or due may have its share of `capacity` in flight (split
    /// as if one more endpoint were waiting; at least one, at most
    /// [`PER_ENDPOINT`]), those with fewest in flight served first. So slow
    /// endpoints hold only their shares, a share stays free for an endpoint
    /// that comes next, and a healthy one is never queued behind them. `in_flight` counts this instance's
    /// attempts per endpoint. A delivery that cannot be prepared is
    /// skipped (and logged).
    pub fn lease_webhook_deliveries(
        &self,
        capacity: usize,
        in_flight: &HashMap<String, usize>,
    ) -> Result<Vec<Attempt>, AppError> {
        let now = self.now();
        let kek = self.kek()?;
        let mut conn = self.db.get()?;
        let mut free = capacity.saturating_sub(in_flight.values().sum());
        let mut waiting = webhooks::with_due(&mut conn, now)?;
        let wanting = waiting.iter().chain(in_flight.keys()).collect::<std::collections::HashSet<_>>().len();
        let share = (capacity / (wanting + 1)).clamp(1, PER_ENDPOINT);
        waiting.sort_by_key(|id| in_flight.get(id).copied().unwrap_or(0));
        let mut leased = Vec::new();
        for webhook_id in waiting {
            let room = share.saturating_sub(in_flight.get(&webhook_id).copied().unwrap_or(0)).min(free);
            if room == 0 {
                continue;
            }
            let Some(webhook) = webhooks::find(&mut conn, &webhook_id)? else { continue };
            let Ok(secret) = kek.open(&webhook.secret_sealed, webhook.webhook_id.as_bytes()) else {
                tracing::error!(webhook = %webhook.webhook_id, "a webhook secret does not open under this key-encryption key");
                continue;
            };
            for delivery in webhooks::due(&mut conn, &webhook_id, now, room as i64)? {
                let Ok(payload) =
                    self.sealing.open(&delivery.payload, &payload_context(&delivery.delivery_id))
                else {
                    tracing::error!(delivery = %delivery.delivery_id, "a webhook payload does not open under this key-encryption key");
                    continue;
                };
                let Some(leased_until) = webhooks::lease(&mut conn, &delivery, now + LEASE)? else {
                    continue;
                };
                let delivery = DeliveryRecord { payload, ..delivery };
                let secret = Zeroizing::new(secret.to_vec());
                let (url, public_only) = (webhook.url.clone(), webhook.team_id.is_some());
                leased.push(Attempt { delivery, url, public_only, secret, leased_until });
                free -= 1;
            }
        }
        Ok(leased)
    }

    /// Disables the enabled endpoints that have failed every delivery since
    /// before `period` ago, each with a `webhook.disabled` event; returns
    /// how many.
    pub fn disable_failing_webhooks(&self, period: TimeDelta) -> Result<usize, AppError> {
        let cutoff = self.now() - period;
        let failing = webhooks::failing_since_before(&mut *self.db.get()?, cutoff)?;
        let system = Actor::System { job: "webhooks" };
        let mut disabled = 0;
        for webhook in failing {
            let done = self.commit(&system, |tx| {
                // Read again: it may have delivered or been changed meanwhile.
                let Some(mut record) = webhooks::find(tx.conn, &webhook.webhook_id)? else {
                    return Ok(false);
                };
                let Some(since) = record.failing_since.filter(|since| record.enabled && *since < cutoff)
                else {
                    return Ok(false);
                };
                record.enabled = false;
                record.updated_at = tx.now;
                webhooks::update(tx.conn, &record)?;
                tx.emit(Event::WebhookDisabled {
                    webhook_id: record.webhook_id.clone(),
                    failing_since: crate::time(since),
                });
                Ok(true)
            })?;
            disabled += usize::from(done);
        }
        Ok(disabled)
    }

    /// Records how an attempt ended: delivered on a 2xx, else retried on
    /// the [`SCHEDULE`] until it runs out.
    pub fn finish_webhook_attempt(&self, attempt: Attempt, outcome: &AttemptOutcome) -> Result<(), AppError> {
        let now = self.now();
        let leased_until = attempt.leased_until;
        let mut delivery = attempt.delivery;
        delivery.attempts += 1;
        let (status, error) = match outcome {
            AttemptOutcome::Answered(status) => (Some(i64::from(*status)), None),
            AttemptOutcome::Failed(error) => (None, Some(error.clone())),
        };
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        delivery.last_status = status;
        delivery.last_error = match (&error, status) {
            (Some(error), _) => Some(error.clone()),
            (None, Some(s)) if !delivered => Some(format!("the endpoint answered {s}")),
            _ => None,
        };
        let next = SCHEDULE.get(delivery.attempts as usize).filter(|_| !delivered);
        (delivery.status, delivery.next_attempt_at) = match next {
            _ if delivered => (DeliveryStatus::Delivered, None),
            Some(wait) => (DeliveryStatus::Pending, Some(now + *wait)),
            None => (DeliveryStatus::Failed, None),
        };
        if delivery.status == DeliveryStatus::Failed {
            tracing::warn!(delivery = %delivery.delivery_id, webhook = %delivery.webhook_id, "a webhook delivery ran out of attempts");
        }
        let conn = &mut *self.db.get()?;
        if !webhooks::record_attempt(conn, &delivery, leased_until, now)? {
            tracing::warn!(delivery = %delivery.delivery_id, "a webhook attempt outlived its lease; its outcome is not recorded");
            return Ok(());
        }
        webhooks::note_outcome(conn, &delivery.webhook_id, delivered, now)?;
        Ok(())
    }
}

/// Queues the entries after `from` for the enabled endpoints; returns the
/// position reached and the deliveries queued.
fn queue_entries(
    conn: &mut DbConnection,
    from: i64,
    now: DateTime<Utc>,
    sealing: &Sealing,
) -> Result<(i64, usize), AppError> {
    // The entries first: an endpoint registered meanwhile is then read
    // with them, and its own since_seq says which are its.
    let entries = audit::entries(conn, &Filter::default(), from, BATCH)?;
    let (teams, admins): (Vec<WebhookRecord>, Vec<WebhookRecord>) =
        webhooks::all(conn)?.into_iter().filter(|w| w.enabled).partition(|w| w.team_id.is_some());
    let last = entries.last().map_or(from, |e| e.seq);
    let mut queued = 0;
    for entry in entries.into_iter().filter(|e| e.outcome != "refused") {
        let wanted: Vec<&WebhookRecord> =
            admins.iter().filter(|w| entry.seq > w.since_seq && receives(w, &entry.action)).collect();
        if wanted.is_empty() {
            continue;
        }
        let entry = sealing.view(entry);
        queued += enqueue(conn, &wanted, (&entry.action, &payload(&entry)), now, sealing)?;
    }
    // A team's endpoints: the same entries, of those about the team, what
    // its members read, as they read it.
    let mut team_ids: Vec<&str> = teams.iter().filter_map(|w| w.team_id.as_deref()).collect();
    team_ids.sort_unstable();
    team_ids.dedup();
    for team_id in team_ids {
        let about = Filter { team: Some(team_id.to_owned()), through: Some(last), ..Filter::default() };
        for entry in audit::entries(conn, &about, from, BATCH)? {
            let wanted: Vec<&WebhookRecord> = teams
                .iter()
                .filter(|w| w.team_id.as_deref() == Some(team_id))
                .filter(|w| entry.seq > w.since_seq && receives(w, &entry.action))
                .collect();
            let entry = sealing.view(entry);
            if wanted.is_empty() || !crate::audit::team_reads(&entry) {
                continue;
            }
            let read = crate::audit::TeamEventView::of(entry);
            queued += enqueue(conn, &wanted, (&read.action, &team_payload(&read)), now, sealing)?;
        }
    }
    Ok((last, queued))
}

/// Queues the event `name` with `payload` for each of `endpoints`; returns how many.
fn enqueue(
    conn: &mut DbConnection,
    endpoints: &[&WebhookRecord],
    (name, payload): (&str, &str),
    now: DateTime<Utc>,
    sealing: &Sealing,
) -> Result<usize, AppError> {
    for endpoint in endpoints {
        webhooks::enqueue(conn, &delivery(&endpoint.webhook_id, name, payload, now, sealing))?;
    }
    Ok(endpoints.len())
}

/// Disables endpoints that failed every delivery for `period`, checking
/// every minute, for as long as `alive` exists.
pub fn spawn_disabler(
    app: Arc<App>,
    period: TimeDelta,
    alive: std::sync::Weak<dyn std::any::Any + Send + Sync>,
) {
    let failed = "failing webhook endpoints could not be checked; they will be on the next try";
    crate::periodic::spawn_job("webhook-disabler", Duration::from_secs(60), alive, failed, move || {
        app.disable_failing_webhooks(period).map(drop)
    });
}

/// Queues new events every second for as long as `alive` exists (the
/// server's sender leases and sends them).
pub fn spawn_queue(app: Arc<App>, alive: std::sync::Weak<dyn std::any::Any + Send + Sync>) {
    let failed = "webhook events could not be queued; they will be on the next try";
    crate::periodic::spawn_job("webhook-queue", Duration::from_secs(1), alive, failed, move || {
        app.queue_webhook_events().map(drop)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The Standard Webhooks reference test vector.
        let secret = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn urls_go_where_the_outbound_policy_admits() {
        let strict = OutboundPolicy::default();
        let loopback = OutboundPolicy::new(vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()]);
        assert!(validate_url("https://hooks.example/in", &strict).is_ok());
        for ok in ["http://127.0.0.1:9000/hook", "http://[::1]/h", "http://localhost:8080/"] {
            assert!(validate_url(ok, &loopback).is_ok(), "{ok}");
            assert!(matches!(validate_url(ok, &strict), Err(AppError::Invalid(_))), "{ok}");
        }
        for bad in [
            "http://hooks.example/in",
            "ftp://x.example/",
            "https://user:pw@x.example/",
            "https://x.example/#f",
            "https://169.254.169.254/latest/meta-data/",
            "https://2130706433/",
            "nope",
        ] {
            assert!(matches!(validate_url(bad, &strict), Err(AppError::Invalid(_))), "{bad}");
        }
    }

    #[test]
    fn patterns_select_events_by_name_or_prefix() {
        assert!(validate_events(&[
            "client.*".into(),
            "key.activated".into(),
            "*".into(),
            "webhook.test".into()
        ])
        .is_ok());
        assert!(validate_events(&["nothing.*".into()]).is_err());
        assert!(validate_events(&["client.create".into()]).is_err());
        assert!(selects("client.*", "client.created") && !selects("client.*", "key.staged"));
        assert!(selects("*", "key.staged") && selects("key.staged", "key.staged"));
    }
}
