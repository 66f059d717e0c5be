//! The time operations and grants read: the system clock in production, a
//! clock a test moves by hand, so no test sleeps for an expiry.

use chrono::{DateTime, TimeDelta, Utc};
use std::sync::{Arc, Mutex};

/// A source of the current time.
#[derive(Clone)]
pub struct Clock(Source);

#[derive(Clone)]
enum Source {
    System,
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Self {
        Self(Source::System)
    }

    /// A clock standing at `start` until moved with [`Clock::advance`].
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self(Source::Manual(Arc::new(Mutex::new(start))))
    }

    /// The time now.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            Source::System => Utc::now(),
            Source::Manual(at) => *at.lock().expect("clock lock"),
        }
    }

    /// Moves a manual clock on by `by` (the system clock cannot be moved).
    pub fn advance(&self, by: TimeDelta) {
        if let Source::Manual(at) = &self.0 {
            *at.lock().expect("clock lock") += by;
        }
    }
}

/// The minute `at` falls in, as minutes since the epoch: what usage
/// rollups, rate-limit windows and alert checks count by.
pub fn minute_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(60)
}

/// The start of `minute` (minutes since the epoch).
pub fn minute_start(minute: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(minute * 60, 0).unwrap_or_default()
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Source::System => f.write_str("Clock(system)"),
            Source::Manual(_) => write!(f, "Clock(manual, at {})", self.now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_its_copies_follow() {
        let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let clock = Clock::manual(start);
        let copy = clock.clone();
        assert_eq!(clock.now(), start);
        clock.advance(TimeDelta::seconds(90));
        assert_eq!(copy.now(), start + TimeDelta::seconds(90));
        assert!(Clock::system().now() > start);
    }
}
