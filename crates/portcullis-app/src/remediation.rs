//! Automated remediation (issue 11): what an alert rule may do to a client
//! whose own misbehaviour its counts show: lock it (the lockout's cooldown),
//! disable it, or revoke every token it holds. Only counts a stranger
//! cannot produce may act: failures from addresses that authenticated the
//! client before, requests the client authenticated and sent malformed, and
//! authenticated calls from outside its networks or countries; never for a
//! public client, whose id proves nothing.
//!
//! Each action is a row of `remediations` and a `client.remediated` event
//! (audited as the system job that acted: `lockout`, `alerts` or
//! `remediation`; sent to webhooks) in the transaction that takes it; a
//! client already disabled is not disabled again. An admin undoes one with
//! [`App::undo_remediation`], which restores only what the action itself
//! changed: the lock is lifted if it is still that lock, the client enabled
//! if it is still disabled by that action, and revoked tokens work again
//! unless another revocation in force covers them (revoking sets a cutoff
//! on the client, so nothing is deleted).

use crate::clients::is_last_admin;
use crate::transaction::{Attempt, Tx};
use crate::{time, Actor, App, AppError, Event, Permission};
use chrono::{DateTime, Utc};
use portcullis_core::TokenEndpointAuthMethod;
use portcullis_store::change_log::{self, ChangeKind};
use portcullis_store::remediations::{self, RemediationRecord};
use portcullis_store::{clients, lockouts};
use serde::{Deserialize, Serialize};

/// What the actions are audited as.
pub const REMEDIATION: Actor = Actor::System { job: "remediation" };
/// The rule id of the lockout the `--client-lockout-*` flags configure.
pub const DEFAULT_RULE: &str = "default";
/// The most actions one listing shows.
pub const MAX_LISTED: i64 = 500;

/// What a rule may do to a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Lock it out for the lockout's cooldown (doubling on each lockout).
    Lock,
    /// Disable it until an admin enables it.
    Disable,
    /// Revoke every access token, refresh token and code it holds.
    RevokeTokens,
}

impl Action {
    /// The action's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lock => "lock",
            Self::Disable => "disable",
            Self::RevokeTokens => "revoke_tokens",
        }
    }

    fn parse(name: &str) -> Result<Self, AppError> {
        serde_json::from_value(serde_json::Value::from(name))
            .map_err(|_| AppError::Corrupt(format!("remediation action `{name}`")))
    }
}

/// An action as admins see it.
#[derive(Clone, Debug, Serialize)]
pub struct RemediationView {
    /// Its id.
    pub remediation_id: String,
    /// The rule that took it (`default`: the lockout flags' rule).
    pub rule_id: String,
    /// The client.
    pub client_id: String,
    /// `lock`, `disable` or `revoke_tokens`.
    pub action: String,
    /// Why.
    pub reason: String,
    /// When, RFC 3339.
    pub applied_at: String,
    /// For a lock, when it ends, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<String>,
    /// When an admin undid it, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undone_at: Option<String>,
    /// Who undid it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undone_by: Option<String>,
}

fn view(record: RemediationRecord) -> RemediationView {
    RemediationView {
        remediation_id: record.remediation_id,
        rule_id: record.rule_id,
        client_id: record.client_id,
        action: record.action,
        reason: record.reason,
        applied_at: time(record.applied_at.and_utc()),
        locked_until: record.locked_until.map(|at| time(at.and_utc())),
        undone_at: record.undone_at.map(|at| time(at.and_utc())),
        undone_by: record.undone_by,
    }
}

