//! The signing-key repository, on SQLite and PostgreSQL.

use chrono::{DurationRound, TimeDelta, Utc};
use portcullis_core::{KeyState, SigningAlgorithm};
use portcullis_store::backend_tests;
use portcullis_store::keys::{self, Activation, SigningKeyRecord};
use portcullis_store::StoreError;

/// The columns of `signing_keys` a raw insert needs, for rows the
/// repository never writes.
mod raw {
    diesel::table! {
        signing_keys (kid) {
            kid -> Text,
            alg -> Text,
            state -> Text,
            public_jwk -> Text,
            private_key_sealed -> Binary,
            kek_id -> Text,
            created_at -> Timestamp,
        }
    }
}

fn record(kid: &str, alg: SigningAlgorithm, state: KeyState, age_seconds: i64) -> SigningKeyRecord {
    let created =
        Utc::now().duration_trunc(TimeDelta::microseconds(1)).unwrap() - TimeDelta::seconds(age_seconds);
    SigningKeyRecord {
        kid: kid.to_owned(),
        alg,
        state,
        public_jwk: format!(r#"{{"kid":"{kid}"}}"#),
        private_key_sealed: vec![1, 0, 255, 7],
        kek_id: "0123456789abcdef".to_owned(),
        created_at: created,
        activated_at: (state == KeyState::Active).then_some(created),
        retired_at: (state == KeyState::Retired).then_some(created),
        revoked_at: (state == KeyState::Revoked).then_some(created),
    }
}

backend_tests! {
    #[test]
    fn a_stored_key_reads_back_unchanged(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        let key = record("k1", SigningAlgorithm::Es256, KeyState::Active, 0);
        keys::insert(&mut conn, &key).unwrap();
        assert_eq!(keys::published(&mut conn, Utc::now() - TimeDelta::days(1)).unwrap(), vec![key]);
    }

    #[test]
    fn published_keys_exclude_revoked_ones_and_come_oldest_first(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        for key in [
            record("new", SigningAlgorithm::Rs256, KeyState::Next, 0),
            record("old", SigningAlgorithm::Rs256, KeyState::Retired, 20),
            record("gone", SigningAlgorithm::Rs256, KeyState::Revoked, 15),
            record("current", SigningAlgorithm::Rs256, KeyState::Active, 10),
        ] {
            keys::insert(&mut conn, &key).unwrap();
        }
        let kids: Vec<_> = keys::published(&mut conn, Utc::now() - TimeDelta::days(1)).unwrap().into_iter().map(|k| k.kid).collect();
        assert_eq!(kids, ["old", "current", "new"]);
    }

    #[test]
    fn only_one_key_per_algorithm_can_be_active(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        keys::insert(&mut conn, &record("a", SigningAlgorithm::Rs256, KeyState::Active, 0)).unwrap();
        let second = keys::insert(&mut conn, &record("b", SigningAlgorithm::Rs256, KeyState::Active, 0));
        assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
        keys::insert(&mut conn, &record("c", SigningAlgorithm::Es256, KeyState::Active, 0)).unwrap();
        keys::insert(&mut conn, &record("d", SigningAlgorithm::Rs256, KeyState::Next, 0)).unwrap();
        let duplicate_kid = keys::insert(&mut conn, &record("d", SigningAlgorithm::Rs256, KeyState::Next, 0));
        assert!(matches!(duplicate_kid, Err(StoreError::Conflict(_))), "{duplicate_kid:?}");
        assert_eq!(keys::published(&mut conn, Utc::now() - TimeDelta::days(1)).unwrap().len(), 3);
    }

    #[test]
    fn migrations_apply_once(db) {
        let db = db.connect();
        assert!(db.migrate().unwrap().is_empty(), "a second run applies nothing");
        db.ping().unwrap();
    }

    #[test]
    fn the_database_refuses_states_and_algorithms_it_does_not_know(db) {
        use diesel::result::{DatabaseErrorKind, Error};
        use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
        use raw::signing_keys::dsl as k;
        let db = db.connect();
        let mut conn = db.get().unwrap();
        let mut insert = |kid: &str, alg: &str, state: &str| {
            diesel::insert_into(raw::signing_keys::table)
                .values((
                    k::kid.eq(kid),
                    k::alg.eq(alg),
                    k::state.eq(state),
                    k::public_jwk.eq("{}"),
                    k::private_key_sealed.eq(vec![0u8]),
                    k::kek_id.eq("k"),
                    k::created_at.eq(Utc::now().naive_utc()),
                ))
                .execute(&mut **conn)
        };
        // The same statement with known values is accepted: a refusal below is the CHECK's.
        assert_eq!(insert("valid", "RS256", "next").expect("a known alg and state are accepted"), 1);
        // Each row differs from the valid one in one column, with a kid of its own.
        for (kid, alg, state) in [("bad-alg", "HS256", "active"), ("bad-state", "RS256", "enabled")] {
            match insert(kid, alg, state) {
                Err(Error::DatabaseError(DatabaseErrorKind::CheckViolation, _)) => {}
                other => panic!("{alg}/{state}: expected a CHECK violation, got {other:?}"),
            }
        }
        let rows: i64 = raw::signing_keys::table.count().get_result(&mut **conn).unwrap();
        assert_eq!(rows, 1, "only the valid row was written");
    }

    #[test]
    fn a_retired_key_leaves_the_published_set_when_its_tokens_are_gone(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        keys::insert(&mut conn, &record("old", SigningAlgorithm::Rs256, KeyState::Retired, 60)).unwrap();
        let kids = |conn: &mut _, seconds| -> Vec<String> {
            keys::published(conn, Utc::now() - TimeDelta::seconds(seconds)).unwrap().into_iter().map(|k| k.kid).collect()
        };
        assert_eq!(kids(&mut conn, 120), ["old"], "retired 60 s ago, tokens live 120 s");
        assert!(kids(&mut conn, 30).is_empty(), "retired 60 s ago, tokens live 30 s");
    }

    #[test]
    fn activation_retires_the_active_key_and_revocation_withdraws_any(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        keys::insert(&mut conn, &record("a", SigningAlgorithm::Rs256, KeyState::Active, 10)).unwrap();
        keys::insert(&mut conn, &record("b", SigningAlgorithm::Rs256, KeyState::Next, 5)).unwrap();
        keys::insert(&mut conn, &record("e", SigningAlgorithm::Es256, KeyState::Active, 5)).unwrap();
        let now = Utc::now();
        assert_eq!(keys::activate(&mut conn, "b", now).unwrap(), Activation::Activated { retired: Some("a".into()) });
        assert_eq!(keys::activate(&mut conn, "b", now).unwrap(), Activation::NotNext(KeyState::Active));
        assert_eq!(keys::activate(&mut conn, "zz", now).unwrap(), Activation::NotFound);
        let states: Vec<(String, KeyState)> = keys::all(&mut conn).unwrap().into_iter().map(|k| (k.kid, k.state)).collect();
        assert_eq!(states, [("a".into(), KeyState::Retired), ("b".into(), KeyState::Active), ("e".into(), KeyState::Active)]);
        assert_eq!(keys::revoke(&mut conn, "a", now).unwrap(), Some(KeyState::Retired));
        assert_eq!(keys::revoke(&mut conn, "a", now).unwrap(), None, "revoked once");
        assert_eq!(keys::revoke(&mut conn, "zz", now).unwrap(), None);
        let published: Vec<String> = keys::published(&mut conn, now - TimeDelta::days(1)).unwrap().into_iter().map(|k| k.kid).collect();
        assert_eq!(published, ["b", "e"]);
    }
}
