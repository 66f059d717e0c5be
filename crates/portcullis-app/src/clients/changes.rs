//! Changing clients. Each operation is one transaction: the new version (or
//! state), its change-log row, and its audit entry.

use super::reach::{reach_team, ClientReach};
use super::{
    find, holds_admin, is_durable_admin, is_last_admin, parse_metadata, scope_requests, summary, view_of,
    ClientView,
};
use crate::client_secrets::{bounded_expiry, new_secret};
use crate::transaction::{Attempt, Tx};
use crate::{Actor, App, AppError, Event, Permission};
use portcullis_core::team::TeamPermission;
use portcullis_core::{ClientId, ClientMetadata, ClientSecret};
use portcullis_store::clients::{self as stored, NewClient, VersionWrite};
use portcullis_store::teams::TeamRecord;
use serde_json::{Map, Value};

/// Members of a client view that a replacement may carry back but cannot change.
const READ_ONLY: [&str; 11] = [
    "client_id",
    "created_at",
    "updated_at",
    "disabled",
    "locked_until",
    "tokens_revoked_before",
    "secrets",
    "retired_redirect_uris",
    "registration",
    "team_id",
    "scope_request",
];

/// How a change applies to a client's configuration.
#[derive(Debug)]
pub enum ClientChange {
    /// The whole configuration, read by [`draft`].
    Replace(ClientDraft),
    /// A JSON merge patch (RFC 7396) of the current configuration;
    /// read-only members are refused.
    Merge(Map<String, Value>),
}

/// A configuration as a caller sent it, read into its type at the edge
/// ([`draft`], with [`ClientMetadata::parse`], the one constructor): what
/// the operations that write a whole configuration take. One that could
/// not be read is refused inside the operation, after its permission
/// check, and audited as any refusal is.
#[derive(Debug)]
pub struct ClientDraft(Box<Result<ClientMetadata, AppError>>);

impl ClientDraft {
    /// The configuration, or why it could not be read.
    pub fn read(self) -> Result<ClientMetadata, AppError> {
        *self.0
    }
}

impl From<ClientMetadata> for ClientDraft {
    fn from(metadata: ClientMetadata) -> Self {
        Self(Box::new(Ok(metadata)))
    }
}

/// Reads `body` (RFC 7591 member names) into a [`ClientDraft`]: for a
/// new client (`client_id` `None`), as it is; for a replacement of
/// `client_id`, leaving out the read-only members a client view carries
/// back, whose `client_id` must be the one replaced.
pub fn draft(mut body: Map<String, Value>, client_id: Option<&str>) -> ClientDraft {
    let read = (|| {
        match (client_id, body.get("client_id")) {
            (None, Some(_)) => return Err(invalid("client_id", "is assigned by the server")),
            (Some(replaced), Some(given)) if given != replaced => {
                return Err(invalid("client_id", "does not match the client changed"))
            }
            (Some(_), _) => READ_ONLY.iter().for_each(|name| drop(body.remove(*name))),
            (None, None) => {}
        }
        Ok(ClientMetadata::parse(body)?)
    })();
    ClientDraft(Box::new(read))
}

/// A client just registered, with its secret, shown this once (RFC 7591 §3.2.1).
#[derive(Debug)]
pub struct CreatedClient {
    /// The client.
    pub client: ClientView,
    /// Its first secret, for a client that authenticates with one.
    pub secret: Option<ClientSecret>,
}

/// A fresh client id: a random UUID.
pub(crate) fn new_client_id() -> ClientId {
    ClientId::parse(&uuid::Uuid::new_v4().to_string()).expect("a UUID is a valid client id")
}

fn clients(target: &str) -> Attempt<'_> {
    Attempt { permission: Permission::Clients, action: "client.updated", target }
}

/// The team a new client lands in, and whether its policy bounds the
/// party creating it (a member, or a registration by the team's token).
#[derive(Clone, Copy)]
pub(crate) struct Landing<'a> {
    /// The team.
    pub team: &'a TeamRecord,
    /// Whether the team's policy bounds the creator.
    pub bounded: bool,
}

