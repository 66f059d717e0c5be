//! The user repository, on SQLite and PostgreSQL.

use chrono::{DurationRound, TimeDelta, Utc};
use portcullis_core::StandardClaims;
use portcullis_store::backend_tests;
use portcullis_store::users::{self, UserRecord};
use portcullis_store::StoreError;

fn user(id: &str, username: &str) -> UserRecord {
    let now = Utc::now().duration_trunc(TimeDelta::microseconds(1)).unwrap();
    UserRecord {
        user_id: id.to_owned(),
        username: username.to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        claims: StandardClaims { name: Some("Alice".into()), ..StandardClaims::default() },
        created_at: now,
        updated_at: now,
        disabled_at: None,
    }
}

backend_tests! {
    #[test]
    fn unreadable_claims_are_an_error_that_names_the_user_never_a_default(db) {
        use diesel::RunQueryDsl;
        let db = db.connect();
        let mut conn = db.get().unwrap();
        users::create(&mut conn, &user("u1", "alice")).unwrap();
        diesel::sql_query("UPDATE users SET claims = '{\"name\": 7}'").execute(&mut *conn).unwrap();
        match users::find(&mut conn, "u1") {
            Err(StoreError::Corrupt { table: "users", reason }) => assert!(reason.starts_with("user u1:"), "{reason}"),
            other => panic!("expected an error naming the row, got {other:?}"),
        }
        assert!(users::all(&mut conn).is_err(), "a listing does not skip it either");
    }

    #[test]
    fn a_user_is_found_by_id_and_by_username(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        let alice = user("u1", "alice");
        users::create(&mut conn, &alice).unwrap();
        assert_eq!(users::find(&mut conn, "u1").unwrap(), Some(alice.clone()));
        assert_eq!(users::find_by_username(&mut conn, "alice").unwrap(), Some(alice));
        assert_eq!(users::find_by_username(&mut conn, "bob").unwrap(), None);
        assert_eq!(users::find(&mut conn, "u2").unwrap(), None);
    }

    #[test]
    fn usernames_and_ids_are_unique(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        users::create(&mut conn, &user("u1", "alice")).unwrap();
        for duplicate in [user("u2", "alice"), user("u1", "bob")] {
            let result = users::create(&mut conn, &duplicate);
            assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
        }
    }
}
