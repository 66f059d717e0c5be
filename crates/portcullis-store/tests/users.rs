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
        attributes: serde_json::Map::new(),
        created_at: now,
        updated_at: now,
        disabled_at: None,
    }
}

backend_tests! {
    #[test]
    fn removing_an_attribute_removes_its_value_from_every_user_that_holds_one(db) {
        use portcullis_core::user_attributes::{AttributeDefinition, AttributeType};
        use portcullis_store::user_attributes;
        let db = db.connect();
        let mut conn = db.get().unwrap();
        let define = |conn: &mut _, name: &str, kind| {
            let definition = AttributeDefinition { name: name.into(), kind, description: String::new() };
            user_attributes::define(conn, &definition, Utc::now())
        };
        define(&mut conn, "team", AttributeType::String).unwrap();
        define(&mut conn, "badge", AttributeType::Number).unwrap();
        assert!(matches!(define(&mut conn, "team", AttributeType::Strings), Err(StoreError::Conflict(_))));
        for (id, name) in [("u1", "alice"), ("u2", "bob"), ("u3", "carol")] {
            users::create(&mut conn, &user(id, name)).unwrap();
        }
        let values = |json: serde_json::Value| json.as_object().unwrap().clone();
        let (both, team) = (values(serde_json::json!({"team": "a", "badge": 1})), values(serde_json::json!({"team": "b"})));
        users::update(&mut conn, "u1", users::UserChange { attributes: Some(&both), ..Default::default() }).unwrap();
        users::update(&mut conn, "u2", users::UserChange { attributes: Some(&team), ..Default::default() }).unwrap();
        assert_eq!(user_attributes::holder_ids(&mut conn, "team").unwrap().len(), 2);
        let cleared = user_attributes::remove(&mut conn, "team", Utc::now()).unwrap().unwrap();
        assert_eq!(cleared.len(), 2, "{cleared:?}");
        assert_eq!(user_attributes::remove(&mut conn, "team", Utc::now()).unwrap(), None);
        assert_eq!(users::find(&mut conn, "u1").unwrap().unwrap().attributes, values(serde_json::json!({"badge": 1})));
        assert!(users::find(&mut conn, "u2").unwrap().unwrap().attributes.is_empty());
        let names: Vec<String> = user_attributes::all(&mut conn).unwrap().into_iter().map(|a| a.name).collect();
        assert_eq!(names, ["badge"]);
    }

    #[test]
    fn unreadable_claims_are_an_error_that_names_the_user_never_a_default(db) {
        use diesel::RunQueryDsl;
        let db = db.connect();
        let mut conn = db.get().unwrap();
        users::create(&mut conn, &user("u1", "alice")).unwrap();
        diesel::sql_query("UPDATE users SET claims = '{\"name\": 7}'").execute(&mut **conn).unwrap();
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
