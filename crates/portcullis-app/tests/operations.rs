//! The operations, called without HTTP on both backends: each checks its
//! permission, writes its change and audit entry in one transaction, and
//! publishes its events only once they are committed.

use chrono::{TimeDelta, Utc};
use portcullis_app::audit::Query;
use portcullis_app::keys::KeyMaker;
use portcullis_app::{Actor, App, AppError, Clock, Event, Permission, Published};
use portcullis_core::{KeyState, Password, Scope, SigningAlgorithm, StandardClaims, Username};
use portcullis_jose::GeneratedKey;
use portcullis_store::backend_tests;
use portcullis_store::keys::SigningKeyRecord;
use portcullis_store::test_support::TestDb;
use serde_json::{json, Map, Value};
use std::sync::mpsc::{channel, Receiver};

fn admin(scope: &str) -> Actor {
    Actor::AdminClient {
        client_id: "admin-client".into(),
        scope: Scope::parse(scope).unwrap(),
        address: None,
    }
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

/// The application over `db`, and what its bus delivers.
fn app(db: &TestDb) -> (App, Receiver<Published>) {
    let app = App::with_defaults(db.connect());
    let (seen, received) = channel();
    app.events().subscribe("test", move |p: &Published| seen.send(p.clone()).unwrap());
    (app, received)
}

/// The bootstrapped admin client and a second one holding `admin`.
fn two_admins(app: &App) -> (String, String) {
    let operator = Actor::operator();
    let first = app.bootstrap(&operator, false).unwrap().client_id;
    let second =
        json!({"client_name": "second admin", "grant_types": ["client_credentials"], "scope": "admin"});
    (
        first,
        app.create_client(&operator, portcullis_core::ClientMetadata::parse(object(second)).unwrap())
            .unwrap()
            .client
            .client_id,
    )
}

fn names(received: &Receiver<Published>, n: usize) -> Vec<&'static str> {
    (0..n).map(|_| received.recv().unwrap().event.name()).collect()
}

fn audit(app: &App) -> Vec<(String, String, String, String)> {
    let page = app.audit_entries(&Actor::operator(), Query { limit: 100, ..Query::default() }).unwrap();
    page.entries.into_iter().map(|e| (e.actor, e.action, e.target, e.outcome)).collect()
}

/// Makes real keys, sealing nothing: these tests never sign.
struct TestKeys;

impl KeyMaker for TestKeys {
    fn make(&self, alg: SigningAlgorithm, state: KeyState) -> anyhow::Result<SigningKeyRecord> {
        let key = GeneratedKey::generate(alg)?;
        Ok(SigningKeyRecord {
            kid: key.public_jwk.kid.clone(),
            alg,
            state,
            public_jwk: serde_json::to_string(&key.public_jwk)?,
            private_key_sealed: vec![0],
            kek_id: "test".into(),
            created_at: Utc::now(),
            activated_at: (state == KeyState::Active).then(Utc::now),
            retired_at: None,
            revoked_at: None,
        })
    }
}