/// Refuses a new client of `team` when it has as many as its policy allows.
pub(crate) fn ensure_room(
    conn: &mut portcullis_store::DbConnection,
    team: &TeamRecord,
) -> Result<(), AppError> {
    if let Some(max) = team.policy.max_clients {
        if stored::count_in_team(conn, &team.team_id)? >= i64::from(max) {
            return Err(AppError::Conflict(format!(
                "the team has its {max} clients, as many as its policy allows; delete one first or ask an admin"
            )));
        }
    }
    Ok(())
}

/// `wanted` as a member of `team` may write it over `current` (`None` for
/// a new client): refused where it adds anything outside the policy, and
/// without the scopes needing an admin's approval, which are returned to
/// be requested.
pub(crate) fn bounded(
    team: &TeamRecord,
    current: Option<&ClientMetadata>,
    mut wanted: ClientMetadata,
) -> Result<(ClientMetadata, Vec<String>), AppError> {
    team.policy.admits_change(current, &wanted)?;
    let asked = team.policy.needing_approval(current, &wanted);
    wanted.scope = wanted.scope.without(&asked);
    Ok((wanted, asked))
}

impl App {
    /// Registers a client configured as `draft` as version 1.
    pub fn create_client(
        &self,
        actor: &Actor,
        draft: impl Into<ClientDraft>,
    ) -> Result<CreatedClient, AppError> {
        let attempt = Attempt { action: "client.created", ..clients("") };
        let draft = draft.into();
        self.change(actor, attempt, |tx| {
            self.register(tx, actor, &draft.read()?, new_client_id(), None, None)
        })
    }

    /// Registers a client configured as `draft` in team `team_id` as
    /// version 1: by an admin as they like; by a member holding the
    /// developer role within the team's policy and client count, the
    /// scopes needing an admin's approval left out and requested.
    pub fn create_team_client(
        &self,
        actor: &Actor,
        team_id: &str,
        draft: impl Into<ClientDraft>,
    ) -> Result<CreatedClient, AppError> {
        let draft = draft.into();
        let attempt = Attempt { action: "client.created", ..clients(team_id) };
        let done = self.commit(actor, |tx| {
            let (team, reach) = reach_team(tx.conn, actor, team_id, TeamPermission::Apps)?;
            let wanted = draft.read()?;
            let bounded_by = reach.bounding_team().is_some();
            let (metadata, asked) =
                if bounded_by { bounded(&team, None, wanted)? } else { (wanted, Vec::new()) };
            if bounded_by {
                ensure_room(tx.conn, &team)?;
            }
            let landing = Landing { team: &team, bounded: bounded_by };
            let mut created = self.register(tx, actor, &metadata, new_client_id(), None, Some(landing))?;
            if !asked.is_empty() {
                let client_id = created.client.client_id.clone();
                scope_requests::file(tx, actor, (&client_id, &team.team_id), asked)?;
                created.client = view_of(tx.conn, &client_id)?;
            }
            Ok(created)
        });
        if let Some(error) = done.as_ref().err().filter(|error| error.is_refusal()) {
            self.audit_refusal(actor, &attempt, error);
        }
        done
    }

