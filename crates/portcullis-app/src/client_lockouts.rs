//! What client authentication records (RFC 6749 §2.3, RFC 7523): the
//! failures in a row of each client, its lockout (or, by policy, its
//! disabling) at a threshold, lockouts of one address out of one client,
//! and the `jti` of every client assertion, so none is accepted twice.
//!
//! The server decides which failures count (see its `client_lockout`
//! module: only those from addresses that authenticated the client before
//! count against the client as a whole); these operations record them, and
//! audit and publish each lockout as `client.locked_out` by the system job
//! `lockout`, with the `client.remediated` it is (undoable by an admin).
//! A `consecutive_failures` alert rule (the client's own, else one for
//! every client) sets the threshold and whether the client is locked or
//! disabled; without one, the server's default policy does. The authenticated (or failing) client is their authority:
//! they check no admin permission.

use crate::alerts::RuleKind;
use crate::clients::is_last_admin;
use crate::remediation::{self, Action, DEFAULT_RULE};
use crate::{Actor, App, AppError, Event};
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_store::{address_lockouts, auth_failures, lockouts};
use std::net::IpAddr;

/// The actor lockouts are recorded under.
const LOCKOUT: Actor = Actor::System { job: "lockout" };

/// When a client as a whole is locked out, and what then.
#[derive(Clone, Copy, Debug)]
pub struct LockoutPolicy {
    /// Failures in a row that lock the client.
    pub threshold: i64,
    /// The first lockout's length; each further one doubles it.
    pub cooldown: TimeDelta,
    /// The longest lockout.
    pub max_cooldown: TimeDelta,
    /// Whether a lockout disables the client (an admin must enable it).
    pub disable: bool,
}

/// How far back failures of a client from one address count towards
/// locking that address out.
pub const ADDRESS_FAILURE_WINDOW: TimeDelta = TimeDelta::hours(1);

/// An address locked out of a client, on every instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressLockout {
    /// The address locked out: an IPv4 address or an IPv6 /64.
    pub address: String,
    /// When the lockout ends.
    pub until: DateTime<Utc>,
    /// How many times this address has been locked out of this client.
    pub lockouts: i64,
}

/// What failures of `client_id` from `address` are counted under.
fn address_subject(client_id: &str, address: &str) -> [u8; 32] {
    crate::secrets::hash(&format!("client-address:{client_id}\0{address}"))
}

impl App {
    /// The client authenticated: its failures in a row start again.
    pub fn reset_client_failures(&self, client_id: &str) -> Result<(), AppError> {
        Ok(lockouts::reset(&mut *self.db.get()?, client_id)?)
    }

    /// Counts a failed authentication of `client_id` from `source` against
    /// the client as a whole; at the threshold (of its `consecutive_failures`
    /// rule, else of `default`) the client is locked (or disabled), audited
    /// and published in one transaction.
    pub fn count_client_failure(
        &self,
        client_id: &str,
        source: Option<IpAddr>,
        default: &LockoutPolicy,
    ) -> Result<(), AppError> {
        let rule = self.rule_for(client_id, |rule| match rule {
            RuleKind::ConsecutiveFailures { threshold, action, .. } => Some((*threshold, *action)),
            _ => None,
        })?;
        let (rule_id, policy) = match rule {
            Some((rule_id, (threshold, action))) => (
                rule_id,
                LockoutPolicy {
                    threshold: i64::from(threshold),
                    disable: action == Action::Disable,
                    ..*default
                },
            ),
            None => (DEFAULT_RULE.to_owned(), *default),
        };
        let counting = lockouts::Policy {
            threshold: policy.threshold,
            cooldown: policy.cooldown,
            max_cooldown: policy.max_cooldown,
        };
        self.commit(&LOCKOUT, |tx| {
            tx.from(source);
            let lockouts::Failure::Locked { until, lockouts } =
                lockouts::record_failure(tx.conn, client_id, &counting, tx.now)?
            else {
                return Ok(());
            };
            let reason = format!("{} failed authentications in a row from addresses it used", policy.threshold);
            // The last admin client is locked, never disabled: nobody could enable it again.
            let disable = policy.disable && !is_last_admin(tx.conn, client_id)?;
            let (action, until_lifted) = if disable { (Action::Disable, None) } else { (Action::Lock, Some(until)) };
            remediation::apply(tx, (&rule_id, reason), client_id, action, until_lifted)?;
            if disable {
                lockouts::clear(tx.conn, client_id)?;
            }
            tracing::warn!(client_id, until = %until, disabled = disable, "client locked out after repeated failed authentications from addresses it used");
            tx.emit(Event::ClientLockedOut {
                client_id: client_id.to_owned(),
                address: source.map(|ip| ip.to_string()),
                scope: "client",
                until: until.to_rfc3339(),
                lockouts,
                disabled: disable,
            });
            Ok(())
        })
    }

    /// Counts a failed authentication of `client_id` (a wrong secret or
    /// assertion) from `address` (as
    /// [`address_key`](crate::rate_limits::address_key) keys it) at `source`,
    /// in the database, so every instance counts towards one threshold: at
    /// `policy.threshold` failures within [`ADDRESS_FAILURE_WINDOW`] the
    /// address is locked out of the client for the cooldown (doubling with
    /// each lockout), audited and published; every instance's mirror of
    /// the client then holds the lockout. Returns it, when this failure
    /// locked the address.
    pub fn count_address_failure(
        &self,
        client_id: &str,
        (address, source): (&str, Option<IpAddr>),
        policy: &LockoutPolicy,
    ) -> Result<Option<AddressLockout>, AppError> {
        let subject = address_subject(client_id, address);
        let now = self.now();
        // Counted on a connection given back before the lockout's own
        // transaction takes one: a flood never holds two per failure.
        let failures = {
            let conn = &mut *self.db.get()?;
            auth_failures::record(conn, &[&subject], now)?;
            auth_failures::count_since(conn, &subject, now - ADDRESS_FAILURE_WINDOW)?
        };
        if failures < policy.threshold {
            return Ok(None);
        }
        let locked = self.commit(&LOCKOUT, |tx| {
            tx.from(source);
            let cooldowns = (policy.cooldown, policy.max_cooldown);
            let Some((until, lockouts)) =
                address_lockouts::lock(tx.conn, client_id, address, cooldowns, tx.now)?
            else {
                return Ok(None);
            };
            auth_failures::clear(tx.conn, &subject)?;
            tx.emit(Event::ClientLockedOut {
                client_id: client_id.to_owned(),
                address: Some(address.to_owned()),
                scope: "address",
                until: until.to_rfc3339(),
                lockouts,
                disabled: false,
            });
            Ok(Some(AddressLockout { address: address.to_owned(), until, lockouts }))
        });
        match locked {
            // Another instance locked it first.
            Err(AppError::Conflict(_)) => Ok(None),
            Ok(Some(lockout)) => {
                tracing::warn!(client_id = %client_id, address = %lockout.address, until = %lockout.until, "address locked out of a client after repeated failed authentications");
                Ok(Some(lockout))
            }
            other => other,
        }
    }

    /// `client_id` authenticated from `address`: its failures from there are
    /// forgotten.
    pub fn clear_address_failures(&self, client_id: &str, address: &str) -> Result<(), AppError> {
        let subject = address_subject(client_id, address);
        auth_failures::clear(&mut *self.db.get()?, &subject)?;
        Ok(())
    }
}
