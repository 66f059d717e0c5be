//! For tests of other crates (the examples, the conformance suite): a
//! server whose issuer is its own loopback address, so that clients can
//! discover it and fetch its keys as they would in production.

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
    let app =
        Application::build(settings(format!("127.0.0.1:{port}"), Issuer::parse(&issuer)?, database_url))?;
    Ok((app, issuer))
}

/// Settings for a test server listening on `listen` as `issuer`: one
/// worker, a fresh key-encryption key, failures summed over a second, and
/// every other setting at its default.
pub fn settings(listen: String, issuer: Issuer, database_url: DatabaseUrl) -> Settings {
    Settings {
        listen,
        issuer,
        database_url,
        pool: PoolOptions::default(),
        kek: KekSource::Value(KeyEncryptionKey::generate().to_base64().to_string()),
        jwks_max_age: Duration::from_secs(60),
        workers: 1,
        shutdown: Default::default(),
        access_token_lifetime: Duration::from_secs(300),
        trusted_proxies: Vec::new(),
        // Receivers and key servers of tests listen on loopback.
        outbound_allow: crate::config::DEV_OUTBOUND_ALLOW
            .iter()
            .map(|n| n.parse().expect("a network"))
            .collect(),
        webhook_failure_period: Some(Duration::from_secs(5 * 86_400)),
        client_version_retention: Duration::from_secs(90 * 86_400),
        redirect_uri_grace: Duration::from_secs(24 * 3_600),
        audit_retention: Duration::from_secs(365 * 86_400),
        usage_retention: Duration::from_secs(30 * 86_400),
        lockout: portcullis_oauth::client_lockout::policy(10, false),
        scopes: Vec::new(),
        auth_failure_window: Duration::from_secs(1),
        clock: portcullis_app::Clock::system(),
        metrics: crate::metrics::Exposure::Main,
        key_rotation: None,
        rate_limits: Default::default(),
        geoip_db: None,
        registration: portcullis_oauth::registration::RegistrationMode::Off,
        software_statement_issuers: Vec::new(),
        client_metadata_documents: None,
        loopback_documents: true,
        pushed_requests: Default::default(),
        require_dpop_nonce: false,
        device_code_lifetime: std::time::Duration::from_secs(600),
        branding: crate::branding::BrandSettings::default(),
    }
}

pub use portcullis_app::geoip::test_database::{write_country_db, write_place_db, TestPlace};
