//! Running blocking storage work from request handlers: on the blocking
//! thread pool, on exactly one pooled connection at a time (so no path can
//! wait for a second connection while holding one), and answered within the
//! configured database timeout even when the database hangs.

use portcullis_app::once_every::OnceEvery;
use portcullis_app::{App, AppError};
use portcullis_core::{ErrorCode, OAuthError};
use portcullis_store::{Database, DbConnection, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::timeout;

/// Why storage work gave no result.
#[derive(Debug, thiserror::Error)]
pub enum StorageFailure {
    /// The database did not answer in time.
    #[error("the database did not answer within {0:?}")]
    TimedOut(Duration),
    /// The database answered with an error.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The work failed otherwise.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
    /// The work was not even tried: this second's lookups of unknown ids are
    /// spent (a flood of invented client ids).
    #[error("lookups of unknown client ids are rationed this second")]
    Rationed,
    /// The work could not run (the blocking pool is shutting down).
    #[error("storage work did not run: {0}")]
    NotRun(String),
}

impl StorageFailure {
    /// Whether a stored row could not be read: retrying will not help.
    pub fn is_corrupt(&self) -> bool {
        matches!(self, Self::Store(StoreError::Corrupt { .. }))
    }

    /// Logs the cause (which names the row of unreadable data) and returns
    /// the spec's `temporarily_unavailable`, or `server_error` for data that
    /// cannot be read; neither names an internal detail.
    pub fn into_oauth(self) -> OAuthError {
        self.log();
        if self.is_corrupt() {
            return OAuthError::new(ErrorCode::ServerError, "stored data could not be read");
        }
        OAuthError::unavailable("the server cannot reach its database; try again")
    }
}

impl From<StorageFailure> for OAuthError {
    fn from(failure: StorageFailure) -> Self {
        failure.into_oauth()
    }
}

impl StorageFailure {
    /// Logs the failure: an error, except for rationing, which a flood
    /// causes on every request and is logged at most once every ten seconds.
    pub fn log(&self) {
        static RATIONED: OnceEvery = OnceEvery::new(Duration::from_secs(10));
        if !matches!(self, Self::Rationed) {
            tracing::error!(error = %self, "storage failed");
            return;
        }
        if RATIONED.due() {
            tracing::warn!(
                "lookups of unknown client ids are rationed: a flood of invented ids is answered 503"
            );
        }
    }
}

/// Why an operation gave no result: storage failed, or the operation did.
#[derive(Debug, thiserror::Error)]
pub enum Failed {
    /// Storage failed or did not answer in time.
    #[error(transparent)]
    Storage(#[from] StorageFailure),
    /// The operation failed.
    #[error(transparent)]
    Operation(#[from] AppError),
}

/// Seconds a client is asked to wait before retrying (RFC 9110 §10.2.3).
pub const RETRY_AFTER_SECONDS: u32 = 5;

/// Runs `work` on one connection of `db`, off the async workers, within the
/// database timeout.
pub async fn run<T, W>(db: &Database, work: W) -> Result<T, StorageFailure>
where
    T: Send + 'static,
    W: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
{
    let store = db.clone();
    within(db.timeout(), move || work(&mut *store.get()?)).await
}

/// Runs the application operation `work` off the async workers, within the
/// database timeout; each adapter maps the two kinds of failure its own way.
pub async fn operation<T: Send + 'static>(
    app: &Arc<App>,
    work: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
) -> Result<Result<T, AppError>, StorageFailure> {
    let app = app.clone();
    let limit = app.database().timeout();
    within(limit, move || Ok::<_, StorageFailure>(work(&app))).await
}

/// The outcome of [`operation`] with either kind of failure as its
/// message, for callers that only log a failure (side effects, probes).
pub fn flattened<T>(done: Result<Result<T, AppError>, StorageFailure>) -> Result<T, String> {
    match done {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs blocking `work` off the async workers, giving up after `limit`
/// (the work itself runs on to its end on its thread).
pub async fn within<T, E, W>(limit: Duration, work: W) -> Result<T, StorageFailure>
where
    T: Send + 'static,
    E: Into<StorageFailure> + Send + 'static,
    W: FnOnce() -> Result<T, E> + Send + 'static,
{
    match timeout(limit, tokio::task::spawn_blocking(work)).await {
        Err(_) => Err(StorageFailure::TimedOut(limit)),
        Ok(Err(blocking)) => Err(StorageFailure::NotRun(blocking.to_string())),
        Ok(Ok(result)) => result.map_err(Into::into),
    }
}

/// Runs the application operation `work` for a protocol endpoint: an
/// outage is `temporarily_unavailable`, anything else `server_error`.
pub async fn protocol_operation<T: Send + 'static>(
    app: &Arc<App>,
    work: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
) -> Result<T, OAuthError> {
    match operation(app, work).await {
        Ok(done) => done.map_err(protocol_error),
        Err(failure) => Err(failure.into_oauth()),
    }
}

/// What an operation's failure answers at a protocol endpoint: an outage or
/// a concurrent write is `temporarily_unavailable` (retrying may help),
/// unreadable stored data and anything else the server's own failure.
pub fn protocol_error(error: AppError) -> OAuthError {
    tracing::error!(error = %error, "an operation failed at a protocol endpoint");
    match error {
        AppError::Unavailable(_) | AppError::Conflict(_) => {
            OAuthError::unavailable("the server cannot reach its database; try again")
        }
        AppError::Corrupt(_) => OAuthError::new(ErrorCode::ServerError, "stored data could not be read"),
        _ => OAuthError::new(ErrorCode::ServerError, "the request could not be completed"),
    }
}
