//! Throttling of failed sign-ins (passwords and second-factor codes). The
//! failures are counted in the database, so the limits hold across every
//! instance. Addresses are keyed as rate limits key them (an IPv4 address,
//! an IPv6 /64: what one host easily holds), so a caller gains nothing by
//! moving within its own network.
//!
//! An attempt from a browser without a device cookie for its account is
//! counted against:
//! - the account from its address: [`MAX_PER_ACCOUNT`] failures in
//!   [`WINDOW`], then refused there until the oldest ages out;
//! - its address: [`MAX_PER_ADDRESS`] failures in the window, whatever the
//!   account;
//! - the account from everywhere: past [`ACCOUNT_CEILING`] failures in
//!   [`ACCOUNT_WINDOW`], each further attempt waits twice as long after
//!   the last failure as the one before (1 s, 2 s, 4 s, … up to
//!   [`MAX_BACKOFF`]), so guesses spread over many addresses slow down too.
//!
//! An attempt with a device cookie for its account
//! ([`device_cookies`](crate::device_cookies)) is counted against that
//! device alone ([`MAX_PER_DEVICE`] in the window, [`MAX_PER_DEVICE_DAY`]
//! in a day): what others do to the account or the address never locks out
//! a browser that signed in before.
//!
//! An attempt is counted before its secret is checked: it is written as a
//! failure first, then the failures are counted, so of many concurrent
//! attempts at most the limit get a check. A refused attempt is not kept,
//! so a flood cannot stretch a lockout. A success takes its own reservation
//! back and forgets its account's failures from that address (or device).

use crate::rate_limits::address_key;
use crate::secrets;
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_store::{auth_failures, DbConnection, StoreError};
use std::net::IpAddr;

/// How far back failures count for an account from an address, an address
/// and a device.
pub const WINDOW: TimeDelta = TimeDelta::minutes(15);
/// Failures of one account from one address within the window before it is refused there.
pub const MAX_PER_ACCOUNT: i64 = 5;
/// Failures from one address within the window before it is refused.
pub const MAX_PER_ADDRESS: i64 = 20;
/// Failures of one browser (its device cookie) within the window before it is refused.
pub const MAX_PER_DEVICE: i64 = 5;
/// Failures of one browser within [`ACCOUNT_WINDOW`] before it is refused
/// until they age out: a copied cookie earns a few guesses a day, not a
/// few every quarter hour.
pub const MAX_PER_DEVICE_DAY: i64 = 20;
/// How far back an account's failures from every address count.
pub const ACCOUNT_WINDOW: TimeDelta = TimeDelta::hours(24);
/// Failures of one account from every address within [`ACCOUNT_WINDOW`]
/// before its attempts back off.
pub const ACCOUNT_CEILING: i64 = 20;
/// The longest wait the back-off asks for.
pub const MAX_BACKOFF: TimeDelta = TimeDelta::hours(1);
/// How long failures are kept: the longest they count.
pub const RETENTION: TimeDelta = ACCOUNT_WINDOW;

/// What one attempt is counted against.
pub struct Attempt {
    subjects: Subjects,
}

enum Subjects {
    /// A browser the account does not know.
    Untrusted { account_here: [u8; 32], address: [u8; 32], account: [u8; 32] },
    /// A browser with a device cookie for the account.
    Device([u8; 32]),
}

/// An attempt counted in advance; dropped unused, it stays a failure.
#[must_use]
pub struct Reservation {
    ids: Vec<String>,
}

/// Why an attempt was refused unchecked, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttled {
    /// What is over its limit: `account_address`, `address`, `account`
    /// (the back-off) or `device`.
    pub reason: &'static str,
    /// Seconds until an attempt would be counted again (at least 1).
    pub retry_after: u64,
}

impl Attempt {
    /// The attempt to sign in to `account` from `ip`, by the browser of
    /// `device` when its cookie names this account.
    pub fn new(account: &str, ip: Option<IpAddr>, device: Option<&str>) -> Self {
        let subjects = match device {
            Some(device) => Subjects::Device(secrets::hash(&format!("device:{device}"))),
            None => {
                let address = address_key(ip);
                Subjects::Untrusted {
                    account_here: secrets::hash(&format!("account:{account}\0address:{address}")),
                    address: secrets::hash(&format!("address:{address}")),
                    account: secrets::hash(&format!("account:{account}")),
                }
            }
        };
        Self { subjects }
    }

