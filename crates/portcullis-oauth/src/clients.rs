//! Registered clients as this instance mirrors them in memory: the token
//! service reads them on every request so that the hot path never waits on
//! the database. Changes are made by [`portcullis_app::clients`].

use crate::client_documents::ClientDocuments;
use crate::storage::StorageFailure;
use anyhow::Context;
use chrono::{DateTime, Utc};
use portcullis_app::secrets;
use portcullis_app::{App, AppError, Event, LocalMirror};
use portcullis_core::{ClientId, ClientMetadata, ClientSecret, RedirectUri};
use portcullis_jose::ClientKeys;
use portcullis_store::clients::{self, ClientRecord, SecretRecord};
use portcullis_store::{Database, DbConnection};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// A client as the token service sees it.
pub struct RegisteredClient {
    /// The identifier.
    pub id: ClientId,
    /// The current configuration version.
    pub version: i64,
    /// How many changes were logged for it: a mirror keeps the newest read.
    pub change_seq: i64,
    /// The current configuration.
    pub metadata: ClientMetadata,
    /// Secrets that are not revoked.
    pub secrets: Vec<SecretRecord>,
    /// When the client was disabled, if it is.
    pub disabled_at: Option<DateTime<Utc>>,
    /// The client's registered public keys (`jwks`), ready to verify its
    /// assertions and request objects.
    pub public_keys: Option<ClientKeys>,
    /// Redirect URIs an update removed, with the time each stops working.
    pub retired_redirect_uris: Vec<(RedirectUri, DateTime<Utc>)>,
    /// Failed authentications in a row.
    pub failed_attempts: i64,
    /// When a lockout after failed authentications ends, if one was imposed.
    pub locked_until: Option<DateTime<Utc>>,
    /// Every token issued to the client up to then is revoked.
    pub tokens_revoked_before: Option<DateTime<Utc>>,
    /// Addresses (as rate limits key them) locked out of the client, each
    /// until then.
    pub locked_addresses: Vec<(String, DateTime<Utc>)>,
}

impl RegisteredClient {
    /// Client `id` configured as `metadata`, which is not saved: what a
    /// preview of its token requests decides on.
    pub fn unsaved(id: ClientId, version: i64, metadata: ClientMetadata) -> Self {
        Self {
            id,
            version,
            change_seq: 0,
            metadata,
            secrets: Vec::new(),
            disabled_at: None,
            public_keys: None,
            retired_redirect_uris: Vec::new(),
            failed_attempts: 0,
            locked_until: None,
            tokens_revoked_before: None,
            locked_addresses: Vec::new(),
        }
    }

    fn from_record(record: ClientRecord) -> anyhow::Result<Self> {
        let metadata = record.metadata;
        let public_keys = metadata.jwks.as_ref().map(ClientKeys::from_jwks).transpose()?;
        Ok(Self {
            id: ClientId::parse(&record.client_id)
                .with_context(|| format!("stored client id {}", record.client_id))?,
            version: record.version,
            change_seq: record.change_seq,
            metadata,
            secrets: record.secrets,
            disabled_at: record.disabled_at,
            public_keys,
            failed_attempts: record.failed_attempts,
            locked_until: record.locked_until,
            tokens_revoked_before: record.tokens_revoked_before,
            locked_addresses: record.locked_addresses,
            retired_redirect_uris: record
                .retired_redirect_uris
                .into_iter()
                .filter_map(|(uri, until)| Some((RedirectUri::parse(&uri).ok()?, until)))
                .collect(),
        })
    }

    /// When the lockout of `ip` (its address as rate limits key it) from
    /// this client ends, if it is locked out at `now`. Costs nothing while
    /// no address is.
    pub fn address_locked_until(&self, ip: IpAddr, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.locked_addresses.is_empty() {
            return None;
        }
        let address = portcullis_app::rate_limits::address_key(Some(ip));
        self.locked_addresses
            .iter()
            .find(|(locked, until)| *locked == address && *until > now)
            .map(|(_, until)| *until)
    }

    /// Whether a token issued to the client at `issued_at` was revoked
    /// with every other it held then (a rule's `revoke_tokens`).
    pub fn revoked_at_issue(&self, issued_at: DateTime<Utc>) -> bool {
        self.tokens_revoked_before.is_some_and(|cutoff| issued_at <= cutoff)
    }

