//! For tests of other crates (the examples, the conformance suite): a
//! server whose issuer is its own loopback address, so that clients can
//! discover it and fetch its keys as they would in production.

use crate::config::{Lockout, LockoutAction};
use crate::{Application, KekSource, Settings};
use portcullis_core::Issuer;
use portcullis_jose::KeyEncryptionKey;
use portcullis_store::{DatabaseUrl, PoolOptions};
use std::time::Duration;

/// A free loopback port (it may be taken again before it is used; tests
/// accept that small race).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.local_addr().expect("a bound address").port()
}

/// Builds a server on `database_url` listening on a free loopback port,
/// with that address as its issuer and a fresh key-encryption key; returns
/// it unstarted with its issuer. Run it with `tokio::spawn(app.run_until_stopped())`.
pub fn loopback_server(database_url: DatabaseUrl) -> anyhow::Result<(Application, String)> {
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let app = Application::build(Settings {
        listen: format!("127.0.0.1:{port}"),
        issuer: Issuer::parse(&issuer)?,
        database_url,
        pool: PoolOptions::default(),
        kek: KekSource::Value(KeyEncryptionKey::generate().to_base64().to_string()),
        jwks_max_age: Duration::from_secs(60),
        workers: 1,
        access_token_lifetime: Duration::from_secs(300),
        trusted_proxies: Vec::new(),
        client_version_retention: Duration::from_secs(90 * 86_400),
        redirect_uri_grace: Duration::from_secs(24 * 3_600),
        audit_retention: Duration::from_secs(365 * 86_400),
        usage_retention: Duration::from_secs(30 * 86_400),
        lockout: Lockout { threshold: 10, action: LockoutAction::Lock },
        scopes: Vec::new(),
        auth_failure_window: Duration::from_secs(1),
        clock: portcullis_app::Clock::system(),
        metrics: crate::metrics::Exposure::Main,
        key_rotation: None,
        rate_limits: Default::default(),
    })?;
    Ok((app, issuer))
}
