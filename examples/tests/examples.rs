//! The examples, run as a user runs them, against a live server.

use portcullis_conformance::target::User;
use portcullis_conformance::user_agent::UserAgent;
use portcullis_core::{Password, StandardClaims, Username};
use portcullis_server::test_support::{free_port, loopback_server};
use portcullis_store::test_support::TestDb;
use reqwest::Url;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

/// Starts Portcullis on `db`, with its issuer at its own address.
fn start_server(db: &TestDb) -> String {
    let (app, issuer) = loopback_server(db.database_url()).unwrap();
    tokio::spawn(app.run_until_stopped());
    issuer
}

fn register(db: &TestDb, json: serde_json::Value) -> (String, String) {
    let created = portcullis_app::App::with_defaults(db.connect())
        .create_client(&portcullis_app::Actor::operator(), json.as_object().unwrap().clone())
        .unwrap();
    (created.client.client_id, created.secret.map(|s| s.expose().to_owned()).unwrap_or_default())
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

#[tokio::test]
async fn the_app_signs_a_user_in_with_pkce_and_prints_the_verified_claims() {
    let db = TestDb::sqlite();
    let (client_id, _) = register(
        &db,
        serde_json::json!({"client_name": "CLI app", "token_endpoint_auth_method": "none",
                           "grant_types": ["authorization_code"], "redirect_uris": ["http://127.0.0.1/callback"],
                           "scope": "openid profile email"}),
    );
    let user = User { username: "buffy".into(), password: "correct horse battery staple".into() };
    let claims = StandardClaims { name: Some("Buffy Summers".into()), ..StandardClaims::default() };
    let username = Username::parse(&user.username).unwrap();
    portcullis_app::App::with_defaults(db.connect())
        .create_user(
            &portcullis_app::Actor::operator(),
            &username,
            Some(Password::new(user.password.clone())),
            &claims,
        )
        .unwrap();
    let issuer = start_server(&db);

    let mut app = Running(
        Command::new(env!("CARGO_BIN_EXE_sign-in"))
            .args(["--issuer", &issuer, "--client-id", &client_id])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = app.0.stderr.take().unwrap();
    let printed = tokio::task::spawn_blocking(move || {
        BufReader::new(stderr).lines().map_while(Result::ok).find(|line| line.starts_with("http"))
    });
    let url = Url::parse(&printed.await.unwrap().expect("the app prints the URL to open")).unwrap();
    let redirect_uri = url.query_pairs().find(|(name, _)| name == "redirect_uri").unwrap().1.into_owned();
    assert!(redirect_uri.starts_with("http://127.0.0.1:"), "a loopback redirect with a port: {redirect_uri}");

    // The user logs in and consents in a browser, which then lands on the app.
    let journey = UserAgent::new(&user).unwrap().visit(&url, &redirect_uri).await.unwrap();
    assert!(journey.logged_in && journey.consented);
    let landing = Url::parse_with_params(&redirect_uri, journey.callback().unwrap()).unwrap();
    let page = reqwest::get(landing).await.unwrap();
    assert_eq!(page.status(), 200);

    let mut stdout = String::new();
    app.0.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    assert!(app.0.wait().unwrap().success());
    let printed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let id_token = &printed["id_token"];
    assert_eq!(id_token["iss"], issuer);
    assert_eq!(id_token["aud"], serde_json::json!([client_id]));
    assert!(id_token["sub"].is_string() && id_token["nonce"].is_string() && id_token["at_hash"].is_string());
    assert_eq!(printed["userinfo"]["sub"], id_token["sub"]);
    assert_eq!(printed["userinfo"]["name"], "Buffy Summers", "{printed}");
}

#[tokio::test]
async fn the_admin_script_registers_updates_rolls_back_and_rotates() {
    let db = TestDb::sqlite();
    let admin = portcullis_app::App::with_defaults(db.connect())
        .bootstrap(&portcullis_app::Actor::operator(), false)
        .unwrap();
    let issuer = start_server(&db);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/admin.sh");
    let output = tokio::task::spawn_blocking({
        let issuer = issuer.clone();
        move || {
            Command::new("bash")
                .arg(script)
                .env("ISSUER", &issuer)
                .env("ADMIN_CLIENT_ID", &admin.client_id)
                .env("ADMIN_CLIENT_SECRET", admin.client_secret.expose())
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(&stdout[stdout.rfind("{\n").expect("a summary")..]).unwrap();
    let client_id = summary["client_id"].as_str().unwrap();
    let kid = summary["active_rs256_kid"].as_str().unwrap();
    assert!(stdout.contains("\"next_key_published\": true"), "{stdout}");
    assert!(stdout.contains("\"action\":\"client.rolled_back\""), "{stdout}");
    let stored =
        portcullis_store::clients::find(&mut db.connect().get().unwrap(), client_id).unwrap().unwrap();
    assert_eq!(stored.version, 3, "created, updated, rolled back");
    assert_eq!(stored.metadata.scope.to_string(), "read write", "version 1's scope is back");
    let keys = portcullis_store::keys::all(&mut db.connect().get().unwrap()).unwrap();
    let active = keys.iter().find(|k| k.kid == kid).unwrap();
    assert_eq!(active.state, portcullis_core::KeyState::Active);
}

#[tokio::test]
async fn the_webhook_receiver_verifies_and_prints_the_servers_events() {
    let db = TestDb::sqlite();
    let admin = portcullis_app::App::with_defaults(db.connect())
        .bootstrap(&portcullis_app::Actor::operator(), false)
        .unwrap();
    let issuer = start_server(&db);
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{issuer}/token"))
        .basic_auth(&admin.client_id, Some(admin.client_secret.expose()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let listen = format!("127.0.0.1:{}", free_port());
    let registered: serde_json::Value = http
        .post(format!("{issuer}/admin/v1/webhooks"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"url": format!("http://{listen}/webhooks"), "events": ["client.*"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_webhook-receiver"))
        .args(["--listen", &listen])
        .env("WEBHOOK_SECRET", registered["secret"].as_str().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let _running = Running(child);
    let (lines, printed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut started = BufReader::new(stderr).lines();
        if started.any(|line| line.is_ok_and(|l| l.contains("listening on"))) {
            lines.send("started".to_owned()).ok();
        }
    });
    let (events, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            events.send(line).ok();
        }
    });
    assert_eq!(printed.recv_timeout(std::time::Duration::from_secs(30)).unwrap(), "started");

    let forged = http
        .post(format!("http://{listen}/webhooks"))
        .header("webhook-id", "msg_forged")
        .header("webhook-timestamp", chrono_now().to_string())
        .header("webhook-signature", "v1,AAAA")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401, "an unsigned delivery is refused");

    let created = http
        .post(format!("{issuer}/admin/v1/clients"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"client_name": "billing"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let client: serde_json::Value = created.json().await.unwrap();
    let line = tokio::task::spawn_blocking(move || received.recv_timeout(std::time::Duration::from_secs(30)))
        .await
        .unwrap()
        .expect("the receiver printed the event");
    let event: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(event["type"], "client.created");
    assert_eq!(event["data"]["target"], client["client_id"]);
}

fn chrono_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}
