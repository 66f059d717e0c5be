//! Throttling of failed logins, per account and per address, over a sliding
//! window. Kept in memory: each instance counts the attempts it sees.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How far back failures count.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures of one account within the window before it is refused.
pub const MAX_PER_ACCOUNT: usize = 5;
/// Failures from one address within the window before it is refused.
pub const MAX_PER_ADDRESS: usize = 20;

/// Recent failed logins.
#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

fn keys(username: &str, ip: Option<IpAddr>) -> [(String, usize); 2] {
    let address = ip.map(|ip| ip.to_string()).unwrap_or_default();
    [(format!("account:{username}"), MAX_PER_ACCOUNT), (format!("address:{address}"), MAX_PER_ADDRESS)]
}

impl LoginThrottle {
    /// Whether a login for `username` from `ip` may be tried now.
    pub fn allows(&self, username: &str, ip: Option<IpAddr>, now: Instant) -> bool {
        let mut failures = self.failures.lock().expect("throttle lock");
        keys(username, ip).into_iter().all(|(key, limit)| {
            let recent = failures.get_mut(&key).map(|times| {
                times.retain(|at| now.duration_since(*at) < WINDOW);
                times.len()
            });
            recent.unwrap_or(0) < limit
        })
    }

    /// Records a failed login.
    pub fn failed(&self, username: &str, ip: Option<IpAddr>, now: Instant) {
        let mut failures = self.failures.lock().expect("throttle lock");
        for (key, _) in keys(username, ip) {
            failures.entry(key).or_default().push_back(now);
        }
    }

    /// Forgets the failures of an account once it logs in.
    pub fn succeeded(&self, username: &str) {
        self.failures.lock().expect("throttle lock").remove(&format!("account:{username}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_refused_after_repeated_failures_until_the_window_passes() {
        let throttle = LoginThrottle::default();
        let (ip, start) = (Some("192.0.2.1".parse().unwrap()), Instant::now());
        for _ in 0..MAX_PER_ACCOUNT {
            assert!(throttle.allows("alice", ip, start));
            throttle.failed("alice", ip, start);
        }
        assert!(!throttle.allows("alice", ip, start));
        assert!(throttle.allows("bob", ip, start), "other accounts are not locked by alice's failures");
        assert!(throttle.allows("alice", ip, start + WINDOW), "failures age out");
    }

    #[test]
    fn an_address_is_refused_after_failures_across_accounts() {
        let throttle = LoginThrottle::default();
        let (ip, now) = (Some("192.0.2.2".parse().unwrap()), Instant::now());
        for n in 0..MAX_PER_ADDRESS {
            throttle.failed(&format!("user{n}"), ip, now);
        }
        assert!(!throttle.allows("fresh", ip, now));
        assert!(throttle.allows("fresh", Some("192.0.2.3".parse().unwrap()), now));
    }

    #[test]
    fn success_clears_the_account() {
        let throttle = LoginThrottle::default();
        let now = Instant::now();
        for _ in 0..MAX_PER_ACCOUNT {
            throttle.failed("carol", None, now);
        }
        throttle.succeeded("carol");
        assert!(throttle.allows("carol", Some("192.0.2.9".parse().unwrap()), now));
    }
}
