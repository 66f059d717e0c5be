//! Storage for Portcullis over PostgreSQL (production) or SQLite (the
//! zero-setup default), through one diesel code path.
//!
//! [`DatabaseUrl`] picks the backend from the URL's scheme, [`Database`] owns
//! the r2d2 pool and the embedded migrations, and each aggregate has its own
//! repository module taking a [`DbConnection`], so that calls compose into
//! one transaction. Every function blocks: async callers run them on a
//! blocking thread pool.

pub mod address_lockouts;
pub mod admin_roles;
pub mod alerts;
pub mod assertions;
pub mod audit;
pub mod auth_failures;
pub mod baselines;
pub mod change_log;
pub mod change_notices;
pub mod clients;
pub mod codes;
pub mod connection;
pub mod console_sessions;
pub mod database;
pub mod database_url;
pub mod device_grants;
pub mod error;
mod json;
pub mod keys;
pub mod lockouts;
mod migrations;
pub mod personal_tokens;
pub mod pushed_requests;
pub mod rate_counts;
pub mod refresh;
pub mod registrations;
pub mod remediations;
mod schema;
pub mod scope_requests;
pub mod server_settings;
pub mod sessions;
pub mod sightings;
pub mod teams;
#[cfg(feature = "test-support")]
pub mod test_support;
pub mod totp;
pub mod usage;
pub mod user_attributes;
pub mod users;
pub mod webhooks;

pub use connection::DbConnection;
pub use database::{Database, PoolOptions, PoolState};
pub use database_url::{Backend, DatabaseUrl};
pub use error::StoreError;
