//! Changing a client's configuration: every change is a new immutable
//! version, a rollback writes an old configuration as the newest version,
//! and concurrent changes are decided by the version they were based on.
//! The admin API and the CLI both call these.

use crate::admin::auth::ADMIN;
use chrono::{TimeDelta, Utc};
use portcullis_core::user::CLAIMS_BY_SCOPE;
use portcullis_core::{ClientMetadata, GrantType, MetadataError};
use portcullis_jose::ClientKeys;
use portcullis_store::clients::{self as stored, VersionRecord, VersionWrite};
use portcullis_store::Database;
use serde_json::Value;

/// Why a change was not made.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// No such client.
    #[error("there is no client {0}")]
    NotFound(String),
    /// No such version of the client.
    #[error("client {client_id} has no version {version}")]
    NoSuchVersion {
        /// The client.
        client_id: String,
        /// The version asked for.
        version: i64,
    },
    /// The change was based on a version that is no longer current.
    #[error("version {based_on} is not current any more (the current version is {current}); read the client again and reapply the change")]
    Stale {
        /// The version the change named.
        based_on: i64,
        /// The current version.
        current: i64,
    },
    /// The configuration is not valid.
    #[error("{0}")]
    Invalid(#[from] MetadataError),
    /// A rollback to a version older than the retention window.
    #[error("version {version} is older than the {days}-day rollback window and can no longer be restored")]
    TooOld {
        /// The version asked for.
        version: i64,
        /// The window, in days.
        days: i64,
    },
    /// A rollback names a version the client never had: the client exists,
    /// so this is a conflict with its state, not a missing resource.
    #[error("client {client_id} has no version {version} to roll back to")]
    NoVersionToRestore {
        /// The client.
        client_id: String,
        /// The version asked for.
        version: i64,
    },
    /// The client authenticates otherwise than with a secret.
    #[error("the client authenticates with {0}, not with a secret")]
    NoSecrets(&'static str),
    /// The change would leave no enabled client with the `admin` scope.
    #[error("client {0} is the last enabled client holding the `admin` scope; give another client `admin` first, or nobody could administer this server")]
    LastAdmin(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] anyhow::Error),
}

impl From<portcullis_store::StoreError> for ChangeError {
    fn from(error: portcullis_store::StoreError) -> Self {
        Self::Storage(error.into())
    }
}

/// The rules every change follows, from configuration.
#[derive(Clone, Copy, Debug)]
pub struct ChangePolicy {
    /// How far back a version can be rolled back to.
    pub version_retention: TimeDelta,
    /// How long a redirect URI an update removes keeps working.
    pub redirect_uri_grace: TimeDelta,
}

/// The scopes this server knows: OpenID Connect's, the admin ones, and the
/// API scopes it is configured with.
#[derive(Clone, Debug, Default)]
pub struct KnownScopes {
    api: Vec<String>,
}

impl KnownScopes {
    /// The known scopes with the configured API scopes `api`; with none
    /// configured, API scopes are not restricted.
    pub fn new(api: &[String]) -> Self {
        Self { api: api.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect() }
    }

    /// The configured API scopes.
    pub fn api(&self) -> &[String] {
        &self.api
    }

    /// Checks that every scope `metadata` names is known.
    pub fn check(&self, metadata: &ClientMetadata) -> Result<(), ChangeError> {
        if self.api.is_empty() {
            return Ok(());
        }
        let oidc = |s: &str| s == "openid" || CLAIMS_BY_SCOPE.iter().any(|(scope, _)| *scope == s);
        let admin = |s: &str| {
            s == ADMIN
                || s.strip_prefix("admin:")
                    .is_some_and(|rest| ["clients", "keys", "users", "audit"].contains(&rest))
        };
        match metadata.scope.iter().find(|s| !oidc(s) && !admin(s) && !self.api.iter().any(|api| api == s)) {
            Some(unknown) => {
                Err(MetadataError::new("scope", format!("`{unknown}` is not a scope this server knows"))
                    .into())
            }
            None => Ok(()),
        }
    }
}

/// Checks a configuration as creating or updating a client does.
pub fn check(metadata: &ClientMetadata) -> Result<(), ChangeError> {
    metadata.validate()?;
    if let Some(jwks) = &metadata.jwks {
        ClientKeys::from_jwks(jwks).map_err(|e| MetadataError::new("jwks", e.to_string()))?;
    }
    Ok(())
}

