//! Device authorization grants, on SQLite and PostgreSQL: a user code taken
//! at most once while stored, decided once, polled with the interval
//! raised when too fast, and redeemed at most once.

use chrono::{DateTime, TimeDelta, Utc};
use portcullis_core::grant::CodeDetails;
use portcullis_core::Scope;
use portcullis_store::backend_tests;
use portcullis_store::device_grants::{self, DeviceGrantRecord, DeviceStatus, Poll};
use portcullis_store::users::{self, UserChange, UserRecord};
use portcullis_store::StoreError;

/// The user `approved` names, enabled.
fn alice() -> UserRecord {
    UserRecord {
        user_id: "alice".into(),
        username: "alice".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        claims: Default::default(),
        attributes: Default::default(),
        created_at: Utc::now(),
        updated_at: Utc::now(),
        disabled_at: None,
    }
}

fn grant(hash: u8, user_code: &str, now: DateTime<Utc>) -> DeviceGrantRecord {
    DeviceGrantRecord {
        device_code_hash: vec![hash; 32],
        user_code: user_code.into(),
        grant_id: format!("grant-{hash}"),
        client_id: "tv".into(),
        scope: "openid".into(),
        status: DeviceStatus::Pending,
        details: None,
        interval_seconds: 5,
        polled_at: None,
        created_at: now,
        expires_at: now + TimeDelta::seconds(600),
    }
}

fn approved() -> CodeDetails {
    CodeDetails {
        user_id: "alice".into(),
        scope: Scope::parse("openid").unwrap(),
        nonce: None,
        code_challenge: None,
        redirect_uri: String::new(),
        redirect_uri_sent: false,
        auth_time: 1_700_000_000,
        sid: "s1".into(),
        amr: vec!["pwd".into()],
        claims: Default::default(),
        dpop_jkt: None,
    }
}

backend_tests! {
    #[test]
    fn a_device_grant_is_decided_once_polled_slowly_and_redeemed_once(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        let now = Utc::now();
        users::create(&mut conn, &alice()).unwrap();
        device_grants::insert(&mut conn, &grant(1, "BCDFGHJK", now)).unwrap();
        assert!(matches!(device_grants::insert(&mut conn, &grant(2, "BCDFGHJK", now)), Err(StoreError::Conflict(_))), "a user code is taken once");
        assert_eq!(device_grants::poll(&mut conn, &[1; 32], "other", now).unwrap(), Poll::Unknown, "another client's");
        assert_eq!(device_grants::poll(&mut conn, &[1; 32], "tv", now).unwrap(), Poll::Pending);
        assert_eq!(device_grants::poll(&mut conn, &[1; 32], "tv", now + TimeDelta::seconds(2)).unwrap(), Poll::TooFast { interval: 10 });
        assert_eq!(device_grants::poll(&mut conn, &[1; 32], "tv", now + TimeDelta::seconds(12)).unwrap(), Poll::Pending, "after the new interval");
        assert_eq!(device_grants::all_pending(&mut conn, now).unwrap().len(), 1);
        let found = device_grants::pending(&mut conn, "BCDFGHJK", now).unwrap().unwrap();
        assert_eq!((found.interval_seconds, found.status), (10, DeviceStatus::Pending));

        assert!(device_grants::decide(&mut conn, "BCDFGHJK", Some(&approved()), now).unwrap());
        assert!(!device_grants::decide(&mut conn, "BCDFGHJK", None, now).unwrap(), "decided once");
        assert_eq!(device_grants::pending(&mut conn, "BCDFGHJK", now).unwrap(), None);
        let Poll::Approved(redeemed) = device_grants::poll(&mut conn, &[1; 32], "tv", now).unwrap() else { panic!("approved") };
        assert_eq!(redeemed.details, Some(approved()));
        assert_eq!(device_grants::poll(&mut conn, &[1; 32], "tv", now).unwrap(), Poll::Redeemed, "redeemed once");

        // Approved, then its user disabled: withdrawn, and denied from then on.
        device_grants::insert(&mut conn, &grant(4, "DFGHJKLM", now)).unwrap();
        assert!(device_grants::decide(&mut conn, "DFGHJKLM", Some(&approved()), now).unwrap());
        users::update(&mut conn, "alice", UserChange { disabled: Some(true), ..UserChange::default() }).unwrap();
        assert!(matches!(device_grants::poll(&mut conn, &[4; 32], "tv", now).unwrap(), Poll::Withdrawn(_)));
        assert_eq!(device_grants::poll(&mut conn, &[4; 32], "tv", now).unwrap(), Poll::Denied);

        device_grants::insert(&mut conn, &grant(3, "CDFGHJKL", now)).unwrap();
        assert!(device_grants::decide(&mut conn, "CDFGHJKL", None, now).unwrap());
        assert_eq!(device_grants::poll(&mut conn, &[3; 32], "tv", now).unwrap(), Poll::Denied);
        let later = now + TimeDelta::seconds(601);
        assert_eq!(device_grants::poll(&mut conn, &[3; 32], "tv", later).unwrap(), Poll::Expired);
        assert!(!device_grants::decide(&mut conn, "BCDFGHJK", Some(&approved()), later).unwrap());
        assert_eq!(device_grants::delete_expired(&mut conn, later).unwrap(), 3);
    }
}
