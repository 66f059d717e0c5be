//! Repository of signing keys. Private keys arrive and leave sealed; this
//! module never sees a plaintext key.

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

/// Stores a new key. A second `active` key for the same algorithm is refused
/// with [`StoreError::Conflict`], as is a duplicate `kid`.
pub fn insert(conn: &mut DbConnection, key: &SigningKeyRecord) -> Result<(), StoreError> {
    diesel::insert_into(signing_keys::table)
        .values(Row::from(key))
        .execute(conn)
        .map_err(StoreError::from_write)?;
    Ok(())
}

/// Every key that is published in the JWKS (all but the revoked ones),
/// oldest first.
pub fn published(conn: &mut DbConnection) -> Result<Vec<SigningKeyRecord>, StoreError> {
    signing_keys::table
        .filter(signing_keys::state.ne(KeyState::Revoked.as_str()))
        .order((signing_keys::created_at.asc(), signing_keys::kid.asc()))
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(SigningKeyRecord::try_from)
        .collect()
}
