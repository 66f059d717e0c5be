//! The signing-key lifecycle: `next` (published, not signing) → `active`
//! (signs; one per algorithm) → `retired` (published until every token it
//! signed has expired) → `revoked` (gone at once). The admin API calls
//! these; each change reaches every instance through the change log, and
//! this instance at once.

use crate::key_ring::{KeyRing, RETIRED_KEY_PUBLISHED_FOR};
use chrono::{DateTime, Utc};
use portcullis_core::{KeyState, SigningAlgorithm};
use portcullis_store::keys::{self, Activation, SigningKeyRecord};
use portcullis_store::Database;

/// Why a key change was not made.
#[derive(Debug, thiserror::Error)]
pub enum KeyChangeError {
    /// No such key.
    #[error("there is no key {0}")]
    NotFound(String),
    /// Only a `next` key can be activated.
    #[error("key {kid} is {state}; only a next key can be activated")]
    NotNext {
        /// The key.
        kid: String,
        /// Its state.
        state: KeyState,
    },
    /// Storage or key generation failed.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<portcullis_store::StoreError> for KeyChangeError {
    fn from(error: portcullis_store::StoreError) -> Self {
        Self::Failed(error.into())
    }
}

/// Whether `key` is in the JWKS at `now`.
pub fn is_published(key: &SigningKeyRecord, now: DateTime<Utc>) -> bool {
    match key.state {
        KeyState::Next | KeyState::Active => true,
        KeyState::Retired => key.retired_at.is_some_and(|at| at > now - RETIRED_KEY_PUBLISHED_FOR),
        KeyState::Revoked => false,
    }
}

/// Every key, whatever its state, oldest first.
pub fn list(db: &Database) -> Result<Vec<SigningKeyRecord>, KeyChangeError> {
    Ok(keys::all(&mut *db.get().map_err(anyhow::Error::from)?)?)
}

fn reloaded<T>(ring: &KeyRing, value: T) -> Result<T, KeyChangeError> {
    ring.reload()?;
    Ok(value)
}

/// Creates a `next` key for `alg`: published at once, signing only once activated.
pub fn create_next(ring: &KeyRing, alg: SigningAlgorithm) -> Result<SigningKeyRecord, KeyChangeError> {
    let key = ring.create(alg, KeyState::Next)?;
    reloaded(ring, key)
}

/// Makes the next key `kid` the signer for its algorithm and retires the
/// previous one; returns the retired key's kid.
pub fn activate(ring: &KeyRing, db: &Database, kid: &str) -> Result<Option<String>, KeyChangeError> {
    let activation = keys::activate(&mut *db.get().map_err(anyhow::Error::from)?, kid, Utc::now())?;
    match activation {
        Activation::Activated { retired } => reloaded(ring, retired),
        Activation::NotNext(state) => Err(KeyChangeError::NotNext { kid: kid.to_owned(), state }),
        Activation::NotFound => Err(KeyChangeError::NotFound(kid.to_owned())),
    }
}

/// Creates a key for `alg` and activates it at once, retiring the previous one.
pub fn rotate(
    ring: &KeyRing,
    db: &Database,
    alg: SigningAlgorithm,
) -> Result<SigningKeyRecord, KeyChangeError> {
    let key = ring.create(alg, KeyState::Next)?;
    activate(ring, db, &key.kid)?;
    Ok(SigningKeyRecord { state: KeyState::Active, activated_at: Some(Utc::now()), ..key })
}

/// Revokes `kid` at once. When it was the active key of its algorithm, a new
/// active key takes its place, returned here, so signing never stops.
pub fn revoke(ring: &KeyRing, db: &Database, kid: &str) -> Result<Option<SigningKeyRecord>, KeyChangeError> {
    let all = list(db)?;
    let key = all.iter().find(|k| k.kid == kid).ok_or_else(|| KeyChangeError::NotFound(kid.to_owned()))?;
    let was = keys::revoke(&mut *db.get().map_err(anyhow::Error::from)?, kid, Utc::now())?
        .ok_or_else(|| KeyChangeError::NotFound(kid.to_owned()))?;
    let replacement = match was {
        KeyState::Active => Some(ring.create(key.alg, KeyState::Active)?),
        _ => None,
    };
    reloaded(ring, replacement)
}
