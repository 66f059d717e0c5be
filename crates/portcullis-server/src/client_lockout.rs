//! Lockout after repeated failed client authentications, shaped so that it
//! stops guessing without handing attackers a switch to lock others out:
//!
//! - wrong secrets and assertions are counted per client *and source
//!   address*; at the threshold only that address is locked out of that
//!   client, for a cooldown that doubles with each lockout (1 minute up to a
//!   day). While locked, what it sends is not checked and does not count, so
//!   a right guess is not told apart and a flood cannot stretch the lockout;
//! - the client as a whole is locked (or disabled, by policy) only for
//!   failures from addresses that authenticated it before on this instance:
//!   its own callers, e.g. a deployment still using a rotated-out secret.
//!   Those failures are counted in the database
//!   ([`portcullis_app::client_lockouts`]), across instances, instead of per
//!   address, so an admin enabling the client lifts the lockout everywhere;
//! - public clients have no secret to guess and are never counted.
//!
//! Address lockouts live in this instance's memory (bounded): an attacker
//! spreading guesses over `n` instances gets `n` times the threshold, which
//! does not matter against 256-bit secrets.

use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::RwLock;

/// The first lockout's length; each further one doubles it.
pub const COOLDOWN: TimeDelta = TimeDelta::minutes(1);
/// The longest lockout.
pub const MAX_COOLDOWN: TimeDelta = TimeDelta::days(1);
/// The most addresses with a streak tracked per client.
const MAX_STREAKS: usize = 100_000;
/// The most addresses remembered per client as having authenticated it.
const MAX_KNOWN_ADDRESSES: usize = 32;

/// Failures of one client from one address.
#[derive(Clone, Copy, Debug, Default)]
struct Streak {
    failures: u32,
    lockouts: u32,
    locked_until: Option<DateTime<Utc>>,
}

/// What a failure led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Counted; the address is not locked.
    Counted,
    /// This failure locked the address out of the client until then.
    Locked {
        /// When the lockout ends.
        until: DateTime<Utc>,
        /// How many times this address has been locked out of this client.
        lockouts: u32,
    },
    /// The address was locked already; nothing was counted.
    AlreadyLocked,
}

/// Per-address lockouts and the addresses each client authenticated from.
/// A successful authentication from a known address with no streak takes
/// two read locks and allocates nothing.
pub struct AddressLockouts {
    threshold: u32,
    streaks: RwLock<HashMap<String, HashMap<IpAddr, Streak>>>,
    known: RwLock<HashMap<String, Vec<IpAddr>>>,
}

impl AddressLockouts {
    /// Lockouts after `threshold` failures in a row.
    pub fn new(threshold: u32) -> Self {
        Self { threshold: threshold.max(1), streaks: RwLock::default(), known: RwLock::default() }
    }

    /// When the lockout of `address` from `client_id` ends, if it is locked at `now`.
    pub fn locked_until(
        &self,
        client_id: &str,
        address: IpAddr,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let streaks = self.streaks.read().expect("lockout lock");
        streaks.get(client_id)?.get(&address)?.locked_until.filter(|until| *until > now)
    }

    /// Counts a failure of `client_id` from `address` at `now`.
    pub fn failed(&self, client_id: &str, address: IpAddr, now: DateTime<Utc>) -> Failure {
        let mut streaks = self.streaks.write().expect("lockout lock");
        let of_client = streaks.entry(client_id.to_owned()).or_default();
        if !of_client.contains_key(&address) && of_client.len() >= MAX_STREAKS {
            of_client.retain(|_, streak| streak.locked_until.is_some_and(|until| until > now));
            if of_client.len() >= MAX_STREAKS {
                return Failure::Counted;
            }
        }
        let streak = of_client.entry(address).or_default();
        if streak.locked_until.is_some_and(|until| until > now) {
            return Failure::AlreadyLocked;
        }
        streak.failures += 1;
        if streak.failures < self.threshold {
            return Failure::Counted;
        }
        streak.lockouts += 1;
        let doubled = COOLDOWN * 2i32.saturating_pow((streak.lockouts - 1).min(20));
        let until = now + doubled.min(MAX_COOLDOWN);
        *streak = Streak { failures: 0, lockouts: streak.lockouts, locked_until: Some(until) };
        Failure::Locked { until, lockouts: streak.lockouts }
    }

