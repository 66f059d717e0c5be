//! The connection pool.

use crate::connection::ConnectionManager;
use crate::{migrations, Backend, DatabaseUrl, StoreError};
use diesel::r2d2::R2D2Connection;
use r2d2::ManageConnection;
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
}

impl Database {
    /// Connects to `url`. One connection is opened first, so that a bad URL,
    /// an unreachable server or wrong credentials fail here with the driver's
    /// own message rather than later as a pool timeout.
    ///
    /// The connection timeout bounds every wait: for a free connection, for
    /// a new one to open, and (PostgreSQL's `statement_timeout`) for a
    /// statement. Connections are checked when taken from the pool, so one
    /// that died with the server is replaced rather than failing a request.
    pub fn connect(url: &DatabaseUrl, options: &PoolOptions) -> Result<Self, StoreError> {
        let manager = ConnectionManager::new(url.clone(), options.connection_timeout);
        drop(manager.connect()?);
        let pool = r2d2::Pool::builder()
            .max_size(options.max_size)
            .min_idle(Some(1))
            .connection_timeout(options.connection_timeout)
            .test_on_check_out(true)
            .build_unchecked(manager);
        Ok(Self { pool, url: url.clone(), timeout: options.connection_timeout })
    }

    /// The longest any one wait on the database may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Applies the embedded migrations that have not run yet and returns
    /// their versions.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        migrations::run_pending(&mut *self.get()?)
    }

    /// A connection from the pool.
    pub fn get(&self) -> Result<PooledConnection, StoreError> {
        Ok(self.pool.get()?)
    }

    /// Checks that the database answers a query.
    pub fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.get()?;
        R2D2Connection::ping(&mut *conn).map_err(StoreError::Query)
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
