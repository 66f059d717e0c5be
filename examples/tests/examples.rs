//! The examples, run as a user runs them, against a live server.

use portcullis_core::ClientMetadata;
use portcullis_server::clients;
use portcullis_server::test_support::{free_port, loopback_server};
use portcullis_store::test_support::TestDb;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Starts Portcullis on `db`, with its issuer at its own address.
fn start_server(db: &TestDb) -> String {
    let (app, issuer) = loopback_server(db.database_url()).unwrap();
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
