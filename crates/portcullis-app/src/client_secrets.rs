//! Client secrets: several may be valid at once, so a client can roll its
//! secret without downtime. A secret is 256 random bits, stored as SHA-256
//! and shown once, when it is made.

use crate::clients::reach::{reach, ClientReach};
use crate::clients::{find, is_durable_admin, is_last_admin};
use crate::transaction::Attempt;
use crate::{secrets, time, Actor, App, AppError, Event, Permission};
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_core::team::{TeamPermission, TeamPolicy};
use portcullis_core::ClientSecret;
use portcullis_store::clients::{self as stored, SecretRecord};

/// A new secret and the record that stores it, made at `now`.
pub(crate) fn new_secret(
    now: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> (ClientSecret, SecretRecord) {
    let secret = ClientSecret::new(secrets::random_token());
    let record = SecretRecord {
        secret_id: uuid::Uuid::new_v4().to_string(),
        secret_hash: secrets::hash(secret.expose()).to_vec(),
        created_at: now,
        expires_at,
    };
    (secret, record)
}

/// When a secret a team's member makes at `now` expires, asked to expire
/// at `asked`: where the team's policy bounds secrets' lifetimes, at most
/// that far off, and that far off when not asked.
pub(crate) fn bounded_expiry(
    policy: &TeamPolicy,
    now: DateTime<Utc>,
    asked: Option<DateTime<Utc>>,
) -> Result<Option<DateTime<Utc>>, AppError> {
    let Some(days) = policy.max_secret_lifetime_days else { return Ok(asked) };
    let latest = now + TimeDelta::days(i64::from(days));
    match asked {
        Some(at) if at > latest => Err(AppError::Invalid(format!(
            "expires_at: this team's policy lets a secret live at most {days} days, until {}",
            time(latest)
        ))),
        Some(at) => Ok(Some(at)),
        None => Ok(Some(latest)),
    }
}

/// When a secret made by an actor reaching its client as `reach` expires.
fn expiry(
    reach: &ClientReach,
    now: DateTime<Utc>,
    asked: Option<DateTime<Utc>>,
) -> Result<Option<DateTime<Utc>>, AppError> {
    match reach.bounding_team() {
        Some(team) => bounded_expiry(&team.policy, now, asked),
        None => Ok(asked),
    }
}

/// A secret just added, shown this once.
#[derive(Debug)]
pub struct AddedSecret {
    /// Its id, to revoke it by.
    pub secret_id: String,
    /// The secret.
    pub secret: ClientSecret,
    /// When it was added.
    pub created_at: String,
    /// When it stops working, if ever.
    pub expires_at: Option<String>,
}

/// The most clients one regeneration may cover.
pub const MAX_REGENERATED: usize = 50;

/// A client's new secret after a regeneration, shown this once.
#[derive(Debug)]
pub struct RegeneratedSecret {
    /// The client.
    pub client_id: String,
    /// Its name, to tell the secrets apart.
    pub client_name: String,
    /// The new secret's id.
    pub secret_id: String,
    /// The new secret; every other secret of the client is revoked.
    pub secret: ClientSecret,
}

impl App {
    /// Revokes every secret of each of `client_ids` (at most
    /// [`MAX_REGENERATED`]; of team `team` only, when named) and gives each
    /// one new secret, in one transaction: all of them change, or none does.
    pub fn regenerate_client_secrets(
        &self,
        actor: &Actor,
        client_ids: &[String],
        team: Option<&str>,
    ) -> Result<Vec<RegeneratedSecret>, AppError> {
        let attempt = Attempt {
            permission: Permission::Clients,
            action: "client.secret_regenerated",
            target: client_ids.first().map_or("", String::as_str),
        };
        let done = self.commit(actor, |tx| {
            if actor.portal_user().is_none() {
                actor.require(Permission::Clients)?;
            }
            if let Some(team) = team {
                crate::clients::reach::reach_team(tx.conn, actor, team, TeamPermission::Apps)?;
            }
            let mut ids: Vec<&String> = Vec::with_capacity(client_ids.len());
            for id in client_ids {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            if ids.is_empty() || ids.len() > MAX_REGENERATED {
                return Err(AppError::Invalid(format!(
                    "choose from 1 to {MAX_REGENERATED} clients, not {}",
                    ids.len()
                )));
            }
            let mut regenerated = Vec::with_capacity(ids.len());
            for client_id in ids {
                let reach = reach(tx.conn, actor, client_id, TeamPermission::Apps)?;
                crate::console::ensure_not_reserved(actor, client_id)?;
                let client = find(tx.conn, client_id)?;
                if team.is_some_and(|team| client.team_id.as_deref() != Some(team)) {
                    return Err(AppError::NotFound(format!("there is no client {client_id} in this team")));
                }
                let method = client.metadata.token_endpoint_auth_method;
                if !method.uses_secret() {
                    return Err(AppError::Conflict(format!(
                        "{} ({client_id}) authenticates with {}, not with a secret",
                        client.metadata.client_name,
                        method.as_str()
                    )));
                }
                let (secret, record) = new_secret(tx.now, expiry(&reach, tx.now, None)?);
                stored::replace_secrets(tx.conn, client_id, &record)?;
                tx.emit(Event::ClientSecretRegenerated {
                    client_id: client_id.clone(),
                    secret_id: record.secret_id.clone(),
                });
                regenerated.push(RegeneratedSecret {
                    client_id: client_id.clone(),
                    client_name: client.metadata.client_name,
                    secret_id: record.secret_id,
                    secret,
                });
            }
            Ok(regenerated)
        });
        if let Some(error) = done.as_ref().err().filter(|error| error.is_refusal()) {
            self.audit_refusal(actor, &attempt, error);
        }
        done
    }

    /// Adds a secret to a client that authenticates with one, leaving its
    /// other secrets valid; it stops working at `expires_at`, if given (for
    /// a team's member, within the team's policy: at its longest when not
    /// given).
    pub fn add_client_secret(
        &self,
        actor: &Actor,
        client_id: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<AddedSecret, AppError> {
        let attempt =
            Attempt { permission: Permission::Clients, action: "client.secret_added", target: client_id };
        self.client_change(actor, attempt, TeamPermission::Apps, |tx, reach| {
            if expires_at.is_some_and(|at| at <= tx.now) {
                return Err(AppError::Invalid("expires_at must be in the future".into()));
            }
            let expires_at = expiry(&reach, tx.now, expires_at)?;
            let record = find(tx.conn, client_id)?;
            let method = record.metadata.token_endpoint_auth_method;
            if !method.uses_secret() {
                return Err(AppError::Conflict(format!(
                    "the client authenticates with {}, not with a secret",
                    method.as_str()
                )));
            }
            let (secret, record) = new_secret(tx.now, expires_at);
            stored::add_secret(tx.conn, client_id, &record)?;
            tx.emit(Event::ClientSecretAdded {
                client_id: client_id.to_owned(),
                secret_id: record.secret_id.clone(),
                expires_at: expires_at.map(time),
            });
            Ok(AddedSecret {
                secret_id: record.secret_id,
                secret,
                created_at: time(record.created_at),
                expires_at: record.expires_at.map(time),
            })
        })
    }

    /// Revokes one secret of a client at once; the others keep working.
    pub fn revoke_client_secret(
        &self,
        actor: &Actor,
        client_id: &str,
        secret_id: &str,
    ) -> Result<(), AppError> {
        let attempt =
            Attempt { permission: Permission::Clients, action: "client.secret_revoked", target: client_id };
        self.client_change(actor, attempt, TeamPermission::Apps, |tx, _| {
            if !stored::revoke_secret(tx.conn, client_id, secret_id)? {
                return Err(AppError::NotFound(format!("there is no client {client_id} with a secret {secret_id}")));
            }
            // The last admin keeps a secret that never expires: one that
            // does would lock everyone out when it expires.
            let left = find(tx.conn, client_id)?;
            if !is_durable_admin(&left) && is_last_admin(tx.conn, client_id)? {
                return Err(AppError::Conflict(format!(
                    "revoking secret {secret_id} leaves {client_id}, the last enabled admin client, no secret that never expires; add one without expires_at first, or nobody could administer this server"
                )));
            }
            tx.emit(Event::ClientSecretRevoked { client_id: client_id.to_owned(), secret_id: secret_id.to_owned() });
            Ok(())
        })
    }
}