    /// The configuration an authorization request is checked against at
    /// `now`: the current one, whose redirect URIs include those an update
    /// removed less than the grace period ago.
    pub fn metadata_at(&self, now: DateTime<Utc>) -> Cow<'_, ClientMetadata> {
        let retiring =
            self.retired_redirect_uris.iter().filter(|(_, until)| *until > now).map(|(uri, _)| uri);
        let mut retiring = retiring.peekable();
        if retiring.peek().is_none() {
            return Cow::Borrowed(&self.metadata);
        }
        let mut metadata = self.metadata.clone();
        metadata.redirect_uris.extend(retiring.cloned());
        Cow::Owned(metadata)
    }

    /// Whether `secret` is one of the client's secrets that has not expired.
    pub fn verify_secret(&self, secret: &ClientSecret, now: DateTime<Utc>) -> bool {
        let live = self.secrets.iter().filter(|s| s.expires_at.is_none_or(|expires| expires > now));
        secrets::matches_any(secret.expose(), live.map(|s| s.secret_hash.as_slice()))
    }
}

/// How long an id the database did not know is answered from memory.
const MISS_TTL: Duration = Duration::from_secs(5);
/// The most unknown ids remembered at once.
const MAX_MISSES: usize = 10_000;
/// The most database lookups of ids missing from memory per second, so
/// that a flood of invented ids cannot keep the database busy.
const LOOKUPS_PER_SECOND: u32 = 20;

/// Every client, mirrored in memory and refreshed from the change log. A
/// client missing from memory is read from the database (DESIGN "Tokens"),
/// so one created a moment ago, by another instance or the CLI, is usable
/// at once; ids the database does not know are remembered briefly, and
/// lookups are rationed, so invented ids cannot flood the database.
pub struct ClientRegistry {
    db: Database,
    clients: RwLock<Kept>,
    misses: Mutex<Misses>,
    documents: Option<ClientDocuments>,
}

/// The clients an instance holds, and those it saw deleted: a read made
/// before a deletion must not bring the client back.
#[derive(Default)]
struct Kept {
    live: HashMap<String, Arc<RegisteredClient>>,
    deleted: HashSet<String>,
}

/// Whether an id missing from memory may be looked up in the database.
#[derive(Debug, PartialEq, Eq)]
enum Lookup {
    /// Yes.
    Allowed,
    /// No: it was not there a moment ago.
    KnownMissing,
    /// No: this second's lookups are spent.
    Rationed,
}

/// Ids recently looked up and not found, and this second's lookup budget.
struct Misses {
    unknown: HashMap<String, Instant>,
    second: Instant,
    lookups: u32,
}

impl Misses {
    /// Whether `client_id` may be looked up now: not known to be missing,
    /// and within this second's budget.
    fn may_look_up(&mut self, client_id: &str, now: Instant) -> Lookup {
        if self.unknown.get(client_id).is_some_and(|since| now.duration_since(*since) < MISS_TTL) {
            return Lookup::KnownMissing;
        }
        if now.duration_since(self.second) >= Duration::from_secs(1) {
            (self.second, self.lookups) = (now, 0);
        }
        self.lookups += 1;
        if self.lookups <= LOOKUPS_PER_SECOND {
            Lookup::Allowed
        } else {
            Lookup::Rationed
        }
    }

    fn remember(&mut self, client_id: &str, now: Instant) {
        if self.unknown.len() >= MAX_MISSES {
            self.unknown.retain(|_, since| now.duration_since(*since) < MISS_TTL);
        }
        if self.unknown.len() < MAX_MISSES {
            self.unknown.insert(client_id.to_owned(), now);
        }
    }
}

impl ClientRegistry {
    /// Loads every client from the database.
    pub fn load(db: &Database) -> anyhow::Result<Self> {
        let loaded = clients::all(&mut *db.get()?)?
            .into_iter()
            .map(|record| Ok((record.client_id.clone(), Arc::new(RegisteredClient::from_record(record)?))))
            .collect::<anyhow::Result<_>>()?;
        let now = Instant::now();
        Ok(Self {
            db: db.clone(),
            clients: RwLock::new(Kept { live: loaded, deleted: HashSet::new() }),
            misses: Mutex::new(Misses { unknown: HashMap::new(), second: now, lookups: 0 }),
            documents: None,
        })
    }

