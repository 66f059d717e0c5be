//! Admins are people (issue 12), on both backends: admin roles granted and
//! withdrawn without escalation; TOTP enrolment confirmed by a first code,
//! each code accepted once, recovery codes used once, wrong codes
//! throttled, and a reset that makes the user enrol again.

use chrono::{TimeDelta, Utc};
use portcullis_app::second_factor::{FactorState, Verdict, RECOVERY_CODES};
use portcullis_app::{Actor, App, AppError, Clock, Permission};
use portcullis_core::{StandardClaims, Username};
use portcullis_store::backend_tests;
use std::net::IpAddr;
use totp_rs::{Algorithm, Builder, Secret};

fn user(app: &App, name: &str) -> String {
    let username = Username::parse(name).unwrap();
    app.create_user(&Actor::operator(), &username, None, &StandardClaims::default()).unwrap().user.user_id
}

/// The code an authenticator app shows for `key` at `at` (seconds).
fn code(key: &str, at: i64) -> String {
    let secret = Secret::try_from_base32(key).unwrap();
    let totp =
        Builder::new().with_algorithm(Algorithm::SHA1).with_secret(secret.as_ref().to_vec()).build().unwrap();
    totp.generate(u64::try_from(at).unwrap()).to_string()
}

const HERE: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7)));

