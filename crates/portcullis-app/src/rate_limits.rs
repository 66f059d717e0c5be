//! Rate limits (issue 11): token requests per authenticated client, login
//! submissions per source address, requests naming unknown client ids
//! per source address, and registrations per source address, each per minute.
//!
//! A decision is made in memory, never waiting on the database: a sliding
//! window estimated from this minute's count and the last one's (weighted by
//! how much of it still overlaps the last 60 s), for this instance and for
//! the others. Every [`SYNC_INTERVAL`] each instance writes its count of
//! every key that reached a tenth of its limit and reads the other
//! instances' sums ([`portcullis_store::rate_counts`]). So the cluster
//! admits a key at most its limit, plus what each other instance admitted
//! in the last two sync intervals (one until it writes its count, one until
//! this instance reads it), plus, for each instance that has not yet
//! written it, under a tenth of the limit — and never more than the limit times
//! the number of instances, which each one holds alone.
//!
//! Only authenticated clients are limited per client: a stranger presenting
//! a client's id with a wrong secret uses the address limits, never the
//! client's own. Addresses are keyed by IPv4 address or IPv6 /64 (what one
//! host can easily hold).

use crate::clock::{minute_of, minute_start};
use crate::{App, AppError};
use chrono::{DateTime, Utc};
use portcullis_store::rate_counts::{self, WindowCount};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

/// How often each instance shares its counts.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(1);
/// The length of a window, in seconds.
pub const WINDOW_SECONDS: i64 = 60;
/// The address keys an instance tracks; past this, requests of new
/// addresses go uncounted until old ones expire: an attacker with that many
/// addresses must grow neither memory nor a refusal of everyone else. New
/// addresses' registrations, which write clients, are refused meanwhile.
pub const MAX_ADDRESS_KEYS: usize = 100_000;
/// The most keys an instance writes per sync, busiest first.
pub const MAX_WRITTEN: usize = 1000;

/// What is limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// Token requests of one authenticated client.
    Token,
    /// Login submissions from one address.
    Login,
    /// Requests naming an unknown client id, from one address.
    UnknownClient,
    /// Dynamic client registrations (RFC 7591), from one address.
    Registration,
    /// User codes typed on the device verification page (RFC 8628 §5.1),
    /// from one address.
    UserCode,
}

impl Limit {
    /// The limit's name, as metrics and logs show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::Login => "login",
            Self::UnknownClient => "unknown_client",
            Self::Registration => "registration",
            Self::UserCode => "user_code",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What a limit decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Go on; the request was counted.
    Allowed,
    /// Refused: over the limit until `retry_after` seconds pass.
    Limited {
        /// Seconds until a request would be allowed again.
        retry_after: u64,
    },
}

/// The key an address is limited by: the address, or an IPv6 /64.
pub fn address_key(ip: Option<IpAddr>) -> String {
    match ip {
        Some(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(|v4| v4.to_string()).unwrap_or_default(),
        Some(IpAddr::V4(v4)) => v4.to_string(),
        None => "(unknown)".to_owned(),
    }
}

/// One key's counts on this instance.
struct Counter {
    hash: [u8; 32],
    limit: u32,
    window: i64,
    current: u32,
    previous: u32,
    written: u32,
}

impl Counter {
    fn roll(&mut self, window: i64) {
        if self.window != window {
            self.previous = if self.window == window - 1 { self.current } else { 0 };
            self.current = 0;
            self.written = 0;
            self.window = window;
        }
    }
}

/// The other instances' counts as last read: this window's and the last.
#[derive(Default)]
struct Others {
    window: i64,
    by_key: HashMap<[u8; 32], (u64, u64)>,
}

impl Others {
    /// `(current, previous)` of `hash` as seen from `window`.
    fn of(&self, hash: &[u8; 32], window: i64) -> (u64, u64) {
        let (current, previous) = self.by_key.get(hash).copied().unwrap_or_default();
        match window - self.window {
            0 => (current, previous),
            1 => (0, current),
            _ => (0, 0),
        }
    }
}

/// This instance's rate limits.
pub struct RateLimiter {
    instance: String,
    counters: Mutex<[HashMap<String, Counter>; 5]>,
    others: RwLock<Others>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self {
            instance: uuid::Uuid::new_v4().to_string(),
            counters: Mutex::default(),
            others: RwLock::default(),
        }
    }
}

