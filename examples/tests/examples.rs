//! The examples, run as a user runs them, against a live server.

use portcullis_core::{ClientMetadata, Issuer};
use portcullis_jose::KeyEncryptionKey;
use portcullis_server::{clients, Application, KekSource, Settings};
use portcullis_store::test_support::TestDb;
use portcullis_store::PoolOptions;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts Portcullis on `db`, with its issuer at its own address.
fn start_server(db: &TestDb) -> String {
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let app = Application::build(Settings {
        listen: format!("127.0.0.1:{port}"),
        issuer: Issuer::parse(&issuer).unwrap(),
        database_url: db.database_url(),
        pool: PoolOptions::default(),
        kek: KekSource::Value(KeyEncryptionKey::generate().to_base64().to_string()),
        jwks_max_age: Duration::from_secs(60),
        workers: 1,
        access_token_lifetime: Duration::from_secs(300),
        trusted_proxies: Vec::new(),
    })
    .unwrap();
    tokio::spawn(app.run_until_stopped());
    issuer
}

fn register(db: &TestDb, json: serde_json::Value) -> (String, String) {
    let metadata: ClientMetadata = serde_json::from_value(json).unwrap();
    let (id, secret) = clients::create(&db.connect(), &metadata, "example-test").unwrap();
    (id.as_str().to_owned(), secret.unwrap().expose().to_owned())
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_service_gets_a_token_that_the_resource_server_accepts() {
    let db = TestDb::sqlite();
    let (service_id, service_secret) =
        register(&db, serde_json::json!({"client_name": "service", "scope": "read write"}));
    let (rs_id, rs_secret) =
        register(&db, serde_json::json!({"client_name": "resource server", "introspection_allowed": true}));
    let issuer = start_server(&db);

    let output = tokio::task::spawn_blocking({
        let issuer = issuer.clone();
        move || {
            Command::new(env!("CARGO_BIN_EXE_service"))
                .args(["--issuer", &issuer, "--client-id", &service_id, "--scope", "read"])
                .env("CLIENT_SECRET", &service_secret)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    let token: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(token["token_type"], "bearer");
    assert_eq!(token["scope"], "read");
    let access_token = token["access_token"].as_str().unwrap().to_owned();

    let listen = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_resource-server"))
        .args(["--issuer", &issuer, "--client-id", &rs_id, "--listen", &listen])
        .env("CLIENT_SECRET", &rs_secret)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let _running = Running(child);
    tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stderr).lines();
        while let Some(Ok(line)) = lines.next() {
            if line.contains("listening on") {
                return;
            }
        }
        panic!("the resource server did not start");
    })
    .await
    .unwrap();

    let http = reqwest::Client::new();
    let hello = format!("http://{listen}/hello");
    let response = http.get(&hello).bearer_auth(&access_token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "read");
    assert!(body["hello"].is_string());
    let refused = http.get(&hello).bearer_auth("forged").send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    assert_eq!(http.get(&hello).send().await.unwrap().status(), 401);
}
