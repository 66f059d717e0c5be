//! Webhooks: the endpoints, the durable outbox of deliveries, and the
//! cursor through the audit log that the outbox is filled from.

use crate::schema::{webhook_cursor, webhook_deliveries, webhooks};
use crate::{DbConnection, StoreError};
use chrono::{DateTime, DurationRound, NaiveDateTime, Utc};
use diesel::prelude::*;

/// An endpoint as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookRecord {
    /// Its id.
    pub webhook_id: String,
    /// Where deliveries go.
    pub url: String,
    /// What the admin called it.
    pub description: String,
    /// The event names and prefixes (`client.*`) it receives; empty: all.
    pub events: Vec<String>,
    /// The signing secret, sealed under the key-encryption key.
    pub secret_sealed: Vec<u8>,
    /// Which key-encryption key sealed it.
    pub kek_id: String,
    /// Whether deliveries are made.
    pub enabled: bool,
    /// The audit position when it was registered: it receives what came after.
    pub since_seq: i64,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Since when every attempt failed (none succeeded since); `None`
    /// while the last attempt succeeded.
    pub failing_since: Option<DateTime<Utc>>,
    /// The team it belongs to; `None`: the admins'.
    pub team_id: Option<String>,
}

/// A `webhooks` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = webhooks)]
struct WebhookRow {
    webhook_id: String,
    url: String,
    description: String,
    events: String,
    secret_sealed: Vec<u8>,
    kek_id: String,
    enabled: bool,
    since_seq: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    failing_since: Option<NaiveDateTime>,
    team_id: Option<String>,
}

fn webhook_of(row: WebhookRow) -> Result<WebhookRecord, StoreError> {
    Ok(WebhookRecord {
        events: crate::json::read("webhooks", &row.webhook_id, &row.events)?,
        webhook_id: row.webhook_id,
        url: row.url,
        description: row.description,
        secret_sealed: row.secret_sealed,
        kek_id: row.kek_id,
        enabled: row.enabled,
        since_seq: row.since_seq,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
        failing_since: row.failing_since.map(|at| at.and_utc()),
        team_id: row.team_id,
    })
}

