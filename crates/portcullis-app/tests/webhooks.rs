//! Webhook outbox without HTTP, on both backends: events are queued once
//! however many instances queue them, one instance leases each delivery,
//! and a failing one is retried on the schedule until it runs out.

use chrono::{DateTime, TimeDelta};
use portcullis_app::webhooks::{AttemptOutcome, WebhookInput, SCHEDULE};
use portcullis_app::{Actor, App, AppError, Clock};
use portcullis_core::team::{TeamPolicy, TeamRole};
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

/// An instance whose webhooks may go to receivers on loopback.
fn instance(db: &TestDb, clock: &Clock, kek: &Arc<KeyEncryptionKey>) -> App {
    let loopback = portcullis_core::outbound::OutboundPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]);
    App::with_defaults(db.connect()).with_clock(clock.clone()).with_kek(kek.clone()).with_outbound(loopback)
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
        one.create_client(&actor, portcullis_core::ClientMetadata::parse(json!({"client_name": "before"}).as_object().unwrap().clone()).unwrap()).unwrap();
        let clients = one.create_webhook(&actor, hook("https://hooks.example/clients", &["client.*"])).unwrap();
        assert!(clients.secret.expose().starts_with("whsec_"));
        assert_eq!(format!("{:?}", clients.secret), "WebhookSecret(..)");
        let all = one.create_webhook(&actor, hook("http://127.0.0.1:9/all", &[])).unwrap();
        let created = one.create_client(&actor, portcullis_core::ClientMetadata::parse(json!({"client_name": "after"}).as_object().unwrap().clone()).unwrap()).unwrap();

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
    fn slow_endpoints_hold_only_their_share_of_the_sending_slots(db) {
        let clock = Clock::manual(DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().to_utc());
        let kek = Arc::new(KeyEncryptionKey::generate());
        let app = instance(&db, &clock, &kek);
        let actor = admin("admin");
        let slow: Vec<String> = (0..17)
            .map(|n| app.create_webhook(&actor, hook(&format!("https://slow{n}.example/in"), &["webhook.test"])).unwrap().webhook.webhook_id)
            .collect();
        for id in &slow {
            for _ in 0..5 {
                app.send_test_webhook(&actor, id).unwrap();
            }
        }
        // Each slow endpoint gets its share of 64 slots, and holds it (they never answer).
        let mut in_flight = std::collections::HashMap::new();
        for attempt in app.lease_webhook_deliveries(64, &in_flight).unwrap() {
            *in_flight.entry(attempt.delivery.webhook_id.clone()).or_insert(0) += 1;
        }
        assert!(in_flight.values().all(|n| *n == 3), "64 / 18 each: {in_flight:?}");
        assert!(app.lease_webhook_deliveries(64, &in_flight).unwrap().is_empty(), "no more while they hold their shares");
        // A healthy endpoint's delivery is sent at once, not behind theirs.
        let healthy = app.create_webhook(&actor, hook("https://healthy.example/in", &["webhook.test"])).unwrap().webhook.webhook_id;
        app.send_test_webhook(&actor, &healthy).unwrap();
        let leased = app.lease_webhook_deliveries(64, &in_flight).unwrap();
        assert_eq!(leased.iter().map(|a| a.delivery.webhook_id.as_str()).collect::<Vec<_>>(), [healthy.as_str()]);
    }

    #[test]
    fn an_endpoint_failing_every_delivery_for_days_is_disabled_and_endpoints_are_capped(db) {
        let clock = Clock::manual(DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().to_utc());
        let kek = Arc::new(KeyEncryptionKey::generate());
        let app = instance(&db, &clock, &kek);
        let actor = admin("admin");
        let dead = app.create_webhook(&actor, hook("https://dead.example/in", &["webhook.test"])).unwrap().webhook.webhook_id;
        let alive = app.create_webhook(&actor, hook("https://alive.example/in", &["webhook.test"])).unwrap().webhook.webhook_id;
        let attempt = |outcome: AttemptOutcome| {
            for id in [&dead, &alive] {
                app.send_test_webhook(&actor, id).unwrap();
            }
            for leased in app.lease_webhook_deliveries(64, &Default::default()).unwrap() {
                let outcome = if leased.delivery.webhook_id == dead { outcome.clone() } else { AttemptOutcome::Answered(204) };
                app.finish_webhook_attempt(leased, &outcome).unwrap();
            }
        };
        attempt(AttemptOutcome::Failed("the endpoint could not be reached".into()));
        let started = app.webhook(&actor, &dead).unwrap().failing_since.expect("failing");
        clock.advance(TimeDelta::days(3));
        attempt(AttemptOutcome::Answered(500));
        assert_eq!(app.webhook(&actor, &dead).unwrap().failing_since, Some(started.clone()), "still since the first failure");
        assert_eq!(app.disable_failing_webhooks(TimeDelta::days(5)).unwrap(), 0, "not for five days yet");
        clock.advance(TimeDelta::days(3));
        assert_eq!(app.disable_failing_webhooks(TimeDelta::days(5)).unwrap(), 1);
        let view = app.webhook(&actor, &dead).unwrap();
        assert!(!view.enabled && view.failing_since.is_some());
        assert!(app.webhook(&actor, &alive).unwrap().enabled && app.webhook(&actor, &alive).unwrap().failing_since.is_none());
        let audited = app.audit_entries(&actor, portcullis_app::audit::Query { action: Some("webhook.disabled".into()), limit: 5, ..Default::default() }).unwrap();
        assert_eq!(audited.entries.len(), 1);
        assert_eq!(audited.entries[0].details["failing_since"], started.as_str());
        // Turned on again, it gets a fresh period.
        let on = WebhookInput { enabled: Some(true), ..WebhookInput::default() };
        assert!(app.update_webhook(&actor, &dead, on).unwrap().failing_since.is_none());

        for n in 2..portcullis_app::webhooks::MAX_WEBHOOKS {
            app.create_webhook(&actor, hook(&format!("https://h{n}.example/in"), &[])).unwrap();
        }
        let refused = app.create_webhook(&actor, hook("https://one-too-many.example/in", &[]));
        assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
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
        for bad in [hook("ftp://hooks.example/", &[]), hook("https://hooks.example/", &["nothing.*"]), WebhookInput::default()] {
            assert!(matches!(app.create_webhook(&admin("admin"), bad), Err(AppError::Invalid(_))));
        }
        // Without an allowed network, http goes nowhere.
        let strict = App::with_defaults(db.connect()).with_kek(kek.clone());
        for bad in ["http://hooks.example/", "http://127.0.0.1:9/", "https://[::1]/"] {
            assert!(matches!(strict.create_webhook(&admin("admin"), hook(bad, &[])), Err(AppError::Invalid(_))), "{bad}");
        }
        assert!(matches!(app.send_test_webhook(&admin("admin"), "wh_none"), Err(AppError::NotFound(_))));
        let without_kek = App::with_defaults(db.connect());
        assert!(matches!(without_kek.create_webhook(&admin("admin"), hook("https://hooks.example/", &[])), Err(AppError::Invalid(_))));
    }

    #[test]
    fn a_teams_endpoint_receives_what_its_members_read_of_the_teams_events(db) {
        let clock = Clock::manual(DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().to_utc());
        let kek = Arc::new(KeyEncryptionKey::generate());
        let app = instance(&db, &clock, &kek);
        let operator = Actor::operator();
        let team = app.create_team(&operator, "Shop", TeamPolicy::default()).unwrap().team_id;
        let other = app.create_team(&operator, "Other", TeamPolicy::default()).unwrap().team_id;
        let member = |name: &str, team: &str, role| {
            let username = portcullis_core::Username::parse(name).unwrap();
            let user_id = app.create_user(&operator, &username, None, &Default::default()).unwrap().user.user_id;
            let who = Actor::PortalUser { user_id, session: format!("{name}-session"), address: None };
            let invited = app.invite_to_team(&operator, team, role, std::time::Duration::from_secs(600)).unwrap();
            app.accept_team_invitation(&who, invited.token.expose()).unwrap();
            who
        };
        let (dev, vic, bob) =
            (member("dev", &team, TeamRole::Developer), member("vic", &team, TeamRole::Viewer), member("bob", &other, TeamRole::Developer));
        let admins = app.create_webhook(&admin("admin"), hook("https://hooks.example/admins", &[])).unwrap().webhook.webhook_id;

        // Developers register; viewers read; to anyone else it does not exist.
        assert!(matches!(app.create_team_webhook(&vic, &team, hook("https://hooks.example/t", &[])), Err(AppError::Beyond(_))));
        assert!(matches!(app.create_team_webhook(&dev, &team, hook("https://hooks.example/t", &["key.*"])), Err(AppError::Invalid(_))),
                "only what a team receives");
        assert!(matches!(app.create_team_webhook(&dev, &team, hook("http://127.0.0.2/t", &[])), Err(AppError::Invalid(_))),
                "a team's endpoint goes to public addresses only, whatever the operator allows the admins'");
        assert!(matches!(app.create_team_webhook(&bob, &team, hook("nope", &[])), Err(AppError::NotFound(_))),
                "who may register is checked first");
        assert!(matches!(app.create_team_webhook(&dev, &team, hook("https://169.254.169.254/t", &[])), Err(AppError::Invalid(_))),
                "through the guarded outbound policy");
        let ours = app.create_team_webhook(&dev, &team, hook("https://hooks.example/t", &["client.*", "webhook.*"])).unwrap().webhook;
        assert_eq!(ours.team_id.as_deref(), Some(team.as_str()));
        let id = ours.webhook_id.as_str();
        assert_eq!(app.team_webhooks(&vic, &team).unwrap().len(), 1);
        assert!(matches!(app.webhook(&bob, id), Err(AppError::NotFound(_))));
        assert!(matches!(app.delete_webhook(&bob, id), Err(AppError::NotFound(_))));
        assert!(matches!(app.team_webhooks(&bob, &team), Err(AppError::NotFound(_))));
        assert!(matches!(app.webhook(&dev, &admins), Err(AppError::NotFound(_))), "the admins' endpoints are not a team's");
        assert!(matches!(app.webhooks(&dev), Err(AppError::Forbidden(_))));
        assert!(matches!(app.update_webhook(&vic, id, WebhookInput { enabled: Some(false), ..WebhookInput::default() }), Err(AppError::Beyond(_))));
        assert!(matches!(app.update_webhook(&dev, id, WebhookInput { events: Some(vec!["alert.*".into()]), ..WebhookInput::default() }), Err(AppError::Invalid(_))));
        assert_eq!(app.webhook(&admin("admin:monitoring"), id).unwrap().team_id.as_deref(), Some(team.as_str()), "admins oversee it");
        let elsewhere = WebhookInput { url: Some("https://elsewhere.example/".into()), ..WebhookInput::default() };
        assert!(matches!(app.update_webhook(&admin("admin:monitoring"), id, elsewhere), Err(AppError::Beyond(_))),
                "an admin who does not read the log does not redirect a team's events to themselves");
        let second = app.create_team_webhook(&dev, &team, hook("https://hooks.example/second", &[])).unwrap().webhook.webhook_id;

        // Of the events after it: the team's, as its members read them.
        app.queue_webhook_events().unwrap();
        let service = json!({"client_name": "Worker", "grant_types": ["client_credentials"], "scope": "openid"});
        let draft = || portcullis_app::clients::draft(service.as_object().unwrap().clone(), None);
        let client = app.create_team_client(&dev, &team, draft()).unwrap().client.client_id;
        app.create_team_client(&bob, &other, draft()).unwrap();
        app.create_client(&operator, draft()).unwrap();
        app.send_test_webhook(&dev, id).unwrap();
        app.delete_webhook(&dev, &second).unwrap();
        assert!(matches!(app.webhook(&operator, &second), Err(AppError::NotFound(_))));
        app.queue_webhook_events().unwrap();
        let mut events: Vec<String> = app.webhook_deliveries(&vic, id, 10).unwrap().into_iter().map(|d| d.event).collect();
        events.sort_unstable();
        assert_eq!(events, ["client.created", "webhook.created", "webhook.created", "webhook.deleted", "webhook.test", "webhook.tested"],
                   "not the other team's or the admins', and a deleted endpoint's events stay the team's");
        let leased = app.lease_webhook_deliveries(20, &std::collections::HashMap::new()).unwrap();
        let created = leased.iter().find(|a| a.delivery.webhook_id == id && a.delivery.event == "client.created").unwrap();
        let body: serde_json::Value = serde_json::from_str(&created.delivery.payload).unwrap();
        assert_eq!((body["data"]["target"].as_str(), body["data"]["details"]["team_id"].as_str()), (Some(client.as_str()), Some(team.as_str())));
        assert!(body["data"].get("source").is_none(), "no address: {body}");
        let events = app.team_events(&vic, &team, &portcullis_app::audit::TeamEventsQuery { limit: 20, ..Default::default() }).unwrap();
        assert!(events.iter().any(|e| e.action == "webhook.created" && e.target == id), "the team's own events show it");
        assert!(events.iter().any(|e| e.action == "webhook.created" && e.target == second), "and a deleted endpoint's");
    }
}
