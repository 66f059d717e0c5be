//! Connecting: clear errors for every way a database URL can be wrong.

use portcullis_store::test_support::TestDb;
use portcullis_store::{Backend, Database, DatabaseUrl, PoolOptions, StoreError};
use std::time::Duration;

fn connect(url: &str) -> Result<Database, StoreError> {
    let options = PoolOptions { max_size: 2, connection_timeout: Duration::from_secs(5) };
    Database::connect(&DatabaseUrl::parse(url)?, &options)
}

fn connect_error(url: &str) -> String {
    match connect(url) {
        Ok(_) => panic!("{url} connected"),
        Err(e @ StoreError::Connect { .. }) => e.to_string(),
        Err(e) => panic!("{url}: expected a connection error, got {e:?}"),
    }
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn an_unreachable_postgres_server_is_named_with_the_driver_reason() {
    let message = connect_error(&format!("postgres://app:s3cret@127.0.0.1:{}/portcullis", closed_port()));
    assert!(
        message.starts_with("cannot connect to PostgreSQL database postgres://app:***@127.0.0.1:"),
        "{message}"
    );
    assert!(message.contains("refused"), "{message}");
    assert!(!message.contains("s3cret") && !message.contains('\n'), "{message}");
}

#[test]
fn a_malformed_postgres_url_reports_what_is_malformed() {
    let message = connect_error("postgres://app@127.0.0.1:notaport/portcullis");
    assert!(message.contains(r#""notaport""#) && message.contains("port"), "{message}");
}

#[test]
fn unknown_postgres_credentials_are_refused_with_the_server_reason() {
    let db = TestDb::postgres();
    let mut url = url::Url::parse(db.url()).unwrap();
    url.set_username("portcullis_no_such_role").unwrap();
    url.set_password(Some("wrong")).unwrap();
    let message = connect_error(url.as_str());
    assert!(message.contains("portcullis_no_such_role"), "{message}");
    assert!(!message.contains("wrong"), "{message}");
}

#[test]
fn an_unsupported_scheme_is_refused_before_connecting() {
    let error = connect("mysql://root:pw@localhost/db").err().unwrap();
    assert!(matches!(error, StoreError::UnsupportedUrl { .. }), "{error:?}");
}

#[test]
fn sqlite_creates_missing_directories() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/portcullis.db");
    let db = connect(&format!("sqlite://{}", path.display())).unwrap();
    assert_eq!(db.backend(), Backend::Sqlite);
    db.migrate().unwrap();
    assert!(path.is_file());
}

#[test]
fn an_unusable_sqlite_path_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "not a directory").unwrap();
    let message = connect_error(&format!("sqlite://{}/portcullis.db", file.display()));
    assert!(message.starts_with("cannot connect to SQLite database sqlite://"), "{message}");
    assert!(message.contains("plain-file"), "{message}");
}

#[test]
fn a_postgres_database_that_disappears_fails_the_ping_without_panicking() {
    let test_db = TestDb::postgres();
    let db = test_db.connect();
    db.ping().unwrap();
    test_db.drop_postgres_database();
    assert!(db.ping().is_err());
}

#[test]
fn a_new_sqlite_connection_waits_for_a_lock_instead_of_failing() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.db");
    // Another process's writer holds an exclusive lock on the file.
    let mut holder = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    holder.batch_execute("BEGIN EXCLUSIVE; CREATE TABLE t (x INTEGER);").unwrap();
    let url = format!("sqlite://{}", path.display());
    let opening = std::thread::spawn(move || connect(&url).map(drop).map_err(|e| e.to_string()));
    std::thread::sleep(Duration::from_millis(300));
    holder.batch_execute("COMMIT").unwrap();
    opening.join().unwrap().expect("the new connection waited for the lock");
}

portcullis_store::backend_tests! {
    #[test]
    fn the_pool_reports_connections_in_use_and_takes_that_had_to_wait(db) {
        let options = PoolOptions { max_size: 1, connection_timeout: Duration::from_secs(5) };
        let pool = Database::connect(&db.database_url(), &options).unwrap();
        while pool.pool_state().idle == 0 {
            std::thread::sleep(Duration::from_millis(5)); // the pool opens its first connection
        }
        let held = pool.get().unwrap();
        assert_eq!((pool.pool_state().in_use, pool.pool_state().waits), (1, 0));
        let waiter = {
            let pool = pool.clone();
            std::thread::spawn(move || drop(pool.get().unwrap()))
        };
        while pool.pool_state().waits == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(held);
        waiter.join().unwrap();
        assert_eq!(pool.pool_state(), portcullis_store::PoolState { in_use: 0, idle: 1, waits: 1 });
    }
}

/// PostgreSQL only: a SQLite connection has no server to lose.
#[test]
fn a_connection_that_died_with_the_server_fails_one_request_at_most_and_is_replaced() {
    use diesel::{Connection, PgConnection, RunQueryDsl};
    let db = TestDb::postgres();
    let database = connect(db.url()).unwrap();
    database.ping().unwrap();
    let mut admin = PgConnection::establish(db.url()).unwrap();
    let killed = diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut admin)
    .unwrap();
    assert!(killed >= 1, "the pool's connections were open");
    // Within the second it is trusted, the dead connection fails one request at most;
    // that failure has every connection pinged before its next use.
    let _ = database.ping();
    database.ping().unwrap();
    database.ping().unwrap();
    // And past the second, an idle connection is asked again anyway.
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut admin)
    .unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    database.ping().unwrap();
}
