//! One connection type over both backends, and the r2d2 manager that opens it.

use crate::{DatabaseUrl, StoreError};
use diesel::connection::SimpleConnection;
use diesel::r2d2::R2D2Connection;
use diesel::{Connection, PgConnection, SqliteConnection};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A connection to either backend. Queries written once against it run on
/// both (diesel's `MultiConnection`), which is why the schema keeps to the
/// types both share: TEXT, BIGINT, BLOB/BYTEA and naive UTC TIMESTAMP.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// A PostgreSQL connection.
    Postgresql(PgConnection),
    /// A SQLite connection.
    Sqlite(SqliteConnection),
}

impl DbConnection {
    /// Runs `work` in one transaction: all of it is written, or none.
    pub fn in_transaction<T>(
        &mut self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.transaction(work)
    }

    /// Runs `work` in one transaction whose error is the caller's own type:
    /// any error rolls everything back and is returned as it was.
    pub fn atomically<T, E: From<StoreError>>(
        &mut self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut failure = None;
        let done = self.transaction(|conn| {
            work(conn).map_err(|e| {
                failure = Some(e);
                diesel::result::Error::RollbackTransaction
            })
        });
        match done {
            Ok(value) => Ok(value),
            Err(error) => Err(failure.take().unwrap_or_else(|| StoreError::from(error).into())),
        }
    }
}

/// How long a connection that answered a ping is trusted without another
/// (HikariCP's `aliveBypassWindowMs` is the same idea). Checking at every
/// take from the pool cost a round trip to PostgreSQL per database call (as
/// many as the work itself on the sign-in path); now a connection in steady
/// use is pinged at most once a second, and one taken after a longer rest is
/// pinged first, so one that died with the server (a restart, a failover)
/// is replaced rather than failing a request.
const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// Queries so far that found their connection lost ([`note_lost_connection`]).
static LOST_CONNECTIONS: AtomicU64 = AtomicU64::new(0);

/// Notes a query `error` that means its connection is gone (the server
/// restarted, failed over or ended it): from then on every pooled connection
/// answers a ping before its next use, however recently it answered one, so
/// a dead connection fails one request, not every request for a second.
pub(crate) fn note_lost_connection(error: &diesel::result::Error) {
    use diesel::result::{DatabaseErrorKind, Error};
    if matches!(
        error,
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _)
    ) {
        LOST_CONNECTIONS.fetch_add(1, Ordering::Relaxed);
    }
}

/// A connection in the pool, with when it last answered a ping and how many
/// lost connections had been noted then.
pub struct PoolConnection {
    conn: DbConnection,
    answered: Instant,
    lost_before: u64,
}

impl Deref for PoolConnection {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl DerefMut for PoolConnection {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

/// SQLite settings applied to every new connection: a busy timeout instead
/// of immediate `SQLITE_BUSY` errors (first, so that the statements after it
/// wait for a lock too), write-ahead logging so readers never block the
/// writer, and enforced foreign keys.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                              PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";

/// Opens connections for r2d2, choosing the backend from the URL.
#[derive(Debug)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    timeout: Duration,
}

impl ConnectionManager {
    /// A manager for `url` whose connections give up on opening, and on any
    /// one statement (PostgreSQL), after `timeout`.
    pub fn new(url: DatabaseUrl, timeout: Duration) -> Self {
        Self { url, timeout }
    }

    /// `url` with libpq parameters it does not name already: give up on
    /// opening after the timeout (`connect_timeout`, whole seconds, at least
    /// 2), and on a server that stops answering (a black hole) after the
    /// timeout too: unacknowledged data (`tcp_user_timeout`, libpq 12 and
    /// later, Linux) and, while a reply is awaited, keepalive probes.
    /// Without them a blocked read waits out the kernel's retransmissions,
    /// about fifteen minutes, holding its pool connection.
    pub(crate) fn libpq_url(&self, url: &str) -> String {
        let seconds = self.timeout.as_secs().max(1);
        let idle = (seconds / 2).max(1);
        let defaults = [
            ("connect_timeout", seconds.max(2).to_string()),
            ("tcp_user_timeout", self.timeout.as_millis().clamp(1, i32::MAX as u128).to_string()),
            ("keepalives", "1".to_owned()),
            ("keepalives_idle", idle.to_string()),
            ("keepalives_interval", "1".to_owned()),
            // Where TCP_USER_TIMEOUT is unknown, the probes end it.
            ("keepalives_count", (seconds - idle).max(1).to_string()),
        ];
        let named: Vec<&str> = url.split_once('?').map_or_else(Vec::new, |(_, query)| {
            query.split('&').map(|pair| pair.split_once('=').map_or(pair, |(key, _)| key)).collect()
        });
        let mut out = url.to_owned();
        for (key, value) in defaults.iter().filter(|(key, _)| !named.contains(key)) {
            if !out.ends_with('?') && !out.ends_with('&') {
                out.push(if out.contains('?') { '&' } else { '?' });
            }
            out.push_str(&format!("{key}={value}"));
        }
        out
    }

