//! Repository of signing keys. Private keys arrive and leave sealed; this
//! module never sees a plaintext key.

use crate::change_log::{self, ChangeKind};
use crate::schema::signing_keys;
use crate::{DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use portcullis_core::{KeyState, SigningAlgorithm};
use std::fmt;

/// A signing key as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    /// RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// The algorithm the key signs with.
    pub alg: SigningAlgorithm,
    /// Where the key is in its lifecycle.
    pub state: KeyState,
    /// The public JWK, as JSON.
    pub public_jwk: String,
    /// The PKCS#8 private key sealed under the key-encryption key `kek_id`.
    pub private_key_sealed: Vec<u8>,
    /// Fingerprint of the key-encryption key that sealed the private key.
    pub kek_id: String,
    /// When the key was generated.
    pub created_at: DateTime<Utc>,
    /// When it began signing.
    pub activated_at: Option<DateTime<Utc>>,
    /// When it stopped signing.
    pub retired_at: Option<DateTime<Utc>>,
    /// When it was withdrawn.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("state", &self.state)
            .field("kek_id", &self.kek_id)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys)]
struct Row {
    kid: String,
    alg: String,
    state: String,
    public_jwk: String,
    private_key_sealed: Vec<u8>,
    kek_id: String,
    created_at: NaiveDateTime,
    activated_at: Option<NaiveDateTime>,
    retired_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

impl From<&SigningKeyRecord> for Row {
    fn from(r: &SigningKeyRecord) -> Self {
        Row {
            kid: r.kid.clone(),
            alg: r.alg.as_str().to_owned(),
            state: r.state.as_str().to_owned(),
            public_jwk: r.public_jwk.clone(),
            private_key_sealed: r.private_key_sealed.clone(),
            kek_id: r.kek_id.clone(),
            created_at: r.created_at.naive_utc(),
            activated_at: r.activated_at.map(|t| t.naive_utc()),
            retired_at: r.retired_at.map(|t| t.naive_utc()),
            revoked_at: r.revoked_at.map(|t| t.naive_utc()),
        }
    }
}

impl TryFrom<Row> for SigningKeyRecord {
    type Error = StoreError;

    fn try_from(row: Row) -> Result<Self, StoreError> {
        let corrupt = |e: portcullis_core::UnknownValue| StoreError::Corrupt {
            table: "signing_keys",
            reason: format!("key {}: {e}", row.kid),
        };
        Ok(SigningKeyRecord {
            alg: row.alg.parse().map_err(corrupt)?,
            state: row.state.parse().map_err(corrupt)?,
            created_at: row.created_at.and_utc(),
            activated_at: row.activated_at.map(|t| t.and_utc()),
            retired_at: row.retired_at.map(|t| t.and_utc()),
            revoked_at: row.revoked_at.map(|t| t.and_utc()),
            kid: row.kid,
            public_jwk: row.public_jwk,
            private_key_sealed: row.private_key_sealed,
            kek_id: row.kek_id,
        })
    }
}

/// Stores a new key, recording the change for every instance. A second
/// `active` key for the same algorithm is refused with
/// [`StoreError::Conflict`], as is a duplicate `kid`.
pub fn insert(conn: &mut DbConnection, key: &SigningKeyRecord) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        diesel::insert_into(signing_keys::table)
            .values(Row::from(key))
            .execute(conn)
            .map_err(StoreError::from_write)?;
        change_log::append(conn, ChangeKind::Key, &key.kid, None)
    })
}

type KeyQuery = signing_keys::BoxedQuery<'static, <DbConnection as diesel::Connection>::Backend>;

fn load(
    conn: &mut DbConnection,
    filter: impl FnOnce(KeyQuery) -> KeyQuery,
) -> Result<Vec<SigningKeyRecord>, StoreError> {
    filter(signing_keys::table.into_boxed())
        .order((signing_keys::created_at.asc(), signing_keys::kid.asc()))
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(SigningKeyRecord::try_from)
        .collect()
}

