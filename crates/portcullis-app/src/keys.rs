//! The signing-key lifecycle: `next` (published, not signing) → `active`
//! (signs; one per algorithm) → `retired` (published until every token it
//! signed has expired) → `revoked` (gone at once). Keys are made (generated
//! and sealed) by a [`KeyMaker`] before the transaction that stores them:
//! generating an RSA key takes long enough not to hold a transaction for.

use crate::transaction::{Attempt, Tx};
use crate::{time, Actor, App, AppError, Event, Permission};
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_core::client::MAX_ACCESS_TOKEN_LIFETIME;
use portcullis_core::{KeyState, SigningAlgorithm};
use portcullis_store::keys::{self, Activation, SigningKeyRecord};
use serde::Serialize;

/// How long a retired key stays published: the longest any token it
/// signed can live (access tokens are the longest-lived), and a minute more:
/// a replaced key signs on for a moment after it is retired, until its
/// successor is published on every instance.
pub const RETIRED_KEY_PUBLISHED_FOR: TimeDelta = TimeDelta::seconds(MAX_ACCESS_TOKEN_LIFETIME as i64 + 60);

/// Makes signing keys: generates one and seals its private part under the
/// key-encryption key, without storing it.
pub trait KeyMaker: Send + Sync {
    /// A new key for `alg` in `state`.
    fn make(&self, alg: SigningAlgorithm, state: KeyState) -> anyhow::Result<SigningKeyRecord>;
}

/// A key as views show it: never a private part.
#[derive(Clone, Debug, Serialize)]
pub struct KeyView {
    /// Its RFC 7638 thumbprint.
    pub kid: String,
    /// Its algorithm.
    pub alg: &'static str,
    /// `next`, `active`, `retired` or `revoked`.
    pub state: &'static str,
    /// Whether the JWKS holds it.
    pub published: bool,
    /// When it was made.
    pub created_at: String,
    /// When it began signing.
    pub activated_at: Option<String>,
    /// When it stopped signing.
    pub retired_at: Option<String>,
    /// When it was revoked.
    pub revoked_at: Option<String>,
}

/// Whether `key` is in the JWKS at `now`.
pub fn is_published(key: &SigningKeyRecord, now: DateTime<Utc>) -> bool {
    match key.state {
        KeyState::Next | KeyState::Active => true,
        KeyState::Retired => key.retired_at.is_some_and(|at| at > now - RETIRED_KEY_PUBLISHED_FOR),
        KeyState::Revoked => false,
    }
}

fn view(key: &SigningKeyRecord, now: DateTime<Utc>) -> KeyView {
    KeyView {
        kid: key.kid.clone(),
        alg: key.alg.as_str(),
        state: key.state.as_str(),
        published: is_published(key, now),
        created_at: time(key.created_at),
        activated_at: key.activated_at.map(time),
        retired_at: key.retired_at.map(time),
        revoked_at: key.revoked_at.map(time),
    }
}

fn keys<'a>(action: &'static str, target: &'a str) -> Attempt<'a> {
    Attempt { permission: Permission::Keys, action, target }
}

fn made(maker: &dyn KeyMaker, alg: SigningAlgorithm, state: KeyState) -> Result<SigningKeyRecord, AppError> {
    maker.make(alg, state).map_err(AppError::Unavailable)
}

/// Stores `key`, emitting what it became.
fn insert(tx: &mut Tx<'_>, key: &SigningKeyRecord) -> Result<(), AppError> {
    keys::insert(tx.conn, key)?;
    let (kid, alg) = (key.kid.clone(), key.alg.as_str().to_owned());
    tx.emit(match key.state {
        KeyState::Active => Event::KeyActivated { kid, alg },
        _ => Event::KeyStaged { kid, alg },
    });
    Ok(())
}

/// Makes the next key `kid` its algorithm's signer, retiring the one before.
fn activate(tx: &mut Tx<'_>, kid: &str) -> Result<(), AppError> {
    let all = keys::all(tx.conn)?;
    let alg_of =
        |kid: &str| all.iter().find(|k| k.kid == kid).map(|k| k.alg.as_str().to_owned()).unwrap_or_default();
    match keys::activate(tx.conn, kid, tx.now)? {
        Activation::Activated { retired } => {
            tx.emit(Event::KeyActivated { kid: kid.to_owned(), alg: alg_of(kid) });
            if let Some(retired) = retired {
                tx.emit(Event::KeyRetired { alg: alg_of(&retired), kid: retired });
            }
            Ok(())
        }
        Activation::NotNext(state) => {
            Err(AppError::Conflict(format!("key {kid} is {state}; only a next key can be activated")))
        }
        Activation::NotFound => Err(AppError::NotFound(format!("there is no key {kid}"))),
    }
}

impl App {
    /// Every key, whatever its state, oldest first.
    pub fn keys(&self, actor: &Actor) -> Result<Vec<KeyView>, AppError> {
        let now = self.now();
        self.read(actor, Permission::Keys, |conn| Ok(keys::all(conn)?.iter().map(|k| view(k, now)).collect()))
    }