impl RateLimiter {
    /// Counts a request of `subject` under `limit`, which allows `max` per
    /// minute (0: no limit), and decides.
    pub fn check(&self, limit: Limit, subject: &str, max: u32, now: DateTime<Utc>) -> Decision {
        if max == 0 {
            return Decision::Allowed;
        }
        let window = minute_of(now);
        let elapsed = (now.timestamp_millis() - window * WINDOW_SECONDS * 1000) as f64 / 60_000.0;
        let mut counters = self.counters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let address_keys: usize = counters[1..].iter().map(HashMap::len).sum();
        let keys = &mut counters[limit.index()];
        if !keys.contains_key(subject) {
            if limit != Limit::Token && address_keys >= MAX_ADDRESS_KEYS {
                // Writes and guesses fail closed: registrations and user codes
                // wait until old addresses expire.
                if matches!(limit, Limit::Registration | Limit::UserCode) {
                    return Decision::Limited { retry_after: WINDOW_SECONDS as u64 };
                }
                return Decision::Allowed;
            }
            let hash = crate::secrets::hash(&format!("{}\0{subject}", limit.as_str()));
            let counter = Counter { hash, limit: max, window, current: 0, previous: 0, written: 0 };
            keys.insert(subject.to_owned(), counter);
        }
        let Some(counter) = keys.get_mut(subject) else { return Decision::Allowed };
        counter.roll(window);
        counter.limit = max;
        let (others_current, others_previous) =
            self.others.read().unwrap_or_else(std::sync::PoisonError::into_inner).of(&counter.hash, window);
        let current = u64::from(counter.current) + others_current;
        let previous = (u64::from(counter.previous) + others_previous) as f64;
        let max = u64::from(max);
        if (current + 1) as f64 + previous * (1.0 - elapsed) <= max as f64 {
            counter.current += 1;
            return Decision::Allowed;
        }
        // When the estimate falls below the limit again, in windows from this
        // one's start: as the last minute slides out; or, when this minute
        // alone is full, as it slides out of the next one.
        let until = if current + 1 > max {
            1.0 + (1.0 - (max - 1) as f64 / current as f64).max(0.0)
        } else {
            1.0 - (max - current - 1) as f64 / previous
        };
        let retry_after = ((until - elapsed) * WINDOW_SECONDS as f64).ceil().max(1.0) as u64;
        Decision::Limited { retry_after }
    }

    /// The counts to write: keys whose count grew since the last write and
    /// reached a tenth of their limit, busiest first; forgets stale keys.
    fn due(&self, window: i64) -> Vec<(usize, String, WindowCount)> {
        let mut counters = self.counters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut due = Vec::new();
        for (i, keys) in counters.iter_mut().enumerate() {
            keys.retain(|_, counter| counter.window >= window - 1);
            for (subject, counter) in keys.iter() {
                let hot = u64::from(counter.current) * 10 >= u64::from(counter.limit);
                if counter.window == window && counter.current > counter.written && hot {
                    let count = WindowCount {
                        key_hash: counter.hash.to_vec(),
                        window: minute_start(window),
                        count: i64::from(counter.current),
                    };
                    due.push((i, subject.clone(), count));
                }
            }
        }
        due.sort_by_key(|(_, _, count)| std::cmp::Reverse(count.count));
        due.truncate(MAX_WRITTEN);
        due
    }

    fn written(&self, written: &[(usize, String, WindowCount)]) {
        let mut counters = self.counters.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (i, subject, count) in written {
            // Only in the window written: a minute may have turned meanwhile.
            let counter = counters[*i].get_mut(subject).filter(|c| minute_start(c.window) == count.window);
            if let Some(counter) = counter {
                counter.written = counter.written.max(count.count as u32);
            }
        }
    }

    fn learn(&self, window: i64, counts: Vec<WindowCount>) {
        let mut by_key: HashMap<[u8; 32], (u64, u64)> = HashMap::new();
        for count in counts {
            let Ok(hash) = <[u8; 32]>::try_from(count.key_hash.as_slice()) else { continue };
            let entry = by_key.entry(hash).or_default();
            match window - minute_of(count.window) {
                0 => entry.0 += count.count.max(0) as u64,
                1 => entry.1 += count.count.max(0) as u64,
                _ => {}
            }
        }
        *self.others.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Others { window, by_key };
    }
}

impl App {
    /// Counts a request under `limit` for `subject` (a client id, or an
    /// [`address_key`]) allowing `max` a minute, and decides.
    pub fn rate_limit(&self, limit: Limit, subject: &str, max: u32) -> Decision {
        self.rate_limits.check(limit, subject, max, self.now())
    }