/// Registers `webhook`.
pub fn create(conn: &mut DbConnection, webhook: &WebhookRecord) -> Result<(), StoreError> {
    diesel::insert_into(webhooks::table)
        .values((
            webhooks::webhook_id.eq(&webhook.webhook_id),
            webhooks::url.eq(&webhook.url),
            webhooks::description.eq(&webhook.description),
            webhooks::events.eq(crate::json::write("webhooks", &webhook.events)?),
            webhooks::secret_sealed.eq(&webhook.secret_sealed),
            webhooks::kek_id.eq(&webhook.kek_id),
            webhooks::enabled.eq(webhook.enabled),
            webhooks::since_seq.eq(webhook.since_seq),
            webhooks::created_at.eq(webhook.created_at.naive_utc()),
            webhooks::updated_at.eq(webhook.updated_at.naive_utc()),
            webhooks::failing_since.eq(webhook.failing_since.map(|at| at.naive_utc())),
            webhooks::team_id.eq(&webhook.team_id),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes the changeable fields of `webhook` (not `failing_since`, which
/// attempts write); false when it does not exist.
pub fn update(conn: &mut DbConnection, webhook: &WebhookRecord) -> Result<bool, StoreError> {
    let changed = diesel::update(webhooks::table.filter(webhooks::webhook_id.eq(&webhook.webhook_id)))
        .set((
            webhooks::url.eq(&webhook.url),
            webhooks::description.eq(&webhook.description),
            webhooks::events.eq(crate::json::write("webhooks", &webhook.events)?),
            webhooks::enabled.eq(webhook.enabled),
            webhooks::updated_at.eq(webhook.updated_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Forgets that `webhook_id` was failing (it was turned on again). Only
/// this and [`note_outcome`] write it: an edit never writes back a stale one.
pub fn clear_failing(conn: &mut DbConnection, webhook_id: &str) -> Result<(), StoreError> {
    diesel::update(webhooks::table.filter(webhooks::webhook_id.eq(webhook_id)))
        .set(webhooks::failing_since.eq(None::<NaiveDateTime>))
        .execute(conn)?;
    Ok(())
}

/// How many endpoints team `team` has (`None`: the admins').
pub fn count(conn: &mut DbConnection, team: Option<&str>) -> Result<i64, StoreError> {
    let live = webhooks::table.filter(webhooks::deleted_at.is_null());
    Ok(match team {
        Some(team) => live.filter(webhooks::team_id.eq(team)).count().get_result(conn)?,
        None => live.filter(webhooks::team_id.is_null()).count().get_result(conn)?,
    })
}

/// Notes how an attempt to `webhook_id` at `at` ended: a success ends its
/// failing, a failure starts it unless it had started.
pub fn note_outcome(
    conn: &mut DbConnection,
    webhook_id: &str,
    delivered: bool,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let this = webhooks::table.filter(webhooks::webhook_id.eq(webhook_id));
    if delivered {
        diesel::update(this.filter(webhooks::failing_since.is_not_null()))
            .set(webhooks::failing_since.eq(None::<NaiveDateTime>))
            .execute(conn)?;
    } else {
        diesel::update(this.filter(webhooks::failing_since.is_null()))
            .set(webhooks::failing_since.eq(at.naive_utc()))
            .execute(conn)?;
    }
    Ok(())
}

/// The enabled endpoints whose every attempt has failed since before `cutoff`.
pub fn failing_since_before(
    conn: &mut DbConnection,
    cutoff: DateTime<Utc>,
) -> Result<Vec<WebhookRecord>, StoreError> {
    let rows: Vec<WebhookRow> = webhooks::table
        .filter(webhooks::deleted_at.is_null())
        .filter(webhooks::enabled.eq(true))
        .filter(webhooks::failing_since.lt(cutoff.naive_utc()))
        .select(WebhookRow::as_select())
        .load(conn)?;
    rows.into_iter().map(webhook_of).collect()
}

/// Deletes a webhook's deliveries and marks it deleted at `at`, kept so
/// the log's entries about it stay its team's; false when it does not
/// exist (or was deleted).
pub fn delete(conn: &mut DbConnection, webhook_id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(webhook_id)))
        .execute(conn)?;
    let this =
        webhooks::table.filter(webhooks::webhook_id.eq(webhook_id)).filter(webhooks::deleted_at.is_null());
    Ok(diesel::update(this).set(webhooks::deleted_at.eq(at.naive_utc())).execute(conn)? == 1)
}

/// The webhook `webhook_id`.
pub fn find(conn: &mut DbConnection, webhook_id: &str) -> Result<Option<WebhookRecord>, StoreError> {
    let row: Option<WebhookRow> = webhooks::table
        .filter(webhooks::webhook_id.eq(webhook_id))
        .filter(webhooks::deleted_at.is_null())
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()?;
    row.map(webhook_of).transpose()
}

/// Team `team_id`'s webhooks, oldest first.
pub fn of_team(conn: &mut DbConnection, team_id: &str) -> Result<Vec<WebhookRecord>, StoreError> {
    let rows: Vec<WebhookRow> = webhooks::table
        .filter(webhooks::team_id.eq(team_id))
        .filter(webhooks::deleted_at.is_null())
        .order((webhooks::created_at, webhooks::webhook_id))
        .select(WebhookRow::as_select())
        .load(conn)?;
    rows.into_iter().map(webhook_of).collect()
}

/// Every webhook, oldest first.
pub fn all(conn: &mut DbConnection) -> Result<Vec<WebhookRecord>, StoreError> {
    let rows: Vec<WebhookRow> = webhooks::table
        .filter(webhooks::deleted_at.is_null())
        .order((webhooks::created_at, webhooks::webhook_id))
        .select(WebhookRow::as_select())
        .load(conn)?;
    rows.into_iter().map(webhook_of).collect()
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Out of attempts.
    Failed,
}

impl DeliveryStatus {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "pending" => Ok(Self::Pending),
            "delivered" => Ok(Self::Delivered),
            "failed" => Ok(Self::Failed),
            other => {
                Err(StoreError::Corrupt { table: "webhook_deliveries", reason: format!("status `{other}`") })
            }
        }
    }
}

/// A delivery as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// Its id: the `webhook-id` header, the same on every attempt.
    pub delivery_id: String,
    /// The endpoint.
    pub webhook_id: String,
    /// The event's name.
    pub event: String,
    /// The body sent, JSON.
    pub payload: String,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due (or the current one's lease ends).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the last attempt was made.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The last attempt's HTTP status.
    pub last_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// A `webhook_deliveries` row.
#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
struct DeliveryRow {
    delivery_id: String,
    webhook_id: String,
    event: String,
    payload: String,
    created_at: NaiveDateTime,
    status: String,
    attempts: i64,
    next_attempt_at: Option<NaiveDateTime>,
    last_attempt_at: Option<NaiveDateTime>,
    last_status: Option<i64>,
    last_error: Option<String>,
}

fn delivery_of(row: DeliveryRow) -> Result<DeliveryRecord, StoreError> {
    Ok(DeliveryRecord {
        status: DeliveryStatus::parse(&row.status)?,
        delivery_id: row.delivery_id,
        webhook_id: row.webhook_id,
        event: row.event,
        payload: row.payload,
        created_at: row.created_at.and_utc(),
        attempts: row.attempts,
        next_attempt_at: row.next_attempt_at.map(|at| at.and_utc()),
        last_attempt_at: row.last_attempt_at.map(|at| at.and_utc()),
        last_status: row.last_status,
        last_error: row.last_error,
    })
}

/// Queues `delivery`.
pub fn enqueue(conn: &mut DbConnection, delivery: &DeliveryRecord) -> Result<(), StoreError> {
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::delivery_id.eq(&delivery.delivery_id),
            webhook_deliveries::webhook_id.eq(&delivery.webhook_id),
            webhook_deliveries::event.eq(&delivery.event),
            webhook_deliveries::payload.eq(&delivery.payload),
            webhook_deliveries::created_at.eq(delivery.created_at.naive_utc()),
            webhook_deliveries::status.eq(delivery.status.as_str()),
            webhook_deliveries::attempts.eq(delivery.attempts),
            webhook_deliveries::next_attempt_at.eq(delivery.next_attempt_at.map(|at| at.naive_utc())),
        ))
        .execute(conn)?;
    Ok(())
}

/// The enabled endpoints with deliveries due by `now`, each once.
pub fn with_due(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
    Ok(webhook_deliveries::table
        .inner_join(webhooks::table)
        .filter(webhooks::enabled.eq(true))
        .filter(webhook_deliveries::next_attempt_at.le(now.naive_utc()))
        .select(webhook_deliveries::webhook_id)
        .distinct()
        .load(conn)?)
}

/// Up to `limit` deliveries to `webhook_id` due by `now`, oldest due first.
pub fn due(
    conn: &mut DbConnection,
    webhook_id: &str,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DeliveryRecord>, StoreError> {
    let rows: Vec<DeliveryRow> = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .filter(webhook_deliveries::next_attempt_at.le(now.naive_utc()))
        .order(webhook_deliveries::next_attempt_at)
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(conn)?;
    rows.into_iter().map(delivery_of).collect()
}

/// Takes `delivery` for an attempt until `until`, if no one took it since
/// it was read (its due time unchanged); returns the lease's end as stored
/// (to microseconds, what both backends keep), which [`record_attempt`]
/// checks is still this caller's.
pub fn lease(
    conn: &mut DbConnection,
    delivery: &DeliveryRecord,
    until: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let Some(due) = delivery.next_attempt_at else { return Ok(None) };
    let until = until.duration_trunc(chrono::TimeDelta::microseconds(1)).unwrap_or(until);
    let taken = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::delivery_id.eq(&delivery.delivery_id))
            .filter(webhook_deliveries::next_attempt_at.eq(due.naive_utc())),
    )
    .set(webhook_deliveries::next_attempt_at.eq(until.naive_utc()))
    .execute(conn)?;
    Ok((taken == 1).then_some(until))
}

/// Records an attempt at `at` made under the lease ending `leased_until`:
/// its outcome and what comes next. False when the lease was lost (it ran
/// out and another instance took the delivery): nothing is written.
pub fn record_attempt(
    conn: &mut DbConnection,
    delivery: &DeliveryRecord,
    leased_until: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let recorded = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::delivery_id.eq(&delivery.delivery_id))
            .filter(webhook_deliveries::next_attempt_at.eq(leased_until.naive_utc())),
    )
    .set((
        webhook_deliveries::status.eq(delivery.status.as_str()),
        webhook_deliveries::attempts.eq(delivery.attempts),
        webhook_deliveries::next_attempt_at.eq(delivery.next_attempt_at.map(|at| at.naive_utc())),
        webhook_deliveries::last_attempt_at.eq(at.naive_utc()),
        webhook_deliveries::last_status.eq(delivery.last_status),
        webhook_deliveries::last_error.eq(&delivery.last_error),
    ))
    .execute(conn)?;
    Ok(recorded == 1)
}

