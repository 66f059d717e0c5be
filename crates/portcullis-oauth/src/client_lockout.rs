//! Lockout after repeated failed client authentications, shaped so that it
//! stops guessing without handing attackers a switch to lock others out:
//!
//! - wrong secrets and assertions are counted per client *and source
//!   address* (an IPv4 address or an IPv6 /64, as rate limits key them), in
//!   the database, so every instance counts towards one threshold
//!   ([`portcullis_app::client_lockouts`]); at the threshold only that
//!   address is locked out of that client, for a cooldown that doubles with
//!   each lockout (1 minute up to a day). Every instance mirrors the lockout
//!   with its client, so a locked address is refused from memory: what it
//!   sends is not checked and does not count, so a right guess is not told
//!   apart and a flood cannot stretch the lockout;
//! - the client as a whole is locked (or disabled, by policy) only for
//!   failures from addresses that authenticated it before on this instance:
//!   its own callers, e.g. a deployment still using a rotated-out secret.
//!   Those failures are counted in the database too, against the client;
//! - public clients have no secret to guess and are never counted.
//!
//! What stays in this instance's memory (bounded) is what it saw: the
//! addresses each client authenticated from, and those it counted failures
//! from (so that a success there forgets them).

use portcullis_app::client_lockouts::LockoutPolicy;
use portcullis_app::rate_limits::address_key;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::RwLock;

/// The first lockout's length; each further one doubles it.
pub const COOLDOWN: chrono::TimeDelta = chrono::TimeDelta::minutes(1);
/// The longest lockout.
pub const MAX_COOLDOWN: chrono::TimeDelta = chrono::TimeDelta::days(1);
/// Lockouts after `threshold` failures in a row, each of them `disable`ing
/// the client (an admin must enable it) or locking it for a cooldown.
pub fn policy(threshold: u32, disable: bool) -> LockoutPolicy {
    LockoutPolicy { threshold: i64::from(threshold), cooldown: COOLDOWN, max_cooldown: MAX_COOLDOWN, disable }
}

/// The most addresses per client this instance remembers counting failures from.
const MAX_FAILING: usize = 100_000;
/// The most addresses remembered per client as having authenticated it.
const MAX_KNOWN_ADDRESSES: usize = 32;

/// The addresses each client authenticated from, and failed from, on this
/// instance. A successful authentication from a known address with no
/// failures takes two read locks and allocates nothing.
#[derive(Default)]
pub struct AddressMemory {
    failing: RwLock<HashMap<String, HashSet<String>>>,
    known: RwLock<HashMap<String, Vec<IpAddr>>>,
}

impl AddressMemory {
    /// Notes that a failure of `client_id` from `address` (a rate-limit
    /// key) was counted here.
    pub fn failed(&self, client_id: &str, address: &str) {
        let mut failing = self.failing.write().expect("address memory lock");
        let of_client = failing.entry(client_id.to_owned()).or_default();
        if of_client.len() < MAX_FAILING {
            of_client.insert(address.to_owned());
        }
    }

    /// Records that `client_id` authenticated from `ip`: the address is
    /// known to the client from now on. Returns its address (as rate limits
    /// key it) when failures were counted from there, for the caller to
    /// forget them.
    pub fn succeeded(&self, client_id: &str, ip: IpAddr) -> Option<String> {
        let failing_anywhere = |failing: &HashMap<String, HashSet<String>>| {
            failing.get(client_id).is_some_and(|of_client| !of_client.is_empty())
        };
        if self.is_known(client_id, ip)
            && !failing_anywhere(&self.failing.read().expect("address memory lock"))
        {
            return None;
        }
        let address = address_key(Some(ip));
        let had_failed = self
            .failing
            .write()
            .expect("address memory lock")
            .get_mut(client_id)
            .is_some_and(|of_client| of_client.remove(&address));
        let mut known = self.known.write().expect("address memory lock");
        let addresses = known.entry(client_id.to_owned()).or_default();
        if !addresses.contains(&ip) {
            if addresses.len() == MAX_KNOWN_ADDRESSES {
                addresses.remove(0);
            }
            addresses.push(ip);
        }
        had_failed.then_some(address)
    }

    /// Whether `client_id` has authenticated from `ip` before.
    pub fn is_known(&self, client_id: &str, ip: IpAddr) -> bool {
        self.known
            .read()
            .expect("address memory lock")
            .get(client_id)
            .is_some_and(|known| known.contains(&ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn a_success_makes_the_address_known_and_says_whether_failures_were_counted_there() {
        let memory = AddressMemory::default();
        assert!(!memory.is_known("c", ip(1)));
        memory.failed("c", "192.0.2.1");
        assert_eq!(memory.succeeded("c", ip(1)).as_deref(), Some("192.0.2.1"), "failures to forget");
        assert!(memory.is_known("c", ip(1)));
        assert_eq!(memory.succeeded("c", ip(1)), None, "none any more");
        assert!(!memory.is_known("c", ip(2)) && !memory.is_known("d", ip(1)));
    }
}