    /// Writes this instance's counts of busy keys and reads the other
    /// instances' (what [`spawn`] does every second).
    pub fn share_rate_counts(&self) -> Result<(), AppError> {
        let window = minute_of(self.now());
        let due = self.rate_limits.due(window);
        let instance = &self.rate_limits.instance;
        let counts: Vec<WindowCount> = due.iter().map(|(_, _, count)| count.clone()).collect();
        let others = self.db.get()?.atomically(|conn| {
            rate_counts::write(conn, instance, &counts)?;
            rate_counts::others(conn, instance, minute_start(window - 1))
        })?;
        self.rate_limits.written(&due);
        self.rate_limits.learn(window, others);
        Ok(())
    }
}

/// Shares `app`'s counts every [`SYNC_INTERVAL`] for as long as `alive` exists.
pub fn spawn(app: Arc<App>, alive: Weak<dyn std::any::Any + Send + Sync>) {
    let failed = "rate-limit counts could not be shared; each instance limits alone";
    crate::periodic::spawn_job("rate-limits", SYNC_INTERVAL, alive, failed, move || app.share_rate_counts());
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn a_limit_admits_its_count_then_says_when_to_retry() {
        let limiter = RateLimiter::default();
        let now = at("2026-12-01T10:00:15Z");
        for _ in 0..5 {
            assert_eq!(limiter.check(Limit::Token, "app", 5, now), Decision::Allowed);
        }
        // The five go on counting into the next minute: 5 × (1 − f) + 1 ≤ 5 from f = 0.2.
        assert_eq!(limiter.check(Limit::Token, "app", 5, now), Decision::Limited { retry_after: 57 });
        assert_eq!(limiter.check(Limit::Token, "other", 5, now), Decision::Allowed, "per subject");
        assert_eq!(limiter.check(Limit::Login, "app", 5, now), Decision::Allowed, "per limit");
        assert_eq!(limiter.check(Limit::Token, "app", 0, now), Decision::Allowed, "0 is no limit");
    }

    #[test]
    fn the_window_slides_so_a_burst_at_the_edge_is_not_doubled() {
        let limiter = RateLimiter::default();
        let end = at("2026-12-01T10:00:59Z");
        for _ in 0..10 {
            assert_eq!(limiter.check(Limit::Token, "app", 10, end), Decision::Allowed);
        }
        let next = end + TimeDelta::seconds(2); // 10:01:01, the last minute still almost all in view
        assert!(matches!(limiter.check(Limit::Token, "app", 10, next), Decision::Limited { .. }));
        let half = at("2026-12-01T10:01:30Z");
        let admitted =
            (0..10).filter(|_| limiter.check(Limit::Token, "app", 10, half) == Decision::Allowed).count();
        assert_eq!(admitted, 5, "half of the last minute still counts");
        let later = at("2026-12-01T10:03:00Z");
        assert_eq!(
            limiter.check(Limit::Token, "app", 10, later),
            Decision::Allowed,
            "two windows on, forgotten"
        );
    }

    #[test]
    fn addresses_are_keyed_by_ipv4_address_or_ipv6_prefix() {
        let v6 = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(address_key(v6("2001:db8:1:2:3:4:5:6")), "2001:db8:1:2::/64");
        assert_eq!(address_key(v6("2001:db8:1:2:ffff::1")), "2001:db8:1:2::/64");
        assert_eq!(address_key(v6("::ffff:192.0.2.7")), "192.0.2.7");
        assert_eq!(address_key(v6("192.0.2.7")), "192.0.2.7");
        assert_eq!(address_key(None), "(unknown)");
    }

    #[test]
    fn only_busy_keys_are_written_and_the_others_counts_are_added() {
        let limiter = RateLimiter::default();
        let now = at("2026-12-01T10:00:10Z");
        let window = minute_of(now);
        for _ in 0..3 {
            limiter.check(Limit::Token, "busy", 20, now);
        }
        limiter.check(Limit::Token, "quiet", 20, now);
        let due = limiter.due(window);
        assert_eq!(due.len(), 1, "a tenth of the limit: 2 of 20");
        assert_eq!((due[0].1.as_str(), due[0].2.count), ("busy", 3));
        limiter.written(&due);
        assert!(limiter.due(window).is_empty(), "nothing new to write");

        let hash = due[0].2.key_hash.clone();
        limiter.learn(window, vec![WindowCount { key_hash: hash, window: minute_start(window), count: 16 }]);
        assert_eq!(limiter.check(Limit::Token, "busy", 20, now), Decision::Allowed, "3 + 16 + 1 = 20");
        assert!(matches!(limiter.check(Limit::Token, "busy", 20, now), Decision::Limited { .. }));
    }
}
