//! The Portcullis authorization server: the adapters over the operations
//! of [`portcullis_app`] (one module per protocol endpoint under
//! [`routes`], the grants under [`grants`], the admin REST API under
//! [`admin`], the `portcullis` CLI), with configuration, startup and this
//! instance's in-memory mirrors of clients, keys and revocations.

pub mod access_tokens;
pub mod admin;
pub mod allowed_methods;
pub mod authorization;
pub mod authorization_response;
pub mod branding;
pub mod client_address;
pub mod client_auth;
pub mod client_lockout;
pub mod clients;
pub mod config;
pub mod config_file;
pub mod console;
pub mod cors;
pub mod endpoints;
pub mod form;
pub mod geoip;
pub mod grants;
pub mod key_encryption;
pub mod key_ring;
pub mod locale;
pub mod metrics;
pub mod mirror;
pub mod oauth_response;
pub mod open_files;
pub mod pages;
pub mod remote_jwks;
pub mod routes;
pub mod session_cookie;
pub mod startup;
pub mod storage;
pub mod telemetry;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
pub mod usage;
pub mod views;
pub mod webhook_sender;

pub use config::{Cli, KekSource, Mode, Settings};
pub use key_ring::KeyRing;
/// Random secrets and their hashes, from the application layer.
pub use portcullis_app::secrets;
pub use startup::Application;
