//! Housekeeping: deleting what has expired, so the tables stay the size of
//! what is live. Every instance runs it every ten minutes; the deletes are
//! idempotent, so instances need not coordinate. A job of the instance:
//! it runs outside any request, as the system.

use crate::login_throttle;
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_store::{
    address_lockouts, assertions, auth_failures, change_log, codes, console_sessions, device_grants,
    pushed_requests, rate_counts, remediations, sessions, sightings, usage, webhooks, Database, DbConnection,
    StoreError,
};
use std::any::Any;
use std::sync::Weak;
use std::time::Duration;

/// How often each instance sweeps.
pub const INTERVAL: Duration = Duration::from_secs(10 * 60);
/// How long a used or expired code is kept: a replay within this time still
/// revokes its grant (RFC 6749 §4.1.2), long after the code stopped working.
pub const CODE_RETENTION: TimeDelta = TimeDelta::days(1);
/// How long an expired device grant is kept, so that a device polling late
/// reads `expired_token` rather than an unknown code (RFC 8628 §3.5).
pub const DEVICE_RETENTION: TimeDelta = TimeDelta::hours(1);
/// How long shared rate-limit counts are kept: only the last two minutes count.
pub const RATE_COUNT_RETENTION: TimeDelta = TimeDelta::minutes(10);
/// How long a revocation outlives its token, for clocks that disagree.
pub const REVOCATION_GRACE: TimeDelta = TimeDelta::hours(1);

/// How long records kept for operators are kept.
#[derive(Clone, Copy, Debug)]
pub struct Retention {
    /// Audit entries.
    pub audit: TimeDelta,
    /// Usage rollups.
    pub usage: TimeDelta,
}

/// Deletes everything that expired by `now`, and audit entries (with the
/// remediations they record) and usage rollups older than their
/// `retention`; returns how many rows went.
pub fn sweep(conn: &mut DbConnection, now: DateTime<Utc>, retention: Retention) -> Result<usize, StoreError> {
    Ok(codes::delete_expired(conn, now - CODE_RETENTION)?
        + portcullis_store::audit::prune(conn, now - retention.audit)?
        + remediations::delete_before(conn, now - retention.audit)?
        + usage::delete_before(conn, now - retention.usage)?
        + sightings::delete_before(
            conn,
            sightings::Cutoffs {
                networks: now - crate::sightings::SIGHTING_RETENTION,
                tokens: now - crate::sightings::TOKEN_RETENTION,
                history: now - crate::sightings::NETWORK_HISTORY,
            },
        )?
        + rate_counts::delete_before(conn, now - RATE_COUNT_RETENTION)?
        + webhooks::delete_finished_before(conn, now - crate::webhooks::DELIVERY_RETENTION)?
        + sessions::delete_expired(conn, now)?
        + console_sessions::delete_expired(conn, now)?
        + assertions::delete_expired(conn, now)?
        + pushed_requests::delete_expired(conn, now)?
        + device_grants::delete_expired(conn, now - DEVICE_RETENTION)?
        + auth_failures::delete_before(conn, now - login_throttle::RETENTION)?
        // A lockout ended a day ago is forgotten: the next starts short again.
        + address_lockouts::delete_ended_before(conn, now - TimeDelta::days(1))?
        + change_log::delete_expired(conn, now - REVOCATION_GRACE)?)
}

