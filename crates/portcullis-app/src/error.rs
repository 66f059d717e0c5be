//! Why an operation was not done. Each adapter maps these to its own answer
//! in one place (the admin API to JSON errors, the CLI to one line).

use crate::Permission;
use portcullis_core::MetadataError;
use portcullis_store::StoreError;

/// Why an operation was not done.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The actor lacks the permission the operation declares.
    #[error("this needs the scope {} (or admin)", .0.scope())]
    Forbidden(Permission),
    /// The actor holds the operation's permission, but what it asks for
    /// reaches beyond what its permissions read; the reason names what.
    #[error("{0}")]
    Beyond(String),
    /// The token presented for a protocol operation (an initial or a
    /// registration access token) is not valid, or no longer.
    #[error("{0}")]
    Unauthenticated(String),
    /// What the operation names does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Client metadata that is not valid, with its field (RFC 7591 §3.2.2).
    #[error("{field}: {message}")]
    InvalidMetadata {
        /// The member, as a path (`redirect_uris[1]`); empty for the whole.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// Other input that is not valid.
    #[error("{0}")]
    Invalid(String),
    /// The operation conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// Storage failed or did not answer: try again.
    #[error("storage failed: {0}")]
    Unavailable(#[source] anyhow::Error),
    /// Stored data could not be read (the cause names the row): retrying
    /// will not help.
    #[error("{0}")]
    Corrupt(String),
}

impl AppError {
    /// Whether the operation was refused (bad input, no permission, a
    /// conflict) rather than failed: a refusal is audited.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, Self::Unavailable(_) | Self::Corrupt(_))
    }

    /// Storage failed for `cause`.
    pub fn unavailable(cause: impl Into<anyhow::Error>) -> Self {
        Self::Unavailable(cause.into())
    }
}

impl From<MetadataError> for AppError {
    fn from(error: MetadataError) -> Self {
        Self::InvalidMetadata { field: error.field.to_owned(), message: error.message }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Corrupt { .. } => Self::Corrupt(error.to_string()),
            // Someone else wrote first: the caller may read again and retry.
            StoreError::Conflict(_) => Self::Conflict(error.to_string()),
            other => Self::Unavailable(other.into()),
        }
    }
}