    /// Registers a client as `client_id` in `tx`, in the team `landing`
    /// names if any: `client.created`, or `client.registered` when it
    /// registered itself, `admitted_by` what.
    pub(crate) fn register(
        &self,
        tx: &mut Tx<'_>,
        actor: &Actor,
        metadata: &ClientMetadata,
        client_id: ClientId,
        admitted_by: Option<&str>,
        landing: Option<Landing<'_>>,
    ) -> Result<CreatedClient, AppError> {
        super::check(metadata)?;
        self.scopes.check(metadata)?;
        super::policy::check_mapped_attributes(tx.conn, metadata)?;
        let bounding = landing.filter(|landing| landing.bounded).map(|landing| &landing.team.policy);
        let expires_at = match bounding {
            Some(policy) => bounded_expiry(policy, tx.now, None)?,
            None => None,
        };
        let secret =
            metadata.token_endpoint_auth_method.uses_secret().then(|| new_secret(tx.now, expires_at));
        let team_id = landing.map(|landing| landing.team.team_id.clone());
        let new = NewClient {
            client_id: client_id.as_str(),
            metadata,
            author: &actor.name(),
            secret: secret.as_ref().map(|(_, record)| record),
            team_id: team_id.as_deref(),
        };
        stored::create(tx.conn, &new)?;
        let (client_id, client_name) = (client_id.as_str().to_owned(), metadata.client_name.clone());
        tx.emit(match admitted_by {
            Some(admitted_by) => Event::ClientRegistered {
                client_id,
                version: 1,
                client_name,
                admitted_by: admitted_by.to_owned(),
            },
            None => Event::ClientCreated { client_id, version: 1, client_name, team_id: team_id.clone() },
        });
        let client = view_of(tx.conn, new.client_id)?;
        Ok(CreatedClient { client, secret: secret.map(|(secret, _)| secret) })
    }

    /// Writes a new configuration of `client_id`, based on version `based_on`
    /// (the current one when `None`). A configuration equal to the current
    /// one writes nothing.
    pub fn update_client(
        &self,
        actor: &Actor,
        client_id: &str,
        based_on: Option<i64>,
        change: ClientChange,
    ) -> Result<ClientView, AppError> {
        self.client_change(actor, clients(client_id), TeamPermission::Apps, |tx, reach| {
            crate::console::ensure_not_reserved(actor, client_id)?;
            let current = view_of(tx.conn, client_id)?;
            let metadata = match change {
                ClientChange::Replace(draft) => {
                    let draft = draft.read()?;
                    super::check(&draft)?;
                    self.scopes.check(&draft)?;
                    draft
                }
                ClientChange::Merge(patch) => {
                    if let Some(name) = READ_ONLY.iter().find(|name| patch.contains_key(**name)) {
                        return Err(invalid(name, "cannot be changed"));
                    }
                    let mut merged =
                        serde_json::to_value(&current.metadata).map_err(AppError::unavailable)?;
                    merge_patch(&mut merged, Value::Object(patch));
                    match merged {
                        Value::Object(merged) => parse_metadata(merged, &self.scopes)?,
                        _ => {
                            return Err(AppError::Invalid(
                                "a merge patch of a client must leave an object".into(),
                            ))
                        }
                    }
                }
            };
            let based_on = based_on.unwrap_or(current.version);
            if based_on != current.version {
                return Err(stale(based_on, current.version));
            }
            self.reconfigure_within(tx, actor, &reach, current, metadata, None)
        })
    }

    /// Writes `wanted` after `current` as `reach` allows: a member's change
    /// within the team's policy, the scopes needing approval requested
    /// rather than written. `summary` names a rollback.
    fn reconfigure_within(
        &self,
        tx: &mut Tx<'_>,
        actor: &Actor,
        reach: &ClientReach,
        current: ClientView,
        wanted: ClientMetadata,
        rolled_back_to: Option<i64>,
    ) -> Result<ClientView, AppError> {
        let Some(team) = reach.bounding_team() else {
            return match rolled_back_to {
                Some(version) => self.restore(tx, actor, &current, &wanted, version),
                None => self.reconfigure(tx, actor, current, &wanted),
            };
        };
        let client_id = current.client_id.clone();
        let (metadata, asked) = bounded(team, Some(&current.metadata), wanted)?;
        match rolled_back_to {
            Some(version) => drop(self.restore(tx, actor, &current, &metadata, version)?),
            None => drop(self.reconfigure(tx, actor, current, &metadata)?),
        }
        if !asked.is_empty() {
            scope_requests::file(tx, actor, (&client_id, &team.team_id), asked)?;
        }
        view_of(tx.conn, &client_id)
    }

