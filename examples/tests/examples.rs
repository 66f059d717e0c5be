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
        .create_client(
            &portcullis_app::Actor::operator(),
            portcullis_core::ClientMetadata::parse(json.as_object().unwrap().clone()).unwrap(),
        )
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

/// Spawns `command` and waits until its standard error says it is
/// listening; returns it running, with that line.
async fn listening(mut command: Command) -> (Running, String) {
    let mut child = command.stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let running = Running(child);
    let line = tokio::task::spawn_blocking(move || {
        BufReader::new(stderr).lines().map_while(Result::ok).find(|line| line.contains("listening on"))
    })
    .await
    .unwrap();
    (running, line.expect("the server started"))
}

/// A user who signs in, with the name Buffy Summers.
fn with_user(db: &TestDb) -> User {
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
    user
}

/// `command` started with its standard output and error read here.
fn app(command: &mut Command) -> Running {
    Running(command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap())
}

/// The URL an app prints for the user to open, from its standard error.
async fn printed_url(app: &mut Running) -> Url {
    let stderr = app.0.stderr.take().unwrap();
    let printed = tokio::task::spawn_blocking(move || {
        BufReader::new(stderr).lines().map_while(Result::ok).find(|line| line.starts_with("http"))
    });
    Url::parse(&printed.await.unwrap().expect("the app prints the URL to open")).unwrap()
}

/// The user signs in and consents at `url` in a browser, which then lands on the app.
async fn sign_in_at(user: &User, url: &Url) {
    let redirect_uri = url.query_pairs().find(|(name, _)| name == "redirect_uri").unwrap().1.into_owned();
    assert!(redirect_uri.starts_with("http://127.0.0.1:"), "a loopback redirect with a port: {redirect_uri}");
    let journey = UserAgent::new(user).unwrap().visit(url, &redirect_uri).await.unwrap();
    assert!(journey.logged_in && journey.consented);
    let landing = Url::parse_with_params(&redirect_uri, journey.callback().unwrap()).unwrap();
    assert_eq!(reqwest::get(landing).await.unwrap().status(), 200);
}

/// What `app` printed on its standard output, once it exited successfully.
fn printed_json(app: &mut Running) -> serde_json::Value {
    let mut stdout = String::new();
    app.0.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    assert!(app.0.wait().unwrap().success());
    serde_json::from_str(&stdout).unwrap()
}

#[tokio::test]
async fn the_device_app_signs_its_user_in_from_another_browser() {
    let db = TestDb::sqlite();
    let (client_id, _) = register(
        &db,
        serde_json::json!({"client_name": "TV app", "token_endpoint_auth_method": "none",
                           "grant_types": ["urn:ietf:params:oauth:grant-type:device_code"], "scope": "openid profile"}),
    );
    let user = with_user(&db);
    let issuer = start_server(&db);
    let mut app = app(Command::new(env!("CARGO_BIN_EXE_device-sign-in")).args([
        "--issuer",
        &issuer,
        "--client-id",
        &client_id,
        "--timeout",
        "60",
    ]));
    // The URL with the code filled in, opened on "another device".
    let url = printed_url(&mut app).await;
    assert!(url.path() == "/device" && url.query().is_some_and(|q| q.starts_with("user_code=")), "{url}");
    let journey = UserAgent::new(&user).unwrap().visit(&url, "http://unused.example/").await.unwrap();
    assert!(journey.logged_in && journey.consented, "{journey:?}");
    let portcullis_conformance::user_agent::Landing::Notice(page) = &journey.landing else {
        panic!("{journey:?}")
    };
    assert!(page.contains("Device connected"), "{page}");
    let printed = printed_json(&mut app);
    assert_eq!(printed["id_token"]["iss"], issuer);
    assert_eq!(printed["id_token"]["aud"], serde_json::json!([client_id]));
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
        let (issuer, service_id, service_secret) =
            (issuer.clone(), service_id.clone(), service_secret.clone());
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
    let mut command = Command::new(env!("CARGO_BIN_EXE_resource-server"));
    command
        .args(["--issuer", &issuer, "--client-id", &rs_id, "--listen", &listen])
        .env("CLIENT_SECRET", &rs_secret);
    let (_running, _) = listening(command).await;

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

    // A token bound to a DPoP key (RFC 9449): taken with a proof of that key only.
    let key = josekit::jwk::alg::ec::EcKeyPair::generate(josekit::jwk::alg::ec::EcCurve::P256).unwrap();
    let token_endpoint = format!("{issuer}/token");
    let bound: serde_json::Value = http
        .post(&token_endpoint)
        .basic_auth(&service_id, Some(&service_secret))
        .header("DPoP", dpop_proof(&key, "POST", &token_endpoint, None))
        .form(&[("grant_type", "client_credentials"), ("scope", "read")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bound["token_type"], "DPoP", "{bound}");
    let bound = bound["access_token"].as_str().unwrap();
    let with_proof = |key, token: &str| {
        http.get(&hello)
            .header("authorization", format!("DPoP {token}"))
            .header("DPoP", dpop_proof(key, "GET", &hello, Some(token)))
    };
    let accepted = with_proof(&key, bound).send().await.unwrap();
    assert_eq!(accepted.status(), 200);
    let body: serde_json::Value = accepted.json().await.unwrap();
    assert!(body["bound_to"].is_string(), "{body}");
    let stranger = josekit::jwk::alg::ec::EcKeyPair::generate(josekit::jwk::alg::ec::EcCurve::P256).unwrap();
    for (refused, why) in [
        (http.get(&hello).bearer_auth(bound), "as a bearer token"),
        (with_proof(&stranger, bound), "with another key's proof"),
        (with_proof(&key, bound).header("DPoP", "x"), "with two proofs"),
        (with_proof(&key, &access_token), "an unbound token as DPoP"),
    ] {
        assert_eq!(refused.send().await.unwrap().status(), 401, "{why}");
    }
}

/// A DPoP proof (RFC 9449 §4.2) by `key` for `htm` at `htu`, naming `token`.
fn dpop_proof(key: &josekit::jwk::alg::ec::EcKeyPair, htm: &str, htu: &str, token: Option<&str>) -> String {
    use base64::Engine;
    use sha2::Digest;
    let mut header = josekit::jws::JwsHeader::new();
    header.set_token_type("dpop+jwt");
    header.set_claim("jwk", Some(serde_json::to_value(key.to_jwk_public_key()).unwrap())).unwrap();
    let mut payload = josekit::jwt::JwtPayload::new();
    payload.set_jwt_id(fresh_jti());
    payload.set_claim("htm", Some(htm.into())).unwrap();
    payload.set_claim("htu", Some(htu.into())).unwrap();
    payload.set_issued_at(&std::time::SystemTime::now());
    if let Some(token) = token {
        let ath =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.as_bytes()));
        payload.set_claim("ath", Some(ath.into())).unwrap();
    }
    let signer = josekit::jws::ES256.signer_from_jwk(&key.to_jwk_key_pair()).unwrap();
    josekit::jwt::encode_with_signer(&payload, &header, &signer).unwrap()
}

