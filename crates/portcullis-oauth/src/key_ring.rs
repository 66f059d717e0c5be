//! The signing keys of this instance: loaded from the database, with the
//! private keys unsealed into josekit signers and the JWKS serialised once;
//! it also makes (generates and seals) the keys the key operations store,
//! the first start's included.
//!
//! A key signs only once it has been published for
//! [`PUBLISHED_BEFORE_SIGNING`]; until then the key it replaced signs on.
//! So a key activated on one instance is in every instance's JWKS before
//! any instance signs with it, even when it was made to sign "at once".

use crate::subjects::Subjects;
use anyhow::{bail, Context};
use bytes::Bytes;
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_app::keys::{KeyMaker, RETIRED_KEY_PUBLISHED_FOR};
use portcullis_app::{Event, LocalMirror};
use portcullis_core::{Issuer, KeyState, SigningAlgorithm};
use portcullis_jose::{
    GeneratedKey, IdTokenClaims, Jwks, KeyEncryptionKey, PublicJwk, SigningKey, VerificationKey,
};
use portcullis_store::keys::{self, SigningKeyRecord};
use portcullis_store::server_settings;
use portcullis_store::{Database, DbConnection, StoreError};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

/// How long a new key is published before it signs: far longer than a
/// change takes to reach every instance (milliseconds, a poll interval at
/// worst), so a verifier that fetched the JWKS from any instance never meets
/// a token whose key it has not seen. The instances' clocks must agree to
/// well within this.
pub const PUBLISHED_BEFORE_SIGNING: TimeDelta = TimeDelta::seconds(2);

/// The setting naming the key-encryption key the installation first used.
const INSTALLED_KEK: &str = "kek.id";
/// Where an operator sets the key-encryption key, for the refusals to name.
const KEK_SETTINGS: &str = "PORTCULLIS_KEK or PORTCULLIS_KEK_FILE";

/// The signing keys of this instance, reloaded whenever they change on any
/// instance: each request works with the [`KeySet`] current when it began.
pub struct KeyRing {
    db: Database,
    kek: Arc<KeyEncryptionKey>,
    current: RwLock<Arc<KeySet>>,
    /// Held from a reload's read to its swap: a read that starts after
    /// another's swap sees all that one saw, so a slow read never restores
    /// a revoked key.
    reloading: Mutex<()>,
    subjects: Subjects,
}

/// One consistent view of the keys: the published ones and the active
/// signer of each algorithm.
pub struct KeySet {
    signers: BTreeMap<SigningAlgorithm, SigningKey>,
    /// The key an active key replaced, and until when it signs on: the
    /// active key's [`PUBLISHED_BEFORE_SIGNING`].
    outgoing: BTreeMap<SigningAlgorithm, (SigningKey, DateTime<Utc>)>,
    activated: Vec<ActiveKey>,
    verifiers: HashMap<String, VerificationKey>,
    jwks_json: Bytes,
}

/// An active signing key, and since when.
#[derive(Clone, Debug)]
pub struct ActiveKey {
    /// Its algorithm.
    pub alg: SigningAlgorithm,
    /// Its key id.
    pub kid: String,
    /// When it became active.
    pub since: DateTime<Utc>,
}

impl KeyRing {
    /// Whether `db` holds no installation yet: no published key and no
    /// key-encryption key recorded. Only then may a development
    /// key-encryption key be made.
    pub fn is_new_installation(db: &Database) -> anyhow::Result<bool> {
        let mut conn = db.get()?;
        Ok(published(&mut conn)?.is_empty() && server_settings::get(&mut conn, INSTALLED_KEK)?.is_none())
    }

    /// Opens the keys `db` holds, unsealed with `kek`.
    ///
    /// Refuses, changing nothing, when `kek` is not the key the installation
    /// first used or not the one that sealed the stored keys. An algorithm
    /// without an active key gets one from `App::install_signing_keys`,
    /// audited like every key change; this ring follows it as a mirror.
    pub fn open(db: &Database, kek: KeyEncryptionKey) -> anyhow::Result<Self> {
        Self::check_kek(db, &kek)?;
        let records = published(&mut *db.get()?)?;
        let set = KeySet::from_records(&records, &kek)?;
        Ok(Self {
            db: db.clone(),
            subjects: Subjects::new(&kek),
            kek: Arc::new(kek),
            current: RwLock::new(Arc::new(set)),
            reloading: Mutex::default(),
        })
    }

    /// Refuses `kek` unless it is the key the installation first used
    /// (recording it on first use) and the one that sealed every stored
    /// key, so that nothing is sealed that the others cannot open.
    pub fn check_kek(db: &Database, kek: &KeyEncryptionKey) -> anyhow::Result<()> {
        let mut conn = db.get()?;
        installed(&mut conn, kek)?;
        if let Some(foreign) = published(&mut conn)?.iter().find(|r| r.kek_id != kek.id()) {
            bail!(
                "wrong key-encryption key: the stored signing keys were sealed under key {}, but the configured \
                 key is {}; set {KEK_SETTINGS} as the server has it (nothing was changed)",
                foreign.kek_id,
                kek.id()
            );
        }
        Ok(())
    }