    /// The registry that also knows the clients of metadata documents
    /// (`--client-metadata-documents`).
    pub fn with_documents(self, documents: ClientDocuments) -> Self {
        Self { documents: Some(documents), ..self }
    }

    /// Whether `client_id` names a metadata document this server accepts.
    pub fn names_document(&self, client_id: &str) -> bool {
        self.documents.as_ref().is_some_and(|documents| documents.names_document(client_id))
    }

    /// Whether any client allows pages of `origin` to call it (a CORS
    /// preflight names no client).
    pub fn any_allows_origin(&self, origin: &str) -> bool {
        let kept = self.clients.read().expect("client registry lock");
        kept.live.values().any(|client| client.disabled_at.is_none() && client.metadata.allows_origin(origin))
            || self.documents.as_ref().is_some_and(|documents| documents.any_allows_origin(origin))
    }

    /// The client `client_id`, if this instance's mirror holds it (or the
    /// client of a metadata document it fetched).
    pub fn get(&self, client_id: &str) -> Option<Arc<RegisteredClient>> {
        self.live(client_id)
            .or_else(|| self.documents.as_ref().and_then(|documents| documents.kept(client_id)))
    }

    /// Whether `sub` is a client's own id: a client-credentials token names
    /// its client as `sub` (RFC 9068 §2.2), and so does what is exchanged
    /// from one; such a subject is no user.
    pub fn is_client_subject(&self, sub: &str) -> bool {
        self.get(sub).is_some()
    }

    /// The stored client `client_id`, if this instance's mirror holds it.
    fn live(&self, client_id: &str) -> Option<Arc<RegisteredClient>> {
        self.clients.read().expect("client registry lock").live.get(client_id).cloned()
    }

    /// The client `client_id`, from memory or else from the database; an
    /// error when the database cannot be asked now (it fails, or this
    /// second's lookups are spent), so that a new client is never taken for
    /// an unknown one.
    pub async fn find(&self, client_id: &str) -> Result<Option<Arc<RegisteredClient>>, StorageFailure> {
        if let Some(client) = self.live(client_id) {
            return Ok(Some(client));
        }
        // A document URL is never a stored client's id: its document decides.
        if let Some(documents) = self.documents.as_ref().filter(|d| d.names_document(client_id)) {
            return Ok(documents.find(client_id).await);
        }
        if ClientId::parse(client_id).is_err() {
            return Ok(None);
        }
        match self.misses.lock().expect("client misses lock").may_look_up(client_id, Instant::now()) {
            Lookup::KnownMissing => return Ok(None),
            Lookup::Rationed => return Err(StorageFailure::Rationed),
            Lookup::Allowed => {}
        }
        let id = client_id.to_owned();
        let record = crate::storage::run(&self.db, move |conn| clients::find(conn, &id)).await?;
        match record.map(RegisteredClient::from_record).transpose()? {
            // The mirror may have learnt newer state meanwhile: put keeps the newest.
            Some(client) => Ok(self.put(client)),
            None => {
                self.misses.lock().expect("client misses lock").remember(client_id, Instant::now());
                Ok(None)
            }
        }
    }

    /// Re-reads one client on `conn` after it changed, and returns it as it
    /// is now (`None` once deleted).
    pub fn refresh(
        &self,
        conn: &mut DbConnection,
        client_id: &str,
    ) -> anyhow::Result<Option<Arc<RegisteredClient>>> {
        match clients::find(conn, client_id)?.map(RegisteredClient::from_record).transpose()? {
            Some(client) => Ok(self.put(client)),
            None => {
                let deleted = clients::is_deleted(conn, client_id)?;
                let mut kept = self.clients.write().expect("client registry lock");
                kept.live.remove(client_id);
                if deleted {
                    kept.deleted.insert(client_id.to_owned());
                }
                Ok(None)
            }
        }
    }

    /// Re-reads one client after an operation of `app` changed it.
    pub fn reload(&self, app: &App, client_id: &str) -> Result<(), AppError> {
        let mut conn = app.database().get()?;
        self.refresh(&mut conn, client_id).map(drop).map_err(AppError::unavailable)
    }