backend_tests! {
    #[test]
    fn a_client_lifecycle_is_audited_and_published_in_order(db) {
        let (app, events) = app(&db);
        let actor = admin("admin:clients admin:audit");
        let created = app.create_client(&actor, portcullis_core::ClientMetadata::parse(object(json!({"client_name": "billing", "scope": "read"}))).unwrap()).unwrap();
        let id = created.client.client_id.clone();
        assert!(created.secret.is_some(), "a confidential client gets its secret once");
        let patch = object(json!({"scope": "read write"}));
        let updated = app.update_client(&actor, &id, None, portcullis_app::clients::ClientChange::Merge(patch)).unwrap();
        assert_eq!(updated.version, 2);
        let rolled = app.roll_back_client(&actor, &id, 1, Some(2)).unwrap();
        assert_eq!((rolled.version, rolled.metadata.scope.to_string()), (3, "read".to_owned()));
        let added = app.add_client_secret(&actor, &id, None).unwrap();
        app.revoke_client_secret(&actor, &id, &added.secret_id).unwrap();
        assert!(app.set_client_disabled(&actor, &id, true).unwrap().disabled);
        assert!(!app.set_client_disabled(&actor, &id, false).unwrap().disabled);
        app.delete_client(&actor, &id).unwrap();

        let expected = ["client.created", "client.updated", "client.rolled_back", "client.secret_added",
                        "client.secret_revoked", "client.disabled", "client.enabled", "client.deleted"];
        assert_eq!(names(&events, expected.len()), expected);
        let entries = audit(&app);
        let actions: Vec<&str> = entries.iter().map(|(_, action, _, _)| action.as_str()).collect();
        assert_eq!(actions, expected);
        assert!(entries.iter().all(|(actor, _, target, outcome)| actor == "admin-client" && *target == id && outcome == "success"));
    }

    #[test]
    fn a_refused_operation_writes_nothing_but_its_refusal_and_publishes_nothing(db) {
        let (app, events) = app(&db);
        let keys_only = admin("admin:keys");
        let refused = app.create_client(&keys_only, portcullis_core::ClientMetadata::parse(object(json!({"client_name": "x"}))).unwrap());
        assert!(matches!(refused, Err(AppError::Forbidden(Permission::Clients))), "{refused:?}");
        let actor = admin("admin");
        let id = app.create_client(&actor, portcullis_core::ClientMetadata::parse(object(json!({"client_name": "x"}))).unwrap()).unwrap().client.client_id;
        let stale = app.update_client(&actor, &id, Some(7), portcullis_app::clients::ClientChange::Merge(object(json!({"client_name": "y"}))));
        assert!(matches!(&stale, Err(AppError::Conflict(m)) if m.contains("version 7")), "{stale:?}");
        let invalid = app.update_client(&actor, &id, None, portcullis_app::clients::ClientChange::Merge(object(json!({"grant_types": ["password"]}))));
        assert!(matches!(&invalid, Err(AppError::InvalidMetadata { field, .. }) if field.starts_with("grant_types")), "{invalid:?}");
        assert_eq!(app.client(&actor, &id).unwrap().version, 1, "nothing was written");
        let entries = audit(&app);
        let outcomes: Vec<(&str, &str)> = entries.iter().map(|(_, a, _, o)| (a.as_str(), o.as_str())).collect();
        assert_eq!(outcomes, [("client.created", "refused"), ("client.created", "success"),
                              ("client.updated", "refused"), ("client.updated", "refused")]);
        assert_eq!(names(&events, 1), ["client.created"]);
        assert!(events.try_recv().is_err(), "refusals are not published");
    }

    #[test]
    fn the_last_admin_client_cannot_lose_admin_or_its_only_secret(db) {
        let (app, _) = app(&db);
        let operator = Actor::operator();
        let admin = app.bootstrap(&operator, false).unwrap();
        let id = admin.client_id.as_str();
        assert!(matches!(app.set_client_disabled(&operator, id, true), Err(AppError::Conflict(_))));
        assert!(matches!(app.delete_client(&operator, id), Err(AppError::Conflict(_))));
        let secret_id = app.client(&operator, id).unwrap().secrets[0].secret_id.clone();
        assert!(matches!(app.revoke_client_secret(&operator, id, &secret_id), Err(AppError::Conflict(_))));
        assert_eq!(app.client(&operator, id).unwrap().secrets.len(), 1, "the secret was kept");
        app.add_client_secret(&operator, id, None).unwrap();
        app.revoke_client_secret(&operator, id, &secret_id).unwrap();
        assert!(matches!(app.bootstrap(&operator, false), Err(AppError::Conflict(_))), "bootstrap runs once");
        let rotated = app.bootstrap(&operator, true).unwrap();
        assert_eq!(rotated.client_id, admin.client_id);
        let actions: Vec<String> = audit(&app).into_iter().filter(|(_, _, _, o)| o == "success").map(|(_, a, _, _)| a).collect();
        assert_eq!(actions, ["client.created", "admin.bootstrapped", "client.secret_added", "client.secret_revoked", "admin.bootstrapped"]);
    }

    #[test]
    fn concurrent_disables_of_the_last_two_admin_clients_leave_one_enabled(db) {
        let (app, _) = app(&db);
        let operator = Actor::operator();
        let (first, second) = two_admins(&app);
        for round in 0..10 {
            let barrier = std::sync::Barrier::new(2);
            let outcomes: Vec<Result<_, AppError>> = std::thread::scope(|s| {
                let handles: Vec<_> = [&first, &second].into_iter().map(|id| {
                    let (app, operator, barrier) = (&app, &operator, &barrier);
                    s.spawn(move || { barrier.wait(); app.set_client_disabled(operator, id, true) })
                }).collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "round {round}: {outcomes:?}");
            assert!(outcomes.iter().any(|o| matches!(o, Err(AppError::Conflict(_)))), "round {round}: {outcomes:?}");
            for id in [&first, &second] {
                app.set_client_disabled(&operator, id, false).unwrap();
            }
        }
    }

    #[test]
    fn the_last_admin_keeps_a_secret_that_never_expires(db) {
        let (app, _) = app(&db);
        let operator = Actor::operator();
        let (first, second) = two_admins(&app);
        let permanent = app.client(&operator, &second).unwrap().secrets[0].secret_id.clone();
        app.add_client_secret(&operator, &second, Some(Utc::now() + TimeDelta::hours(1))).unwrap();
        // Racing: of disabling the first and leaving the second only an expiring secret, one passes.
        let barrier = std::sync::Barrier::new(2);
        let (disabled, revoked) = std::thread::scope(|s| {
            let d = s.spawn(|| { barrier.wait(); app.set_client_disabled(&operator, &first, true).map(drop) });
            let r = s.spawn(|| { barrier.wait(); app.revoke_client_secret(&operator, &second, &permanent) });
            (d.join().unwrap(), r.join().unwrap())
        });
        assert!(disabled.is_ok() != revoked.is_ok(), "exactly one passes: {disabled:?} {revoked:?}");
    }

    #[test]
    fn the_last_admin_cannot_switch_to_a_method_it_has_no_lasting_credential_for(db) {
        use portcullis_app::clients::ClientChange;
        let (app, _) = app(&db);
        let operator = Actor::operator();
        let admin = app.bootstrap(&operator, false).unwrap().client_id;
        let key = json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
                                   "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]});
        let by_keys = object(json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": key}));
        app.update_client(&operator, &admin, None, ClientChange::Merge(by_keys)).unwrap();
        let secret = app.client(&operator, &admin).unwrap().secrets[0].secret_id.clone();
        app.revoke_client_secret(&operator, &admin, &secret).unwrap();
        // Back to secrets, with none: nobody could get an admin token any more.
        let by_secret = object(json!({"token_endpoint_auth_method": "client_secret_basic", "jwks": null}));
        let refused = app.update_client(&operator, &admin, None, ClientChange::Merge(by_secret.clone()));
        assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
        // With another admin that can get a token for good, it may.
        let other = json!({"client_name": "second admin", "grant_types": ["client_credentials"], "scope": "admin"});
        app.create_client(&operator, portcullis_core::ClientMetadata::parse(object(other)).unwrap()).unwrap();
        app.update_client(&operator, &admin, None, ClientChange::Merge(by_secret)).unwrap();
    }

    #[test]
    fn an_expired_secret_does_not_count_as_the_last_admins_other_secret(db) {
        let clock = Clock::manual(Utc::now());
        let app = App::with_defaults(db.connect()).with_clock(clock.clone());
        let operator = Actor::operator();
        let admin = app.bootstrap(&operator, false).unwrap();
        let id = admin.client_id.as_str();
        let first = app.client(&operator, id).unwrap().secrets[0].secret_id.clone();
        app.add_client_secret(&operator, id, Some(Utc::now() + TimeDelta::hours(1))).unwrap();
        clock.advance(TimeDelta::hours(2));
        let refused = app.revoke_client_secret(&operator, id, &first);
        assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
    }

    #[test]
    fn a_rollback_window_is_measured_by_the_application_clock(db) {
        let clock = Clock::manual(Utc::now());
        let app = App::with_defaults(db.connect()).with_clock(clock.clone());
        let actor = Actor::operator();
        let id = app.create_client(&actor, portcullis_core::ClientMetadata::parse(object(json!({"client_name": "a"}))).unwrap()).unwrap().client.client_id;
        app.update_client(&actor, &id, None, portcullis_app::clients::ClientChange::Merge(object(json!({"client_name": "b"})))).unwrap();
        clock.advance(TimeDelta::days(91));
        let old = app.roll_back_client(&actor, &id, 1, None);
        assert!(matches!(&old, Err(AppError::Conflict(m)) if m.contains("90-day")), "{old:?}");
    }

    #[test]
    fn key_changes_emit_one_event_per_transition_with_the_kid_as_target(db) {
        let (app, events) = app(&db);
        let actor = admin("admin:keys admin:audit");
        assert!(matches!(app.stage_key(&admin("admin:users"), &TestKeys, SigningAlgorithm::Es256), Err(AppError::Forbidden(Permission::Keys))));
        let refused: Vec<_> = audit(&app).into_iter().map(|(_, action, _, outcome)| (action, outcome)).collect();
        assert_eq!(refused, [("key.staged".to_owned(), "refused".to_owned())], "refused before the key is even made, and audited");
        let first = app.rotate_key(&actor, &TestKeys, SigningAlgorithm::Es256).unwrap();
        let next = app.stage_key(&actor, &TestKeys, SigningAlgorithm::Es256).unwrap();
        assert_eq!((next.state, next.published), ("next", true));
        app.activate_key(&actor, &next.kid).unwrap();
        let replacement = app.revoke_key(&actor, &TestKeys, &next.kid).unwrap().expect("an active key is replaced");
        assert_eq!(replacement.state, "active");
        let published: Vec<Event> = (0..6).map(|_| events.recv().unwrap().event).collect();
        let kid = |e: &Event| e.target().to_owned();
        let sequence: Vec<&str> = published.iter().map(Event::name).collect();
        assert_eq!(sequence, ["key.staged", "key.activated", "key.staged", "key.activated", "key.retired", "key.revoked"]);
        assert_eq!((kid(&published[0]), kid(&published[4]), kid(&published[5])), (first.kid.clone(), first.kid, next.kid.clone()));
        assert_eq!(events.recv().unwrap().event, Event::KeyActivated { kid: replacement.kid, alg: "ES256".into() });
    }

    #[test]
    fn users_are_created_changed_and_disabled_through_operations(db) {
        let (app, events) = app(&db);
        let actor = admin("admin:users");
        let username = Username::parse("buffy").unwrap();
        let created = app.create_user(&actor, &username, None, &StandardClaims::default()).unwrap();
        let generated = created.generated_password.expect("a password is generated when none is given");
        assert!(!format!("{generated:?}").contains(generated.expose()), "the password's Debug is redacted");
        let taken = app.create_user(&actor, &username, Some(Password::new("long enough".into())), &StandardClaims::default());
        assert!(matches!(taken, Err(AppError::Conflict(_))));
        let short = app.create_user(&actor, &Username::parse("x").unwrap(), Some(Password::new("short".into())), &StandardClaims::default());
        assert!(matches!(short, Err(AppError::Invalid(_))));
        let id = created.user.user_id;
        let claims = StandardClaims { name: Some("Buffy".into()), ..StandardClaims::default() };
        assert_eq!(app.set_user_claims(&actor, &id, &claims).unwrap().claims, claims);
        app.set_user_password(&actor, &id, &Password::new("a new long password".into())).unwrap();
        let released = app.userinfo((&id, &id), &Scope::parse("openid profile").unwrap(), (&[], &[])).unwrap().unwrap();
        assert_eq!((released["sub"].as_str(), released["name"].as_str()), (Some(id.as_str()), Some("Buffy")));
        assert!(released["updated_at"].is_i64());
        let narrow = app.userinfo((&id, &id), &Scope::parse("openid").unwrap(), (&[], &[])).unwrap().unwrap();
        assert!(narrow.get("name").is_none(), "profile claims only under the profile scope");
        assert!(app.set_user_disabled(&actor, &id, true).unwrap().disabled);
        assert!(app.userinfo((&id, &id), &Scope::parse("openid").unwrap(), (&[], &[])).unwrap().is_none(), "not for a disabled user");
        assert_eq!(names(&events, 4), ["user.created", "user.updated", "user.updated", "user.disabled"]);
        assert!(matches!(app.user(&actor, "nobody"), Err(AppError::NotFound(_))));
    }

    #[test]
    fn keys_rotate_on_their_period_with_the_next_key_published_first(db) {
        use portcullis_app::key_rotation::{RotationPolicy, Step};
        let clock = Clock::manual(Utc::now());
        let app = App::with_defaults(db.connect()).with_clock(clock.clone());
        let first = app.rotate_key(&Actor::operator(), &TestKeys, SigningAlgorithm::Es256).unwrap().kid;
        let policy = RotationPolicy { period: TimeDelta::days(30), lead: TimeDelta::hours(1) };
        assert_eq!(app.rotate_due_keys(&TestKeys, &policy).unwrap(), [], "nothing is due yet");

        clock.advance(TimeDelta::days(30) - TimeDelta::hours(1));
        let steps = app.rotate_due_keys(&TestKeys, &policy).unwrap();
        let [Step::Staged(SigningAlgorithm::Es256, next)] = steps.as_slice() else { panic!("{steps:?}") };
        assert_eq!(app.rotate_due_keys(&TestKeys, &policy).unwrap(), [], "staged once, and not yet signing");

        clock.advance(TimeDelta::hours(1));
        let steps = app.rotate_due_keys(&TestKeys, &policy).unwrap();
        assert_eq!(steps, [Step::Activated(SigningAlgorithm::Es256, next.clone())]);
        let states: Vec<(String, &str)> = app.keys(&Actor::operator()).unwrap().into_iter().map(|k| (k.kid, k.state)).collect();
        assert_eq!(states, [(first, "retired"), (next.clone(), "active")]);
        let rotated: Vec<_> = audit(&app).into_iter().filter(|(actor, ..)| actor == "system:key_rotation").map(|(_, action, ..)| action).collect();
        assert_eq!(rotated, ["key.staged", "key.activated", "key.retired"], "each step audited as the job");
    }
}