    /// Counts the attempt at `now` as a failure, then decides: a
    /// reservation when it may be tried, or why and how long it is refused
    /// (then it is not counted).
    pub fn reserve(
        &self,
        conn: &mut DbConnection,
        now: DateTime<Utc>,
    ) -> Result<Result<Reservation, Throttled>, StoreError> {
        let ids = match &self.subjects {
            Subjects::Untrusted { account_here, address, account } => {
                auth_failures::record(conn, &[account_here, address, account], now)?
            }
            Subjects::Device(device) => auth_failures::record(conn, &[device], now)?,
        };
        let refused = match &self.subjects {
            Subjects::Untrusted { account_here, address, account } => {
                match over_limit(conn, account_here, (MAX_PER_ACCOUNT, WINDOW), now, &ids)? {
                    Some(wait) => Some(("account_address", wait)),
                    None => match over_limit(conn, address, (MAX_PER_ADDRESS, WINDOW), now, &ids)? {
                        Some(wait) => Some(("address", wait)),
                        None => backing_off(conn, account, now, &ids)?.map(|wait| ("account", wait)),
                    },
                }
            }
            Subjects::Device(device) => {
                match over_limit(conn, device, (MAX_PER_DEVICE, WINDOW), now, &ids)? {
                    Some(wait) => Some(("device", wait)),
                    None => over_limit(conn, device, (MAX_PER_DEVICE_DAY, ACCOUNT_WINDOW), now, &ids)?
                        .map(|wait| ("device", wait)),
                }
            }
        };
        let Some((reason, wait)) = refused else { return Ok(Ok(Reservation { ids })) };
        auth_failures::forget(conn, &ids)?;
        // Whole seconds, rounded up (stored times may be a little older
        // than the clock's: PostgreSQL keeps microseconds).
        let retry_after = u64::try_from((wait.num_milliseconds() + 999) / 1000).unwrap_or(0).max(1);
        Ok(Err(Throttled { reason, retry_after }))
    }

    /// The attempt succeeded: its reservation is taken back and the
    /// account's failures from this address (or this device) are
    /// forgotten. Its failures from everywhere stay: a success somewhere
    /// says nothing of the guesses made elsewhere.
    pub fn succeeded(&self, conn: &mut DbConnection, reservation: Reservation) -> Result<(), StoreError> {
        auth_failures::forget(conn, &reservation.ids)?;
        let here = match &self.subjects {
            Subjects::Untrusted { account_here, .. } => account_here,
            Subjects::Device(device) => device,
        };
        auth_failures::clear(conn, here).map(drop)
    }
}

/// How long `subject`, past `max` failures in `window` (its attempt's own
/// `ids` counted), waits: until its oldest other failure ages out.
fn over_limit(
    conn: &mut DbConnection,
    subject: &[u8],
    (max, window): (i64, TimeDelta),
    now: DateTime<Utc>,
    ids: &[String],
) -> Result<Option<TimeDelta>, StoreError> {
    let since = now - window;
    if auth_failures::count_since(conn, subject, since)? <= max {
        return Ok(None);
    }
    let oldest = auth_failures::span_since(conn, subject, since, ids)?.map_or(now, |(oldest, _)| oldest);
    Ok(Some(oldest + window - now))
}

