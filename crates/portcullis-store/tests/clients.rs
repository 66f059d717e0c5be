//! The client repository and the change log, on SQLite and PostgreSQL.

use chrono::{DurationRound, TimeDelta, Utc};
use portcullis_core::ClientMetadata;
use portcullis_store::backend_tests;
use portcullis_store::change_log::{self, ChangeKind};
use portcullis_store::clients::{self, NewClient, NewVersion, SecretRecord, VersionWrite};
use portcullis_store::server_settings;
use portcullis_store::StoreError;

/// A configuration named `name`.
fn metadata(name: &str) -> ClientMetadata {
    serde_json::from_value(serde_json::json!({ "client_name": name })).unwrap()
}

fn secret(id: &str) -> SecretRecord {
    SecretRecord {
        secret_id: id.to_owned(),
        secret_hash: vec![7; 32],
        created_at: Utc::now().duration_trunc(TimeDelta::microseconds(1)).unwrap(),
        expires_at: None,
    }
}

backend_tests! {
    #[test]
    fn a_created_client_reads_back_with_version_1_and_its_secret(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        let first = secret("s1");
        clients::create(&mut conn, &NewClient { client_id: "c1", metadata: &metadata("a"), author: "cli", secret: Some(&first), team_id: None }).unwrap();
        clients::create(&mut conn, &NewClient { client_id: "c2", metadata: &metadata("b"), author: "cli", secret: None, team_id: None }).unwrap();
        let found = clients::find(&mut conn, "c1").unwrap().unwrap();
        assert_eq!((found.version, &found.metadata, found.disabled_at), (1, &metadata("a"), None));
        assert_eq!(found.secrets, vec![first]);
        assert!(clients::find(&mut conn, "c3").unwrap().is_none());
        let all = clients::all(&mut conn).unwrap();
        assert_eq!(all.iter().map(|c| c.client_id.as_str()).collect::<Vec<_>>(), ["c1", "c2"]);
        assert!(all[1].secrets.is_empty());
    }

    #[test]
    fn a_duplicate_client_id_conflicts_and_writes_nothing(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        let new = NewClient { client_id: "c1", metadata: &metadata("x"), author: "cli", secret: None, team_id: None };
        clients::create(&mut conn, &new).unwrap();
        let before = change_log::last_seq(&mut conn).unwrap();
        let again = clients::create(&mut conn, &NewClient { secret: Some(&secret("s2")), ..new });
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        assert_eq!(change_log::last_seq(&mut conn).unwrap(), before, "the transaction rolled back");
        assert!(clients::find(&mut conn, "c1").unwrap().unwrap().secrets.is_empty());
    }

    #[test]
    fn an_added_secret_joins_the_others_and_is_logged(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        let first = secret("s1");
        clients::create(&mut conn, &NewClient { client_id: "c1", metadata: &metadata("x"), author: "cli", secret: Some(&first), team_id: None }).unwrap();
        let before = change_log::last_seq(&mut conn).unwrap();
        let second = secret("s2");
        assert!(clients::add_secret(&mut conn, "c1", &second).unwrap());
        assert_eq!(clients::find(&mut conn, "c1").unwrap().unwrap().secrets, vec![first, second]);
        assert_eq!(change_log::since(&mut conn, before, 10).unwrap().len(), 1);
        assert!(!clients::add_secret(&mut conn, "nobody", &secret("s3")).unwrap());
    }

    #[test]
    fn disabling_a_client_is_stored_and_logged(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        clients::create(&mut conn, &NewClient { client_id: "c1", metadata: &metadata("x"), author: "cli", secret: None, team_id: None }).unwrap();
        let before = change_log::last_seq(&mut conn).unwrap();
        assert!(clients::set_disabled(&mut conn, "c1", true, false).unwrap());
        assert!(clients::find(&mut conn, "c1").unwrap().unwrap().disabled_at.is_some());
        let logged = change_log::since(&mut conn, before, 10).unwrap();
        assert_eq!(logged.iter().map(|c| (c.kind, c.subject.as_str())).collect::<Vec<_>>(), [(ChangeKind::Client, "c1")]);
        assert!(clients::set_disabled(&mut conn, "c1", false, false).unwrap());
        assert!(clients::find(&mut conn, "c1").unwrap().unwrap().disabled_at.is_none());
        assert!(!clients::set_disabled(&mut conn, "nobody", true, false).unwrap());
    }

    #[test]
    fn the_change_log_returns_changes_in_order_and_unexpired_revocations(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        assert_eq!(change_log::last_seq(&mut conn).unwrap(), 0);
        let now = Utc::now();
        change_log::append(&mut conn, ChangeKind::Client, "c1", None).unwrap();
        change_log::append(&mut conn, ChangeKind::Token, "live", Some(now + TimeDelta::minutes(5))).unwrap();
        change_log::append(&mut conn, ChangeKind::Token, "expired", Some(now - TimeDelta::minutes(5))).unwrap();
        let changes = change_log::since(&mut conn, 0, 100).unwrap();
        assert_eq!(changes.iter().map(|c| (c.kind, c.subject.as_str())).collect::<Vec<_>>(),
            [(ChangeKind::Client, "c1"), (ChangeKind::Token, "live"), (ChangeKind::Token, "expired")]);
        assert!(changes.windows(2).all(|w| w[0].seq < w[1].seq));
        let last = change_log::last_seq(&mut conn).unwrap();
        assert_eq!(last, changes[2].seq);
        assert_eq!(change_log::since(&mut conn, changes[0].seq, 1).unwrap()[0].subject, "live");
        assert!(change_log::since(&mut conn, last, 100).unwrap().is_empty());
        let revoked = change_log::revocations(&mut conn, ChangeKind::Token, now).unwrap();
        assert_eq!(revoked.iter().map(|(jti, _)| jti.as_str()).collect::<Vec<_>>(), ["live"]);
        change_log::append(&mut conn, ChangeKind::Grant, "g1", Some(now + TimeDelta::minutes(5))).unwrap();
        let grants = change_log::revocations(&mut conn, ChangeKind::Grant, now).unwrap();
        assert_eq!(grants.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["g1"]);
        assert!(change_log::is_revoked(&mut conn, ChangeKind::Grant, "g1", now).unwrap());
        assert!(!change_log::is_revoked(&mut conn, ChangeKind::Token, "g1", now).unwrap(), "a grant, not a token");
        assert!(!change_log::is_revoked(&mut conn, ChangeKind::Token, "expired", now).unwrap(), "its tokens expired");
        let last = change_log::since(&mut conn, 0, 100).unwrap().pop().unwrap();
        assert_eq!((last.kind, last.subject.as_str()), (ChangeKind::Grant, "g1"));
    }

    #[test]
    fn an_assertion_jti_is_accepted_once_per_client(db) {
        use portcullis_store::assertions;
        let db = db.connect();
        let mut conn = db.get().unwrap();
        let later = Utc::now() + TimeDelta::minutes(5);
        assert!(assertions::record_jti(&mut conn, "c1", "j1", later).unwrap());
        assert!(!assertions::record_jti(&mut conn, "c1", "j1", later).unwrap(), "a replay");
        assert!(assertions::record_jti(&mut conn, "c2", "j1", later).unwrap(), "jti is per client");
        let past = Utc::now() - TimeDelta::minutes(5);
        assert!(assertions::record_jti(&mut conn, "c3", "old", past).unwrap());
        assert!(assertions::record_jti(&mut conn, "c3", "new", later).unwrap());
        assert!(assertions::record_jti(&mut conn, "c3", "old", later).unwrap(), "expired entries are pruned");
    }

    #[test]
    fn a_version_is_written_only_on_the_current_one_and_history_survives_deletion(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        clients::create(&mut conn, &NewClient { client_id: "c1", metadata: &metadata("v1"), author: "cli", secret: None, team_id: None }).unwrap();
        let until = Utc::now() + TimeDelta::hours(1);
        let removed = vec!["https://app.example/old".to_owned()];
        let (v2, v3, x) = (metadata("v2"), metadata("v3"), metadata("x"));
        let version = |metadata, author| NewVersion {
            metadata, author, summary: "changed v", kept_redirect_uris: &[], retired_redirect_uris: &removed, retired_until: until,
        };
        assert_eq!(clients::add_version(&mut conn, "c1", 1, &version(&v2, "admin-1")).unwrap(), VersionWrite::Written(2));
        assert_eq!(clients::add_version(&mut conn, "c1", 1, &version(&v3, "admin-2")).unwrap(), VersionWrite::Stale { current: 2 });
        assert_eq!(clients::add_version(&mut conn, "nobody", 1, &version(&x, "admin-1")).unwrap(), VersionWrite::NotFound);
        let retired = clients::find(&mut conn, "c1").unwrap().unwrap().retired_redirect_uris;
        assert_eq!(retired.iter().map(|(uri, _)| uri.as_str()).collect::<Vec<_>>(), ["https://app.example/old"]);
        assert_eq!(clients::find(&mut conn, "c1").unwrap().unwrap().metadata, metadata("v2"));
        let history = clients::versions(&mut conn, "c1").unwrap();
        assert_eq!(history.iter().map(|v| (v.version, v.author.as_str())).collect::<Vec<_>>(), [(2, "admin-1"), (1, "cli")]);
        assert_eq!(clients::version(&mut conn, "c1", 1).unwrap().unwrap().metadata, metadata("v1"));
        assert!(clients::delete(&mut conn, "c1").unwrap());
        assert!(!clients::delete(&mut conn, "c1").unwrap(), "deleted once");
        assert!(clients::find(&mut conn, "c1").unwrap().is_none());
        assert_eq!(clients::add_version(&mut conn, "c1", 2, &version(&x, "admin-1")).unwrap(), VersionWrite::NotFound);
        assert_eq!(clients::versions(&mut conn, "c1").unwrap().len(), 2, "the history stays");
    }

    #[test]
    fn secrets_are_revoked_one_by_one_or_replaced_together(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        let (first, second, third) = (secret("s1"), secret("s2"), secret("s3"));
        clients::create(&mut conn, &NewClient { client_id: "c1", metadata: &metadata("x"), author: "cli", secret: Some(&first), team_id: None }).unwrap();
        assert!(clients::add_secret(&mut conn, "c1", &second).unwrap());
        assert!(clients::revoke_secret(&mut conn, "c1", "s1").unwrap());
        assert!(!clients::revoke_secret(&mut conn, "c1", "s1").unwrap(), "revoked once");
        assert!(!clients::revoke_secret(&mut conn, "other", "s2").unwrap(), "only the client's own secret");
        assert_eq!(clients::find(&mut conn, "c1").unwrap().unwrap().secrets, vec![second]);
        assert!(clients::replace_secrets(&mut conn, "c1", &third).unwrap());
        assert_eq!(clients::find(&mut conn, "c1").unwrap().unwrap().secrets, vec![third.clone()]);
        assert!(!clients::replace_secrets(&mut conn, "nobody", &third).unwrap());
    }

    #[test]
    fn a_setting_is_set_once(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        assert_eq!(server_settings::get(&mut conn, "admin").unwrap(), None);
        assert!(server_settings::set_once(&mut conn, "admin", "c1").unwrap());
        assert!(!server_settings::set_once(&mut conn, "admin", "c2").unwrap());
        assert_eq!(server_settings::get(&mut conn, "admin").unwrap().as_deref(), Some("c1"));
    }
}
