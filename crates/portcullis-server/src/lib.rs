//! The Portcullis authorization server: the HTTP adapters over the protocol
//! engine of [`portcullis_oauth`] and the operations of [`portcullis_app`]
//! (one module per protocol endpoint under [`routes`], the admin REST API
//! under [`admin`], the console under [`console`], the `portcullis` CLI),
//! with configuration and startup.

pub mod admin;
pub mod allowed_methods;
pub mod authorization;
pub mod authorization_response;
pub mod branding;
pub mod client_address;
pub mod client_authentication;
pub mod config;
pub mod config_file;
pub mod console;
pub mod cors;
pub mod form;
pub mod headers;
pub mod key_encryption;
pub mod locale;
pub mod metrics;
pub mod oauth_response;
pub mod open_files;
pub mod pages;
pub mod portal;
pub mod routes;
pub mod session_cookie;
pub mod shutdown;
pub mod site_sign_in;
pub mod startup;
pub mod telemetry;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
pub mod usage;
pub mod views;
pub mod webhook_sender;

pub use config::{Cli, KekSource, Mode, Settings};
/// Random secrets and their hashes, from the application layer.
pub use portcullis_app::secrets;
pub use portcullis_oauth::KeyRing;
pub use startup::Application;