    /// The subjects users have at clients (public or pairwise).
    pub fn subjects(&self) -> &Subjects {
        &self.subjects
    }

    /// The key-encryption key, for the other secrets the application seals.
    pub fn kek(&self) -> Arc<KeyEncryptionKey> {
        self.kek.clone()
    }

    /// The keys as they are now.
    pub fn current(&self) -> Arc<KeySet> {
        self.current.read().expect("key ring lock").clone()
    }

    /// Reads the published keys again (after a change on any instance, and
    /// now and then so that retired keys leave the JWKS when their time is up).
    pub fn reload(&self) -> anyhow::Result<()> {
        self.reload_on(&mut *self.db.get()?)
    }

    /// [`KeyRing::reload`], on `conn`.
    pub fn reload_on(&self, conn: &mut DbConnection) -> anyhow::Result<()> {
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let records = published(conn)?;
        let set = KeySet::from_records(&records, &self.kek)?;
        *self.current.write().expect("key ring lock") = Arc::new(set);
        Ok(())
    }
}

/// Keys are generated here, sealed under this instance's key-encryption key.
impl KeyMaker for KeyRing {
    fn make(&self, alg: SigningAlgorithm, state: KeyState) -> anyhow::Result<SigningKeyRecord> {
        generate(alg, state, &self.kek)
    }
}

/// A key change applies to this instance as soon as it commits.
impl LocalMirror for KeyRing {
    fn apply(&self, conn: &mut DbConnection, events: &[Event]) {
        if events.iter().any(|e| e.name().starts_with("key.")) {
            if let Err(e) = self.reload_on(conn) {
                tracing::warn!(error = %e, "a key change will reach this instance through the change log");
            }
        }
    }
}

/// The published keys, as of now.
/// Checks that `kek` is the key this installation first used (recording it
/// on first use), so that no command seals what the others cannot open.
fn installed(conn: &mut portcullis_store::DbConnection, kek: &KeyEncryptionKey) -> anyhow::Result<()> {
    if server_settings::set_once(conn, INSTALLED_KEK, kek.id())? {
        return Ok(());
    }
    match server_settings::get(conn, INSTALLED_KEK)? {
        Some(first) if first != kek.id() => bail!(
            "wrong key-encryption key: this installation seals under key {first}, but the configured key is {}; \
             set {KEK_SETTINGS} to the key the server uses (nothing was changed)",
            kek.id()
        ),
        _ => Ok(()),
    }
}

fn published(conn: &mut portcullis_store::DbConnection) -> Result<Vec<SigningKeyRecord>, StoreError> {
    keys::published(conn, Utc::now() - RETIRED_KEY_PUBLISHED_FOR)
}

impl KeySet {
    fn from_records(records: &[SigningKeyRecord], kek: &KeyEncryptionKey) -> anyhow::Result<Self> {
        let mut signers = BTreeMap::new();
        let mut outgoing = BTreeMap::new();
        let mut activated = Vec::new();
        let now = Utc::now();
        let mut verifiers = HashMap::new();
        let mut jwks = Jwks::default();
        for record in records {
            let jwk: PublicJwk = serde_json::from_str(&record.public_jwk)
                .with_context(|| format!("stored public key {} is not a JWK", record.kid))?;
            if jwk.kid != record.kid || jwk.material.thumbprint() != record.kid {
                bail!("stored public key {} does not match its kid", record.kid);
            }
            if record.state == KeyState::Active {
                signers.insert(record.alg, unseal(record, kek)?);
                let since = record.activated_at.unwrap_or(record.created_at);
                activated.push(ActiveKey { alg: record.alg, kid: record.kid.clone(), since });
                let signs_from = record.created_at + PUBLISHED_BEFORE_SIGNING;
                // Retired in the transaction that activated this one.
                let replaced = records.iter().find(|r| {
                    r.alg == record.alg && r.state == KeyState::Retired && r.retired_at == record.activated_at
                });
                if let Some(replaced) = replaced.filter(|_| signs_from > now) {
                    outgoing.insert(record.alg, (unseal(replaced, kek)?, signs_from));
                }
            }
            verifiers.insert(record.kid.clone(), VerificationKey::from_jwk(&jwk)?);
            jwks.keys.push(jwk);
        }
        let jwks_json = Bytes::from(serde_json::to_vec(&jwks)?);
        Ok(Self { signers, outgoing, activated, verifiers, jwks_json })
    }

