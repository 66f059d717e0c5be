//! Repository of device authorization grants (RFC 8628): stored under the
//! hash of the device code, found by the user code the user types, decided
//! once by the user, polled by the device and redeemed at most once.

use crate::schema::device_grants;
use crate::{json, DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use portcullis_core::grant::CodeDetails;

/// How far along a device grant is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Waiting for the user.
    Pending,
    /// The user approved; not yet redeemed.
    Approved,
    /// The user denied.
    Denied,
    /// The device got its tokens.
    Redeemed,
}

impl DeviceStatus {
    const ALL: [Self; 4] = [Self::Pending, Self::Approved, Self::Denied, Self::Redeemed];

    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Redeemed => "redeemed",
        }
    }

    fn parse(stored: &str) -> Result<Self, StoreError> {
        Self::ALL.into_iter().find(|status| status.as_str() == stored).ok_or_else(|| StoreError::Corrupt {
            table: "device_grants",
            reason: format!("status `{stored}`"),
        })
    }
}

/// A device grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceGrantRecord {
    /// SHA-256 of the device code.
    pub device_code_hash: Vec<u8>,
    /// The user code, normalised (no separator, upper case).
    pub user_code: String,
    /// The grant its tokens belong to, for revocation.
    pub grant_id: String,
    /// The client that asked.
    pub client_id: String,
    /// The scope asked for.
    pub scope: String,
    /// How far along it is.
    pub status: DeviceStatus,
    /// What the user approved, once approved.
    pub details: Option<CodeDetails>,
    /// Seconds the device waits between polls.
    pub interval_seconds: i32,
    /// When the device last polled.
    pub polled_at: Option<DateTime<Utc>>,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When its codes stop working.
    pub expires_at: DateTime<Utc>,
}

/// A row of `device_grants`, as diesel reads and writes it.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = device_grants)]
struct GrantRow {
    device_code_hash: Vec<u8>,
    user_code: String,
    grant_id: String,
    client_id: String,
    scope: String,
    status: String,
    details: Option<String>,
    interval_seconds: i32,
    polled_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

impl TryFrom<GrantRow> for DeviceGrantRecord {
    type Error = StoreError;

    fn try_from(row: GrantRow) -> Result<Self, StoreError> {
        Ok(Self {
            status: DeviceStatus::parse(&row.status)?,
            details: row.details.map(|d| json::read("device_grants", "approved details", &d)).transpose()?,
            polled_at: row.polled_at.map(|at| at.and_utc()),
            created_at: row.created_at.and_utc(),
            expires_at: row.expires_at.and_utc(),
            device_code_hash: row.device_code_hash,
            user_code: row.user_code,
            grant_id: row.grant_id,
            client_id: row.client_id,
            scope: row.scope,
            interval_seconds: row.interval_seconds,
        })
    }
}

impl TryFrom<&DeviceGrantRecord> for GrantRow {
    type Error = StoreError;