    /// Writes `metadata` as the configuration after `current` (nothing when
    /// it is the same), in `tx`.
    pub(crate) fn reconfigure(
        &self,
        tx: &mut Tx<'_>,
        actor: &Actor,
        current: ClientView,
        metadata: &ClientMetadata,
    ) -> Result<ClientView, AppError> {
        if current.metadata == *metadata {
            return Ok(current);
        }
        let summary = summary(&current.metadata, metadata);
        let version = self.write_version(tx, actor, &current, metadata, &summary)?;
        let client_id = current.client_id;
        tx.emit(Event::ClientUpdated { client_id: client_id.clone(), version, summary });
        view_of(tx.conn, &client_id)
    }

    /// Writes version `version`'s configuration as the next version, if it
    /// was written within the retention window.
    pub fn roll_back_client(
        &self,
        actor: &Actor,
        client_id: &str,
        version: i64,
        based_on: Option<i64>,
    ) -> Result<ClientView, AppError> {
        let attempt = Attempt { action: "client.rolled_back", ..clients(client_id) };
        self.client_change(actor, attempt, TeamPermission::Apps, |tx, reach| {
            crate::console::ensure_not_reserved(actor, client_id)?;
            let current = view_of(tx.conn, client_id)?;
            let target = stored::version(tx.conn, client_id, version)?.ok_or_else(|| {
                // The client exists: a version it never had conflicts with its state.
                AppError::Conflict(format!("client {client_id} has no version {version} to roll back to"))
            })?;
            let window = self.policy.version_retention;
            if target.created_at < tx.now - window {
                return Err(AppError::Conflict(format!(
                    "version {version} is older than the {}-day rollback window and can no longer be restored",
                    window.num_days()
                )));
            }
            let based_on = based_on.unwrap_or(current.version);
            if based_on != current.version {
                return Err(stale(based_on, current.version));
            }
            let metadata = target.metadata;
            super::check(&metadata)?;
            self.reconfigure_within(tx, actor, &reach, current, metadata, Some(version))
        })
    }

    /// Writes `metadata`, version `version`'s configuration (or what of it
    /// a member may write), as the version after `current`.
    fn restore(
        &self,
        tx: &mut Tx<'_>,
        actor: &Actor,
        current: &ClientView,
        metadata: &ClientMetadata,
        version: i64,
    ) -> Result<ClientView, AppError> {
        let client_id = current.client_id.as_str();
        let summary = format!("rolled back to version {version}");
        let written = self.write_version(tx, actor, current, metadata, &summary)?;
        tx.emit(Event::ClientRolledBack {
            client_id: client_id.to_owned(),
            version: written,
            restored: version,
        });
        view_of(tx.conn, client_id)
    }

    /// Disables (or enables again, lifting any lockout) a client; a disabled
    /// client's tokens stop working on every instance. The last enabled
    /// admin client cannot be disabled. A team's member enables only what
    /// a member disabled: never an admin's, a lockout's or a rule's doing.
    pub fn set_client_disabled(
        &self,
        actor: &Actor,
        client_id: &str,
        disabled: bool,
    ) -> Result<ClientView, AppError> {
        let action = if disabled { "client.disabled" } else { "client.enabled" };
        self.client_change(actor, Attempt { action, ..clients(client_id) }, TeamPermission::Apps, |tx, reach| {
            crate::console::ensure_not_reserved(actor, client_id)?;
            let current = view_of(tx.conn, client_id)?;
            if disabled && holds_admin(&current.metadata) {
                ensure_another_admin(tx, client_id)?;
            }
            let by_team = reach.bounding_team().is_some();
            if by_team && !disabled && current.disabled && !stored::disabled_by_team(tx.conn, client_id)? {
                return Err(AppError::Beyond(
                    "an admin, a lockout or an alert rule disabled this client: only an admin enables it again".into(),
                ));
            }
            stored::set_disabled(tx.conn, client_id, disabled, by_team)?;
            let client_id = client_id.to_owned();
            tx.emit(if disabled {
                Event::ClientDisabled { client_id: client_id.clone() }
            } else {
                Event::ClientEnabled { client_id: client_id.clone() }
            });
            view_of(tx.conn, &client_id)
        })
    }