/// Takes `action` against `client_id` for `rule_id` in `tx`, records it and
/// emits `client.remediated`; `None` when it does not apply: no such client,
/// a public one, one disabled already, or disabling the last admin client
/// (nobody could enable it again). A lock is taken by the caller (the
/// lockout counter, until `locked_until`); this records it.
pub(crate) fn apply(
    tx: &mut Tx<'_>,
    rule: (&str, String),
    client_id: &str,
    action: Action,
    locked_until: Option<DateTime<Utc>>,
) -> Result<Option<RemediationView>, AppError> {
    let (rule_id, reason) = rule;
    let Some(client) = clients::find(tx.conn, client_id)? else { return Ok(None) };
    if client.metadata.token_endpoint_auth_method == TokenEndpointAuthMethod::None {
        tracing::warn!(
            client_id,
            rule_id,
            "a rule does not act on a public client: anyone can present its id"
        );
        return Ok(None);
    }
    match action {
        Action::Lock => {}
        Action::Disable if is_last_admin(tx.conn, client_id)? => {
            tracing::warn!(client_id, rule_id, "a rule does not disable the last admin client");
            return Ok(None);
        }
        Action::Disable => {
            if !clients::disable_if_enabled(tx.conn, client_id, tx.now)? {
                return Ok(None);
            }
        }
        Action::RevokeTokens => {
            clients::set_tokens_revoked_before(tx.conn, client_id, Some(tx.now))?;
        }
    }
    let record = RemediationRecord {
        remediation_id: format!("rm_{}", uuid::Uuid::new_v4().simple()),
        rule_id: rule_id.to_owned(),
        client_id: client_id.to_owned(),
        action: action.name().to_owned(),
        reason: reason.clone(),
        applied_at: tx.now.naive_utc(),
        locked_until: locked_until.map(|at| at.naive_utc()),
        undone_at: None,
        undone_by: None,
    };
    remediations::insert(tx.conn, &record)?;
    tracing::warn!(client_id, rule_id, action = action.name(), reason = %reason, "a rule acted on a client");
    tx.emit(Event::ClientRemediated {
        client_id: client_id.to_owned(),
        remediation_id: record.remediation_id.clone(),
        rule_id: rule_id.to_owned(),
        action: action.name(),
        reason,
    });
    Ok(Some(view(record)))
}

impl App {
    /// The latest actions rules took (of `client_id`, when given), newest first.
    pub fn remediations(
        &self,
        actor: &Actor,
        client_id: Option<&str>,
    ) -> Result<Vec<RemediationView>, AppError> {
        self.read(actor, Permission::Monitoring, |conn| {
            Ok(remediations::latest(conn, client_id, MAX_LISTED)?.into_iter().map(view).collect())
        })
    }

    /// Undoes an action, once: lifts the lock if it is still that lock,
    /// enables the client if that action still holds it disabled, or
    /// restores the revoked tokens (back to the latest revocation still in
    /// force, if any).
    pub fn undo_remediation(&self, actor: &Actor, remediation_id: &str) -> Result<RemediationView, AppError> {
        let attempt = Attempt {
            permission: Permission::Clients,
            action: "client.remediation_undone",
            target: remediation_id,
        };
        self.change(actor, attempt, |tx| {
            let record = remediations::find(tx.conn, remediation_id)?
                .ok_or_else(|| AppError::NotFound(format!("no remediation `{remediation_id}`")))?;
            if !remediations::mark_undone(tx.conn, remediation_id, &actor.name(), tx.now.naive_utc())? {
                return Err(AppError::Conflict(format!("remediation `{remediation_id}` was undone already")));
            }
            let client_id = record.client_id.as_str();
            let action = Action::parse(&record.action)?;
            if let Some(client) = clients::find(tx.conn, client_id)? {
                match action {
                    Action::Lock if client.locked_until == record.locked_until.map(|at| at.and_utc()) => {
                        lockouts::clear(tx.conn, client_id)?;
                        change_log::append(tx.conn, ChangeKind::Client, client_id, None)?;
                    }
                    Action::Disable if client.disabled_at == Some(record.applied_at.and_utc()) => {
                        clients::set_disabled(tx.conn, client_id, false, false)?;
                    }
                    Action::RevokeTokens => {
                        // Another revocation in force still stands.
                        let standing = remediations::latest_revocation(tx.conn, client_id)?;
                        clients::set_tokens_revoked_before(
                            tx.conn,
                            client_id,
                            standing.map(|at| at.and_utc()),
                        )?;
                    }
                    // A later lock or disabling is not this action's to lift.
                    Action::Lock | Action::Disable => {}
                }
            }
            tx.emit(Event::ClientRemediationUndone {
                client_id: client_id.to_owned(),
                remediation_id: remediation_id.to_owned(),
                action: action.name(),
            });
            let undone = remediations::find(tx.conn, remediation_id)?
                .ok_or_else(|| AppError::Corrupt(format!("remediation `{remediation_id}` vanished")))?;
            Ok(view(undone))
        })
    }
}
