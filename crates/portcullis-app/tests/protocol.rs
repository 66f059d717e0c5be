//! The protocol's operations (sessions, grants, client lockouts), called
//! without HTTP on both backends: what the front channel keeps, what a code
//! and a refresh token may do once, and which security events each audits
//! and publishes.

use chrono::{TimeDelta, Utc};
use portcullis_app::audit::Query;
use portcullis_app::client_lockouts::LockoutPolicy;
use portcullis_app::grants::{Caller, CodeRedemption, RefreshPolicy, Rotated, TokenRevocation};
use portcullis_app::login_throttle::MAX_PER_ACCOUNT;
use portcullis_app::sessions::{Interaction, SignIn, SESSION_LIFETIME};
use portcullis_app::{Actor, App, Clock, Published};
use portcullis_core::authorization_request::{self, AuthorizationRequest, Parameters};
use portcullis_core::{ClientId, Password, RefreshToken, StandardClaims, Username};
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use serde_json::json;
use std::net::IpAddr;
use std::sync::mpsc::{channel, Receiver};

const PASSWORD: &str = "correct horse battery";

/// The application over `db` on a manual clock, with a client and a user
/// `alice`; the client's id, and what the bus delivers from then on.
fn setup(db: &TestDb) -> (App, Clock, Receiver<Published>, String) {
    let clock = Clock::manual(Utc::now());
    let app = App::with_defaults(db.connect()).with_clock(clock.clone());
    let metadata = json!({
        "client_name": "App", "redirect_uris": ["https://app.example/cb"],
        "grant_types": ["authorization_code", "refresh_token"], "scope": "openid profile",
    });
    let created = app
        .create_client(
            &Actor::operator(),
            portcullis_core::ClientMetadata::parse(metadata.as_object().unwrap().clone()).unwrap(),
        )
        .unwrap();
    let alice = Username::parse("alice").unwrap();
    let password = Some(Password::new(PASSWORD.into()));
    app.create_user(&Actor::operator(), &alice, password, &StandardClaims::default()).unwrap();
    let (seen, received) = channel();
    app.events().subscribe("test", move |p: &Published| drop(seen.send(p.clone())));
    (app, clock, received, created.client.client_id)
}

/// A query string's parameters.
struct QueryString(Vec<(&'static str, String)>);

impl Parameters for QueryString {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| *key == name).map(|(_, value)| value.as_str())
    }
}

