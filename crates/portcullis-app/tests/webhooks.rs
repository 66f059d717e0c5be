//! Webhook outbox without HTTP, on both backends: events are queued once
//! however many instances queue them, one instance leases each delivery,
//! and a failing one is retried on the schedule until it runs out.

use chrono::{DateTime, TimeDelta};
use portcullis_app::webhooks::{AttemptOutcome, WebhookInput, SCHEDULE};
use portcullis_app::{Actor, App, AppError, Clock};
use portcullis_core::Scope;
use portcullis_jose::KeyEncryptionKey;
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use serde_json::json;
use std::sync::Arc;

fn admin(scope: &str) -> Actor {
    Actor::AdminClient {
        client_id: "admin-client".into(),
        scope: Scope::parse(scope).unwrap(),
        address: None,
    }
}

fn instance(db: &TestDb, clock: &Clock, kek: &Arc<KeyEncryptionKey>) -> App {
    App::with_defaults(db.connect()).with_clock(clock.clone()).with_kek(kek.clone())
}

fn hook(url: &str, events: &[&str]) -> WebhookInput {
    WebhookInput {
        url: Some(url.into()),
        events: Some(events.iter().map(|e| (*e).to_owned()).collect()),
        ..WebhookInput::default()
    }
}

backend_tests! {
    #[test]
    fn events_are_queued_once_for_the_endpoints_that_want_them(db) {
        let clock = Clock::manual(DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().to_utc());
        let kek = Arc::new(KeyEncryptionKey::generate());
        let (one, two) = (instance(&db, &clock, &kek), instance(&db, &clock, &kek));
        let actor = admin("admin");
        one.create_client(&actor, json!({"client_name": "before"}).as_object().unwrap().clone()).unwrap();
        let clients = one.create_webhook(&actor, hook("https://hooks.example/clients", &["client.*"])).unwrap();
        assert!(clients.secret.expose().starts_with("whsec_"));
        assert_eq!(format!("{:?}", clients.secret), "WebhookSecret(..)");
        let all = one.create_webhook(&actor, hook("http://127.0.0.1:9/all", &[])).unwrap();
        let created = one.create_client(&actor, json!({"client_name": "after"}).as_object().unwrap().clone()).unwrap();

        let queued = one.queue_webhook_events().unwrap() + two.queue_webhook_events().unwrap();
        // client.created for "clients"; webhook.created (the second) and client.created for "all".
        assert_eq!(queued, 3, "events from before the endpoints existed are not replayed");
        assert_eq!(one.queue_webhook_events().unwrap() + two.queue_webhook_events().unwrap(), 0);
        let log = one.webhook_deliveries(&actor, &clients.webhook.webhook_id, 10).unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!((log[0].event.as_str(), log[0].status, log[0].attempts), ("client.created", "pending", 0));
        assert_eq!(one.webhook_deliveries(&actor, &all.webhook.webhook_id, 10).unwrap().len(), 2);

        // The outbox keeps the event sealed, as the audit log does.
        let stored = portcullis_store::webhooks::of_webhook(&mut one.database().get().unwrap(), &clients.webhook.webhook_id, 5).unwrap();
        assert!(stored[0].payload.starts_with("sealed:v1:"), "{}", stored[0].payload);
        // One instance leases each delivery; the payload is the audit entry.
        let leased = one.lease_webhook_deliveries(10, &Default::default()).unwrap();
        assert_eq!(leased.len(), 3);
        assert!(two.lease_webhook_deliveries(10, &Default::default()).unwrap().is_empty(), "leased elsewhere");
        let attempt = leased.into_iter().find(|a| a.url.ends_with("/clients")).unwrap();
        let body: serde_json::Value = serde_json::from_str(&attempt.delivery.payload).unwrap();
        assert_eq!(body["type"], "client.created");
        assert_eq!(body["data"]["target"], created.client.client_id.as_str());
        let headers = attempt.headers(clock.now());
        assert_eq!(headers[0], ("webhook-id", attempt.delivery.delivery_id.clone()));
        assert!(headers[2].1.starts_with("v1,"));
    }

    #[test]
    fn a_failing_delivery_is_retried_on_the_schedule_then_given_up(db) {
        let clock = Clock::manual(DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().to_utc());
        let kek = Arc::new(KeyEncryptionKey::generate());
        let app = instance(&db, &clock, &kek);
        let actor = admin("admin:monitoring");
        let id = app.create_webhook(&actor, hook("https://hooks.example/in", &["webhook.test"])).unwrap().webhook.webhook_id;
        app.send_test_webhook(&actor, &id).unwrap();
        for (n, wait) in SCHEDULE.iter().enumerate().skip(1) {
            let attempt = app.lease_webhook_deliveries(5, &Default::default()).unwrap().pop().expect("due");
            app.finish_webhook_attempt(attempt, &AttemptOutcome::Answered(503)).unwrap();
            assert!(app.lease_webhook_deliveries(5, &Default::default()).unwrap().is_empty(), "not due before its wait");
            let log = &app.webhook_deliveries(&actor, &id, 5).unwrap()[0];
            assert_eq!((log.status, log.attempts, log.last_status), ("pending", n as i64, Some(503)));
            clock.advance(*wait);
        }
        let last = app.lease_webhook_deliveries(5, &Default::default()).unwrap().pop().unwrap();
        app.finish_webhook_attempt(last, &AttemptOutcome::Failed("no answer".into())).unwrap();
        let log = &app.webhook_deliveries(&actor, &id, 5).unwrap()[0];
        assert_eq!((log.status, log.attempts), ("failed", SCHEDULE.len() as i64));
        assert_eq!(log.last_error.as_deref(), Some("no answer"));
        assert!(log.next_attempt_at.is_none());
        let total: TimeDelta = SCHEDULE.iter().copied().sum();
        assert!(total > TimeDelta::days(1), "retried for more than a day");
    }

    #[test]
    fn endpoints_are_checked_and_need_the_monitoring_scope(db) {
        let clock = Clock::system();
        let kek = Arc::new(KeyEncryptionKey::generate());
        let app = instance(&db, &clock, &kek);
        let refused = app.create_webhook(&admin("admin:clients"), hook("https://hooks.example/", &[]));
        assert!(matches!(refused, Err(AppError::Forbidden(_))));
        for bad in [hook("http://hooks.example/", &[]), hook("https://hooks.example/", &["nothing.*"]), WebhookInput::default()] {
            assert!(matches!(app.create_webhook(&admin("admin"), bad), Err(AppError::Invalid(_))));
        }
        assert!(matches!(app.send_test_webhook(&admin("admin"), "wh_none"), Err(AppError::NotFound(_))));
        let without_kek = App::with_defaults(db.connect());
        assert!(matches!(without_kek.create_webhook(&admin("admin"), hook("https://hooks.example/", &[])), Err(AppError::Invalid(_))));
    }
}
