//! Authorization codes, on SQLite and PostgreSQL.

use chrono::{DurationRound, TimeDelta, Utc};
use portcullis_core::grant::CodeDetails;
use portcullis_core::Scope;
use portcullis_store::backend_tests;
use portcullis_store::codes::{self, CodeRecord, Redemption};

fn code(hash: u8, lifetime: TimeDelta) -> CodeRecord {
    let now = Utc::now().duration_trunc(TimeDelta::microseconds(1)).unwrap();
    CodeRecord {
        code_hash: vec![hash; 32],
        grant_id: format!("grant-{hash}"),
        client_id: "app".to_owned(),
        details: CodeDetails {
            user_id: "u1".into(),
            scope: Scope::parse("openid").unwrap(),
            nonce: None,
            code_challenge: None,
            redirect_uri: "https://app.example/cb".into(),
            redirect_uri_sent: true,
            auth_time: now.timestamp(),
            sid: "s1".into(),
            amr: vec!["pwd".into()],
            claims: portcullis_core::claims_request::RequestedClaims {
                userinfo: vec!["email".into()],
                ..Default::default()
            },
            dpop_jkt: None,
        },
        created_at: now,
        expires_at: now + lifetime,
    }
}

backend_tests! {
    #[test]
    fn a_code_is_redeemed_once_and_a_replay_names_its_grant(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        let issued = code(1, TimeDelta::seconds(60));
        codes::insert(&mut conn, &issued).unwrap();
        assert_eq!(codes::redeem(&mut conn, &[1; 32], Utc::now()).unwrap(), Redemption::Redeemed(Box::new(issued)));
        assert_eq!(
            codes::redeem(&mut conn, &[1; 32], Utc::now()).unwrap(),
            Redemption::Replayed { grant_id: "grant-1".into(), client_id: "app".into() }
        );
        assert_eq!(codes::redeem(&mut conn, &[9; 32], Utc::now()).unwrap(), Redemption::Invalid);
    }

    #[test]
    fn an_expired_code_is_invalid_and_is_cleaned_up(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        codes::insert(&mut conn, &code(2, TimeDelta::seconds(-1))).unwrap();
        codes::insert(&mut conn, &code(3, TimeDelta::seconds(60))).unwrap();
        assert_eq!(codes::redeem(&mut conn, &[2; 32], Utc::now()).unwrap(), Redemption::Invalid);
        assert_eq!(codes::delete_expired(&mut conn, Utc::now()).unwrap(), 1);
        assert!(matches!(codes::redeem(&mut conn, &[3; 32], Utc::now()).unwrap(), Redemption::Redeemed(_)));
    }

    #[test]
    fn of_parallel_redemptions_exactly_one_wins(db) {
        let database = db.connect();
        codes::insert(&mut database.get().unwrap(), &code(4, TimeDelta::seconds(60))).unwrap();
        let attempts: Vec<_> = (0..8)
            .map(|_| {
                let database = database.clone();
                std::thread::spawn(move || codes::redeem(&mut database.get().unwrap(), &[4; 32], Utc::now()).unwrap())
            })
            .collect();
        let outcomes: Vec<Redemption> = attempts.into_iter().map(|a| a.join().unwrap()).collect();
        let redeemed = outcomes.iter().filter(|o| matches!(o, Redemption::Redeemed(_))).count();
        assert_eq!(redeemed, 1, "{outcomes:?}");
        assert!(outcomes.iter().all(|o| !matches!(o, Redemption::Invalid)), "{outcomes:?}");
    }
}