/// How long an account past [`ACCOUNT_CEILING`] failures still waits: the
/// n-th failure past it waits 2^(n-1) s after the last one, at most
/// [`MAX_BACKOFF`].
fn backing_off(
    conn: &mut DbConnection,
    account: &[u8],
    now: DateTime<Utc>,
    ids: &[String],
) -> Result<Option<TimeDelta>, StoreError> {
    let since = now - ACCOUNT_WINDOW;
    let past = auth_failures::count_since(conn, account, since)? - ACCOUNT_CEILING;
    if past <= 0 {
        return Ok(None);
    }
    let Some((_, last)) = auth_failures::span_since(conn, account, since, ids)? else { return Ok(None) };
    let backoff = TimeDelta::seconds(1i64 << (past - 1).min(20)).min(MAX_BACKOFF);
    Ok(Some(last + backoff - now).filter(|wait| *wait > TimeDelta::zero()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_store::backend_tests;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, last]))
    }

    fn v6(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    /// Fails `attempt` `times` times at `now`.
    fn fail(attempt: &Attempt, conn: &mut DbConnection, now: DateTime<Utc>, times: i64) {
        for _ in 0..times {
            assert!(attempt.reserve(conn, now).unwrap().is_ok());
        }
    }

    fn refused(attempt: &Attempt, conn: &mut DbConnection, now: DateTime<Utc>) -> Throttled {
        attempt.reserve(conn, now).unwrap().err().expect("refused")
    }

    backend_tests! {
        #[test]
        fn an_account_is_refused_from_an_address_after_repeated_failures_until_the_window_passes(db) {
            let conn = &mut *db.connect().get().unwrap();
            let (alice, start) = (Attempt::new("alice", ip(1), None), Utc::now());
            fail(&alice, conn, start, MAX_PER_ACCOUNT);
            let throttled = refused(&alice, conn, start + TimeDelta::minutes(5));
            assert_eq!(throttled, Throttled { reason: "account_address", retry_after: 600 });
            assert!(Attempt::new("bob", ip(1), None).reserve(conn, start).unwrap().is_ok(), "alice's failures do not lock bob");
            assert!(Attempt::new("alice", ip(2), None).reserve(conn, start).unwrap().is_ok(), "nor alice elsewhere");
            assert!(alice.reserve(conn, start + WINDOW).unwrap().is_ok(), "failures age out");
        }

        #[test]
        fn an_address_is_refused_after_failures_across_accounts_and_ipv6_counts_by_64(db) {
            let conn = &mut *db.connect().get().unwrap();
            let now = Utc::now();
            for n in 0..MAX_PER_ADDRESS {
                fail(&Attempt::new(&format!("user{n}"), ip(2), None), conn, now, 1);
            }
            assert_eq!(refused(&Attempt::new("fresh", ip(2), None), conn, now).reason, "address");
            assert!(Attempt::new("fresh", ip(3), None).reserve(conn, now).unwrap().is_ok());
            // Forty addresses of one /64 are one address.
            for n in 0..MAX_PER_ACCOUNT {
                fail(&Attempt::new("erin", v6(&format!("2001:db8:1:2::{n:x}")), None), conn, now, 1);
            }
            assert_eq!(refused(&Attempt::new("erin", v6("2001:db8:1:2:ffff::9"), None), conn, now).reason, "account_address");
            assert!(Attempt::new("erin", v6("2001:db8:1:3::1"), None).reserve(conn, now).unwrap().is_ok(), "another /64");
        }

        #[test]
        fn an_account_guessed_from_everywhere_backs_off_but_its_devices_do_not(db) {
            let conn = &mut *db.connect().get().unwrap();
            let start = Utc::now();
            for n in 0..ACCOUNT_CEILING {
                fail(&Attempt::new("frank", Some(IpAddr::from([198, 51, 100, n as u8])), None), conn, start, 1);
            }
            let from_anywhere = |n: u8| Attempt::new("frank", Some(IpAddr::from([203, 0, 113, n])), None);
            // The first past the ceiling waits a second after the last failure, the next two, then four.
            assert_eq!(refused(&from_anywhere(1), conn, start), Throttled { reason: "account", retry_after: 1 });
            let mut at = start;
            for wait in [1, 2, 4, 8] {
                at += TimeDelta::seconds(wait);
                assert!(from_anywhere(wait as u8).reserve(conn, at).unwrap().is_ok(), "after {wait} s");
                assert_eq!(refused(&from_anywhere(99), conn, at).retry_after, 2 * wait as u64);
            }
            assert!(Attempt::new("frank", ip(7), Some("nonce")).reserve(conn, at).unwrap().is_ok(), "a known browser is not held back");
            assert!(Attempt::new("grace", ip(7), None).reserve(conn, at).unwrap().is_ok(), "nor another account");
        }

        #[test]
        fn a_device_is_judged_on_its_own_failures(db) {
            let conn = &mut *db.connect().get().unwrap();
            let now = Utc::now();
            // Strangers lock the account out of the shared address.
            for n in 0..MAX_PER_ADDRESS {
                fail(&Attempt::new(&format!("invented{n}"), ip(5), None), conn, now, 1);
            }
            assert_eq!(refused(&Attempt::new("heidi", ip(5), None), conn, now).reason, "address");
            let browser = Attempt::new("heidi", ip(5), Some("her-nonce"));
            fail(&browser, conn, now, MAX_PER_DEVICE);
            assert_eq!(refused(&browser, conn, now).reason, "device");
            // A copied cookie gets a few guesses a day, not a few every quarter hour.
            let mut at = now;
            for _ in 0..(MAX_PER_DEVICE_DAY / MAX_PER_DEVICE - 1) {
                at += WINDOW;
                fail(&browser, conn, at, MAX_PER_DEVICE);
            }
            at += WINDOW;
            let day = refused(&browser, conn, at);
            assert!(day.reason == "device" && day.retry_after > 3600, "{day:?}");
            assert!(Attempt::new("heidi", ip(5), Some("another")).reserve(conn, now).unwrap().is_ok());
        }

        #[test]
        fn success_clears_the_account_and_every_instance_sees_the_same_count(db) {
            // Two pools on one database stand for two instances.
            let (first, second) = (db.connect(), db.connect());
            let now = Utc::now();
            let carol = Attempt::new("carol", ip(9), None);
            fail(&carol, &mut first.get().unwrap(), now, MAX_PER_ACCOUNT - 1);
            let last = carol.reserve(&mut second.get().unwrap(), now).unwrap().expect("the fifth may try");
            assert!(carol.reserve(&mut second.get().unwrap(), now).unwrap().is_err(), "the other instance refuses");
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
                        Attempt::new("dave", ip(4), None).reserve(&mut pool.get().unwrap(), now).unwrap().is_ok()
                    })
                })
                .collect();
            let through = threads.into_iter().map(|t| t.join().unwrap()).filter(|ok| *ok).count();
            assert!((1..=MAX_PER_ACCOUNT as usize).contains(&through), "{through} attempts got through");
        }
    }
}