/// Every key that is published in the JWKS, oldest first: the next and
/// active ones, and those retired after `retired_after` (a retired key stays
/// until every token it signed has expired). Revoked keys never are.
pub fn published(
    conn: &mut DbConnection,
    retired_after: DateTime<Utc>,
) -> Result<Vec<SigningKeyRecord>, StoreError> {
    let retired_after = retired_after.naive_utc();
    load(conn, |query| {
        query.filter(
            signing_keys::state.eq_any([KeyState::Next.as_str(), KeyState::Active.as_str()]).or(
                signing_keys::state
                    .eq(KeyState::Retired.as_str())
                    .and(signing_keys::retired_at.gt(retired_after)),
            ),
        )
    })
}

/// Every key, whatever its state, oldest first.
pub fn all(conn: &mut DbConnection) -> Result<Vec<SigningKeyRecord>, StoreError> {
    load(conn, |query| query)
}

/// What activating a key found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Activation {
    /// The key signs now; the key it replaced (if any) is retired.
    Activated {
        /// The retired predecessor's kid.
        retired: Option<String>,
    },
    /// The key is not `next`: only a next key can be activated.
    NotNext(KeyState),
    /// No such key.
    NotFound,
}

/// Makes the `next` key `kid` the signer for its algorithm, retiring the
/// active one, in one transaction, at `now`.
pub fn activate(conn: &mut DbConnection, kid: &str, now: DateTime<Utc>) -> Result<Activation, StoreError> {
    let now = now.naive_utc();
    conn.transaction(|conn| {
        let Some(key) = load(conn, |query| query.filter(signing_keys::kid.eq(kid.to_owned())))?.pop() else {
            return Ok(Activation::NotFound);
        };
        if key.state != KeyState::Next {
            return Ok(Activation::NotNext(key.state));
        }
        let active_of_alg = signing_keys::table
            .filter(signing_keys::alg.eq(key.alg.as_str()))
            .filter(signing_keys::state.eq(KeyState::Active.as_str()));
        let retired: Option<String> = active_of_alg.select(signing_keys::kid).first(conn).optional()?;
        diesel::update(active_of_alg)
            .set((signing_keys::state.eq(KeyState::Retired.as_str()), signing_keys::retired_at.eq(now)))
            .execute(conn)?;
        let activated = diesel::update(
            signing_keys::table
                .filter(signing_keys::kid.eq(kid))
                .filter(signing_keys::state.eq(KeyState::Next.as_str())),
        )
        .set((signing_keys::state.eq(KeyState::Active.as_str()), signing_keys::activated_at.eq(now)))
        .execute(conn)
        .map_err(StoreError::from_write)?;
        if activated != 1 {
            return Err(StoreError::Conflict(format!("key {kid} changed while it was activated")));
        }
        change_log::append(conn, ChangeKind::Key, kid, None)?;
        Ok(Activation::Activated { retired })
    })
}

/// Revokes key `kid` at `now`: it leaves the JWKS at once and nothing it
/// signed verifies any more. Returns the state it had, or `None` when there
/// is no such key or it was revoked already.
pub fn revoke(
    conn: &mut DbConnection,
    kid: &str,
    now: DateTime<Utc>,
) -> Result<Option<KeyState>, StoreError> {
    conn.transaction(|conn| {
        let state: Option<String> = signing_keys::table
            .filter(signing_keys::kid.eq(kid))
            .select(signing_keys::state)
            .first(conn)
            .optional()?;
        let Some(state) = state
            .map(|s| s.parse::<KeyState>())
            .transpose()
            .map_err(|e| StoreError::Corrupt { table: "signing_keys", reason: format!("key {kid}: {e}") })?
        else {
            return Ok(None);
        };
        if state == KeyState::Revoked {
            return Ok(None);
        }
        diesel::update(signing_keys::table.filter(signing_keys::kid.eq(kid)))
            .set((
                signing_keys::state.eq(KeyState::Revoked.as_str()),
                signing_keys::revoked_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
        change_log::append(conn, ChangeKind::Key, kid, None)?;
        Ok(Some(state))
    })
}
