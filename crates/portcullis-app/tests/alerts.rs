//! Alert rules on both backends: conditions over the usage rollups and the
//! failure summaries fire once (however many instances check), again once
//! per window, and resolve; each change is audited as the system.

use chrono::{DateTime, TimeDelta};
use portcullis_app::alerts::{parse_rule, OUTSIDE_CIDRS};
use portcullis_app::audit::Query;
use portcullis_app::failures::{Failure, FailureKind};
use portcullis_app::usage::Answered;
use portcullis_app::{Actor, App, Clock, Event};
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use serde_json::json;
use std::time::Duration;

fn instance(db: &TestDb, clock: &Clock) -> App {
    App::with_defaults(db.connect()).with_clock(clock.clone())
}

fn rule(app: &App, body: serde_json::Value) -> String {
    let (rule, description, enabled) = parse_rule(body.as_object().unwrap().clone()).unwrap();
    app.create_alert_rule(&Actor::operator(), rule, description, enabled).unwrap().rule_id
}

fn names(events: &[Event]) -> Vec<(&'static str, String)> {
    events.iter().map(|e| (e.name(), e.target().to_owned())).collect()
}

fn fail(app: &App, client: &str, reason: &'static str, n: usize) {
    note(app, FailureKind::Client, client, reason, n);
}

fn note(app: &App, kind: FailureKind, client: &str, reason: &'static str, n: usize) {
    for _ in 0..n {
        app.failures().count(&Failure {
            kind,
            known: Some(client),
            presented: client,
            source: Some("192.0.2.9".parse().unwrap()),
            reason,
            at: app.now(),
        });
    }
    app.failures().flush(app.now(), true).unwrap();
}