backend_tests! {
    #[test]
    fn roles_are_granted_by_those_who_hold_them(db) {
        let app = App::with_defaults(db.connect());
        let alice = user(&app, "alice");
        let held = app.set_admin_role(&Actor::operator(), &alice, Permission::Clients, true).unwrap();
        assert_eq!(held, [Permission::Clients]);
        let held = app.set_admin_role(&Actor::operator(), &alice, Permission::Users, true).unwrap();
        assert_eq!(held, [Permission::Clients, Permission::Users]);
        assert_eq!(app.set_admin_role(&Actor::operator(), &alice, Permission::Users, true).unwrap().len(), 2, "granted once");

        let console = Actor::AdminUser { user_id: alice.clone(), session: "s1".into(), permissions: held, address: None };
        let bob = user(&app, "bob");
        assert_eq!(app.set_admin_role(&console, &bob, Permission::Clients, true).unwrap(), [Permission::Clients]);
        assert!(matches!(app.set_admin_role(&console, &bob, Permission::Keys, true), Err(AppError::Forbidden(Permission::Keys))),
                "nobody hands out more than they hold");
        assert_eq!(app.console_permissions(&bob).unwrap(), [Permission::Clients]);
        assert!(app.set_admin_role(&console, &bob, Permission::Clients, false).unwrap().is_empty());
        assert!(app.console_permissions(&bob).unwrap().is_empty());
        app.set_user_disabled(&Actor::operator(), &alice, true).unwrap();
        assert!(app.console_permissions(&alice).unwrap().is_empty(), "a disabled user holds nothing");
        assert!(matches!(app.set_admin_role(&Actor::operator(), "nobody", Permission::Keys, true), Err(AppError::NotFound(_))));
    }

    #[test]
    fn a_second_factor_is_enrolled_used_once_recovered_and_reset(db) {
        let start = Utc::now();
        let clock = Clock::manual(start);
        let kek = std::sync::Arc::new(portcullis_jose::KeyEncryptionKey::generate());
        assert!(App::with_defaults(db.connect()).start_enrolment(&user(&App::with_defaults(db.connect()), "nokey"), "P").is_err(),
                "no secret is stored in clear");
        let app = App::with_defaults(db.connect()).with_clock(clock.clone()).with_kek(kek);
        let alice = user(&app, "alice");
        assert_eq!(app.second_factor_state(&alice).unwrap(), FactorState::None);
        let enrolment = app.start_enrolment(&alice, "Portcullis").unwrap();
        assert!(enrolment.uri.expose().starts_with("otpauth://totp/Portcullis:alice?"), "{}", enrolment.uri.expose());
        assert_eq!(app.second_factor_state(&alice).unwrap(), FactorState::Pending);
        let key = enrolment.key.expose().to_owned();

        let now = start.timestamp();
        assert!(matches!(app.verify_second_factor(&alice, "000000x", HERE, None).unwrap(), Verdict::Refused));
        let Verdict::Enrolled(codes) = app.verify_second_factor(&alice, &code(&key, now), HERE, None).unwrap() else {
            panic!("the first code confirms enrolment")
        };
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(app.second_factor_state(&alice).unwrap(), FactorState::Enrolled);
        assert!(matches!(app.start_enrolment(&alice, "Portcullis"), Err(AppError::Conflict(_))), "only a reset enrols again");
        assert!(matches!(app.verify_second_factor(&alice, &code(&key, now), HERE, None).unwrap(), Verdict::Refused), "a code is accepted once");

        clock.advance(TimeDelta::seconds(30));
        let later = now + 30;
        assert!(matches!(app.verify_second_factor(&alice, &code(&key, later - 30), HERE, None).unwrap(), Verdict::Refused),
                "an earlier step than one accepted is a replay");
        assert!(matches!(app.verify_second_factor(&alice, &code(&key, later), HERE, None).unwrap(), Verdict::Accepted));
        clock.advance(TimeDelta::seconds(30));
        assert!(matches!(app.verify_second_factor(&alice, &code(&key, later + 60), HERE, None).unwrap(), Verdict::Accepted),
                "one step of drift is allowed");

        let recovery = codes[0].expose().to_uppercase();
        assert!(matches!(app.verify_second_factor(&alice, &recovery, HERE, None).unwrap(), Verdict::Recovered { left: 9 }));
        assert!(matches!(app.verify_second_factor(&alice, &recovery, HERE, None).unwrap(), Verdict::Refused), "used once");

        // With the replayed recovery code, five failures: the limit.
        for _ in 0..4 {
            assert!(matches!(app.verify_second_factor(&alice, "123456", HERE, None).unwrap(), Verdict::Refused));
        }
        assert!(matches!(app.verify_second_factor(&alice, codes[1].expose(), HERE, None).unwrap(), Verdict::Throttled { .. }),
                "not even a right code is checked while throttled");
        let elsewhere = Some(IpAddr::from([198, 51, 100, 1]));
        assert!(matches!(app.verify_second_factor(&alice, codes[1].expose(), elsewhere, None).unwrap(), Verdict::Recovered { left: 8 }),
                "wrong codes from one address do not lock the user out elsewhere");

        let bob = user(&app, "bob");
        let helpdesk = Actor::AdminUser { user_id: bob.clone(), session: "s".into(), permissions: vec![Permission::Clients], address: None };
        assert!(matches!(app.reset_second_factor(&helpdesk, &alice), Err(AppError::Forbidden(Permission::Users))));
        // alice holds admin:keys: admin:users alone takes over no one more powerful.
        app.set_admin_role(&Actor::operator(), &alice, Permission::Keys, true).unwrap();
        let users_only = Actor::AdminUser { user_id: bob, session: "s".into(), permissions: vec![Permission::Users], address: None };
        assert!(matches!(app.reset_second_factor(&users_only, &alice), Err(AppError::Forbidden(Permission::Keys))));
        let password = portcullis_core::Password::new("a new password".into());
        assert!(matches!(app.set_user_password(&users_only, &alice, &password), Err(AppError::Forbidden(Permission::Keys))));
        assert!(matches!(app.set_user_disabled(&users_only, &alice, true), Err(AppError::Forbidden(Permission::Keys))));
        let claims = portcullis_core::StandardClaims { email: Some("mallory@example.com".into()), ..Default::default() };
        assert!(matches!(app.set_user_claims(&users_only, &alice, &claims), Err(AppError::Forbidden(Permission::Keys))));
        app.reset_second_factor(&Actor::operator(), &alice).unwrap();
        assert_eq!(app.second_factor_state(&alice).unwrap(), FactorState::None);
        assert!(matches!(app.verify_second_factor(&alice, codes[2].expose(), elsewhere, None).unwrap(), Verdict::Refused));
        let audited = app.audit_entries(&Actor::operator(), portcullis_app::audit::Query { target: Some(alice.clone()), limit: 50, ..Default::default() }).unwrap();
        let actions: Vec<&str> = audited.entries.iter().map(|e| e.action.as_str()).collect();
        for action in ["user.second_factor_enrolled", "user.recovery_code_used", "user.second_factor_reset"] {
            assert!(actions.contains(&action), "{action} in {actions:?}");
        }
        assert!(audited.entries.iter().all(|e| !e.details.to_string().contains(&key)), "the secret is never audited");
    }
}
