//! The signing keys of this instance: loaded from the database, with the
//! private keys unsealed into josekit signers and the JWKS serialised once;
//! it also makes (generates and seals) the keys the key operations store,
//! the first start's included.
//!
//! A key signs only once this instance has published it for
//! [`PUBLISHED_BEFORE_SIGNING`]; until then the key it replaced signs on.
//! So a key activated on one instance is in every instance's JWKS before
//! any instance signs with it, even when it was made to sign "at once"
//! (a revoked key's replacement excepted: nothing else may sign).

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

/// How long an instance publishes a new key before it signs with it: far
/// longer than a change takes to reach every instance (milliseconds, a poll
/// interval at worst), so when one instance signs with a key, every other
/// instance already publishes it. Counted from when this instance first
/// loaded the key (its creation for the keys loaded at start), by this
/// instance's own clock. (Verifiers that cache the JWKS are served by
/// staging keys `--jwks-max-age` ahead, as the rotation job does.)
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
    /// When this instance first loaded each published key.
    first_seen: Mutex<HashMap<String, DateTime<Utc>>>,
    subjects: Subjects,
}

/// One consistent view of the keys: the published ones and the active
/// signer of each algorithm.
pub struct KeySet {
    /// For each algorithm, the active key and from when it signs; while it
    /// waits, the keys it replaced, newest first, back to one that signs.
    signers: BTreeMap<SigningAlgorithm, Vec<(SigningKey, DateTime<Utc>)>>,
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
        // Keys published before this start are as old as they are.
        let first_seen: HashMap<_, _> = records.iter().map(|r| (r.kid.clone(), r.created_at)).collect();
        let set = KeySet::from_records(&records, &kek, &first_seen)?;
        Ok(Self {
            db: db.clone(),
            subjects: Subjects::new(&kek),
            kek: Arc::new(kek),
            current: RwLock::new(Arc::new(set)),
            reloading: Mutex::default(),
            first_seen: Mutex::new(first_seen),
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
        let set = {
            let mut first_seen = self.first_seen.lock().expect("first seen lock");
            let now = Utc::now();
            first_seen.retain(|kid, _| records.iter().any(|r| r.kid == *kid));
            for record in &records {
                first_seen.entry(record.kid.clone()).or_insert(now);
            }
            KeySet::from_records(&records, &self.kek, &first_seen)?
        };
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
    /// The keys of `records`, each signing from [`PUBLISHED_BEFORE_SIGNING`]
    /// after it was `first_seen` here (or created, if later).
    fn from_records(
        records: &[SigningKeyRecord],
        kek: &KeyEncryptionKey,
        first_seen: &HashMap<String, DateTime<Utc>>,
    ) -> anyhow::Result<Self> {
        let mut signers = BTreeMap::new();
        let mut activated = Vec::new();
        let now = Utc::now();
        let signs_from = |record: &SigningKeyRecord| {
            let seen = first_seen.get(&record.kid).copied().unwrap_or(record.created_at);
            seen.max(record.created_at) + PUBLISHED_BEFORE_SIGNING
        };
        // The key `newer` replaced: retired in the transaction that activated it.
        let replaced_by = |newer: &SigningKeyRecord| {
            records.iter().find(|r| {
                r.alg == newer.alg
                    && r.state == KeyState::Retired
                    && r.retired_at.is_some()
                    && r.retired_at == newer.activated_at
            })
        };
        let mut verifiers = HashMap::new();
        let mut jwks = Jwks::default();
        for record in records {
            let jwk: PublicJwk = serde_json::from_str(&record.public_jwk)
                .with_context(|| format!("stored public key {} is not a JWK", record.kid))?;
            if jwk.kid != record.kid || jwk.material.thumbprint() != record.kid {
                bail!("stored public key {} does not match its kid", record.kid);
            }
            if record.state == KeyState::Active {
                let mut chain = vec![(unseal(record, kek)?, signs_from(record))];
                let mut newest = record;
                while chain.last().is_some_and(|(_, from)| *from > now) && chain.len() < records.len() {
                    let Some(replaced) = replaced_by(newest) else { break };
                    chain.push((unseal(replaced, kek)?, signs_from(replaced)));
                    newest = replaced;
                }
                signers.insert(record.alg, chain);
                let since = record.activated_at.unwrap_or(record.created_at);
                activated.push(ActiveKey { alg: record.alg, kid: record.kid.clone(), since });
            }
            verifiers.insert(record.kid.clone(), VerificationKey::from_jwk(&jwk)?);
            jwks.keys.push(jwk);
        }
        let jwks_json = Bytes::from(serde_json::to_vec(&jwks)?);
        Ok(Self { signers, activated, verifiers, jwks_json })
    }

    /// The active keys, with when each became active.
    pub fn active_keys(&self) -> &[ActiveKey] {
        &self.activated
    }

    /// The key that signs for `alg` now: the active key once published for
    /// [`PUBLISHED_BEFORE_SIGNING`], until then the newest key it replaced
    /// that was (or the oldest of them).
    pub fn signer(&self, alg: SigningAlgorithm) -> Option<&SigningKey> {
        let chain = self.signers.get(&alg)?;
        if let [(active, _)] = chain.as_slice() {
            return Some(active);
        }
        let now = Utc::now();
        chain.iter().find(|(_, from)| *from <= now).or(chain.last()).map(|(key, _)| key)
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

    /// Keys of one algorithm, each made at the age given (oldest first),
    /// each activation retiring the one before, as activations leave them.
    fn rotated(ages: &[TimeDelta], kek: &KeyEncryptionKey) -> Vec<SigningKeyRecord> {
        let mut records: Vec<SigningKeyRecord> = Vec::new();
        for age in ages {
            let mut key = generate(SigningAlgorithm::Es256, KeyState::Active, kek).unwrap();
            key.created_at = Utc::now() - *age;
            key.activated_at = Some(key.created_at);
            if let Some(previous) = records.last_mut() {
                (previous.state, previous.retired_at) = (KeyState::Retired, key.activated_at);
            }
            records.push(key);
        }
        records
    }

    fn signer(set: &KeySet) -> String {
        set.signer(SigningAlgorithm::Es256).unwrap().kid().to_owned()
    }

    fn published_at_creation(records: &[SigningKeyRecord]) -> HashMap<String, DateTime<Utc>> {
        records.iter().map(|r| (r.kid.clone(), r.created_at)).collect()
    }

    #[test]
    fn a_new_key_signs_only_once_published_long_enough() {
        let kek = KeyEncryptionKey::generate();
        let records = rotated(&[TimeDelta::days(1), TimeDelta::milliseconds(100)], &kek);
        let set = KeySet::from_records(&records, &kek, &published_at_creation(&records)).unwrap();
        assert_eq!(signer(&set), records[0].kid, "the replaced key signs on while the new one is fresh");
        assert!(set.verifier(&records[1].kid).is_some(), "the new key is published at once");

        let records =
            rotated(&[TimeDelta::days(1), PUBLISHED_BEFORE_SIGNING + TimeDelta::milliseconds(1)], &kek);
        let set = KeySet::from_records(&records, &kek, &published_at_creation(&records)).unwrap();
        assert_eq!(signer(&set), records[1].kid, "published long enough, the new key signs");
    }

    #[test]
    fn a_key_signs_two_seconds_after_this_instance_first_loaded_it() {
        let kek = KeyEncryptionKey::generate();
        // Made long ago (a slow commit), loaded here only now.
        let records = rotated(&[TimeDelta::days(1), TimeDelta::minutes(1)], &kek);
        let mut first_seen = published_at_creation(&records);
        first_seen.insert(records[1].kid.clone(), Utc::now());
        let set = KeySet::from_records(&records, &kek, &first_seen).unwrap();
        assert_eq!(signer(&set), records[0].kid);
    }

    #[test]
    fn two_rotations_in_a_moment_fall_back_to_the_last_key_that_signed() {
        let kek = KeyEncryptionKey::generate();
        let ages = [TimeDelta::days(1), TimeDelta::milliseconds(500), TimeDelta::milliseconds(100)];
        let records = rotated(&ages, &kek);
        let set = KeySet::from_records(&records, &kek, &published_at_creation(&records)).unwrap();
        assert_eq!(signer(&set), records[0].kid, "neither new key is published everywhere yet");
    }

    #[test]
    fn a_key_replacing_a_revoked_one_signs_at_once() {
        let kek = KeyEncryptionKey::generate();
        let records = rotated(&[TimeDelta::days(1), TimeDelta::zero()], &kek);
        // A revoked key is not published: only its replacement is loaded.
        let set = KeySet::from_records(&records[1..], &kek, &published_at_creation(&records)).unwrap();
        assert_eq!(signer(&set), records[1].kid);
    }
}
