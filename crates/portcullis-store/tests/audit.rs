//! The audit log's chain, on SQLite and PostgreSQL: appends from many
//! connections form one chain, and every kind of tampering is found.

use chrono::{TimeDelta, Utc};
use diesel::RunQueryDsl;
use portcullis_store::audit::{self, NewEntry, VerifyError};
use portcullis_store::backend_tests;
use portcullis_store::DbConnection;

fn append(conn: &mut DbConnection, n: usize) {
    for i in 0..n {
        let target = format!("client-{i}");
        let entry = NewEntry {
            actor: "admin",
            action: "PATCH /admin/v1/clients/{client_id}",
            target: &target,
            source: "192.0.2.1",
            outcome: "success",
            details: r#"{"status":200}"#,
        };
        audit::append(conn, &entry).unwrap();
    }
}

fn broken(conn: &mut DbConnection) -> String {
    match audit::verify(conn) {
        Err(VerifyError::Broken(why)) => why,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

fn tamper(conn: &mut DbConnection, sql: &str) {
    diesel::sql_query(sql).execute(conn).unwrap();
}

backend_tests! {
    #[test]
    fn an_intact_chain_verifies(db) {
        let db = db.connect();
        let conn = &mut *db.get().unwrap();
        assert_eq!(audit::verify(conn).unwrap().entries, 0);
        append(conn, 5);
        let verified = audit::verify(conn).unwrap();
        assert_eq!((verified.entries, verified.first, verified.last), (5, Some(1), 5));
    }

    #[test]
    fn an_edited_entry_is_found(db) {
        let db = db.connect();
        let conn = &mut *db.get().unwrap();
        append(conn, 5);
        tamper(conn, "UPDATE audit_log SET outcome = 'refused' WHERE seq = 3");
        assert!(broken(conn).contains("entry 3 was altered"));
    }

    #[test]
    fn a_removed_entry_is_found(db) {
        let db = db.connect();
        let conn = &mut *db.get().unwrap();
        append(conn, 5);
        tamper(conn, "DELETE FROM audit_log WHERE seq = 3");
        assert!(broken(conn).contains("entries 3 to 3 are missing"));
    }

    #[test]
    fn reordered_entries_are_found(db) {
        let db = db.connect();
        let conn = &mut *db.get().unwrap();
        append(conn, 5);
        tamper(conn, "UPDATE audit_log SET seq = 99 WHERE seq = 2");
        tamper(conn, "UPDATE audit_log SET seq = 2 WHERE seq = 3");
        tamper(conn, "UPDATE audit_log SET seq = 3 WHERE seq = 99");
        assert!(broken(conn).contains("entry 2 was altered"));
    }

    #[test]
    fn removing_the_newest_entries_is_found(db) {
        let db = db.connect();
        let conn = &mut *db.get().unwrap();
        append(conn, 5);
        tamper(conn, "DELETE FROM audit_log WHERE seq >= 4");
        assert!(broken(conn).contains("the newest entries after 3 were removed"));
    }

    #[test]
    fn a_pruned_log_verifies_from_the_oldest_entry_kept(db) {
        let db = db.connect();
        let conn = &mut *db.get().unwrap();
        append(conn, 3);
        assert_eq!(audit::prune(conn, Utc::now() + TimeDelta::seconds(1)).unwrap(), 3);
        append(conn, 2);
        assert_eq!(audit::prune(conn, Utc::now() - TimeDelta::days(1)).unwrap(), 0);
        let verified = audit::verify(conn).unwrap();
        assert_eq!((verified.entries, verified.first, verified.last), (2, Some(4), 5));
    }

    #[test]
    fn concurrent_appends_from_many_connections_form_one_chain(db) {
        let db = db.connect();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let db = db.clone();
                std::thread::spawn(move || append(&mut db.get().unwrap(), 5))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let verified = audit::verify(&mut db.get().unwrap()).unwrap();
        assert_eq!((verified.entries, verified.last), (40, 40));
    }
}
