//! Throttling of failed logins, per account *and source address*, and per
//! address, over a sliding window. The failures are counted in the
//! database, so the limits hold across every instance.
//!
//! An attempt is counted before its password is checked: it is written as a
//! failure first, then the failures are counted, so of many concurrent
//! attempts at most the limit get a password check. A success takes its
//! own reservation back and forgets the account's failures from that
//! address. Failures from one address never block the same account from
//! another: wrong passwords typed anywhere cannot lock the real user out.

use crate::secrets;
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_store::{auth_failures, DbConnection, StoreError};
use std::net::IpAddr;

/// How far back failures count.
pub const WINDOW: TimeDelta = TimeDelta::minutes(15);
/// Failures of one account from one address within the window before it is refused there.
pub const MAX_PER_ACCOUNT: i64 = 5;
/// Failures from one address within the window before it is refused.
pub const MAX_PER_ADDRESS: i64 = 20;

/// What one login attempt is counted against: its account from its
/// address, and its address.
pub struct Attempt {
    account: [u8; 32],
    address: [u8; 32],
}

/// An attempt counted in advance; dropped unused, it stays a failure.
#[must_use]
pub struct Reservation {
    ids: Vec<String>,
}

impl Attempt {
    /// The attempt to log in as `username` from `ip`.
    pub fn new(username: &str, ip: Option<IpAddr>) -> Self {
        let address = ip.map(|ip| ip.to_string()).unwrap_or_default();
        Self {
            account: secrets::hash(&format!("account:{username}\0address:{address}")),
            address: secrets::hash(&format!("address:{address}")),
        }
    }

    /// Counts the attempt at `now` as a failure, then decides: `Some` when it
    /// may be tried (neither the account from this address nor the address
    /// is past its limit), `None` when it is refused (and not counted).
    pub fn reserve(
        &self,
        conn: &mut DbConnection,
        now: DateTime<Utc>,
    ) -> Result<Option<Reservation>, StoreError> {
        let ids = auth_failures::record(conn, &[&self.account, &self.address], now)?;
        let since = now - WINDOW;
        let within = auth_failures::count_since(conn, &self.account, since)? <= MAX_PER_ACCOUNT
            && auth_failures::count_since(conn, &self.address, since)? <= MAX_PER_ADDRESS;
        if within {
            return Ok(Some(Reservation { ids }));
        }
        auth_failures::forget(conn, &ids)?;
        Ok(None)
    }

    /// The attempt succeeded: its reservation is taken back and the
    /// account's failures from this address are forgotten.
    pub fn succeeded(&self, conn: &mut DbConnection, reservation: Reservation) -> Result<(), StoreError> {
        auth_failures::forget(conn, &reservation.ids)?;
        auth_failures::clear(conn, &self.account).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_store::backend_tests;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, last]))
    }

    /// Fails `attempt` `times` times at `now`.
    fn fail(attempt: &Attempt, conn: &mut DbConnection, now: DateTime<Utc>, times: i64) {
        for _ in 0..times {
            assert!(attempt.reserve(conn, now).unwrap().is_some());
        }
    }

    backend_tests! {
        #[test]
        fn an_account_is_refused_from_an_address_after_repeated_failures_until_the_window_passes(db) {
            let conn = &mut *db.connect().get().unwrap();
            let (alice, start) = (Attempt::new("alice", ip(1)), Utc::now());
            fail(&alice, conn, start, MAX_PER_ACCOUNT);
            assert!(alice.reserve(conn, start).unwrap().is_none());
            assert!(Attempt::new("bob", ip(1)).reserve(conn, start).unwrap().is_some(), "alice's failures do not lock bob");
            assert!(Attempt::new("alice", ip(2)).reserve(conn, start).unwrap().is_some(), "nor alice elsewhere");
            assert!(alice.reserve(conn, start + WINDOW).unwrap().is_some(), "failures age out");
        }

        #[test]
        fn an_address_is_refused_after_failures_across_accounts(db) {
            let conn = &mut *db.connect().get().unwrap();
            let now = Utc::now();
            for n in 0..MAX_PER_ADDRESS {
                fail(&Attempt::new(&format!("user{n}"), ip(2)), conn, now, 1);
            }
            assert!(Attempt::new("fresh", ip(2)).reserve(conn, now).unwrap().is_none());
            assert!(Attempt::new("fresh", ip(3)).reserve(conn, now).unwrap().is_some());
        }

        #[test]
        fn success_clears_the_account_and_every_instance_sees_the_same_count(db) {
            // Two pools on one database stand for two instances.
            let (first, second) = (db.connect(), db.connect());
            let now = Utc::now();
            let carol = Attempt::new("carol", ip(9));
            fail(&carol, &mut first.get().unwrap(), now, MAX_PER_ACCOUNT - 1);
            let last = carol.reserve(&mut second.get().unwrap(), now).unwrap().expect("the fifth may try");
            assert!(carol.reserve(&mut second.get().unwrap(), now).unwrap().is_none(), "the other instance refuses");
            carol.succeeded(&mut second.get().unwrap(), last).unwrap();
            fail(&carol, &mut first.get().unwrap(), now, MAX_PER_ACCOUNT);
        }

        #[test]
        fn concurrent_attempts_get_at_most_the_limit_through(db) {
            let pool = db.connect();
            let now = Utc::now();
            let threads: Vec<_> = (0..30)
                .map(|_| {
                    let pool = pool.clone();
                    std::thread::spawn(move || {
                        Attempt::new("dave", ip(4)).reserve(&mut pool.get().unwrap(), now).unwrap().is_some()
                    })
                })
                .collect();
            let through = threads.into_iter().map(|t| t.join().unwrap()).filter(|ok| *ok).count();
            assert!((1..=MAX_PER_ACCOUNT as usize).contains(&through), "{through} attempts got through");
        }
    }
}