    /// Keeps `client` and returns what is kept now: not when a newer read
    /// (by its change count) is kept already, nor when the client was seen
    /// deleted since. The change-log follower, an operation's own refresh
    /// and a read-through may each have read before a later change was
    /// applied here, and must not undo it.
    fn put(&self, client: RegisteredClient) -> Option<Arc<RegisteredClient>> {
        let client = Arc::new(client);
        self.misses.lock().expect("client misses lock").unknown.remove(client.id.as_str());
        let mut kept = self.clients.write().expect("client registry lock");
        if kept.deleted.contains(client.id.as_str()) {
            return None;
        }
        match kept.live.get(client.id.as_str()) {
            Some(newer) if newer.change_seq > client.change_seq => Some(newer.clone()),
            _ => {
                kept.live.insert(client.id.as_str().to_owned(), client.clone());
                Some(client)
            }
        }
    }
}

/// A client change applies to this instance's mirror as soon as it commits,
/// so the admin who made it can use it at once.
impl LocalMirror for ClientRegistry {
    fn apply(&self, conn: &mut DbConnection, events: &[Event]) {
        let mut changed: Vec<&str> = events
            .iter()
            .filter(|e| e.name().starts_with("client.") || matches!(e, Event::AdminBootstrapped { .. }))
            .map(Event::target)
            .collect();
        changed.sort_unstable();
        changed.dedup();
        for client_id in changed {
            if let Err(e) = self.refresh(conn, client_id) {
                tracing::warn!(error = %e, "a client change will reach this instance through the change log");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn misses(at: Instant) -> Misses {
        Misses { unknown: HashMap::new(), second: at, lookups: 0 }
    }

    #[test]
    fn unknown_ids_are_remembered_for_a_while() {
        let (start, mut misses) = (Instant::now(), misses(Instant::now()));
        assert_eq!(misses.may_look_up("a", start), Lookup::Allowed);
        misses.remember("a", start);
        assert_eq!(
            misses.may_look_up("a", start),
            Lookup::KnownMissing,
            "a known miss is not looked up again"
        );
        assert_eq!(misses.may_look_up("a", start + MISS_TTL), Lookup::Allowed, "but only for a while");
    }

    #[test]
    fn lookups_are_rationed_per_second() {
        let start = Instant::now();
        let mut misses = misses(start);
        let burst = (0..LOOKUPS_PER_SECOND * 2)
            .filter(|n| misses.may_look_up(&n.to_string(), start) == Lookup::Allowed)
            .count();
        assert_eq!(burst, LOOKUPS_PER_SECOND as usize);
        assert_eq!(
            misses.may_look_up("b", start + Duration::from_secs(1)),
            Lookup::Allowed,
            "the budget renews"
        );
    }

    portcullis_store::backend_tests! {
        #[test]
        fn a_stale_read_never_replaces_a_newer_state_or_undoes_a_deletion(db) {
            use portcullis_app::clients::ClientChange;
            use portcullis_app::Actor;
            let db = db.connect();
            let app = App::with_defaults(db.clone());
            let metadata = serde_json::json!({"client_name": "a", "scope": "read"});
            let created = app.create_client(&Actor::operator(), portcullis_core::ClientMetadata::parse(metadata.as_object().unwrap().clone()).unwrap()).unwrap();
            let id = created.client.client_id;
            let stale = || clients::find(&mut db.get().unwrap(), &id).unwrap().unwrap();
            let first = stale();
            let wider = serde_json::json!({"scope": "read write"}).as_object().unwrap().clone();
            app.update_client(&Actor::operator(), &id, None, ClientChange::Merge(wider)).unwrap();
            let registry = ClientRegistry::load(&db).unwrap();
            registry.put(RegisteredClient::from_record(first).unwrap());
            assert_eq!(registry.get(&id).unwrap().version, 2, "version 1, read late, is not kept");
            // A change that leaves the version as it is (disabling) is not undone either.
            let enabled = stale();
            app.set_client_disabled(&Actor::operator(), &id, true).unwrap();
            registry.refresh(&mut db.get().unwrap(), &id).unwrap();
            registry.put(RegisteredClient::from_record(enabled).unwrap());
            assert!(registry.get(&id).unwrap().disabled_at.is_some(), "the late read of the enabled client is not kept");
            let live = stale();
            app.delete_client(&Actor::operator(), &id).unwrap();
            assert!(registry.refresh(&mut db.get().unwrap(), &id).unwrap().is_none());
            assert!(registry.put(RegisteredClient::from_record(live).unwrap()).is_none());
            assert!(registry.get(&id).is_none(), "a read made before the deletion does not bring it back");
        }
    }
}