/// The members of `new` that differ from `old`, in words ("changed scope,
/// redirect_uris; added jwks").
pub fn summary(old: &ClientMetadata, new: &ClientMetadata) -> String {
    let as_map = |metadata: &ClientMetadata| match serde_json::to_value(metadata) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let (old, new) = (as_map(old), as_map(new));
    let names = |pick: &dyn Fn(&str) -> bool| {
        let mut names: Vec<&str> =
            old.keys().chain(new.keys()).map(String::as_str).filter(|n| pick(n)).collect();
        names.sort_unstable();
        names.dedup();
        names.join(", ")
    };
    let parts = [
        ("changed", names(&|n| old.contains_key(n) && new.contains_key(n) && old[n] != new[n])),
        ("added", names(&|n| !old.contains_key(n))),
        ("removed", names(&|n| !new.contains_key(n))),
    ];
    let said: Vec<String> = parts
        .iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|(verb, names)| format!("{verb} {names}"))
        .collect();
    if said.is_empty() {
        "no change".to_owned()
    } else {
        said.join("; ")
    }
}

/// The client's current record, or [`ChangeError::NotFound`].
fn current(db: &Database, client_id: &str) -> Result<(i64, ClientMetadata), ChangeError> {
    let record = stored::find(&mut *db.get()?, client_id)?
        .ok_or_else(|| ChangeError::NotFound(client_id.to_owned()))?;
    let metadata = serde_json::from_str(&record.metadata)
        .map_err(|e| anyhow::anyhow!("stored configuration of client {client_id} is unreadable: {e}"))?;
    Ok((record.version, metadata))
}

/// Writes `metadata` as the next version of `client_id`, based on version
/// `based_on` (the current one when `None`); returns the version now
/// current. A configuration equal to the current one writes nothing.
pub fn update(
    db: &Database,
    client_id: &str,
    based_on: Option<i64>,
    metadata: &ClientMetadata,
    policy: &ChangePolicy,
    author: &str,
) -> Result<i64, ChangeError> {
    check(metadata)?;
    let (version, old) = current(db, client_id)?;
    let based_on = based_on.unwrap_or(version);
    if based_on != version {
        return Err(ChangeError::Stale { based_on, current: version });
    }
    if old == *metadata {
        return Ok(version);
    }
    if holds_admin(&old) && !holds_admin(metadata) {
        ensure_another_admin(db, client_id)?;
    }
    let change = Change { based_on, old: &old, new: metadata, author, summary: &summary(&old, metadata) };
    write(db, client_id, &change, policy)
}

/// Writes version `version`'s configuration as the next version, if it was
/// written within the last `window`.
pub fn rollback(
    db: &Database,
    client_id: &str,
    version: i64,
    based_on: Option<i64>,
    policy: &ChangePolicy,
    author: &str,
) -> Result<i64, ChangeError> {
    let window = policy.version_retention;
    let (current_version, old) = current(db, client_id)?;
    let target = self::version(db, client_id, version).map_err(|e| match e {
        ChangeError::NoSuchVersion { client_id, version } => {
            ChangeError::NoVersionToRestore { client_id, version }
        }
        other => other,
    })?;
    if target.created_at < Utc::now() - window {
        return Err(ChangeError::TooOld { version, days: window.num_days() });
    }
    let based_on = based_on.unwrap_or(current_version);
    if based_on != current_version {
        return Err(ChangeError::Stale { based_on, current: current_version });
    }
    let metadata: ClientMetadata = serde_json::from_str(&target.metadata)
        .map_err(|e| anyhow::anyhow!("stored version {version} of client {client_id} is unreadable: {e}"))?;
    check(&metadata)?;
    if holds_admin(&old) && !holds_admin(&metadata) {
        ensure_another_admin(db, client_id)?;
    }
    let summary = format!("rolled back to version {version}");
    write(db, client_id, &Change { based_on, old: &old, new: &metadata, author, summary: &summary }, policy)
}

/// A change about to be written.
struct Change<'a> {
    based_on: i64,
    old: &'a ClientMetadata,
    new: &'a ClientMetadata,
    author: &'a str,
    summary: &'a str,
}