    /// The active keys, with when each became active.
    pub fn active_keys(&self) -> &[ActiveKey] {
        &self.activated
    }

    /// The key that signs for `alg` now: the active key, or the one it
    /// replaced while the active key is not yet published for
    /// [`PUBLISHED_BEFORE_SIGNING`].
    pub fn signer(&self, alg: SigningAlgorithm) -> Option<&SigningKey> {
        match self.outgoing.get(&alg) {
            Some((replaced, until)) if Utc::now() < *until => Some(replaced),
            _ => self.signers.get(&alg),
        }
    }

    /// The published key `kid`, for verifying tokens this server signed.
    pub fn verifier(&self, kid: &str) -> Option<&VerificationKey> {
        self.verifiers.get(kid)
    }

    /// The claims of an ID token this server issued as `issuer`, expired or
    /// not: an `id_token_hint` (OpenID Connect Core §3.1.2.1, RP-Initiated
    /// Logout §2). `None` for anything else.
    pub fn id_token_hint(&self, token: &str, issuer: &Issuer) -> Option<IdTokenClaims> {
        IdTokenClaims::verify(token, |kid| self.verifier(kid)).filter(|claims| claims.iss == issuer.as_str())
    }

    /// The JWK Set document, serialised.
    pub fn jwks_json(&self) -> &Bytes {
        &self.jwks_json
    }
}

/// The private key of `record`, unsealed.
fn unseal(record: &SigningKeyRecord, kek: &KeyEncryptionKey) -> anyhow::Result<SigningKey> {
    let der = kek
        .open(&record.private_key_sealed, &seal_context(&record.kid, record.alg))
        .with_context(|| format!("cannot unseal signing key {}", record.kid))?;
    Ok(SigningKey::from_pkcs8_der(record.alg, record.kid.clone(), &der)?)
}

/// Binds a sealed private key to its row, so a sealed key moved to another
/// row does not open.
fn seal_context(kid: &str, alg: SigningAlgorithm) -> Vec<u8> {
    format!("portcullis signing key\0{kid}\0{alg}").into_bytes()
}

fn generate(
    alg: SigningAlgorithm,
    state: KeyState,
    kek: &KeyEncryptionKey,
) -> anyhow::Result<SigningKeyRecord> {
    let generated = GeneratedKey::generate(alg)?;
    let kid = generated.public_jwk.kid.clone();
    let now = Utc::now();
    Ok(SigningKeyRecord {
        private_key_sealed: kek.seal(&generated.private_pkcs8, &seal_context(&kid, alg)),
        public_jwk: serde_json::to_string(&generated.public_jwk)?,
        kid,
        alg,
        state,
        kek_id: kek.id().to_owned(),
        created_at: now,
        activated_at: (state == KeyState::Active).then_some(now),
        retired_at: None,
        revoked_at: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An active key made `age` ago that replaced a retired one, as one
    /// activation leaves them.
    fn replaced_by_key_of_age(age: TimeDelta, kek: &KeyEncryptionKey) -> Vec<SigningKeyRecord> {
        let alg = SigningAlgorithm::Es256;
        let mut old = generate(alg, KeyState::Active, kek).unwrap();
        let mut new = generate(alg, KeyState::Next, kek).unwrap();
        new.created_at = Utc::now() - age;
        let activated = Utc::now();
        (old.state, old.retired_at) = (KeyState::Retired, Some(activated));
        (new.state, new.activated_at) = (KeyState::Active, Some(activated));
        vec![old, new]
    }

    #[test]
    fn a_new_key_signs_only_once_published_long_enough() {
        let kek = KeyEncryptionKey::generate();
        let records = replaced_by_key_of_age(TimeDelta::milliseconds(100), &kek);
        let set = KeySet::from_records(&records, &kek).unwrap();
        let signer = |set: &KeySet| set.signer(SigningAlgorithm::Es256).unwrap().kid().to_owned();
        assert_eq!(signer(&set), records[0].kid, "the replaced key signs on while the new one is fresh");
        assert!(set.verifier(&records[1].kid).is_some(), "the new key is published at once");

        let records = replaced_by_key_of_age(PUBLISHED_BEFORE_SIGNING + TimeDelta::milliseconds(1), &kek);
        let set = KeySet::from_records(&records, &kek).unwrap();
        assert_eq!(signer(&set), records[1].kid, "published long enough, the new key signs");
    }

    #[test]
    fn a_key_replacing_a_revoked_one_signs_at_once() {
        let kek = KeyEncryptionKey::generate();
        let records = replaced_by_key_of_age(TimeDelta::zero(), &kek);
        // A revoked key is not published: only its replacement is loaded.
        let set = KeySet::from_records(&records[1..], &kek).unwrap();
        assert_eq!(set.signer(SigningAlgorithm::Es256).unwrap().kid(), records[1].kid);
    }
}