/// An authorization request of `client` for `scope`, validated as `/authorize` does.
fn request(app: &App, client: &str, scope: &str) -> AuthorizationRequest {
    let query = QueryString(vec![
        ("response_type", "code".into()),
        ("client_id", client.into()),
        ("redirect_uri", "https://app.example/cb".into()),
        ("scope", scope.into()),
        ("state", "xyz".into()),
        // RFC 7636 Appendix B.
        ("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        ("code_challenge_method", "S256".into()),
    ]);
    let metadata = app.client(&Actor::operator(), client).unwrap().metadata;
    let id = ClientId::parse(client).unwrap();
    authorization_request::validate(&query, Some((&id, &metadata)))
        .unwrap_or_else(|_| panic!("a valid request"))
}

/// Signs in as alice with `password`, as the login page does; `None` when throttled.
fn sign_in(app: &App, interaction: &Interaction, password: &str) -> Option<SignIn> {
    let alice = Username::parse("alice").unwrap();
    let attempt = app.begin_sign_in(alice, Some(IpAddr::from([192, 0, 2, 7])), None).unwrap().ok()?;
    let verified = attempt.verify(&Password::new(password.into()));
    Some(app.finish_sign_in(attempt, verified, interaction).unwrap())
}

fn caller(client_id: &str) -> Caller {
    Caller { client_id: client_id.into(), address: None }
}

fn audited(app: &App) -> Vec<(String, String)> {
    let page = app.audit_entries(&Actor::operator(), Query { limit: 100, ..Query::default() }).unwrap();
    page.entries.into_iter().map(|e| (e.action, e.actor)).collect()
}

/// How `client` keeps refresh tokens.
fn policy(app: &App, client: &str) -> RefreshPolicy {
    RefreshPolicy::of(&app.client(&Actor::operator(), client).unwrap().metadata)
}

/// A refresh token of `client` for alice, from a code redeemed once.
fn refresh_token(app: &App, client: &str) -> RefreshToken {
    let (interaction, _) = app.start_interaction(&request(app, client, "openid"), None).unwrap();
    let Some(SignIn::SignedIn { session, .. }) = sign_in(app, &interaction, PASSWORD) else {
        panic!("signed in")
    };
    let code = app.issue_code(&interaction.request, &session, Some(&interaction)).unwrap().unwrap();
    let CodeRedemption::Redeemed(code) = app.redeem_code(&caller(client), &code).unwrap() else {
        panic!("redeemed")
    };
    app.start_refresh_family(policy(app, client), &code, None).unwrap()
}

backend_tests! {
    #[test]
    fn a_user_signs_in_consents_and_the_code_is_issued_and_redeemed_once(db) {
        let (app, clock, events, client) = setup(&db);
        let (interaction, csrf) = app.start_interaction(&request(&app, &client, "openid profile"), None).unwrap();
        assert!(interaction.csrf_matches(csrf.expose()) && !interaction.csrf_matches("forged"));
        assert!(matches!(sign_in(&app, &interaction, "wrong password"), Some(SignIn::Failed)));
        let Some(SignIn::SignedIn { session, token, .. }) = sign_in(&app, &interaction, PASSWORD) else { panic!("signed in") };
        let interaction = app.interaction(interaction.id.expose()).unwrap().expect("still pending");
        assert!(interaction.is_logged_in_with(&session), "the new session carries the request on");
        assert_eq!(app.session(token.expose()).unwrap().map(|s| s.user_id), Some(session.user_id.clone()));

        assert!(!app.has_consented(&session, &interaction.request).unwrap());
        app.remember_consent(&session, &request(&app, &client, "openid")).unwrap();
        app.remember_consent(&session, &request(&app, &client, "profile")).unwrap();
        assert!(app.has_consented(&session, &interaction.request).unwrap(), "consents add up");

        let code = app.issue_code(&interaction.request, &session, Some(&interaction)).unwrap().expect("a code");
        assert!(app.issue_code(&interaction.request, &session, Some(&interaction)).unwrap().is_none(), "one code per interaction");
        assert!(app.interaction(interaction.id.expose()).unwrap().is_none(), "the interaction is finished");
        let CodeRedemption::Redeemed(redeemed) = app.redeem_code(&caller(&client), &code).unwrap() else { panic!("redeemed") };
        assert_eq!((redeemed.client_id.as_str(), redeemed.details.sid.as_str()), (client.as_str(), session.session_id.as_str()));
        let CodeRedemption::Replayed { grant_id } = app.redeem_code(&caller(&client), &code).unwrap() else { panic!("replayed") };
        assert_eq!(grant_id, redeemed.grant_id);
        let published = events.recv().unwrap();
        assert_eq!((published.event.name(), published.event.target()), ("token.code_replayed", grant_id.as_str()));
        assert!(audited(&app).contains(&("token.code_replayed".into(), client.clone())), "{:?}", audited(&app));

        clock.advance(TimeDelta::from_std(SESSION_LIFETIME).unwrap());
        assert!(app.session(token.expose()).unwrap().is_none(), "sessions expire by the application's clock");
    }

    #[test]
    fn a_session_ended_is_gone_and_failed_sign_ins_are_throttled(db) {
        let (app, _, _, client) = setup(&db);
        let (interaction, _) = app.start_interaction(&request(&app, &client, "openid"), None).unwrap();
        let Some(SignIn::SignedIn { session, token, .. }) = sign_in(&app, &interaction, PASSWORD) else { panic!("signed in") };
        app.end_session(&session).unwrap();
        assert!(app.session(token.expose()).unwrap().is_none());
        for _ in 0..MAX_PER_ACCOUNT {
            assert!(matches!(sign_in(&app, &interaction, "wrong password"), Some(SignIn::Failed)));
        }
        assert!(sign_in(&app, &interaction, PASSWORD).is_none(), "throttled: not even the right password is tried");
    }

    #[test]
    fn a_refresh_token_rotates_and_its_reuse_revokes_the_grant(db) {
        let (app, clock, events, client) = setup(&db);
        let first = refresh_token(&app, &client);
        let policy = policy(&app, &client);
        let grant = app.refresh_grant(&first).unwrap().expect("found");
        let Rotated::Rotated(second) = app.rotate_refresh(&caller(&client), policy, &grant).unwrap() else { panic!("rotated") };
        clock.advance(TimeDelta::seconds(1));
        assert!(matches!(app.rotate_refresh(&caller(&client), policy, &grant).unwrap(), Rotated::Reused));
        assert_eq!(events.recv().unwrap().event.name(), "token.refresh_reused");
        let next = app.refresh_grant(&second).unwrap().expect("found");
        assert!(matches!(app.rotate_refresh(&caller(&client), policy, &next).unwrap(), Rotated::Invalid), "the family is revoked");
    }

    #[test]
    fn a_client_revokes_only_its_own_refresh_tokens_once(db) {
        let (app, _, events, client) = setup(&db);
        let token = refresh_token(&app, &client);
        assert_eq!(app.revoke_refresh_token(&caller("other"), token.expose()).unwrap(), TokenRevocation::NotYours);
        assert_eq!(app.revoke_refresh_token(&caller(&client), token.expose()).unwrap(), TokenRevocation::Revoked);
        assert_eq!(app.revoke_refresh_token(&caller(&client), token.expose()).unwrap(), TokenRevocation::Nothing);
        assert_eq!(app.revoke_refresh_token(&caller(&client), "never issued").unwrap(), TokenRevocation::Nothing);
        assert_eq!(events.recv().unwrap().event.name(), "token.revoked");
        assert!(events.try_recv().is_err(), "one revocation, one event");
        let revoked = audited(&app).iter().filter(|(action, _)| action == "token.revoked").count();
        assert_eq!(revoked, 1);
    }

    #[test]
    fn repeated_failures_lock_a_client_and_an_assertion_counts_once(db) {
        let (app, _, events, client) = setup(&db);
        let policy = LockoutPolicy {
            threshold: 3,
            cooldown: TimeDelta::minutes(1),
            max_cooldown: TimeDelta::days(1),
            disable: true,
        };
        for _ in 0..3 {
            app.count_client_failure(&client, Some(IpAddr::from([192, 0, 2, 9])), &policy).unwrap();
        }
        let (first, second) = (events.recv().unwrap(), events.recv().unwrap());
        assert_eq!((first.event.name(), second.event.name()), ("client.remediated", "client.locked_out"));
        assert_eq!(first.event.fields()["action"], "disable");
        assert_eq!(second.event.fields()["disabled"], json!(true));
        assert!(app.client(&Actor::operator(), &client).unwrap().disabled, "the policy disables it");
        let audited = audited(&app);
        assert!(audited.contains(&("client.locked_out".into(), "system:lockout".into())), "{audited:?}");

        let expires = Utc::now() + TimeDelta::minutes(5);
        assert!(app.record_assertion(&client, "jti-1", expires).unwrap());
        assert!(!app.record_assertion(&client, "jti-1", expires).unwrap(), "a replayed assertion");
    }
}
