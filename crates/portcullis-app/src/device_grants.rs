//! The device authorization grant (RFC 8628): a device without a browser
//! (a TV, a CLI, an agent) asks for a device code and a short user code;
//! its user types the user code on another device's browser, signs in and
//! approves or denies; the device polls the token endpoint meanwhile.
//!
//! User codes are 8 letters of 20 consonants (no vowels, so no words; no
//! look-alikes such as 0/O or 1/I), about 34.6 bits, shown as `BCDF-GHJK`
//! and read case-insensitively with any separators: guessing one live code
//! among a few thousand takes millions of tries, which the verification
//! page's per-address limit keeps out of reach (RFC 8628 §5.1). Each step is
//! audited: the start (by the client), the decision (by the user's
//! browser, naming the user) and the redemption.

use crate::grants::{code_details, Caller, RedeemedCode};
use crate::sessions::{Interaction, Session};
use crate::{secrets, Actor, App, AppError, Event, Permission};
use chrono::TimeDelta;
use portcullis_core::authorization_request::AuthorizationRequest;
use portcullis_core::Scope;
use portcullis_store::device_grants::{self, DeviceGrantRecord, DeviceStatus, Poll};
use portcullis_store::sessions;
use rand::Rng;
use serde::Serialize;
use std::net::IpAddr;
use std::time::Duration;

/// The letters of user codes (RFC 8628 §6.1: no vowels, nothing that reads alike).
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// The letters of a user code.
pub const USER_CODE_LENGTH: usize = 8;
/// Seconds a device waits between polls, at first (RFC 8628 §3.2).
pub const POLL_INTERVAL: i32 = 5;

/// A device authorization just started: what the device is told (RFC 8628 §3.2).
pub struct DeviceAuthorization {
    /// The device code, a CSPRNG value stored only as its hash.
    pub device_code: String,
    /// The user code, as shown (`BCDF-GHJK`).
    pub user_code: String,
    /// Seconds both codes live.
    pub expires_in: u64,
    /// Seconds between polls.
    pub interval: u64,
}

/// A pending device grant, as the verification page and the console show it.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceGrantView {
    /// The user code, [`masked`].
    pub user_code: String,
    /// The client that asked.
    pub client_id: String,
    /// The scope it asked for.
    pub scope: String,
    /// When it was asked for.
    pub created_at: String,
    /// When its codes stop working.
    pub expires_at: String,
    /// When the device last polled.
    pub polled_at: Option<String>,
}

impl From<&DeviceGrantRecord> for DeviceGrantView {
    fn from(grant: &DeviceGrantRecord) -> Self {
        Self {
            user_code: masked(&grant.user_code),
            client_id: grant.client_id.clone(),
            scope: grant.scope.clone(),
            created_at: crate::time(grant.created_at),
            expires_at: crate::time(grant.expires_at),
            polled_at: grant.polled_at.map(crate::time),
        }
    }
}

/// What a device's poll came to (RFC 8628 §3.5).
pub enum DevicePoll {
    /// No such device code for this client.
    Unknown,
    /// The codes expired.
    Expired,
    /// The user has not decided.
    Pending,
    /// Polled too soon: wait this many seconds from now on.
    TooFast(u64),
    /// The user denied.
    Denied,
    /// Redeemed before.
    Redeemed,
    /// Approved: redeemed now, with what the user approved.
    Approved(Box<RedeemedCode>),
}

/// `typed` as a stored user code: its letters of the alphabet, upper-cased,
/// without separators; `None` unless exactly [`USER_CODE_LENGTH`] remain.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let letters: String =
        typed.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    let valid = letters.len() == USER_CODE_LENGTH && letters.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
    valid.then_some(letters)
}

/// A stored user code as the audit log and the console show it: its first
/// two letters only (`BC**-****`), so that no one who reads them can enter a
/// waiting device's code and approve it into their own account.
pub fn masked(user_code: &str) -> String {
    let shown = shown(user_code);
    shown.chars().enumerate().map(|(i, c)| if i < 2 || c == '-' { c } else { '*' }).collect()
}