fn write(
    db: &Database,
    client_id: &str,
    change: &Change<'_>,
    policy: &ChangePolicy,
) -> Result<i64, ChangeError> {
    let json = serde_json::to_string(change.new).map_err(anyhow::Error::from)?;
    let kept: Vec<String> = change.new.redirect_uris.iter().map(|uri| uri.as_str().to_owned()).collect();
    let retired: Vec<String> = change
        .old
        .redirect_uris
        .iter()
        .map(|uri| uri.as_str().to_owned())
        .filter(|uri| !kept.contains(uri))
        .collect();
    let version = stored::NewVersion {
        metadata: &json,
        author: change.author,
        summary: change.summary,
        kept_redirect_uris: &kept,
        retired_redirect_uris: &retired,
        retired_until: Utc::now() + policy.redirect_uri_grace,
    };
    let based_on = change.based_on;
    match stored::add_version(&mut *db.get()?, client_id, based_on, &version)? {
        VersionWrite::Written(version) => Ok(version),
        VersionWrite::Stale { current } => Err(ChangeError::Stale { based_on, current }),
        VersionWrite::NotFound => Err(ChangeError::NotFound(client_id.to_owned())),
    }
}

/// Version `version` of a client that exists, with its configuration.
pub fn version(db: &Database, client_id: &str, version: i64) -> Result<VersionRecord, ChangeError> {
    current(db, client_id)?;
    stored::version(&mut *db.get()?, client_id, version)?
        .ok_or_else(|| ChangeError::NoSuchVersion { client_id: client_id.to_owned(), version })
}

/// Every version of a client, newest first.
pub fn versions(db: &Database, client_id: &str) -> Result<Vec<VersionRecord>, ChangeError> {
    current(db, client_id)?;
    Ok(stored::versions(&mut *db.get()?, client_id)?)
}

/// Whether a client holds every admin permission: the `admin` scope, with
/// client credentials to obtain a token for it.
fn holds_admin(metadata: &ClientMetadata) -> bool {
    metadata.scope.contains(ADMIN) && metadata.allows_grant(GrantType::ClientCredentials)
}

/// Refuses a change that would leave no enabled client other than
/// `client_id` holding the `admin` scope: nobody could undo it.
fn ensure_another_admin(db: &Database, client_id: &str) -> Result<(), ChangeError> {
    if is_last_admin(&mut *db.get()?, client_id)? {
        return Err(ChangeError::LastAdmin(client_id.to_owned()));
    }
    Ok(())
}

/// Whether `client_id` is the only enabled client holding the `admin` scope.
pub fn is_last_admin(
    conn: &mut portcullis_store::DbConnection,
    client_id: &str,
) -> Result<bool, portcullis_store::StoreError> {
    let admins: Vec<String> = stored::all(conn)?
        .into_iter()
        .filter(|record| {
            record.disabled_at.is_none()
                && serde_json::from_str::<ClientMetadata>(&record.metadata).is_ok_and(|m| holds_admin(&m))
        })
        .map(|record| record.client_id)
        .collect();
    Ok(admins == [client_id])
}

/// Disables (or enables again) a client; a disabled client's tokens stop
/// working on every instance. The last enabled admin client cannot be disabled.
pub fn set_disabled(db: &Database, client_id: &str, disabled: bool) -> Result<(), ChangeError> {
    if disabled && holds_admin(&current(db, client_id)?.1) {
        ensure_another_admin(db, client_id)?;
    }
    if stored::set_disabled(&mut *db.get()?, client_id, disabled)? {
        Ok(())
    } else {
        Err(ChangeError::NotFound(client_id.to_owned()))
    }
}

/// Deletes a client; its tokens stop working on every instance. The last
/// enabled admin client cannot be deleted.
pub fn delete(db: &Database, client_id: &str) -> Result<(), ChangeError> {
    if holds_admin(&current(db, client_id)?.1) {
        ensure_another_admin(db, client_id)?;
    }
    if stored::delete(&mut *db.get()?, client_id)? {
        Ok(())
    } else {
        Err(ChangeError::NotFound(client_id.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(json: serde_json::Value) -> ClientMetadata {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_summary_names_what_changed_was_added_and_was_removed() {
        let old = metadata(
            serde_json::json!({"client_name": "a", "scope": "read", "default_resource": "https://api.example/"}),
        );
        let new = metadata(
            serde_json::json!({"client_name": "a", "scope": "read write", "access_token_lifetime": 60}),
        );
        assert_eq!(
            summary(&old, &new),
            "changed scope; added access_token_lifetime; removed default_resource"
        );
        assert_eq!(summary(&old, &old), "no change");
    }
}