backend_tests! {
    #[test]
    fn failed_and_throttled_sign_ins_fire_the_login_rule(db) {
        let clock = Clock::manual(chrono::Utc::now());
        let app = instance(&db, &clock);
        let logins = rule(&app, json!({"kind": "login_failures", "per_minute": 5}));
        assert!(parse_rule(json!({"kind": "login_failures", "per_minute": 5, "action": "disable"}).as_object().unwrap().clone()).is_err(),
                "strangers cause what it counts: it only alerts");
        note(&app, FailureKind::Login, "alice", "wrong password", 4);
        assert!(app.check_alert_rules().unwrap().is_empty(), "4 in the window is under 5 a minute");
        note(&app, FailureKind::LoginThrottled, "alice", "account", 3);
        assert_eq!(names(&app.check_alert_rules().unwrap()), [("alert.fired", "(all)".to_owned())]);
        assert!(app.alert_rule(&Actor::operator(), &logins).unwrap().firing.contains_key("(all)"));
    }

    #[test]
    fn an_error_rate_fires_once_across_instances_and_resolves(db) {
        // Late enough in the minute that, one minute on, every instance has written it.
        let clock = Clock::manual(DateTime::parse_from_rfc3339("2026-12-01T10:00:25Z").unwrap().to_utc());
        let (one, two) = (instance(&db, &clock), instance(&db, &clock));
        rule(&one, json!({"kind": "error_rate", "description": "errors"}));
        for n in 0..30 {
            let status = if n < 10 { 401 } else { 200 };
            one.usage().record(&Answered { client_id: "app", at: one.now(), status, took: Duration::ZERO, tokens_issued: 0, authenticated_from: None });
        }
        for _ in 0..30 {
            one.usage().record(&Answered { client_id: "quiet", at: one.now(), status: 200, took: Duration::ZERO, tokens_issued: 0, authenticated_from: None });
        }
        clock.advance(TimeDelta::minutes(1));
        one.flush_usage(false).unwrap();

        let fired = one.check_alert_rules().unwrap();
        assert_eq!(names(&fired), [("alert.fired", "app".to_owned())]);
        assert!(matches!(&fired[0], Event::AlertFired { value, threshold, .. } if (*value - 33.33).abs() < 0.01 && *threshold == 5.0));
        assert!(two.check_alert_rules().unwrap().is_empty(), "announced once, by one instance");
        clock.advance(TimeDelta::minutes(2));
        assert!(one.check_alert_rules().unwrap().is_empty(), "once per window while it holds");
        clock.advance(TimeDelta::minutes(4));
        let resolved = two.check_alert_rules().unwrap();
        assert_eq!(names(&resolved), [("alert.resolved", "app".to_owned())], "the errors left the window");
        assert!(one.check_alert_rules().unwrap().is_empty());

        let page = one.audit_entries(&Actor::operator(), Query { action: Some("alert.fired".into()), limit: 10, ..Query::default() }).unwrap();
        assert_eq!(page.entries.len(), 1);
        assert_eq!((page.entries[0].actor.as_str(), page.entries[0].outcome.as_str()), ("system:alerts", "failure"));
        assert_eq!(page.entries[0].details["subject"], "app");
    }

    #[test]
    fn failed_authentications_and_calls_from_outside_the_cidrs_fire(db) {
        // The audit log stamps entries with the time they are written.
        let clock = Clock::manual(chrono::Utc::now());
        let app = instance(&db, &clock);
        let billing = rule(&app, json!({"kind": "auth_failures", "client_id": "billing", "per_minute": 3}));
        // Seven failures over the summary window (a minute, and 10 s of slack): 6 a minute.
        let overall = rule(&app, json!({"kind": "auth_failures", "per_minute": 5}));
        let cidrs = rule(&app, json!({"kind": "outside_cidrs"}));
        let countries = rule(&app, json!({"kind": "outside_countries", "client_id": "nordic"}));
        fail(&app, "billing", "wrong secret", 5);
        fail(&app, "reports", "wrong secret", 1);
        fail(&app, "reports", OUTSIDE_CIDRS, 1);
        note(&app, FailureKind::OutsideCountries, "nordic", "GB", 2);
        note(&app, FailureKind::OutsideCountries, "elsewhere", "GB", 2);

        let mut fired = names(&app.check_alert_rules().unwrap());
        fired.sort();
        assert_eq!(
            fired,
            [
                ("alert.fired", "(all)".to_owned()),
                ("alert.fired", "billing".to_owned()),
                ("alert.fired", "nordic".to_owned()),
                ("alert.fired", "reports".to_owned())
            ]
        );
        assert_eq!(app.alert_rule(&Actor::operator(), &billing).unwrap().firing.len(), 1);
        assert!(app.alert_rule(&Actor::operator(), &overall).unwrap().firing.contains_key("(all)"));
        assert!(app.alert_rule(&Actor::operator(), &cidrs).unwrap().firing.contains_key("reports"));
        assert_eq!(app.alert_rule(&Actor::operator(), &countries).unwrap().firing.len(), 1, "only its client");

        // An edit that keeps the kind and clients keeps what fires; one that turns it off resolves it.
        let replace = |id: &str, body: serde_json::Value| {
            let (rule, description, enabled) = parse_rule(body.as_object().unwrap().clone()).unwrap();
            app.update_alert_rule(&Actor::operator(), id, rule, description, enabled)
        };
        let kept = replace(&billing, json!({"kind": "auth_failures", "client_id": "billing", "per_minute": 3, "description": "billing"})).unwrap();
        assert!(kept.firing.contains_key("billing"), "still firing");
        assert!(replace(&overall, json!({"kind": "auth_failures", "per_minute": 5, "enabled": false})).unwrap().firing.is_empty());
        let resolved = app.audit_entries(&Actor::operator(), Query { action: Some("alert.resolved".into()), limit: 10, ..Query::default() }).unwrap();
        assert_eq!(resolved.entries.len(), 1, "turned off, it resolves what it fired for");
        assert_eq!((resolved.entries[0].target.as_str(), &resolved.entries[0].details["rule_id"]), ("(all)", &json!(overall)));
        // Watching is admin:monitoring; acting on clients needs admin:clients too.
        let watcher = Actor::AdminClient {
            client_id: "w".into(),
            scope: portcullis_core::Scope::parse("admin:monitoring").unwrap(),
            address: None,
        };
        for acting in [json!({"kind": "consecutive_failures", "client_id": "x"}), json!({"kind": "outside_cidrs", "client_id": "x", "action": "disable"})] {
            let (rule, description, enabled) = parse_rule(acting.as_object().unwrap().clone()).unwrap();
            let refused = app.create_alert_rule(&watcher, rule, description, enabled);
            assert!(matches!(refused, Err(portcullis_app::AppError::Forbidden(_))), "{acting}");
        }
        let (watching, description, enabled) = parse_rule(json!({"kind": "outside_cidrs", "client_id": "x"}).as_object().unwrap().clone()).unwrap();
        assert!(app.create_alert_rule(&watcher, watching.clone(), description.clone(), enabled).is_ok());
        let acting = rule(&app, json!({"kind": "consecutive_failures", "client_id": "y"}));
        let forbidden = |done: Result<(), portcullis_app::AppError>| matches!(done, Err(portcullis_app::AppError::Forbidden(_)));
        assert!(forbidden(app.update_alert_rule(&watcher, &acting, watching, description, enabled).map(drop)), "nor turned into a watching one");
        assert!(forbidden(app.delete_alert_rule(&watcher, &acting)), "nor deleted");
        app.delete_alert_rule(&Actor::operator(), &acting).unwrap();

        clock.advance(TimeDelta::minutes(2));
        let resolved = app.check_alert_rules().unwrap();
        assert_eq!(resolved.iter().filter(|e| e.name() == "alert.resolved").count(), 3, "quiet for a minute");
        app.delete_alert_rule(&Actor::operator(), &cidrs).unwrap();
        assert_eq!(app.alert_rules(&Actor::operator()).unwrap().len(), 4);
    }
}
