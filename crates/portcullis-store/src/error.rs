//! Storage errors.

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names no supported backend or is unusable.
    #[error("unsupported database URL `{url}`: {reason}")]
    UnsupportedUrl {
        /// The URL with any password hidden.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A connection could not be established.
    #[error("cannot connect to {backend} database {url}: {reason}")]
    Connect {
        /// `PostgreSQL` or `SQLite`.
        backend: &'static str,
        /// The URL with any password hidden.
        url: String,
        /// The driver's own explanation, on one line.
        reason: String,
    },
    /// Applying the embedded migrations failed.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// No pooled connection became free in time, or none could be made.
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::Error),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(diesel::result::Error),
    /// A unique constraint refused the write: someone else wrote first.
    #[error("conflicting write: {0}")]
    Conflict(String),
    /// A stored row holds a value this version does not understand.
    #[error("unreadable row in {table}: {reason}")]
    Corrupt {
        /// The table holding the row.
        table: &'static str,
        /// What could not be read.
        reason: String,
    },
}

impl From<diesel::result::Error> for StoreError {
    /// A failed query; one that found its connection lost is noted, so that
    /// the pool checks its connections again.
    fn from(error: diesel::result::Error) -> Self {
        crate::connection::note_lost_connection(&error);
        StoreError::Query(error)
    }
}

impl StoreError {
    /// The outcome of an insert that may meet a row already there:
    /// `true` when it inserted, `false` on a unique-constraint violation.
    pub(crate) fn first_insert(result: Result<usize, diesel::result::Error>) -> Result<bool, Self> {
        match result.map_err(Self::from_write) {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Maps a unique-constraint violation to [`StoreError::Conflict`].
    pub(crate) fn from_write(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::Conflict(info.message().to_owned())
            }
            other => StoreError::from(other),
        }
    }
}