    /// Stages a `next` key for `alg`: published at once, signing only once activated.
    pub fn stage_key(
        &self,
        actor: &Actor,
        maker: &dyn KeyMaker,
        alg: SigningAlgorithm,
    ) -> Result<KeyView, AppError> {
        self.with_new_key(actor, maker, (alg, "key.staged"), |tx, key| Ok(view(key, tx.now)))
    }

    /// Makes the next key `kid` the signer of its algorithm and retires the
    /// previous one; returns every key as it now is.
    pub fn activate_key(&self, actor: &Actor, kid: &str) -> Result<Vec<KeyView>, AppError> {
        self.change(actor, keys("key.activated", kid), |tx| {
            activate(tx, kid)?;
            Ok(keys::all(tx.conn)?.iter().map(|k| view(k, tx.now)).collect())
        })
    }

    /// Makes a key for `alg` the active one, retiring the previous one (each
    /// instance signs with it once it has published it for a moment).
    pub fn rotate_key(
        &self,
        actor: &Actor,
        maker: &dyn KeyMaker,
        alg: SigningAlgorithm,
    ) -> Result<KeyView, AppError> {
        self.with_new_key(actor, maker, (alg, "key.activated"), |tx, key| {
            activate(tx, &key.kid)?;
            let active =
                SigningKeyRecord { state: KeyState::Active, activated_at: Some(tx.now), ..key.clone() };
            Ok(view(&active, tx.now))
        })
    }

    /// Installs an active key for every algorithm that has none (the first
    /// start, or keys added in a release), each audited as `key.activated`.
    /// Several instances starting on one empty database race harmlessly:
    /// the database lets one key per algorithm become active, and the
    /// others' attempts are dropped, so every instance adopts that one.
    /// Returns the keys installed here.
    pub fn install_signing_keys(
        &self,
        actor: &Actor,
        maker: &dyn KeyMaker,
    ) -> Result<Vec<KeyView>, AppError> {
        let active: Vec<SigningAlgorithm> = self.read(actor, Permission::Keys, |conn| {
            Ok(keys::all(conn)?.iter().filter(|k| k.state == KeyState::Active).map(|k| k.alg).collect())
        })?;
        let mut installed = Vec::new();
        for alg in SigningAlgorithm::ALL.into_iter().filter(|alg| !active.contains(alg)) {
            let key = made(maker, alg, KeyState::Active)?;
            self.permit(actor, &keys("key.activated", &key.kid))?;
            // Committed without auditing a conflict as a refusal: losing the race is no refusal.
            match self.commit(actor, |tx| {
                insert(tx, &key)?;
                Ok(view(&key, tx.now))
            }) {
                Ok(view) => installed.push(view),
                Err(AppError::Conflict(_)) => {
                    tracing::info!(alg = %alg, "another instance installed the signing key")
                }
                Err(e) => return Err(e),
            }
        }
        Ok(installed)
    }

    /// Makes a `next` key for `alg` before the transaction, then stores it
    /// and runs `finish` in one, audited under `action`.
    fn with_new_key(
        &self,
        actor: &Actor,
        maker: &dyn KeyMaker,
        (alg, action): (SigningAlgorithm, &'static str),
        finish: impl FnOnce(&mut Tx<'_>, &SigningKeyRecord) -> Result<KeyView, AppError>,
    ) -> Result<KeyView, AppError> {
        self.permit(actor, &keys(action, ""))?;
        let key = made(maker, alg, KeyState::Next)?;
        self.change(actor, keys(action, &key.kid), |tx| {
            insert(tx, &key)?;
            finish(tx, &key)
        })
    }

    /// Revokes `kid` at once. When it was the active key of its algorithm, a
    /// new active key takes its place, returned here, so signing never stops.
    pub fn revoke_key(
        &self,
        actor: &Actor,
        maker: &dyn KeyMaker,
        kid: &str,
    ) -> Result<Option<KeyView>, AppError> {
        actor.require(Permission::Keys)?;
        let found = self.keys(actor)?.into_iter().find(|k| k.kid == kid);
        let successor = match &found {
            Some(key) if key.state == KeyState::Active.as_str() => {
                let alg =
                    key.alg.parse().map_err(|e| AppError::unavailable(anyhow::anyhow!("key {kid}: {e}")))?;
                Some(made(maker, alg, KeyState::Active)?)
            }
            _ => None,
        };
        self.change(actor, keys("key.revoked", kid), |tx| {
            let alg = found.as_ref().map(|k| k.alg.to_owned()).unwrap_or_default();
            let was = keys::revoke(tx.conn, kid, tx.now)?
                .ok_or_else(|| AppError::NotFound(format!("there is no key {kid}")))?;
            tx.emit(Event::KeyRevoked { kid: kid.to_owned(), alg });
            match (was, successor) {
                (KeyState::Active, Some(successor)) => {
                    insert(tx, &successor)?;
                    Ok(Some(view(&successor, tx.now)))
                }
                // It became active since it was read: revoking it now would stop signing.
                (KeyState::Active, None) => {
                    Err(AppError::Conflict(format!("key {kid} was activated meanwhile; revoke it again")))
                }
                _ => Ok(None),
            }
        })
    }
}