    fn connect_error(&self, reason: impl std::fmt::Display) -> StoreError {
        let reason = on_one_line(&reason.to_string());
        StoreError::Connect { backend: self.url.backend().name(), url: self.url.to_string(), reason }
    }
}

/// libpq explains itself over several lines: `text` on one.
pub(crate) fn on_one_line(text: &str) -> String {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = PoolConnection;
    type Error = StoreError;

    fn connect(&self) -> Result<PoolConnection, StoreError> {
        let lost_before = LOST_CONNECTIONS.load(Ordering::Relaxed);
        Ok(PoolConnection { conn: self.open()?, answered: Instant::now(), lost_before })
    }

    /// Pings a connection that has not answered within [`TRUSTED_FOR`], or
    /// since a lost connection was noted.
    fn is_valid(&self, conn: &mut PoolConnection) -> Result<(), StoreError> {
        let lost = LOST_CONNECTIONS.load(Ordering::Relaxed);
        if conn.answered.elapsed() < TRUSTED_FOR && conn.lost_before == lost {
            return Ok(());
        }
        conn.conn.ping().map_err(StoreError::from)?;
        conn.answered = Instant::now();
        conn.lost_before = lost;
        Ok(())
    }

    fn has_broken(&self, conn: &mut PoolConnection) -> bool {
        conn.conn.is_broken()
    }
}

impl ConnectionManager {
    /// Opens a connection to the URL's backend, with its settings applied.
    fn open(&self) -> Result<DbConnection, StoreError> {
        match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut conn =
                    PgConnection::establish(&self.libpq_url(url)).map_err(|e| self.connect_error(e))?;
                let limit = format!("SET statement_timeout = {}", self.timeout.as_millis().max(1));
                conn.batch_execute(&limit).map_err(|e| self.connect_error(e))?;
                Ok(DbConnection::Postgresql(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| self.connect_error(format!("cannot create {}: {e}", dir.display())))?;
                }
                let path = path.to_str().ok_or_else(|| self.connect_error("the path is not valid UTF-8"))?;
                let mut conn = SqliteConnection::establish(path).map_err(|e| self.connect_error(e))?;
                conn.batch_execute(SQLITE_PRAGMAS).map_err(|e| self.connect_error(e))?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manager(seconds: u64) -> ConnectionManager {
        let url = DatabaseUrl::parse("postgres://u@db.example/p").unwrap();
        ConnectionManager::new(url, Duration::from_secs(seconds))
    }

    #[test]
    fn libpq_gives_up_on_a_silent_server_within_the_timeout() {
        assert_eq!(
            manager(5).libpq_url("postgres://u@db.example/p"),
            "postgres://u@db.example/p?connect_timeout=5&tcp_user_timeout=5000&keepalives=1\
             &keepalives_idle=2&keepalives_interval=1&keepalives_count=3"
        );
        let own = manager(5).libpq_url("postgres://u@db.example/p?sslmode=require&tcp_user_timeout=0");
        assert!(own.contains("tcp_user_timeout=0") && !own.contains("tcp_user_timeout=5000"), "{own}");
        assert!(
            own.starts_with(
                "postgres://u@db.example/p?sslmode=require&tcp_user_timeout=0&connect_timeout=5&"
            ),
            "{own}"
        );
        let trailing = manager(1).libpq_url("postgres://u@db.example/p?");
        assert!(
            trailing.starts_with("postgres://u@db.example/p?connect_timeout=2&tcp_user_timeout=1000&"),
            "{trailing}"
        );
    }
}