/// A stored user code as people read it: `BCDF-GHJK`.
pub fn shown(user_code: &str) -> String {
    let (first, second) = user_code.split_at(user_code.len() / 2);
    format!("{first}-{second}")
}

fn new_user_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..USER_CODE_LENGTH)
        .map(|_| char::from(USER_CODE_ALPHABET[rng.gen_range(0..USER_CODE_ALPHABET.len())]))
        .collect()
}

impl App {
    /// Starts a device authorization of `caller` for `scope`, living
    /// `lifetime`; audited as `device.authorization_started`.
    pub fn start_device_authorization(
        &self,
        caller: &Caller,
        scope: &Scope,
        lifetime: Duration,
    ) -> Result<DeviceAuthorization, AppError> {
        let device_code = secrets::random_token();
        let now = self.clock.now();
        let expires_at = now + TimeDelta::from_std(lifetime).unwrap_or(TimeDelta::MAX);
        // A user code already live is drawn again; a few draws always find a free one.
        for _ in 0..5 {
            let grant = DeviceGrantRecord {
                device_code_hash: secrets::hash(&device_code).to_vec(),
                user_code: new_user_code(),
                grant_id: uuid::Uuid::new_v4().to_string(),
                client_id: caller.client_id.clone(),
                scope: scope.to_string(),
                status: DeviceStatus::Pending,
                details: None,
                interval_seconds: POLL_INTERVAL,
                polled_at: None,
                created_at: now,
                expires_at,
            };
            let event = Event::DeviceAuthorizationStarted {
                client_id: grant.client_id.clone(),
                user_code: masked(&grant.user_code),
                scope: grant.scope.clone(),
            };
            let inserted = self.commit(&caller.actor(), |tx| {
                device_grants::insert(tx.conn, &grant)?;
                tx.emit(event);
                Ok(())
            });
            match inserted {
                Ok(()) => {
                    return Ok(DeviceAuthorization {
                        device_code,
                        user_code: shown(&grant.user_code),
                        expires_in: lifetime.as_secs(),
                        interval: POLL_INTERVAL as u64,
                    })
                }
                Err(AppError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(AppError::Unavailable(anyhow::anyhow!("no free user code after five draws")))
    }

    /// The pending, live grant the user typed `user_code` for, if any.
    pub fn pending_device_grant(&self, user_code: &str) -> Result<Option<DeviceGrantView>, AppError> {
        let Some(code) = normalize_user_code(user_code) else { return Ok(None) };
        let found = device_grants::pending(&mut *self.db.get()?, &code, self.clock.now())?;
        Ok(found.as_ref().map(DeviceGrantView::from))
    }

    /// Decides the device grant `request` verifies, for the user of
    /// `session` (approving what `request` asks, as a code would), and ends
    /// `interaction`, in one transaction audited as `device.approved` or
    /// `device.denied` from `address`. False when the grant or the
    /// interaction had ended already.
    pub fn decide_device_grant(
        &self,
        request: &AuthorizationRequest,
        session: &Session,
        interaction: Option<&Interaction>,
        (approve, address): (bool, Option<IpAddr>),
    ) -> Result<bool, AppError> {
        let Some(user_code) = request.device_user_code.as_deref().and_then(normalize_user_code) else {
            return Ok(false);
        };
        let details = approve.then(|| code_details(request, session, interaction, self.clock.now()));
        let (client_id, user_id) = (request.client_id.as_str().to_owned(), session.user_id.clone());
        let event = match approve {
            true => {
                Event::DeviceApproved { client_id: client_id.clone(), user_code: masked(&user_code), user_id }
            }
            false => {
                Event::DeviceDenied { client_id: client_id.clone(), user_code: masked(&user_code), user_id }
            }
        };
        let actor = Actor::Party { client_id: Some(client_id), address };
        self.commit(&actor, |tx| {
            let finished = match interaction {
                Some(interaction) => sessions::finish_interaction(tx.conn, interaction.hash())?,
                None => true,
            };
            let decided = finished && device_grants::decide(tx.conn, &user_code, details.as_ref(), tx.now)?;
            if decided {
                tx.emit(event);
            }
            Ok(decided)
        })
    }

    /// Polls the grant of `device_code` for `caller`: an approved grant is
    /// redeemed at most once, audited as `device.redeemed`.
    pub fn poll_device_grant(&self, caller: &Caller, device_code: &str) -> Result<DevicePoll, AppError> {
        let hash = secrets::hash(device_code);
        let now = self.clock.now();
        let poll = device_grants::poll(&mut *self.db.get()?, &hash, &caller.client_id, now)?;
        Ok(match poll {
            Poll::Unknown => DevicePoll::Unknown,
            Poll::Expired => DevicePoll::Expired,
            Poll::Pending => DevicePoll::Pending,
            Poll::TooFast { interval } => DevicePoll::TooFast(interval.max(0) as u64),
            Poll::Denied => DevicePoll::Denied,
            Poll::Redeemed => DevicePoll::Redeemed,
            // Disabling a user revokes their grants; one approved and not yet
            // redeemed ends here, denied, and audited as such.
            Poll::Withdrawn(grant) => {
                let user_id = grant.details.map(|details| details.user_id).unwrap_or_default();
                let event = Event::DeviceDenied {
                    client_id: grant.client_id,
                    user_code: masked(&grant.user_code),
                    user_id,
                };
                self.commit(&caller.actor(), |tx| {
                    tx.emit(event);
                    Ok(())
                })?;
                DevicePoll::Denied
            }
            Poll::Approved(grant) => {
                let DeviceGrantRecord { grant_id, client_id, details, created_at, user_code, .. } = *grant;
                let Some(details) = details else { return Ok(DevicePoll::Unknown) };
                let event = Event::DeviceRedeemed {
                    client_id: client_id.clone(),
                    user_code: masked(&user_code),
                    grant_id: grant_id.clone(),
                };
                self.commit(&caller.actor(), |tx| {
                    tx.emit(event);
                    Ok(())
                })?;
                DevicePoll::Approved(Box::new(RedeemedCode {
                    grant_id,
                    client_id,
                    details,
                    issued_at: created_at,
                }))
            }
        })
    }

    /// The pending device grants, newest first (at most 1,000), for the console.
    pub fn pending_device_grants(&self, actor: &Actor) -> Result<Vec<DeviceGrantView>, AppError> {
        let now = self.clock.now();
        self.read(actor, Permission::Monitoring, |conn| {
            Ok(device_grants::all_pending(conn, now)?.iter().map(DeviceGrantView::from).collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_read_as_people_type_them() {
        assert_eq!(normalize_user_code("bcdf-ghjk").as_deref(), Some("BCDFGHJK"));
        assert_eq!(normalize_user_code(" BCDF GHJK ").as_deref(), Some("BCDFGHJK"));
        for wrong in ["BCDF-GHJ", "BCDF-GHJKL", "ABCD-EFGH", "BCDF-GHJ0", "", "BCDF_GHJK"] {
            assert_eq!(normalize_user_code(wrong), None, "{wrong}");
        }
        assert_eq!(shown("BCDFGHJK"), "BCDF-GHJK");
        assert_eq!(masked("BCDFGHJK"), "BC**-****");
    }

    #[test]
    fn new_user_codes_use_only_the_alphabet() {
        let codes: Vec<String> = (0..200).map(|_| new_user_code()).collect();
        assert!(codes.iter().all(|code| normalize_user_code(code).as_deref() == Some(code.as_str())));
        let mut distinct = codes.clone();
        distinct.sort();
        distinct.dedup();
        assert!(distinct.len() > 195, "codes repeat too often");
    }
}
