//! Changes announce themselves on PostgreSQL as they commit; SQLite has no
//! listener (its follower polls).

use portcullis_store::change_log::{self, ChangeKind};
use portcullis_store::change_notices::ChangeListener;
use portcullis_store::test_support::TestDb;
use std::time::Duration;

#[test]
fn a_committed_change_is_announced_and_a_rolled_back_one_is_not() {
    let test_db = TestDb::postgres();
    let db = test_db.connect();
    let mut listener = ChangeListener::open(db.url(), db.timeout()).expect("PostgreSQL listens").unwrap();
    assert!(!listener.wait(Duration::from_millis(100)).unwrap(), "nothing changed yet");

    let rolled_back = db.get().unwrap().in_transaction(|conn| {
        change_log::append(conn, ChangeKind::Token, "never", None)?;
        Err::<(), _>(portcullis_store::StoreError::Conflict("rolled back".into()))
    });
    assert!(rolled_back.is_err());
    assert!(!listener.wait(Duration::from_millis(200)).unwrap(), "a rollback announces nothing");

    change_log::append(&mut db.get().unwrap(), ChangeKind::Token, "revoked-jti", None).unwrap();
    assert!(listener.wait(Duration::from_secs(10)).unwrap(), "the commit is announced");
    assert!(!listener.wait(Duration::from_millis(100)).unwrap(), "each announcement is consumed once");
}

#[test]
fn a_listener_whose_connection_ends_says_so() {
    let test_db = TestDb::postgres();
    let db = test_db.connect();
    let mut listener = ChangeListener::open(db.url(), db.timeout()).unwrap().unwrap();
    let mut conn = db.get().unwrap();
    diesel::connection::SimpleConnection::batch_execute(
        &mut **conn,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE query LIKE 'LISTEN%' AND datname = current_database()",
    )
    .unwrap();
    let ended = (0..50).find_map(|_| listener.wait(Duration::from_millis(200)).err());
    assert!(ended.is_some(), "a terminated listener reports its lost connection");
}

#[test]
fn sqlite_has_no_listener() {
    let test_db = TestDb::sqlite();
    assert!(ChangeListener::open(&test_db.database_url(), std::time::Duration::from_secs(1)).is_none());
}
