//! Rate limits shared by instances, on both backends: what one instance
//! admitted counts at the others once shared.

use chrono::{DateTime, TimeDelta};
use portcullis_app::rate_limits::{Decision, Limit};
use portcullis_app::{App, Clock};
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;

fn instance(db: &TestDb, clock: &Clock) -> App {
    App::with_defaults(db.connect()).with_clock(clock.clone())
}

fn admitted(app: &App, subject: &str, max: u32, tries: usize) -> usize {
    (0..tries).filter(|_| app.rate_limit(Limit::Token, subject, max) == Decision::Allowed).count()
}

backend_tests! {
    #[test]
    fn two_instances_hold_one_limit_between_them_once_they_share(db) {
        let clock = Clock::manual(DateTime::parse_from_rfc3339("2026-12-01T10:00:05Z").unwrap().to_utc());
        let (one, two) = (instance(&db, &clock), instance(&db, &clock));
        assert_eq!(admitted(&one, "app", 10, 6), 6);
        one.share_rate_counts().unwrap();
        two.share_rate_counts().unwrap();
        assert_eq!(admitted(&two, "app", 10, 10), 4, "6 admitted by the other instance count here");
        two.share_rate_counts().unwrap();
        one.share_rate_counts().unwrap();
        assert_eq!(admitted(&one, "app", 10, 5), 0, "and the other way round");
        assert_eq!(admitted(&one, "other", 10, 3), 3, "per subject");

        // Two minutes on, the old windows no longer count anywhere.
        clock.advance(TimeDelta::minutes(2));
        one.share_rate_counts().unwrap();
        assert_eq!(admitted(&one, "app", 10, 10), 10);
    }

    #[test]
    fn without_sharing_each_instance_holds_the_limit_alone(db) {
        let clock = Clock::manual(DateTime::parse_from_rfc3339("2026-12-01T10:00:05Z").unwrap().to_utc());
        let (one, two) = (instance(&db, &clock), instance(&db, &clock));
        assert_eq!(admitted(&one, "app", 3, 5), 3);
        assert_eq!(admitted(&two, "app", 3, 5), 3, "at most the limit times the instances");
    }
}
