//! Automated remediation on both backends: `consecutive_failures` rules
//! lock or disable a client (the default lockout when none applies),
//! `malformed_requests` disables a client whose malformed run outlasts the
//! rule, `outside_cidrs` revokes a confidential client's tokens when it
//! starts firing (never a public client's); every action is audited as
//! `client.remediated` and undone by an admin.

use chrono::{TimeDelta, Utc};
use portcullis_app::alerts::{parse_rule, OUTSIDE_CIDRS};
use portcullis_app::audit::Query;
use portcullis_app::client_lockouts::LockoutPolicy;
use portcullis_app::failures::{Failure, FailureKind};
use portcullis_app::{Actor, App, AppError, Clock, Permission};
use portcullis_store::backend_tests;
use serde_json::{json, Value};
use std::net::IpAddr;

fn object(value: Value) -> serde_json::Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn client(app: &App, metadata: Value) -> String {
    app.create_client(&Actor::operator(), portcullis_core::ClientMetadata::parse(object(metadata)).unwrap())
        .unwrap()
        .client
        .client_id
}

fn rule(app: &App, body: Value) -> String {
    let (rule, description, enabled) = parse_rule(object(body)).unwrap();
    app.create_alert_rule(&Actor::operator(), rule, description, enabled).unwrap().rule_id
}

/// The default lockout: ten in a row lock the client.
const DEFAULT: LockoutPolicy = LockoutPolicy {
    threshold: 10,
    cooldown: TimeDelta::minutes(1),
    max_cooldown: TimeDelta::days(1),
    disable: false,
};

fn fail(app: &App, client_id: &str, times: usize) {
    for _ in 0..times {
        app.count_client_failure(client_id, Some(IpAddr::from([192, 0, 2, 9])), &DEFAULT).unwrap();
    }
}

/// The details of `action`'s audit entries that succeeded.
fn audited(app: &App, action: &str) -> Vec<Value> {
    let query = Query { action: Some(action.into()), limit: 50, ..Query::default() };
    let entries = app.audit_entries(&Actor::operator(), query).unwrap().entries;
    entries.into_iter().filter(|e| e.outcome == "success").map(|e| e.details).collect()
}

