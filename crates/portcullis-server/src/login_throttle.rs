//! Throttling of failed logins, per account and per address, over a sliding
//! window. The failures are counted in the database, so the limits hold
//! across every instance, not once per instance.

use crate::secrets;
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_store::{auth_failures, DbConnection, StoreError};
use std::net::IpAddr;

/// How far back failures count.
pub const WINDOW: TimeDelta = TimeDelta::minutes(15);
/// Failures of one account within the window before it is refused.
pub const MAX_PER_ACCOUNT: i64 = 5;
/// Failures from one address within the window before it is refused.
pub const MAX_PER_ADDRESS: i64 = 20;

/// What one login attempt is counted against: its account and its address.
pub struct Attempt {
    account: [u8; 32],
    address: [u8; 32],
}

impl Attempt {
    /// The attempt to log in as `username` from `ip`.
    pub fn new(username: &str, ip: Option<IpAddr>) -> Self {
        let address = ip.map(|ip| ip.to_string()).unwrap_or_default();
        Self {
            account: secrets::hash(&format!("account:{username}")),
            address: secrets::hash(&format!("address:{address}")),
        }
    }

    /// Whether it may be tried at `now`: neither the account nor the address
    /// has reached its limit within the window.
    pub fn allowed(&self, conn: &mut DbConnection, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let since = now - WINDOW;
        Ok(auth_failures::count_since(conn, &self.account, since)? < MAX_PER_ACCOUNT
            && auth_failures::count_since(conn, &self.address, since)? < MAX_PER_ADDRESS)
    }

    /// Records that it failed at `now`.
    pub fn failed(&self, conn: &mut DbConnection, now: DateTime<Utc>) -> Result<(), StoreError> {
        auth_failures::record(conn, &[&self.account, &self.address], now)
    }

    /// Forgets the account's failures once it has logged in.
    pub fn succeeded(&self, conn: &mut DbConnection) -> Result<(), StoreError> {
        auth_failures::clear(conn, &self.account).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_store::backend_tests;

    backend_tests! {
        #[test]
        fn an_account_is_refused_after_repeated_failures_until_the_window_passes(db) {
            let conn = &mut *db.connect().get().unwrap();
            let ip = Some("192.0.2.1".parse().unwrap());
            let (alice, start) = (Attempt::new("alice", ip), Utc::now());
            for _ in 0..MAX_PER_ACCOUNT {
                assert!(alice.allowed(conn, start).unwrap());
                alice.failed(conn, start).unwrap();
            }
            assert!(!alice.allowed(conn, start).unwrap());
            assert!(Attempt::new("bob", ip).allowed(conn, start).unwrap(), "alice's failures do not lock bob");
            assert!(alice.allowed(conn, start + WINDOW).unwrap(), "failures age out");
        }

        #[test]
        fn an_address_is_refused_after_failures_across_accounts(db) {
            let conn = &mut *db.connect().get().unwrap();
            let (ip, now) = (Some("192.0.2.2".parse().unwrap()), Utc::now());
            for n in 0..MAX_PER_ADDRESS {
                Attempt::new(&format!("user{n}"), ip).failed(conn, now).unwrap();
            }
            assert!(!Attempt::new("fresh", ip).allowed(conn, now).unwrap());
            assert!(Attempt::new("fresh", Some("192.0.2.3".parse().unwrap())).allowed(conn, now).unwrap());
        }

        #[test]
        fn success_clears_the_account_and_every_instance_sees_the_same_count(db) {
            // Two pools on one database stand for two instances.
            let (first, second) = (db.connect(), db.connect());
            let now = Utc::now();
            let carol = Attempt::new("carol", None);
            for _ in 0..MAX_PER_ACCOUNT {
                carol.failed(&mut first.get().unwrap(), now).unwrap();
            }
            assert!(!carol.allowed(&mut second.get().unwrap(), now).unwrap(), "the other instance refuses too");
            carol.succeeded(&mut second.get().unwrap()).unwrap();
            let elsewhere = Attempt::new("carol", Some("192.0.2.9".parse().unwrap()));
            assert!(elsewhere.allowed(&mut first.get().unwrap(), now).unwrap());
        }
    }
}
