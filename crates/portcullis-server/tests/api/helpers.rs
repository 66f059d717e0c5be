//! Starting the application for a test.

use portcullis_core::Issuer;
use portcullis_jose::KeyEncryptionKey;
use portcullis_server::{Application, KekSource, Settings};
use portcullis_store::test_support::TestDb;
use portcullis_store::PoolOptions;
use std::time::Duration;

/// The issuer every test server is configured with: a path and no trailing
/// slash, so byte-for-byte comparisons mean something.
pub const ISSUER: &str = "https://issuer.test/tenant-1";
/// The JWKS cache lifetime test servers are configured with.
pub const JWKS_MAX_AGE: u64 = 120;

/// A running test server.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.address)).send().await.expect("request reaches the server")
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("a JSON body")
    }
}

/// A new random key-encryption key, base64.
pub fn new_kek() -> String {
    KeyEncryptionKey::generate().to_base64().to_string()
}

/// Settings for a server on `db` with key-encryption key `kek`.
pub fn settings(db: &TestDb, kek: &str) -> Settings {
    Settings {
        pool: PoolOptions { max_size: 4, connection_timeout: Duration::from_secs(2) },
        kek: KekSource::Value(kek.to_owned()),
        jwks_max_age: Duration::from_secs(JWKS_MAX_AGE),
        ..portcullis_server::test_support::settings(
            "127.0.0.1:0".to_owned(),
            Issuer::parse(ISSUER).unwrap(),
            db.database_url(),
        )
    }
}

/// Builds and runs the application with `settings`.
pub fn spawn_with(settings: Settings) -> TestApp {
    serve(Application::build(settings).expect("the application starts"))
}

/// Runs a built application in the background.
pub fn serve(app: Application) -> TestApp {
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp { address, client: reqwest::Client::new() }
}

/// Runs the application on `db` with a fresh key-encryption key.
pub fn spawn_app(db: &TestDb) -> TestApp {
    spawn_with(settings(db, &new_kek()))
}
