//! Sessions, interactions and consents, on SQLite and PostgreSQL.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use portcullis_core::authorization_request::{AuthorizationRequest, Prompt, Pushed};
use portcullis_core::{ClientId, Scope};
use portcullis_store::backend_tests;
use portcullis_store::sessions::{self, InteractionRecord, SessionRecord};
use portcullis_store::StoreError;

fn now() -> DateTime<Utc> {
    Utc::now().duration_trunc(TimeDelta::microseconds(1)).unwrap()
}

fn session(hash: u8, user: &str, lifetime: TimeDelta) -> SessionRecord {
    SessionRecord {
        session_hash: vec![hash; 32],
        session_id: format!("sid-{hash}"),
        user_id: user.to_owned(),
        auth_time: now(),
        created_at: now(),
        expires_at: now() + lifetime,
        second_factor_at: None,
    }
}

fn interaction(hash: u8, lifetime: TimeDelta) -> InteractionRecord {
    InteractionRecord {
        interaction_hash: vec![hash; 32],
        request: AuthorizationRequest {
            client_id: ClientId::parse("app").unwrap(),
            redirect_uri: "https://app.example/cb".into(),
            redirect_uri_sent: true,
            scope: Scope::parse("openid").unwrap(),
            state: None,
            nonce: None,
            code_challenge: None,
            prompt: Prompt::default(),
            max_age: None,
            login_hint: None,
            id_token_hint: None,
            hinted_subject: None,
            ui_locales: None,
            claims: Default::default(),
            shared_claims: Vec::new(),
            dpop_jkt: None,
            device_user_code: None,
            pushed: None,
        },
        csrf_hash: vec![hash ^ 0xff; 32],
        session_id: None,
        created_at: now(),
        expires_at: now() + lifetime,
        pushed: None,
    }
}

backend_tests! {
    #[test]
    fn a_session_lives_until_it_ends_or_expires(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        let live = session(1, "alice", TimeDelta::hours(1));
        sessions::create_session(&mut conn, &live).unwrap();
        sessions::create_session(&mut conn, &session(2, "alice", TimeDelta::seconds(-1))).unwrap();
        assert_eq!(sessions::live_session(&mut conn, &[1; 32], Utc::now()).unwrap(), Some(live));
        assert_eq!(sessions::live_session(&mut conn, &[2; 32], Utc::now()).unwrap(), None, "expired");
        assert!(sessions::end_session(&mut conn, &[1; 32], Utc::now()).unwrap());
        assert!(!sessions::end_session(&mut conn, &[1; 32], Utc::now()).unwrap());
        assert_eq!(sessions::live_session(&mut conn, &[1; 32], Utc::now()).unwrap(), None, "ended");
        let duplicate = sessions::create_session(&mut conn, &SessionRecord { session_hash: vec![3; 32], ..session(1, "bob", TimeDelta::hours(1)) });
        assert!(matches!(duplicate, Err(StoreError::Conflict(_))), "session ids are unique");
    }

    #[test]
    fn disabling_a_user_ends_all_their_sessions(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        for (hash, user) in [(1, "alice"), (2, "alice"), (3, "bob")] {
            sessions::create_session(&mut conn, &session(hash, user, TimeDelta::hours(1))).unwrap();
        }
        assert_eq!(sessions::end_user_sessions(&mut conn, "alice", Utc::now()).unwrap(), 2);
        assert!(sessions::live_session(&mut conn, &[3; 32], Utc::now()).unwrap().is_some());
    }

    #[test]
    fn an_interaction_is_found_until_it_expires_and_finishes_once(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        let pending = interaction(1, TimeDelta::minutes(10));
        sessions::create_interaction(&mut conn, &pending).unwrap();
        sessions::create_interaction(&mut conn, &interaction(2, TimeDelta::seconds(-1))).unwrap();
        assert_eq!(sessions::live_interaction(&mut conn, &[1; 32], Utc::now()).unwrap(), Some(pending.clone()));
        assert_eq!(sessions::live_interaction(&mut conn, &[2; 32], Utc::now()).unwrap(), None);
        sessions::attach_session(&mut conn, &[1; 32], "sid-9").unwrap();
        let attached = sessions::live_interaction(&mut conn, &[1; 32], Utc::now()).unwrap().unwrap();
        assert_eq!(attached.session_id.as_deref(), Some("sid-9"));
        assert!(sessions::finish_interaction(&mut conn, &[1; 32]).unwrap());
        assert!(!sessions::finish_interaction(&mut conn, &[1; 32]).unwrap(), "finished once");
        assert_eq!(sessions::live_interaction(&mut conn, &[1; 32], Utc::now()).unwrap(), None);
    }

    #[test]
    fn an_interaction_of_a_pushed_request_is_taken_back_once_while_live(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        let pushed = |hash: u8, seconds: i64| Some(Pushed { hash: vec![hash; 32], expires_at: Utc::now().timestamp() + seconds });
        let waiting = InteractionRecord { pushed: pushed(9, 60), ..interaction(1, TimeDelta::minutes(10)) };
        sessions::create_interaction(&mut conn, &waiting).unwrap();
        sessions::create_interaction(&mut conn, &InteractionRecord { pushed: pushed(8, 60), ..interaction(2, TimeDelta::seconds(-1)) }).unwrap();
        sessions::create_interaction(&mut conn, &InteractionRecord { pushed: pushed(7, -1), ..interaction(3, TimeDelta::minutes(10)) }).unwrap();
        assert_eq!(sessions::live_interaction(&mut conn, &[1; 32], Utc::now()).unwrap(), Some(waiting.clone()), "kept");
        assert_eq!(sessions::take_pushed_interaction(&mut conn, &[6; 32], Utc::now()).unwrap(), None, "another request's");
        assert_eq!(sessions::take_pushed_interaction(&mut conn, &[8; 32], Utc::now()).unwrap(), None, "the interaction expired");
        assert_eq!(sessions::take_pushed_interaction(&mut conn, &[7; 32], Utc::now()).unwrap(), None, "the request_uri expired");
        assert!(sessions::live_interaction(&mut conn, &[3; 32], Utc::now()).unwrap().is_some(), "and its interaction goes on");
        assert_eq!(sessions::take_pushed_interaction(&mut conn, &[9; 32], Utc::now()).unwrap(), Some(waiting));
        assert_eq!(sessions::take_pushed_interaction(&mut conn, &[9; 32], Utc::now()).unwrap(), None, "taken once");
        assert_eq!(sessions::live_interaction(&mut conn, &[1; 32], Utc::now()).unwrap(), None, "the interaction ended");
    }

    #[test]
    fn consent_is_remembered_per_user_and_client_and_replaced(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        assert_eq!(sessions::consented_scope(&mut conn, "alice", "app").unwrap(), None);
        sessions::remember_consent(&mut conn, "alice", "app", "openid", Utc::now()).unwrap();
        sessions::remember_consent(&mut conn, "alice", "app", "openid profile", Utc::now()).unwrap();
        sessions::remember_consent(&mut conn, "bob", "app", "openid email", Utc::now()).unwrap();
        assert_eq!(sessions::consented_scope(&mut conn, "alice", "app").unwrap().as_deref(), Some("openid profile"));
        assert_eq!(sessions::consented_scope(&mut conn, "alice", "other").unwrap(), None);
    }
}
