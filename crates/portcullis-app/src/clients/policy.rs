//! The rules a client configuration follows beyond its own validity: the
//! scopes this server knows, how long versions and removed redirect URIs
//! are kept, that some enabled client always holds `admin`, and that the
//! attributes its claim mappings read are defined.

use crate::actor::{Permission, ADMIN};
use crate::AppError;
use chrono::TimeDelta;
use portcullis_core::claim_mappings::{ClaimMapping, ClaimSource};
use portcullis_core::user::CLAIMS_BY_SCOPE;
use portcullis_core::{ClientMetadata, GrantType, MetadataError};
use portcullis_jose::ClientKeys;
use portcullis_store::clients as stored;
use portcullis_store::{DbConnection, StoreError};
use serde_json::{Map, Value};

/// The rules every change follows, from configuration.
#[derive(Clone, Copy, Debug)]
pub struct ChangePolicy {
    /// How far back a version can be rolled back to.
    pub version_retention: TimeDelta,
    /// How long a redirect URI an update removes keeps working.
    pub redirect_uri_grace: TimeDelta,
}

/// The defaults the server starts with: 90 days of versions, 24 hours of grace.
impl Default for ChangePolicy {
    fn default() -> Self {
        Self { version_retention: TimeDelta::days(90), redirect_uri_grace: TimeDelta::hours(24) }
    }
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
    pub fn check(&self, metadata: &ClientMetadata) -> Result<(), AppError> {
        if self.api.is_empty() {
            return Ok(());
        }
        let oidc = |s: &str| s == "openid" || CLAIMS_BY_SCOPE.iter().any(|(scope, _)| *scope == s);
        match metadata
            .scope
            .iter()
            .find(|s| !oidc(s) && !Permission::is_admin_scope(s) && !self.api.iter().any(|api| api == s))
        {
            Some(unknown) => {
                Err(MetadataError::new("scope", format!("`{unknown}` is not a scope this server knows"))
                    .into())
            }
            None => Ok(()),
        }
    }
}

/// Checks a configuration as creating or updating a client does.
pub fn check(metadata: &ClientMetadata) -> Result<(), AppError> {
    metadata.validate()?;
    check_keys(metadata)
}

/// Checks that every attribute the client's claim mappings read is defined:
/// a mapping of a mistyped name would release nothing, silently.
pub(crate) fn check_mapped_attributes(
    conn: &mut DbConnection,
    metadata: &ClientMetadata,
) -> Result<(), AppError> {
    fn read(mapping: &ClaimMapping) -> Option<&str> {
        match &mapping.from {
            ClaimSource::Attribute(name) => Some(name),
            _ => None,
        }
    }
    let mut mapped = metadata.claim_mappings.iter().filter_map(read).peekable();
    if mapped.peek().is_none() {
        return Ok(());
    }
    let defined = portcullis_store::user_attributes::all(conn)?;
    match mapped.find(|name| !defined.iter().any(|definition| definition.name == *name)) {
        Some(name) => Err(MetadataError::new(
            "claim_mappings",
            format!("there is no user attribute `{name}`; define it first (Users → Custom attributes)"),
        )
        .into()),
        None => Ok(()),
    }
}

/// Checks that the client's `jwks` are keys this server can verify with.
fn check_keys(metadata: &ClientMetadata) -> Result<(), AppError> {
    if let Some(jwks) = &metadata.jwks {
        ClientKeys::from_jwks(jwks).map_err(|e| MetadataError::new("jwks", e.to_string()))?;
    }
    Ok(())
}

/// Client metadata from a JSON object, checked as a change is, with only
/// scopes the server knows; a wrong member is named (RFC 7591 §3.2.2).
pub fn parse_metadata(object: Map<String, Value>, known: &KnownScopes) -> Result<ClientMetadata, AppError> {
    // `parse` validated it.
    let metadata = ClientMetadata::parse(object)?;
    check_keys(&metadata)?;
    known.check(&metadata)?;
    Ok(metadata)
}

/// The members of `new` that differ from `old`, in words ("changed scope,
/// redirect_uris; added jwks").
pub fn summary(old: &ClientMetadata, new: &ClientMetadata) -> String {
    let as_map = |metadata: &ClientMetadata| match serde_json::to_value(metadata) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
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

/// Whether a client holds every admin permission: the `admin` scope, with
/// client credentials to obtain a token for it.
pub(crate) fn holds_admin(metadata: &ClientMetadata) -> bool {
    metadata.scope.contains(ADMIN) && metadata.allows_grant(GrantType::ClientCredentials)
}

/// Whether `record` can obtain an admin token for good: enabled, holding
/// `admin`, and authenticating by its keys or holding a secret that never
/// expires (an expiring one would lock everyone out when it does).
pub(crate) fn is_durable_admin(record: &stored::ClientRecord) -> bool {
    record.disabled_at.is_none()
        && holds_admin(&record.metadata)
        && (!record.metadata.token_endpoint_auth_method.uses_secret()
            || record.secrets.iter().any(|secret| secret.expires_at.is_none()))
}

/// Whether `client_id` is an enabled admin client and no other client is a
/// durable admin ([`is_durable_admin`]): without it, nobody could
/// administer this server for good. Changes run one at a time (each takes
/// the audit log's head first), so two changes cannot both pass this for
/// the last two admins.
pub fn is_last_admin(conn: &mut DbConnection, client_id: &str) -> Result<bool, StoreError> {
    let all = stored::all(conn)?;
    let this =
        all.iter().any(|r| r.client_id == client_id && r.disabled_at.is_none() && holds_admin(&r.metadata));
    Ok(this && !all.iter().any(|r| r.client_id != client_id && is_durable_admin(r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(json: Value) -> ClientMetadata {
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