    /// Deletes a client; its tokens stop working on every instance. The last
    /// enabled admin client cannot be deleted.
    pub fn delete_client(&self, actor: &Actor, client_id: &str) -> Result<(), AppError> {
        let attempt = Attempt { action: "client.deleted", ..clients(client_id) };
        self.client_change(actor, attempt, TeamPermission::Apps, |tx, _| {
            crate::console::ensure_not_reserved(actor, client_id)?;
            remove(tx, client_id)
        })
    }

    /// Writes `new` as the version after `current`; returns its number.
    pub(crate) fn write_version(
        &self,
        tx: &mut Tx<'_>,
        actor: &Actor,
        current: &ClientView,
        new: &ClientMetadata,
        summary: &str,
    ) -> Result<i64, AppError> {
        let client_id = current.client_id.as_str();
        super::policy::check_mapped_attributes(tx.conn, new)?;
        // Losing `admin`, or the means to get an admin token for good (a
        // switch of authentication method, a rollback), is losing an admin.
        let before = find(tx.conn, client_id)?;
        let after = stored::ClientRecord { metadata: new.clone(), ..before.clone() };
        let lost_admin = holds_admin(&current.metadata) && !holds_admin(new);
        if lost_admin || (is_durable_admin(&before) && !is_durable_admin(&after)) {
            ensure_another_admin(tx, client_id)?;
        }
        let kept: Vec<String> = new.redirect_uris.iter().map(|uri| uri.as_str().to_owned()).collect();
        let retired: Vec<String> = current
            .metadata
            .redirect_uris
            .iter()
            .map(|uri| uri.as_str().to_owned())
            .filter(|uri| !kept.contains(uri))
            .collect();
        let version = stored::NewVersion {
            metadata: new,
            author: &actor.name(),
            summary,
            kept_redirect_uris: &kept,
            retired_redirect_uris: &retired,
            retired_until: tx.now + self.policy.redirect_uri_grace,
        };
        match stored::add_version(tx.conn, client_id, current.version, &version)? {
            VersionWrite::Written(version) => Ok(version),
            VersionWrite::Stale { current: now } => Err(stale(current.version, now)),
            VersionWrite::NotFound => Err(AppError::NotFound(format!("there is no client {client_id}"))),
        }
    }
}

fn invalid(field: &str, message: &str) -> AppError {
    AppError::InvalidMetadata { field: field.to_owned(), message: message.to_owned() }
}

fn stale(based_on: i64, current: i64) -> AppError {
    AppError::Conflict(format!(
        "version {based_on} is not current any more (the current version is {current}); read the client again and reapply the change"
    ))
}

/// Deletes `client_id` in `tx`, and with it any registration it made of
/// itself: its tokens and its registration access token stop working.
pub(crate) fn remove(tx: &mut Tx<'_>, client_id: &str) -> Result<(), AppError> {
    let current = find(tx.conn, client_id)?;
    if holds_admin(&current.metadata) {
        ensure_another_admin(tx, client_id)?;
    }
    stored::delete(tx.conn, client_id)?;
    portcullis_store::registrations::forget(tx.conn, client_id)?;
    // Nothing is left for an admin to approve.
    super::scope_requests::withdraw_pending(tx, client_id)?;
    tx.emit(Event::ClientDeleted { client_id: client_id.to_owned() });
    Ok(())
}

/// Refuses a change that would leave no enabled client other than
/// `client_id` holding the `admin` scope: nobody could undo it.
fn ensure_another_admin(tx: &mut Tx<'_>, client_id: &str) -> Result<(), AppError> {
    if is_last_admin(tx.conn, client_id)? {
        return Err(AppError::Conflict(format!(
            "client {client_id} is the last enabled client holding the `admin` scope; give another client `admin` first, or nobody could administer this server"
        )));
    }
    Ok(())
}

/// RFC 7396 §2: `null` removes a member, an object merges, anything else replaces.
fn merge_patch(target: &mut Value, patch: Value) {
    let Value::Object(patch) = patch else {
        *target = patch;
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let target = target.as_object_mut().expect("made an object above");
    for (name, value) in patch {
        if value.is_null() {
            target.remove(&name);
        } else {
            merge_patch(target.entry(name).or_insert(Value::Null), value);
        }
    }
}