backend_tests! {
    #[test]
    fn consecutive_failure_rules_lock_or_disable_and_an_admin_undoes_it(db) {
        let app = App::with_defaults(db.connect());
        let (billing, reports, other) = (client(&app, json!({"client_name": "billing"})),
            client(&app, json!({"client_name": "reports"})), client(&app, json!({"client_name": "other"})));
        let strict = rule(&app, json!({"kind": "consecutive_failures", "client_id": billing, "threshold": 3, "action": "disable"}));
        let everyone = rule(&app, json!({"kind": "consecutive_failures", "threshold": 2}));

        fail(&app, &billing, 2);
        assert!(!app.client(&Actor::operator(), &billing).unwrap().disabled, "its own rule wants three");
        fail(&app, &billing, 1);
        assert!(app.client(&Actor::operator(), &billing).unwrap().disabled);
        fail(&app, &reports, 2);
        let locked = app.client(&Actor::operator(), &reports).unwrap();
        assert!(!locked.disabled && locked.locked_until.is_some(), "the rule for every client locks it");

        let done = app.remediations(&Actor::operator(), None).unwrap();
        let summary: Vec<(&str, &str, &str)> = done.iter().map(|r| (r.client_id.as_str(), r.rule_id.as_str(), r.action.as_str())).collect();
        assert_eq!(summary, [(reports.as_str(), everyone.as_str(), "lock"), (billing.as_str(), strict.as_str(), "disable")]);
        assert_eq!(audited(&app, "client.remediated").len(), 2);
        assert_eq!(app.remediations(&Actor::operator(), Some(&billing)).unwrap().len(), 1);

        // An admin enabled it, then disabled it again by hand: undoing the rule's action leaves that.
        app.set_client_disabled(&Actor::operator(), &billing, false).unwrap();
        app.set_client_disabled(&Actor::operator(), &billing, true).unwrap();
        let undone = app.undo_remediation(&Actor::operator(), &done[1].remediation_id).unwrap();
        assert!(undone.undone_by.as_deref().is_some_and(|by| by.starts_with("cli:")), "{undone:?}");
        assert!(app.client(&Actor::operator(), &billing).unwrap().disabled, "not the rule's to lift");
        app.undo_remediation(&Actor::operator(), &done[0].remediation_id).unwrap();
        assert_eq!(app.client(&Actor::operator(), &reports).unwrap().locked_until, None, "the lock is lifted");
        assert!(matches!(app.undo_remediation(&Actor::operator(), &done[0].remediation_id), Err(AppError::Conflict(_))));
        assert!(matches!(app.undo_remediation(&Actor::operator(), "rm_none"), Err(AppError::NotFound(_))));
        assert_eq!(audited(&app, "client.remediation_undone").len(), 2);

        app.delete_alert_rule(&Actor::operator(), &everyone).unwrap();
        fail(&app, &other, 9);
        assert_eq!(app.client(&Actor::operator(), &other).unwrap().locked_until, None, "without a rule, the default wants ten");
        fail(&app, &other, 1);
        assert!(app.client(&Actor::operator(), &other).unwrap().locked_until.is_some());
        assert_eq!(app.remediations(&Actor::operator(), Some(&other)).unwrap()[0].rule_id, "default");
        let monitor = Actor::AdminUser { user_id: "u".into(), session: "s".into(), permissions: vec![Permission::Monitoring], address: None };
        let latest = &app.remediations(&monitor, None).unwrap()[0];
        assert!(matches!(app.undo_remediation(&monitor, &latest.remediation_id), Err(AppError::Forbidden(_))), "undoing needs admin:clients");
    }

    #[test]
    fn a_run_of_malformed_requests_longer_than_the_rule_disables_the_client(db) {
        let start = Utc::now();
        let clock = Clock::manual(start);
        let app = App::with_defaults(db.connect()).with_clock(clock.clone());
        let (billing, spa) = (client(&app, json!({"client_name": "billing"})), client(&app, json!({"client_name": "spa",
            "token_endpoint_auth_method": "none", "grant_types": ["authorization_code"], "redirect_uris": ["https://spa.example/cb"]})));
        let at = |seconds| clock.advance(start + TimeDelta::seconds(seconds) - clock.now());
        assert!(app.note_malformed(&billing).unwrap().is_none(), "no rule yet");
        rule(&app, json!({"kind": "malformed_requests"}));
        at(30);
        app.note_malformed(&billing).unwrap();
        at(41);
        app.note_malformed(&billing).unwrap();
        for seconds in (50..=100).step_by(10) {
            at(seconds);
            assert!(app.note_malformed(&billing).unwrap().is_none(), "a pause of 11 s started the run again at 41");
        }
        app.note_well_formed(&billing);
        for seconds in (110..=170).step_by(10) {
            at(seconds);
            assert!(app.note_malformed(&billing).unwrap().is_none(), "a well-formed request started it again at 110");
        }
        at(171);
        let done = app.note_malformed(&billing).unwrap().expect("disabled");
        assert_eq!((done.action.as_str(), done.reason.as_str()), ("disable", "malformed requests for more than 60 seconds"));
        assert!(app.client(&Actor::operator(), &billing).unwrap().disabled);
        assert!(app.note_malformed(&billing).unwrap().is_none(), "a new run");

        for seconds in (200..=300).step_by(10) {
            at(seconds);
            assert!(app.note_malformed(&spa).unwrap().is_none(), "never a public client: anyone can present its id");
        }
        assert!(!app.client(&Actor::operator(), &spa).unwrap().disabled);
    }

    #[test]
    fn an_outside_cidrs_rule_revokes_a_confidential_clients_tokens_until_undone(db) {
        let app = App::with_defaults(db.connect());
        let (billing, spa) = (client(&app, json!({"client_name": "billing"})), client(&app, json!({"client_name": "spa",
            "token_endpoint_auth_method": "none", "grant_types": ["authorization_code"], "redirect_uris": ["https://spa.example/cb"]})));
        rule(&app, json!({"kind": "outside_cidrs", "action": "revoke_tokens"}));
        for id in [&billing, &spa] {
            app.failures().count(&Failure { kind: FailureKind::Client, known: Some(id), presented: id,
                source: Some(IpAddr::from([192, 0, 2, 1])), reason: OUTSIDE_CIDRS, at: app.now() });
        }
        app.failures().flush(app.now(), true).unwrap();
        let fired = app.check_alert_rules().unwrap();
        assert_eq!(fired.iter().filter(|e| e.name() == "alert.fired").count(), 2);
        let done = app.remediations(&Actor::operator(), None).unwrap();
        assert_eq!(done.len(), 1, "the public client is alerted on, not acted on");
        assert_eq!((done[0].client_id.as_str(), done[0].action.as_str()), (billing.as_str(), "revoke_tokens"));
        assert!(app.client(&Actor::operator(), &billing).unwrap().tokens_revoked_before.is_some());
        app.check_alert_rules().unwrap();
        assert_eq!(app.remediations(&Actor::operator(), None).unwrap().len(), 1, "acted on once per announcement");

        app.undo_remediation(&Actor::operator(), &done[0].remediation_id).unwrap();
        assert_eq!(app.client(&Actor::operator(), &billing).unwrap().tokens_revoked_before, None, "the tokens work again");

        let (twice, _, _) = parse_rule(object(json!({"kind": "consecutive_failures", "threshold": 5}))).unwrap();
        app.create_alert_rule(&Actor::operator(), twice.clone(), String::new(), true).unwrap();
        assert!(matches!(app.create_alert_rule(&Actor::operator(), twice, String::new(), true), Err(AppError::Conflict(_))),
                "one acting rule per kind and client");

        for refused in [json!({"kind": "error_rate", "action": "disable"}), json!({"kind": "auth_failures", "per_minute": 1, "action": "disable"}),
                        json!({"kind": "outside_cidrs", "action": "lock"}), json!({"kind": "consecutive_failures", "action": "revoke_tokens"}),
                        json!({"kind": "consecutive_failures", "threshold": 0}), json!({"kind": "malformed_requests", "seconds": 0})] {
            assert!(parse_rule(object(refused.clone())).is_err(), "{refused}");
        }
    }
}