/// The latest `limit` deliveries of `webhook_id`, newest first.
pub fn of_webhook(
    conn: &mut DbConnection,
    webhook_id: &str,
    limit: i64,
) -> Result<Vec<DeliveryRecord>, StoreError> {
    let rows: Vec<DeliveryRow> = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook_id))
        .order((webhook_deliveries::created_at.desc(), webhook_deliveries::delivery_id.desc()))
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(conn)?;
    rows.into_iter().map(delivery_of).collect()
}

/// Deletes finished deliveries queued before `cutoff`.
pub fn delete_finished_before(conn: &mut DbConnection, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        webhook_deliveries::table
            .filter(webhook_deliveries::next_attempt_at.is_null())
            .filter(webhook_deliveries::created_at.lt(cutoff.naive_utc())),
    )
    .execute(conn)?)
}

/// The audit position events have been queued up to, locked for the
/// caller's transaction.
pub fn lock_cursor(conn: &mut DbConnection) -> Result<i64, StoreError> {
    // A write first, in the caller's transaction: it takes the write lock
    // (SQLite) or the row's (PostgreSQL) before anything is read, so the
    // transaction neither fails to upgrade under other writers nor races
    // another instance for the same entries.
    diesel::update(webhook_cursor::table.filter(webhook_cursor::name.eq("audit")))
        .set(webhook_cursor::seq.eq(webhook_cursor::seq))
        .execute(conn)?;
    cursor(conn)
}

/// The audit position events have been queued up to, as last committed.
pub fn cursor(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(webhook_cursor::table
        .filter(webhook_cursor::name.eq("audit"))
        .select(webhook_cursor::seq)
        .first(conn)?)
}

/// Moves the cursor from `from` to `to`; false when another instance moved
/// it first (its transaction should then be rolled back).
pub fn advance_cursor(conn: &mut DbConnection, from: i64, to: i64) -> Result<bool, StoreError> {
    let moved = diesel::update(
        webhook_cursor::table.filter(webhook_cursor::name.eq("audit")).filter(webhook_cursor::seq.eq(from)),
    )
    .set(webhook_cursor::seq.eq(to))
    .execute(conn)?;
    Ok(moved == 1)
}
