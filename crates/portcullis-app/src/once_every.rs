//! Warnings a flood would otherwise repeat on every request (a subscriber
//! falling behind, lookups being rationed) are written at most once a period.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Says yes at most once per period, across threads.
pub struct OnceEvery {
    period: Duration,
    /// When it last said yes, seconds since the epoch (0: never).
    last: AtomicI64,
}

impl OnceEvery {
    /// Yes now, then not again until `period` has passed.
    pub const fn new(period: Duration) -> Self {
        Self { period, last: AtomicI64::new(0) }
    }

    /// Whether the period since the last yes has passed; if so, a new one starts.
    pub fn due(&self) -> bool {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        let last = self.last.load(Ordering::Relaxed);
        now - last >= self.period.as_secs() as i64
            && self.last.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_yes_once_per_period() {
        let once = OnceEvery::new(Duration::from_secs(60));
        assert!(once.due());
        assert!(!once.due(), "not again within the period");
    }
}
