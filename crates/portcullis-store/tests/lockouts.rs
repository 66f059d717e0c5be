//! Client lockouts, on SQLite and PostgreSQL.

use chrono::{TimeDelta, Utc};
use portcullis_store::backend_tests;
use portcullis_store::clients::{self, NewClient};
use portcullis_store::lockouts::{self, Failure, Policy};

const POLICY: Policy =
    Policy { threshold: 3, cooldown: TimeDelta::minutes(1), max_cooldown: TimeDelta::minutes(3) };

backend_tests! {
    #[test]
    fn the_threshold_locks_and_each_lockout_lasts_twice_as_long_up_to_the_cap(db) {
        let db = db.connect();
        let conn = &mut *db.get().unwrap();
        clients::create(conn, &NewClient { client_id: "c1", metadata: &serde_json::from_value(serde_json::json!({"client_name": "x"})).unwrap(), author: "cli", secret: None, team_id: None }).unwrap();
        let mut now = Utc::now();
        let mut lengths = Vec::new();
        for _ in 0..3 {
            assert_eq!(lockouts::record_failure(conn, "c1", &POLICY, now).unwrap(), Failure::Counted(1));
            assert_eq!(lockouts::record_failure(conn, "c1", &POLICY, now).unwrap(), Failure::Counted(2));
            let until = match lockouts::record_failure(conn, "c1", &POLICY, now).unwrap() {
                Failure::Locked { until, .. } => until,
                other => panic!("expected a lockout, got {other:?}"),
            };
            lengths.push((until - now).num_minutes());
            for _ in 0..5 {
                assert_eq!(lockouts::record_failure(conn, "c1", &POLICY, now).unwrap(), Failure::AlreadyLocked);
            }
            now = until;
        }
        assert_eq!(lengths, [1, 2, 3], "doubling, capped at three minutes; failures while locked count nothing");
        assert!(clients::find(conn, "c1").unwrap().unwrap().locked_until.is_some());
        assert_eq!(lockouts::record_failure(conn, "nobody", &POLICY, now).unwrap(), Failure::Unknown);
        assert!(clients::set_disabled(conn, "c1", false, false).unwrap());
        let cleared = clients::find(conn, "c1").unwrap().unwrap();
        assert_eq!((cleared.failed_attempts, cleared.locked_until), (0, None), "enabling lifts the lockout");
    }

    #[test]
    fn concurrent_failures_are_all_counted_and_lock_once(db) {
        let db = db.connect();
        clients::create(&mut db.get().unwrap(), &NewClient { client_id: "c1", metadata: &serde_json::from_value(serde_json::json!({"client_name": "x"})).unwrap(), author: "cli", secret: None, team_id: None }).unwrap();
        let policy = Policy { threshold: 12, ..POLICY };
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let db = db.clone();
                std::thread::spawn(move || {
                    (0..3).map(|_| lockouts::record_failure(&mut db.get().unwrap(), "c1", &policy, Utc::now()).unwrap()).collect::<Vec<_>>()
                })
            })
            .collect();
        let outcomes: Vec<Failure> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        assert_eq!(outcomes.iter().filter(|o| matches!(o, Failure::Locked { .. })).count(), 1, "{outcomes:?}");
    }
}