    /// Records that `client_id` authenticated from `address`: its streak
    /// there ends, and the address is known to the client from now on.
    pub fn succeeded(&self, client_id: &str, address: IpAddr) {
        let has_streak = |streaks: &HashMap<String, HashMap<IpAddr, Streak>>| {
            streaks.get(client_id).is_some_and(|of_client| of_client.contains_key(&address))
        };
        if self.is_known(client_id, address) && !has_streak(&self.streaks.read().expect("lockout lock")) {
            return;
        }
        if let Some(of_client) = self.streaks.write().expect("lockout lock").get_mut(client_id) {
            of_client.remove(&address);
        }
        let mut known = self.known.write().expect("lockout lock");
        let addresses = known.entry(client_id.to_owned()).or_default();
        if !addresses.contains(&address) {
            if addresses.len() == MAX_KNOWN_ADDRESSES {
                addresses.remove(0);
            }
            addresses.push(address);
        }
    }

    /// Whether `client_id` has authenticated from `address` before.
    pub fn is_known(&self, client_id: &str, address: IpAddr) -> bool {
        self.known.read().expect("lockout lock").get(client_id).is_some_and(|known| known.contains(&address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn an_address_is_locked_out_of_one_client_only() {
        let (lockouts, now) = (AddressLockouts::new(3), Utc::now());
        assert_eq!(lockouts.failed("c", ip(1), now), Failure::Counted);
        assert_eq!(lockouts.failed("c", ip(1), now), Failure::Counted);
        assert_eq!(lockouts.failed("c", ip(1), now), Failure::Locked { until: now + COOLDOWN, lockouts: 1 });
        assert_eq!(lockouts.locked_until("c", ip(1), now), Some(now + COOLDOWN));
        assert_eq!(lockouts.locked_until("c", ip(2), now), None, "another address is not locked");
        assert_eq!(lockouts.locked_until("d", ip(1), now), None, "nor another client");
        assert_eq!(lockouts.locked_until("c", ip(1), now + COOLDOWN), None, "the lockout ends");
    }

    #[test]
    fn failures_while_locked_do_not_stretch_the_lockout() {
        let (lockouts, now) = (AddressLockouts::new(2), Utc::now());
        lockouts.failed("c", ip(1), now);
        lockouts.failed("c", ip(1), now);
        for _ in 0..1000 {
            assert_eq!(lockouts.failed("c", ip(1), now), Failure::AlreadyLocked);
        }
        assert_eq!(lockouts.locked_until("c", ip(1), now), Some(now + COOLDOWN));
        let later = now + COOLDOWN;
        lockouts.failed("c", ip(1), later);
        assert_eq!(
            lockouts.failed("c", ip(1), later),
            Failure::Locked { until: later + COOLDOWN * 2, lockouts: 2 },
            "the next lockout doubles"
        );
    }

    #[test]
    fn a_success_ends_the_streak_and_makes_the_address_known() {
        let (lockouts, now) = (AddressLockouts::new(2), Utc::now());
        assert!(!lockouts.is_known("c", ip(1)));
        lockouts.failed("c", ip(1), now);
        lockouts.succeeded("c", ip(1));
        assert_eq!(lockouts.failed("c", ip(1), now), Failure::Counted, "the count started again");
        assert!(lockouts.is_known("c", ip(1)));
        assert!(!lockouts.is_known("c", ip(2)));
    }

    #[test]
    fn the_cooldown_is_at_most_a_day() {
        let (lockouts, mut now) = (AddressLockouts::new(1), Utc::now());
        let mut last = Failure::Counted;
        for _ in 0..30 {
            last = lockouts.failed("c", ip(1), now);
            now += MAX_COOLDOWN;
        }
        assert!(matches!(last, Failure::Locked { until, .. } if until == now - MAX_COOLDOWN + MAX_COOLDOWN));
    }
}
