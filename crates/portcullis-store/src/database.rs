//! The connection pool.

use crate::connection::ConnectionManager;
use crate::DbConnection;
use crate::{migrations, Backend, DatabaseUrl, StoreError};
use diesel::connection::SimpleConnection;
use diesel::r2d2::R2D2Connection;
use r2d2::ManageConnection;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Sizing of the connection pool.
#[derive(Clone, Debug)]
pub struct PoolOptions {
    /// The most connections the pool opens.
    pub max_size: u32,
    /// How long a caller waits for a free connection before giving up.
    pub connection_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self { max_size: 10, connection_timeout: Duration::from_secs(5) }
    }
}

/// A pooled connection.
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// The database: a pool of connections to one backend.
#[derive(Clone)]
pub struct Database {
    pool: r2d2::Pool<ConnectionManager>,
    url: DatabaseUrl,
    timeout: Duration,
    waits: Arc<AtomicU64>,
}

/// The pool as it is now, for metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolState {
    /// Connections lent out.
    pub in_use: u32,
    /// Connections open and free.
    pub idle: u32,
    /// Takes, since start, that found no free connection and had to wait
    /// (for one to be given back or opened).
    pub waits: u64,
}

impl Database {
    /// Connects to `url`. One connection is opened first, so that a bad URL,
    /// an unreachable server or wrong credentials fail here with the driver's
    /// own message rather than later as a pool timeout.
    ///
    /// The connection timeout bounds every wait: for a free connection, for
    /// a new one to open, and (PostgreSQL's `statement_timeout`) for a
    /// statement. A connection taken from the pool is pinged first unless it
    /// answered within the last second and no query has found its connection
    /// lost since, so one that died with the server fails at most one request
    /// before it is replaced.
    pub fn connect(url: &DatabaseUrl, options: &PoolOptions) -> Result<Self, StoreError> {
        Self::build(url, options, 1)
    }

    /// [`Database::connect`] for a short-lived command: the pool keeps no
    /// spare connection, so one is opened only while a caller waits for it
    /// and none is ever being opened in the background. (A process that
    /// exits while a pool thread is inside libpq's connect can die by a
    /// signal: `exit` tears OpenSSL and Kerberos down under that thread.)
    pub fn connect_on_demand(url: &DatabaseUrl, options: &PoolOptions) -> Result<Self, StoreError> {
        Self::build(url, options, 0)
    }

    fn build(url: &DatabaseUrl, options: &PoolOptions, spare: u32) -> Result<Self, StoreError> {
        let manager = ConnectionManager::new(url.clone(), options.connection_timeout);
        drop(manager.connect()?);
        let pool = r2d2::Pool::builder()
            .max_size(options.max_size)
            .min_idle(Some(spare))
            .connection_timeout(options.connection_timeout)
            .test_on_check_out(true)
            .build_unchecked(manager);
        Ok(Self { pool, url: url.clone(), timeout: options.connection_timeout, waits: Arc::default() })
    }

    /// The longest any one wait on the database may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Applies the embedded migrations that have not run yet and returns
    /// their versions.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        self.maintenance(migrations::run_pending)
    }

    /// Runs maintenance `work` (migrations, housekeeping, verifying the
    /// audit log) on one connection without the statement timeout that
    /// bounds request work: it may rightly take longer.
    pub fn maintenance<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.get()?;
        if self.backend() != Backend::Postgres {
            return work(&mut conn);
        }
        conn.batch_execute("SET statement_timeout = 0").map_err(StoreError::from)?;
        let done = work(&mut conn);
        let limit = format!("SET statement_timeout = {}", self.timeout.as_millis().max(1));
        conn.batch_execute(&limit).map_err(StoreError::from)?;
        done
    }

    /// A connection from the pool; a take that finds none free is counted
    /// as a wait.
    pub fn get(&self) -> Result<PooledConnection, StoreError> {
        if let Some(conn) = self.pool.try_get() {
            return Ok(conn);
        }
        self.waits.fetch_add(1, Ordering::Relaxed);
        Ok(self.pool.get()?)
    }

    /// The pool's connections in use and free, and its waits so far.
    pub fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            in_use: state.connections - state.idle_connections,
            idle: state.idle_connections,
            waits: self.waits.load(Ordering::Relaxed),
        }
    }

    /// Checks that the database answers a query.
    pub fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.get()?;
        R2D2Connection::ping(&mut **conn).map_err(StoreError::from)
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// The URL this database was opened with (its `Display` hides passwords).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }
}
