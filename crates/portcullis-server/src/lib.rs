//! The Portcullis authorization server: configuration, startup and one
//! module per endpoint under [`routes`].

pub mod config;
pub mod endpoints;
pub mod key_encryption;
pub mod key_ring;
pub mod routes;
pub mod startup;
pub mod telemetry;

pub use config::{Cli, KekSource, Mode, Settings};
pub use key_ring::KeyRing;
pub use startup::Application;