    fn try_from(grant: &DeviceGrantRecord) -> Result<Self, StoreError> {
        Ok(Self {
            device_code_hash: grant.device_code_hash.clone(),
            user_code: grant.user_code.clone(),
            grant_id: grant.grant_id.clone(),
            client_id: grant.client_id.clone(),
            scope: grant.scope.clone(),
            status: grant.status.as_str().to_owned(),
            details: grant.details.as_ref().map(|d| json::write("device_grants", d)).transpose()?,
            interval_seconds: grant.interval_seconds,
            polled_at: grant.polled_at.map(|at| at.naive_utc()),
            created_at: grant.created_at.naive_utc(),
            expires_at: grant.expires_at.naive_utc(),
        })
    }
}

/// Stores a new pending grant; [`StoreError::Conflict`] when its user code
/// is taken.
pub fn insert(conn: &mut DbConnection, grant: &DeviceGrantRecord) -> Result<(), StoreError> {
    diesel::insert_into(device_grants::table)
        .values(GrantRow::try_from(grant)?)
        .execute(conn)
        .map_err(StoreError::from_write)?;
    Ok(())
}

/// The pending grant whose user code is `user_code`, live at `now`.
pub fn pending(
    conn: &mut DbConnection,
    user_code: &str,
    now: DateTime<Utc>,
) -> Result<Option<DeviceGrantRecord>, StoreError> {
    device_grants::table
        .filter(device_grants::user_code.eq(user_code))
        .filter(device_grants::status.eq(DeviceStatus::Pending.as_str()))
        .filter(device_grants::expires_at.gt(now.naive_utc()))
        .select(GrantRow::as_select())
        .first(conn)
        .optional()?
        .map(DeviceGrantRecord::try_from)
        .transpose()
}

/// Every pending grant live at `now`, newest first.
pub fn all_pending(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
) -> Result<Vec<DeviceGrantRecord>, StoreError> {
    device_grants::table
        .filter(device_grants::status.eq(DeviceStatus::Pending.as_str()))
        .filter(device_grants::expires_at.gt(now.naive_utc()))
        .order(device_grants::created_at.desc())
        .limit(1000)
        .select(GrantRow::as_select())
        .load(conn)?
        .into_iter()
        .map(DeviceGrantRecord::try_from)
        .collect()
}

/// Decides the pending grant `user_code`: approved with `details`, or
/// denied without. False when it was no longer pending and live.
pub fn decide(
    conn: &mut DbConnection,
    user_code: &str,
    details: Option<&CodeDetails>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let (status, details) = match details {
        Some(details) => (DeviceStatus::Approved, Some(json::write("device_grants", details)?)),
        None => (DeviceStatus::Denied, None),
    };
    let decided = diesel::update(
        device_grants::table
            .filter(device_grants::user_code.eq(user_code))
            .filter(device_grants::status.eq(DeviceStatus::Pending.as_str()))
            .filter(device_grants::expires_at.gt(now.naive_utc())),
    )
    .set((device_grants::status.eq(status.as_str()), device_grants::details.eq(details)))
    .execute(conn)?;
    Ok(decided == 1)
}

/// What a device's poll found (RFC 8628 §3.5).
#[derive(Debug, PartialEq, Eq)]
pub enum Poll {
    /// No such device code for this client.
    Unknown,
    /// Its codes expired.
    Expired,
    /// The user has not decided yet.
    Pending,
    /// Polled within its interval: the interval is now `interval` seconds.
    TooFast {
        /// The new interval.
        interval: i32,
    },
    /// The user denied.
    Denied,
    /// Redeemed before.
    Redeemed,
    /// Approved, and now redeemed by this poll (one update decides).
    Approved(Box<DeviceGrantRecord>),
    /// Approved by a user disabled since (or gone): now denied instead.
    Withdrawn(Box<DeviceGrantRecord>),
}

/// By how much a device's interval grows each time it polls too fast (RFC 8628 §3.5).
pub const SLOW_DOWN_SECONDS: i32 = 5;

/// Polls the grant of `device_code_hash` for `client_id` at `now`.
pub fn poll(
    conn: &mut DbConnection,
    device_code_hash: &[u8],
    client_id: &str,
    now: DateTime<Utc>,
) -> Result<Poll, StoreError> {
    conn.transaction(|conn| {
        let found = device_grants::table
            .filter(device_grants::device_code_hash.eq(device_code_hash))
            .filter(device_grants::client_id.eq(client_id))
            .select(GrantRow::as_select())
            .first(conn)
            .optional()?;
        let Some(grant) = found.map(DeviceGrantRecord::try_from).transpose()? else {
            return Ok(Poll::Unknown);
        };
        if grant.expires_at <= now {
            return Ok(Poll::Expired);
        }
        let this = device_grants::table.filter(device_grants::device_code_hash.eq(device_code_hash));
        match grant.status {
            DeviceStatus::Pending => {
                let too_fast = grant
                    .polled_at
                    .is_some_and(|at| (now - at).num_seconds() < i64::from(grant.interval_seconds));
                let interval = grant.interval_seconds + if too_fast { SLOW_DOWN_SECONDS } else { 0 };
                diesel::update(this)
                    .set((
                        device_grants::polled_at.eq(now.naive_utc()),
                        device_grants::interval_seconds.eq(interval),
                    ))
                    .execute(conn)?;
                Ok(if too_fast { Poll::TooFast { interval } } else { Poll::Pending })
            }
            DeviceStatus::Denied => Ok(Poll::Denied),
            DeviceStatus::Redeemed => Ok(Poll::Redeemed),
            DeviceStatus::Approved => {
                // An approval stands only while its user may sign in; one update
                // settles it either way, so of concurrent polls exactly one does.
                let enabled = match &grant.details {
                    Some(details) => crate::users::find(conn, &details.user_id)?
                        .is_some_and(|user| user.disabled_at.is_none()),
                    None => false,
                };
                let settled = if enabled { DeviceStatus::Redeemed } else { DeviceStatus::Denied };
                let won =
                    diesel::update(this.filter(device_grants::status.eq(DeviceStatus::Approved.as_str())))
                        .set(device_grants::status.eq(settled.as_str()))
                        .execute(conn)?
                        == 1;
                Ok(match (won, enabled) {
                    (false, _) => Poll::Redeemed,
                    (true, true) => Poll::Approved(Box::new(grant)),
                    (true, false) => Poll::Withdrawn(Box::new(grant)),
                })
            }
        }
    })
}

/// Deletes grants that expired before `now`; returns how many.
pub fn delete_expired(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(device_grants::table.filter(device_grants::expires_at.lt(now.naive_utc())))
        .execute(conn)?)
}
