//! Registered clients: creating them, and the in-memory mirror the token
//! service reads on every request so that the hot path never waits on the
//! database.

use crate::client_changes::ChangeError;
use crate::secrets;
use anyhow::Context;
use chrono::{DateTime, Utc};
use portcullis_core::{ClientId, ClientMetadata, ClientSecret, MetadataError, RedirectUri};
use portcullis_jose::ClientKeys;
use portcullis_store::clients::{self, ClientRecord, NewClient, SecretRecord};
use portcullis_store::Database;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// A client as the token service sees it.
pub struct RegisteredClient {
    /// The identifier.
    pub id: ClientId,
    /// The current configuration version.
    pub version: i64,
    /// The current configuration.
    pub metadata: ClientMetadata,
    /// Secrets that are not revoked.
    pub secrets: Vec<SecretRecord>,
    /// When the client was disabled, if it is.
    pub disabled_at: Option<DateTime<Utc>>,
    /// The client's registered public keys, ready to verify its assertions.
    pub assertion_keys: Option<ClientKeys>,
    /// Redirect URIs an update removed, with the time each stops working.
    pub retired_redirect_uris: Vec<(RedirectUri, DateTime<Utc>)>,
    /// Failed authentications in a row.
    pub failed_attempts: i64,
    /// When a lockout after failed authentications ends, if one was imposed.
    pub locked_until: Option<DateTime<Utc>>,
}

impl RegisteredClient {
    fn from_record(record: ClientRecord) -> anyhow::Result<Self> {
        let metadata: ClientMetadata = serde_json::from_str(&record.metadata)
            .with_context(|| format!("stored configuration of client {} is unreadable", record.client_id))?;
        let assertion_keys = metadata.jwks.as_ref().map(ClientKeys::from_jwks).transpose()?;
        Ok(Self {
            id: ClientId::parse(&record.client_id)
                .with_context(|| format!("stored client id {}", record.client_id))?,
            version: record.version,
            metadata,
            secrets: record.secrets,
            disabled_at: record.disabled_at,
            assertion_keys,
            failed_attempts: record.failed_attempts,
            locked_until: record.locked_until,
            retired_redirect_uris: record
                .retired_redirect_uris
                .into_iter()
                .filter_map(|(uri, until)| Some((RedirectUri::parse(&uri).ok()?, until)))
                .collect(),
        })
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

/// Creates a client with configuration version 1. A client that
/// authenticates with a secret gets one, returned here and never again.
pub fn create(
    db: &Database,
    metadata: &ClientMetadata,
    author: &str,
) -> anyhow::Result<(ClientId, Option<ClientSecret>)> {
    crate::client_changes::check(metadata)?;
    let client_id = ClientId::parse(&uuid::Uuid::new_v4().to_string()).expect("a UUID is a valid client id");
    let secret =
        metadata.token_endpoint_auth_method.uses_secret().then(|| ClientSecret::new(secrets::random_token()));
    let secret_record = secret.as_ref().map(new_secret_record);
    let metadata_json = serde_json::to_string(metadata)?;
    clients::create(
        &mut *db.get()?,
        &NewClient {
            client_id: client_id.as_str(),
            metadata: &metadata_json,
            author,
            secret: secret_record.as_ref(),
        },
    )?;
    Ok((client_id, secret))
}

/// Adds a new secret to a client that authenticates with one, leaving its
/// other secrets valid; it stops working at `expires_at`, if given. Returns
/// it with its record: the secret is never shown again.
pub fn add_secret(
    db: &Database,
    client_id: &str,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(ClientSecret, SecretRecord), ChangeError> {
    let record = clients::find(&mut *db.get()?, client_id)?
        .ok_or_else(|| ChangeError::NotFound(client_id.to_owned()))?;
    let metadata: ClientMetadata = serde_json::from_str(&record.metadata)
        .map_err(|e| anyhow::anyhow!("stored configuration of client {client_id} is unreadable: {e}"))?;
    let method = metadata.token_endpoint_auth_method;
    if !method.uses_secret() {
        let why = format!("the client authenticates with {}, not a secret", method.as_str());
        return Err(MetadataError::new("token_endpoint_auth_method", why).into());
    }
    let secret = ClientSecret::new(secrets::random_token());
    let record = SecretRecord { expires_at, ..new_secret_record(&secret) };
    if !clients::add_secret(&mut *db.get()?, client_id, &record)? {
        return Err(ChangeError::NotFound(client_id.to_owned()));
    }
    Ok((secret, record))
}

/// Revokes one secret of a client at once; the others keep working.
pub fn revoke_secret(db: &Database, client_id: &str, secret_id: &str) -> Result<(), ChangeError> {
    if clients::revoke_secret(&mut *db.get()?, client_id, secret_id)? {
        Ok(())
    } else {
        Err(ChangeError::NotFound(format!("{client_id} with a secret {secret_id}")))
    }
}

fn new_secret_record(secret: &ClientSecret) -> SecretRecord {
    SecretRecord {
        secret_id: uuid::Uuid::new_v4().to_string(),
        secret_hash: secrets::hash(secret.expose()).to_vec(),
        created_at: Utc::now(),
        expires_at: None,
    }
}

/// Every client, mirrored in memory and refreshed from the change log.
#[derive(Default)]
pub struct ClientRegistry {
    clients: RwLock<HashMap<String, Arc<RegisteredClient>>>,
}

impl ClientRegistry {
    /// Loads every client from the database.
    pub fn load(db: &Database) -> anyhow::Result<Self> {
        let registry = Self::default();
        let loaded = clients::all(&mut *db.get()?)?
            .into_iter()
            .map(|record| Ok((record.client_id.clone(), Arc::new(RegisteredClient::from_record(record)?))))
            .collect::<anyhow::Result<_>>()?;
        *registry.clients.write().expect("client registry lock") = loaded;
        Ok(registry)
    }

    /// The client `client_id`, if registered.
    pub fn get(&self, client_id: &str) -> Option<Arc<RegisteredClient>> {
        self.clients.read().expect("client registry lock").get(client_id).cloned()
    }

    /// Re-reads one client from the database after it changed.
    pub fn refresh(&self, db: &Database, client_id: &str) -> anyhow::Result<()> {
        let fresh =
            clients::find(&mut *db.get()?, client_id)?.map(RegisteredClient::from_record).transpose()?;
        let mut clients = self.clients.write().expect("client registry lock");
        match fresh {
            Some(client) => clients.insert(client_id.to_owned(), Arc::new(client)),
            None => clients.remove(client_id),
        };
        Ok(())
    }
}
