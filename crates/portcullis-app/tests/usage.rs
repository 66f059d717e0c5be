//! Usage analytics without HTTP, on both backends: counts are written in
//! batches, several instances' rollups add up, ranges and permissions hold.

use chrono::{DateTime, TimeDelta, Utc};
use diesel::connection::SimpleConnection;
use portcullis_app::usage::{Answered, UsageRange};
use portcullis_app::{Actor, App, AppError, Clock};
use portcullis_core::Scope;
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use serde_json::json;
use std::time::Duration;

fn admin(scope: &str) -> Actor {
    Actor::AdminClient {
        client_id: "admin-client".into(),
        scope: Scope::parse(scope).unwrap(),
        address: None,
    }
}

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T10:00:05Z").unwrap().to_utc()
}

/// An instance of the application over `db`, on `clock`.
fn instance(db: &TestDb, clock: &Clock) -> App {
    App::with_defaults(db.connect()).with_clock(clock.clone())
}

fn answer(app: &App, client_id: &str, status: u16, millis: u64) {
    let took = Duration::from_millis(millis);
    let tokens_issued = u32::from(status == 200);
    app.usage().record(&Answered {
        client_id,
        at: app.now(),
        status,
        took,
        tokens_issued,
        authenticated_from: None,
    });
}

fn hour(clock: &Clock, step: i64) -> UsageRange {
    UsageRange::new(Some(start() - TimeDelta::minutes(5)), None, Some(step), TimeDelta::hours(1), clock.now())
        .unwrap()
}