/// Sweeps on a background thread every [`INTERVAL`], first at start, for as
/// long as `alive` (something the running server holds) exists.
pub fn spawn(db: Database, retention: Retention, alive: Weak<dyn Any + Send + Sync>) {
    crate::periodic::spawn("housekeeping", INTERVAL, alive, move || {
        match db.maintenance(|conn| sweep(conn, Utc::now(), retention)) {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "housekeeping deleted expired rows"),
            Err(e) => tracing::warn!(error = %e, "housekeeping failed; it will try again"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_store::backend_tests;
    use portcullis_store::change_log::{Change, ChangeKind};
    use portcullis_store::codes::{CodeRecord, Redemption};
    use portcullis_store::sessions::SessionRecord;

    fn code(hash: u8, expires_at: DateTime<Utc>) -> CodeRecord {
        CodeRecord {
            code_hash: vec![hash; 32],
            grant_id: format!("grant-{hash}"),
            client_id: "app".into(),
            details: serde_json::from_value(serde_json::json!({
                "user_id": "alice", "scope": "openid", "nonce": null, "code_challenge": null,
                "redirect_uri": "https://app.example/cb", "redirect_uri_sent": false, "auth_time": 0, "sid": "s",
            }))
            .unwrap(),
            created_at: expires_at - TimeDelta::seconds(60),
            expires_at,
        }
    }

    fn session(hash: u8, expires_at: DateTime<Utc>) -> SessionRecord {
        SessionRecord {
            session_hash: vec![hash; 32],
            session_id: format!("sid-{hash}"),
            user_id: "alice".into(),
            auth_time: expires_at - TimeDelta::hours(8),
            created_at: expires_at - TimeDelta::hours(8),
            expires_at,
            second_factor_at: None,
        }
    }

    backend_tests! {
        #[test]
        fn a_sweep_deletes_what_expired_and_keeps_what_is_live(db) {
            let conn = &mut *db.connect().get().unwrap();
            let now = Utc::now();
            let long_ago = now - CODE_RETENTION - TimeDelta::minutes(1);
            codes::insert(conn, &code(1, long_ago)).unwrap();
            codes::insert(conn, &code(2, now - TimeDelta::minutes(5))).unwrap(); // expired, still kept
            sessions::create_session(conn, &session(3, now - TimeDelta::minutes(1))).unwrap();
            sessions::create_session(conn, &session(4, now + TimeDelta::hours(1))).unwrap();
            // The live one first: recording a jti removes its client's expired ones.
            assertions::record_jti(conn, "app", "live", now + TimeDelta::minutes(5)).unwrap();
            assertions::record_jti(conn, "app", "old", now - TimeDelta::minutes(1)).unwrap();
            auth_failures::record(conn, &[b"old".as_slice()], now - login_throttle::RETENTION - TimeDelta::minutes(1)).unwrap();
            auth_failures::record(conn, &[b"recent".as_slice()], now).unwrap();
            change_log::append(conn, ChangeKind::Token, "expired-jti", Some(now - REVOCATION_GRACE - TimeDelta::minutes(1))).unwrap();
            change_log::append(conn, ChangeKind::Token, "live-jti", Some(now + TimeDelta::minutes(5))).unwrap();
            let rollup = |minute| usage::Rollup { client_id: "app".into(), minute, counts: Default::default(), latency: vec![] };
            usage::insert(conn, &[rollup(now - TimeDelta::days(8)), rollup(now - TimeDelta::days(6))]).unwrap();
            let remediation = |id: &str, action: &str, days| portcullis_store::remediations::RemediationRecord {
                remediation_id: id.into(), rule_id: "default".into(), client_id: "app".into(), action: action.into(),
                reason: "test".into(), applied_at: (now - TimeDelta::days(days)).naive_utc(), locked_until: None,
                undone_at: None, undone_by: None,
            };
            remediations::insert(conn, &remediation("old", "lock", 31)).unwrap();
            remediations::insert(conn, &remediation("recent", "lock", 29)).unwrap();
            remediations::insert(conn, &remediation("in force", "revoke_tokens", 400)).unwrap();
            let retention = Retention { audit: TimeDelta::days(30), usage: TimeDelta::days(7) };

            assert_eq!(sweep(conn, now, retention).unwrap(), 7, "one of each kind was expired");
            assert_eq!(sweep(conn, now, retention).unwrap(), 0, "a second sweep finds nothing");

            assert_eq!(codes::redeem(conn, &[1; 32], now).unwrap(), Redemption::Invalid);
            assert!(matches!(codes::redeem(conn, &[2; 32], now).unwrap(), Redemption::Invalid | Redemption::Replayed { .. }));
            assert!(sessions::live_session(conn, &[4; 32], now).unwrap().is_some());
            assert!(!assertions::record_jti(conn, "app", "live", now + TimeDelta::minutes(5)).unwrap(), "a live jti is still a replay");
            assert_eq!(auth_failures::count_since(conn, b"recent", now - TimeDelta::minutes(1)).unwrap(), 1);
            let log: Vec<String> = change_log::since(conn, 0, 10).unwrap().into_iter().map(|c: Change| c.subject).collect();
            assert_eq!(log, vec!["live-jti".to_owned()]);
            assert_eq!(usage::of_client(conn, "app", now - TimeDelta::days(9), now).unwrap().len(), 1);
            assert_eq!(remediations::latest(conn, None, 10).unwrap().len(), 2, "a revocation in force stays");
        }
    }
}