/// A `jti` no other proof of this run has.
fn fresh_jti() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst))
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
    let user = with_user(&db);
    let issuer = start_server(&db);

    let mut app = app(Command::new(env!("CARGO_BIN_EXE_sign-in")).args([
        "--issuer",
        &issuer,
        "--client-id",
        &client_id,
    ]));
    let url = printed_url(&mut app).await;
    sign_in_at(&user, &url).await;
    let printed = printed_json(&mut app);
    let id_token = &printed["id_token"];
    assert_eq!(id_token["iss"], issuer);
    assert_eq!(id_token["aud"], serde_json::json!([client_id]));
    assert!(id_token["sub"].is_string() && id_token["nonce"].is_string() && id_token["at_hash"].is_string());
    assert_eq!(printed["userinfo"]["sub"], id_token["sub"]);
    assert_eq!(printed["userinfo"]["name"], "Buffy Summers", "{printed}");
}

#[tokio::test]
async fn an_mcp_client_registers_itself_signs_a_user_in_and_lists_the_mcp_servers_tools() {
    let db = TestDb::sqlite();
    let (server_id, server_secret) =
        register(&db, serde_json::json!({"client_name": "MCP server", "introspection_allowed": true}));
    let user = with_user(&db);
    // `portcullis serve --registration open --scopes mcp:tools`.
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let mut settings = portcullis_server::test_support::settings(
        format!("127.0.0.1:{port}"),
        portcullis_core::Issuer::parse(&issuer).unwrap(),
        db.database_url(),
    );
    settings.registration = portcullis_oauth::registration::RegistrationMode::Open;
    settings.scopes = vec!["mcp:tools".into()];
    tokio::spawn(portcullis_server::Application::build(settings).unwrap().run_until_stopped());

    let mut command = Command::new(env!("CARGO_BIN_EXE_mcp-server"));
    command.args(["--issuer", &issuer, "--client-id", &server_id, "--listen", "127.0.0.1:0"]);
    command.env("CLIENT_SECRET", &server_secret);
    let (_mcp_server, started) = listening(command).await;
    let endpoint = started.rsplit(' ').next().unwrap().to_owned();
    assert!(endpoint.ends_with("/mcp"), "{started}");

    let mut client = app(Command::new(env!("CARGO_BIN_EXE_mcp-client")).args(["--server", &endpoint]));
    let url = printed_url(&mut client).await;
    let asked: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(asked["resource"], endpoint, "RFC 8707: the token is asked for the MCP server");
    assert_eq!((asked["scope"].as_str(), asked["code_challenge_method"].as_str()), ("mcp:tools", "S256"));
    sign_in_at(&user, &url).await;
    let listed = printed_json(&mut client);
    assert_eq!(listed["tools"][0]["name"], "whoami", "{listed}");

    // The client registered itself openly, and its token is for the MCP server alone.
    let query = portcullis_app::clients::ClientQuery { limit: 10, ..Default::default() };
    let operations = portcullis_app::App::with_defaults(db.connect());
    let clients = operations.clients(&portcullis_app::Actor::operator(), &query).unwrap().clients;
    let registered = clients.iter().find(|c| c.registration.is_some()).expect("a registered client");
    assert_eq!(registered.metadata.resources, vec![endpoint.clone()]);
    assert_eq!(registered.registration.as_ref().unwrap().admitted_by, "open registration");
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