backend_tests! {
    #[test]
    fn two_instances_counts_add_up_minute_by_minute(db) {
        let clock = Clock::manual(start());
        let (one, two) = (instance(&db, &clock), instance(&db, &clock));
        let actor = admin("admin:clients admin:monitoring");
        let client = one.create_client(&actor, portcullis_core::ClientMetadata::parse(json!({"client_name": "billing"}).as_object().unwrap().clone()).unwrap()).unwrap();
        let id = client.client.client_id;
        for _ in 0..9 {
            answer(&one, &id, 200, 2);
        }
        answer(&one, &id, 401, 2);
        answer(&two, &id, 400, 2);
        answer(&two, &id, 500, 900);
        assert_eq!(one.flush_usage(false).unwrap(), 0, "the running minute is not written yet");

        clock.advance(TimeDelta::minutes(1));
        answer(&two, &id, 200, 2);
        clock.advance(TimeDelta::minutes(1));
        assert_eq!(one.flush_usage(false).unwrap(), 1, "one row: one client, one minute");
        // Each instance writes its own; reading flushes the reader's first.
        answer(&two, &id, 200, 2);
        clock.advance(TimeDelta::minutes(1));
        assert_eq!(two.flush_usage(false).unwrap(), 3, "two minutes, and the one just ended");
        answer(&one, &id, 200, 2);
        clock.advance(TimeDelta::minutes(1));

        let usage = one.client_usage(&actor, &id, hour(&clock, 60)).unwrap();
        assert_eq!(usage.points.len(), 9, "five minutes before, and four since: dense");
        let first = usage.points.iter().find(|p| p.start == "2026-12-01T10:00:00Z").unwrap();
        assert_eq!((first.requests, first.tokens_issued), (12, 9));
        assert_eq!((first.errors.auth, first.errors.client, first.errors.server), (1, 1, 1));
        let (p50, p95) = (first.latency_ms.p50.unwrap(), first.latency_ms.p95.unwrap());
        assert!(p50 < 3.5 && p95 > 500.0, "p50 {p50}, p95 {p95}: the slow one shows at p95 only");
        assert_eq!(usage.totals.requests, 15, "the reader's last minute was written by the read");
        assert!(usage.points.iter().filter(|p| p.requests == 0).all(|p| p.latency_ms.p50.is_none()));

        let coarse = one.client_usage(&actor, &id, hour(&clock, 300)).unwrap();
        assert_eq!(coarse.points.len(), 2);
        assert_eq!(coarse.points.iter().map(|p| p.requests).sum::<i64>(), 15);

        let summary = two.usage_summary(&actor, hour(&clock, 60), (10, None)).unwrap();
        assert_eq!((summary.clients, summary.totals.requests), (1, 15));
        assert_eq!(summary.top_by_requests[0].client_id, id);
        assert!(summary.top_by_error_rate.is_empty(), "fewer than 20 requests are not ranked by rate");
    }

    #[test]
    fn the_error_ranking_puts_the_failing_client_first(db) {
        let clock = Clock::manual(start());
        let app = instance(&db, &clock);
        let actor = admin("admin");
        for (client, failures) in [("steady", 1), ("failing", 15), ("busy", 0)] {
            for i in 0..30 {
                answer(&app, client, if i < failures { 401 } else { 200 }, 1);
            }
        }
        answer(&app, "busy", 200, 1);
        clock.advance(TimeDelta::minutes(1));
        let summary = app.usage_summary(&actor, hour(&clock, 60), (2, None)).unwrap();
        let by_requests: Vec<&str> = summary.top_by_requests.iter().map(|c| c.client_id.as_str()).collect();
        assert_eq!(by_requests, ["busy", "failing"], "limited to 2");
        assert_eq!(summary.top_by_error_rate[0].client_id, "failing");
        assert_eq!(summary.top_by_error_rate[0].error_rate, 0.5);
        assert_eq!(summary.totals.requests, 91);

        // One team's clients only.
        let team = app.create_team(&Actor::operator(), "Shop", Default::default()).unwrap().team_id;
        let draft = serde_json::json!({"client_name": "Worker", "grant_types": ["client_credentials"]});
        let ours = app.create_team_client(&Actor::operator(), &team, portcullis_app::clients::draft(draft.as_object().unwrap().clone(), None))
            .unwrap().client.client_id;
        answer(&app, &ours, 500, 1);
        clock.advance(TimeDelta::minutes(1));
        let of_team = app.usage_summary(&actor, hour(&clock, 60), (5, Some(&team))).unwrap();
        let listed: Vec<&str> = of_team.top_by_requests.iter().map(|c| c.client_id.as_str()).collect();
        assert_eq!((listed, of_team.totals.requests, of_team.clients), (vec![ours.as_str()], 1, 1));
        assert_eq!(of_team.points.iter().map(|p| p.requests).sum::<i64>(), 1, "its series too");
        assert_eq!(app.usage_summary(&actor, hour(&clock, 60), (5, None)).unwrap().totals.requests, 92);
    }

    #[test]
    fn usage_needs_the_monitoring_scope_and_a_known_client(db) {
        let clock = Clock::manual(start());
        let app = instance(&db, &clock);
        let refused = app.client_usage(&admin("admin:clients"), "any", hour(&clock, 60));
        assert!(matches!(refused, Err(AppError::Forbidden(_))), "{refused:?}");
        assert!(matches!(app.usage_summary(&admin("admin:audit"), hour(&clock, 60), (5, None)), Err(AppError::Forbidden(_))));
        let missing = app.client_usage(&admin("admin:monitoring"), "nobody", hour(&clock, 60));
        assert!(matches!(missing, Err(AppError::NotFound(_))), "{missing:?}");
    }

    #[test]
    fn counts_that_cannot_be_written_are_kept_for_the_next_batch(db) {
        let clock = Clock::manual(start());
        let app = instance(&db, &clock);
        answer(&app, "app", 200, 1);
        clock.advance(TimeDelta::minutes(1));
        // The table goes away for a moment, as if the database were down.
        let conn = &mut *app.database().get().unwrap();
        conn.batch_execute("ALTER TABLE usage_rollups RENAME TO usage_rollups_away").unwrap();
        assert!(app.flush_usage(false).is_err());
        conn.batch_execute("ALTER TABLE usage_rollups_away RENAME TO usage_rollups").unwrap();
        assert_eq!(app.flush_usage(false).unwrap(), 1, "written on the next try");
        let summary = app.usage_summary(&Actor::operator(), hour(&clock, 60), (5, None)).unwrap();
        assert_eq!(summary.totals.requests, 1, "counted once");
    }
}
