//! Refresh-token rotation and reuse detection, on SQLite and PostgreSQL.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use portcullis_core::grant::RefreshDetails;
use portcullis_core::Scope;
use portcullis_store::refresh::{self, FamilyRecord, RefreshRecord, Rotation};
use portcullis_store::{backend_tests, Database, DbConnection, PoolOptions};
use std::sync::{Arc, Barrier};
use std::time::Duration;

fn now() -> DateTime<Utc> {
    Utc::now().duration_trunc(TimeDelta::microseconds(1)).unwrap()
}

fn token(hash: u8, idle: TimeDelta) -> RefreshRecord {
    RefreshRecord {
        token_hash: vec![hash; 32],
        family_id: "f1".into(),
        details: RefreshDetails {
            scope: Scope::parse("openid").unwrap(),
            auth_time: i64::from(hash),
            sid: "s1".into(),
            claims: Default::default(),
            dpop_jkt: None,
            exchanged: None,
        },
        created_at: now(),
        expires_at: now() + idle,
    }
}

fn start(conn: &mut DbConnection, lifetime: TimeDelta, first: &RefreshRecord) -> FamilyRecord {
    let family = FamilyRecord {
        family_id: "f1".into(),
        grant_id: "g1".into(),
        client_id: "app".into(),
        user_id: "u1".into(),
        created_at: now(),
        expires_at: now() + lifetime,
    };
    refresh::start_family(conn, &family, first).unwrap();
    family
}

const NO_GRACE: TimeDelta = TimeDelta::zero();

backend_tests! {
    #[test]
    fn each_rotation_uses_the_presented_token_and_stores_its_successor(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        let first = token(1, TimeDelta::hours(1));
        let family = start(&mut conn, TimeDelta::days(1), &first);
        assert_eq!(refresh::find(&mut conn, &[1; 32]).unwrap(), Some((family.clone(), first.clone())));
        let rotated = refresh::rotate(&mut conn, &[1; 32], &token(2, TimeDelta::hours(1)), Utc::now(), NO_GRACE).unwrap();
        assert_eq!(rotated, Rotation::Rotated { family: family.clone(), presented: Box::new(first) });
        assert!(matches!(refresh::rotate(&mut conn, &[2; 32], &token(3, TimeDelta::hours(1)), Utc::now(), NO_GRACE).unwrap(),
            Rotation::Rotated { .. }));
        assert_eq!(refresh::rotate(&mut conn, &[9; 32], &token(4, TimeDelta::hours(1)), Utc::now(), NO_GRACE).unwrap(), Rotation::Invalid);
    }

    #[test]
    fn reusing_a_rotated_token_revokes_the_family_with_a_reason(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        start(&mut conn, TimeDelta::days(1), &token(1, TimeDelta::hours(1)));
        refresh::rotate(&mut conn, &[1; 32], &token(2, TimeDelta::hours(1)), Utc::now(), NO_GRACE).unwrap();
        let reuse = refresh::rotate(&mut conn, &[1; 32], &token(3, TimeDelta::hours(1)), Utc::now(), NO_GRACE).unwrap();
        assert_eq!(reuse, Rotation::Reused { family_id: "f1".into(), family_revoked: true });
        assert_eq!(refresh::revocation_reason(&mut conn, "f1").unwrap().as_deref(), Some("refresh token reused"));
        let current = refresh::rotate(&mut conn, &[2; 32], &token(4, TimeDelta::hours(1)), Utc::now(), NO_GRACE).unwrap();
        assert_eq!(current, Rotation::Invalid, "the legitimate holder's token dies with the family");
    }

    #[test]
    fn a_reuse_within_the_grace_window_spares_the_family(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        start(&mut conn, TimeDelta::days(1), &token(1, TimeDelta::hours(1)));
        let grace = TimeDelta::seconds(30);
        refresh::rotate(&mut conn, &[1; 32], &token(2, TimeDelta::hours(1)), Utc::now(), grace).unwrap();
        let reuse = refresh::rotate(&mut conn, &[1; 32], &token(3, TimeDelta::hours(1)), Utc::now(), grace).unwrap();
        assert_eq!(reuse, Rotation::Reused { family_id: "f1".into(), family_revoked: false });
        assert!(matches!(refresh::rotate(&mut conn, &[2; 32], &token(4, TimeDelta::hours(1)), Utc::now(), grace).unwrap(),
            Rotation::Rotated { .. }));
        assert_eq!(refresh::revocation_reason(&mut conn, "f1").unwrap(), None);
    }

    #[test]
    fn idle_and_absolute_expiry_end_a_token(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        start(&mut conn, TimeDelta::days(1), &token(1, TimeDelta::seconds(-1)));
        assert_eq!(refresh::rotate(&mut conn, &[1; 32], &token(2, TimeDelta::hours(1)), Utc::now(), NO_GRACE).unwrap(), Rotation::Invalid);
        let later = Utc::now() + TimeDelta::days(2);
        let family = FamilyRecord { family_id: "f2".into(), grant_id: "g2".into(), client_id: "app".into(), user_id: "u1".into(),
            created_at: now(), expires_at: now() + TimeDelta::days(1) };
        let first = RefreshRecord { family_id: "f2".into(), ..token(5, TimeDelta::days(30)) };
        refresh::start_family(&mut conn, &family, &first).unwrap();
        assert_eq!(refresh::rotate(&mut conn, &[5; 32], &token(6, TimeDelta::hours(1)), later, NO_GRACE).unwrap(), Rotation::Invalid,
            "past the family's absolute lifetime");
    }

    #[test]
    fn of_20_parallel_refreshes_of_one_token_exactly_one_succeeds(db) {
        db.connect();
        let options = PoolOptions { max_size: 21, connection_timeout: Duration::from_secs(30) };
        let database = Database::connect(&db.database_url(), &options).unwrap();
        start(&mut database.get().unwrap(), TimeDelta::days(1), &token(1, TimeDelta::hours(1)));
        let start_together = Arc::new(Barrier::new(20));
        let refreshes: Vec<_> = (0..20u8)
            .map(|i| {
                let (database, start_together) = (database.clone(), start_together.clone());
                std::thread::spawn(move || {
                    let mut conn = database.get().unwrap();
                    start_together.wait();
                    refresh::rotate(&mut conn, &[1; 32], &token(100 + i, TimeDelta::hours(1)), Utc::now(), NO_GRACE).unwrap()
                })
            })
            .collect();
        let outcomes: Vec<Rotation> = refreshes.into_iter().map(|r| r.join().unwrap()).collect();
        let won = outcomes.iter().filter(|o| matches!(o, Rotation::Rotated { .. })).count();
        assert_eq!(won, 1, "{outcomes:?}");
        assert!(outcomes.iter().all(|o| !matches!(o, Rotation::Invalid)), "every loser sees a reuse: {outcomes:?}");
    }
}
