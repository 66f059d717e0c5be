//! The `portcullis` binary as a user runs it.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const CONFIG_VARS: [&str; 12] = [
    "PORTCULLIS_CONFIG",
    "PORTCULLIS_METRICS",
    "DATABASE_URL",
    "PORTCULLIS_DATABASE_URL",
    "PORTCULLIS_LISTEN",
    "PORTCULLIS_ISSUER",
    "PORTCULLIS_KEK",
    "PORTCULLIS_KEK_FILE",
    "PORTCULLIS_MODE",
    "PORTCULLIS_LOG",
    "PORTCULLIS_JWKS_MAX_AGE",
    "PORTCULLIS_WORKERS",
];

/// `portcullis` with no configuration from this process's environment, run in `dir`.
fn portcullis(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    command.current_dir(dir).stdin(Stdio::null());
    for var in CONFIG_VARS {
        command.env_remove(var);
    }
    command
}

/// Kills the server when the test ends, passed or failed.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve` and waits for the address it listens on.
fn serve(command: Command) -> (Running, String) {
    let (running, address, _) = serve_logged(command);
    (running, address)
}

/// Starts `serve`, waits for the address it listens on, and hands on every
/// line it logs from then on.
fn serve_logged(mut command: Command) -> (Running, String, mpsc::Receiver<String>) {
    let mut child = command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let running = Running(child);
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    loop {
        let line = received.recv_timeout(Duration::from_secs(60)).expect("the server logs its address");
        if let Some(address) = line.split("listening on ").nth(1) {
            let address = address.split_whitespace().next().unwrap().to_owned();
            return (running, address, received);
        }
    }
}

/// Runs a command that must fail, and returns its one line of standard error.
fn failure(command: &mut Command) -> String {
    let output = command.env("PORTCULLIS_LOG", "off").output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line, no panic or backtrace: {stderr}");
    assert!(stderr.starts_with("portcullis: error: "), "{stderr}");
    stderr
}

/// What `config check` prints for `args` and `env` in `dir`, or its error.
fn config_check(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<String, String> {
    let output =
        portcullis(dir).arg("config").arg("check").args(args).envs(env.iter().copied()).output().unwrap();
    let (out, err) = (String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap());
    if output.status.success() {
        Ok(out)
    } else {
        Err(err)
    }
}

#[test]
fn a_config_file_sits_beneath_the_environment_and_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.toml"),
        "listen = \"127.0.0.1:7001\"\njwks-max-age = 42\nscopes = [\"read\", \"write\"]\n",
    )
    .unwrap();
    let file = ["--config", "p.toml"];
    let resolved = config_check(dir.path(), &file, &[]).unwrap();
    assert!(
        resolved.contains("listen: \"127.0.0.1:7001\"") && resolved.contains("jwks_max_age: 42s"),
        "{resolved}"
    );
    assert!(resolved.contains("\"read\",\n        \"write\""), "a list stays a list: {resolved}");
    let env = [("PORTCULLIS_JWKS_MAX_AGE", "43")];
    assert!(
        config_check(dir.path(), &file, &env).unwrap().contains("jwks_max_age: 43s"),
        "the environment overrides the file"
    );
    let flag = ["--config", "p.toml", "--jwks-max-age", "44"];
    assert!(
        config_check(dir.path(), &flag, &env).unwrap().contains("jwks_max_age: 44s"),
        "a flag overrides both"
    );
    let from_env = config_check(dir.path(), &[], &[("PORTCULLIS_CONFIG", "p.toml")]).unwrap();
    assert!(from_env.contains("127.0.0.1:7001"), "PORTCULLIS_CONFIG names the file too");
    std::fs::write(
        dir.path().join("db.toml"),
        "database_url = \"sqlite://from-file.db\"\nlisten = \"127.0.0.1:7001\"\n",
    )
    .unwrap();
    let migrated =
        portcullis(dir.path()).arg("migrate").env("PORTCULLIS_CONFIG", "db.toml").output().unwrap();
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));
    assert!(
        dir.path().join("from-file.db").is_file(),
        "commands that open the database read it from the file"
    );
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/portcullis.toml");
    config_check(dir.path(), &["--config", example.to_str().unwrap()], &[])
        .expect("the example file is valid");
}

#[test]
fn a_config_file_with_an_unknown_key_or_a_bad_value_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("typo.toml"), "listen = \"127.0.0.1:7001\"\njwks_max_ag = 42\n").unwrap();
    let error = config_check(dir.path(), &["--config", "typo.toml"], &[]).unwrap_err();
    assert!(error.contains("typo.toml") && error.contains("line 2: unknown key `jwks_max_ag`"), "{error}");
    std::fs::write(dir.path().join("bad.toml"), "workers = \"many\"\n").unwrap();
    let error = config_check(dir.path(), &["--config", "bad.toml"], &[]).unwrap_err();
    assert!(error.contains("many") && error.contains("--workers"), "{error}");
    let error = config_check(dir.path(), &["--config", "missing.toml"], &[]).unwrap_err();
    assert!(error.contains("cannot read the config file missing.toml"), "{error}");
    std::fs::write(
        dir.path().join("secret.toml"),
        "listen = \"x\"\ndatabase_url = \"postgres://app:hunter2@db/p\n",
    )
    .unwrap();
    let error = config_check(dir.path(), &["--config", "secret.toml"], &[]).unwrap_err();
    assert!(
        error.contains("line 2") && !error.contains("hunter2"),
        "a syntax error names its line, never its text: {error}"
    );
    let error =
        config_check(dir.path(), &["--key-rotation-days", "1", "--jwks-max-age", "50000"], &[]).unwrap_err();
    assert!(error.contains("--key-rotation-days must be longer than twice --jwks-max-age"), "{error}");
    let rotating = config_check(dir.path(), &["--key-rotation-days", "30"], &[]).unwrap();
    assert!(rotating.contains("key_rotation: Some(\n        2592000s,"), "{rotating}");
}

#[tokio::test]
async fn serve_with_no_configuration_starts_on_sqlite_with_generated_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = portcullis(dir.path());
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    let (_server, address, logged) = serve_logged(command);
    // Behind a proxy nobody named, the operator is told, once.
    let proxied = reqwest::Client::new();
    for _ in 0..3 {
        let token = proxied
            .post(format!("{address}/token"))
            .header("x-forwarded-for", "198.51.100.7")
            .basic_auth("nobody", Some("x"));
        token.form(&[("grant_type", "client_credentials")]).send().await.unwrap();
    }
    let warned = |line: &String| line.contains("X-Forwarded-For") && line.contains("--trusted-proxies");
    let mut warnings = 0;
    while let Ok(line) = logged.recv_timeout(Duration::from_millis(500)) {
        warnings += usize::from(warned(&line));
    }
    assert_eq!(warnings, 1, "warned once, then every ten minutes");
    let document: serde_json::Value = reqwest::get(format!("{address}/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["issuer"], "http://localhost:8080");
    assert!(dir.path().join("data/portcullis.db").is_file());
    let kek = std::fs::metadata(dir.path().join("keys/dev.kek")).unwrap();
    assert_eq!(kek.permissions().mode() & 0o777, 0o600);
    assert_eq!(reqwest::get(format!("{address}/readyz")).await.unwrap().status(), 200);
}

/// SIGTERM: readiness goes first, a request in flight finishes, the usage
/// counted is written, and the process exits 0. Metrics have a listener of
/// their own, which must not stop everything at once as actix-web would.
#[tokio::test]
async fn sigterm_takes_the_server_out_of_rotation_then_finishes_what_is_in_flight() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let mut command = portcullis(dir.path());
    let metrics = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    command.args(["serve", "--listen", "127.0.0.1:0", "--shutdown-delay", "2", "--metrics", &metrics]);
    let (mut server, address, logged) = serve_logged(command);
    let bootstrap = portcullis(dir.path()).arg("bootstrap").output().unwrap();
    let admin: serde_json::Value = serde_json::from_slice(&bootstrap.stdout).unwrap();
    let (id, secret) = (admin["client_id"].as_str().unwrap(), admin["client_secret"].as_str().unwrap());
    let http = reqwest::Client::new();
    let token = http.post(format!("{address}/token")).basic_auth(id, Some(secret));
    assert_eq!(token.form(&[("grant_type", "client_credentials")]).send().await.unwrap().status(), 200);

    // A request whose body has only half arrived when the signal comes.
    let body = "grant_type=client_credentials";
    let mut in_flight = std::net::TcpStream::connect(address.trim_start_matches("http://")).unwrap();
    let basic = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{id}:{secret}"));
    write!(
        in_flight,
        "POST /token HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {basic}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(unsafe { libc::kill(server.0.id() as i32, libc::SIGTERM) }, 0);

    // The signal is handled on a thread of its own: within moments, well inside the delay.
    let mut ready = http.get(format!("{address}/readyz")).send().await.unwrap();
    for _ in 0..20 {
        if ready.status() == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        ready = http.get(format!("{address}/readyz")).send().await.unwrap();
    }
    assert_eq!(ready.status(), 503, "out of rotation while it still serves");
    assert!(ready.headers().contains_key("retry-after"));
    assert!(ready.text().await.unwrap().contains("stopping"));
    std::thread::sleep(Duration::from_millis(500));
    let still_served = http.get(format!("{address}/jwks")).send().await.unwrap();
    assert_eq!(still_served.status(), 200, "requests are served during the delay");
    assert_eq!(http.get(format!("http://{metrics}/metrics")).send().await.unwrap().status(), 200);

    in_flight.write_all(&body.as_bytes()[10..]).unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "the request in flight was answered: {answer}");

    let status = (0..100)
        .find_map(|_| {
            std::thread::sleep(Duration::from_millis(100));
            server.0.try_wait().unwrap()
        })
        .expect("the server exits after the delay");
    assert!(status.success(), "{status:?}");
    assert!(
        std::net::TcpStream::connect(address.trim_start_matches("http://")).is_err(),
        "the listener is closed"
    );
    let lines: Vec<String> = logged.try_iter().collect();
    assert!(lines.iter().any(|l| l.contains("usage counts and failure summaries written")), "{lines:#?}");
    let url = portcullis_store::DatabaseUrl::parse(dir.path().join("data/portcullis.db").to_str().unwrap())
        .unwrap();
    let db = portcullis_store::Database::connect(&url, &Default::default()).unwrap();
    let now = chrono::Utc::now();
    let minutes = portcullis_store::usage::totals_by_minute(
        &mut db.get().unwrap(),
        (now - chrono::TimeDelta::hours(1), now),
        None,
    )
    .unwrap();
    let issued: i64 = minutes.iter().map(|(_, counts)| counts.tokens_issued).sum();
    assert_eq!(issued, 2, "both tokens are counted, the minute unfinished");
}

#[test]
fn bad_database_urls_fail_at_start_with_one_line_naming_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    for (url, cause) in [
        ("mysql://root:hunter2@localhost/db".to_owned(), "unsupported database URL"),
        ("postgres://app:hunter2@127.0.0.1:bad/db".to_owned(), "\"bad\""),
        (format!("postgres://app:hunter2@127.0.0.1:{closed_port}/db"), "refused"),
    ] {
        let stderr = failure(
            portcullis(dir.path()).args(["serve", "--listen", "127.0.0.1:0"]).env("DATABASE_URL", &url),
        );
        assert!(stderr.contains(cause), "{url}: {stderr}");
        assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");
    }
}

#[test]
fn production_mode_refuses_development_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = failure(portcullis(dir.path()).args(["serve", "--mode", "production"]));
    assert!(stderr.contains("https issuer"), "{stderr}");
    let stderr = failure(portcullis(dir.path()).args([
        "serve",
        "--mode",
        "production",
        "--issuer",
        "https://id.example",
    ]));
    assert!(stderr.contains("key-encryption key"), "{stderr}");
    assert!(!dir.path().join("keys").exists() && !dir.path().join("data").exists(), "nothing was created");
}

#[test]
fn invalid_issuers_and_log_filters_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = failure(portcullis(dir.path()).args(["serve", "--issuer", "https://id.example/?tenant=1"]));
    assert!(stderr.contains("query or fragment"), "{stderr}");
    let output = portcullis(dir.path()).args(["--log-level", "not==valid", "serve"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid log filter"));
}

#[test]
fn migrate_applies_the_schema_once() {
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        let output =
            portcullis(dir.path()).args(["migrate", "--database-url", "sqlite://p.db"]).output().unwrap();
        assert!(output.status.success(), "{output:?}");
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    assert!(!run()["applied"].as_array().unwrap().is_empty());
    assert_eq!(run()["applied"], serde_json::json!([]));
}

#[tokio::test]
async fn a_client_created_on_the_command_line_gets_a_token_from_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let output = portcullis(dir.path())
        .args([
            "client",
            "create",
            "--name",
            "billing",
            "--scope",
            "read write",
            "--auth-method",
            "client_secret_post",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(created["client_name"], "billing");
    assert_eq!(created["token_endpoint_auth_method"], "client_secret_post");
    let (id, secret) = (created["client_id"].as_str().unwrap(), created["client_secret"].as_str().unwrap());
    assert!(!String::from_utf8_lossy(&output.stderr).contains(secret), "the secret is never logged");

    let (_server, address) = serve({
        let mut command = portcullis(dir.path());
        command.args(["serve", "--listen", "127.0.0.1:0"]);
        command
    });
    let response: serde_json::Value = reqwest::Client::new()
        .post(format!("{address}/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("scope", "read"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["scope"], "read", "{response}");
    assert_eq!(response["token_type"], "Bearer");
}

#[test]
fn client_create_refuses_invalid_metadata_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let stderr =
        failure(portcullis(dir.path()).args(["client", "create", "--name", "x", "--grant-type", "implicit"]));
    assert!(stderr.contains("invalid client metadata"), "{stderr}");
    let code_flow = ["client", "create", "--name", "x", "--grant-type", "authorization_code"];
    let stderr = failure(portcullis(dir.path()).args(code_flow));
    assert!(stderr.contains("redirect_uris"), "{stderr}");
    let stderr =
        failure(portcullis(dir.path()).args(code_flow).args(["--redirect-uri", "http://app.example/cb"]));
    assert!(stderr.contains("loopback"), "{stderr}");
    let file = dir.path().join("client.json");
    std::fs::write(&file, r#"{"client_name": "x", "access_token_lifetime": 0}"#).unwrap();
    let stderr = failure(portcullis(dir.path()).args(["client", "create", "--metadata-file"]).arg(&file));
    assert!(stderr.contains("access_token_lifetime"), "{stderr}");
    assert!(!dir.path().join("data").exists(), "nothing was written");
}

#[tokio::test]
async fn an_initial_access_token_issued_on_the_command_line_admits_its_registrations_until_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.json");
    std::fs::write(
        &policy,
        r#"{"token_endpoint_auth_methods": ["none"], "redirect_uri_patterns": ["http://127.0.0.1:*/*"]}"#,
    )
    .unwrap();
    let output = portcullis(dir.path())
        .args(["registration-token", "issue", "--description", "CI agents", "--max-uses", "1"])
        .args(["--expires-in-days", "1", "--policy-file"])
        .arg(&policy)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let issued: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let (token_id, token) =
        (issued["token_id"].as_str().unwrap(), issued["initial_access_token"].as_str().unwrap());
    assert_eq!(issued["policy"]["token_endpoint_auth_methods"], serde_json::json!(["none"]));

    let (_server, address) = serve({
        let mut command = portcullis(dir.path());
        command.args(["serve", "--listen", "127.0.0.1:0", "--registration", "token"]);
        command
    });
    let registration =
        serde_json::json!({"client_name": "agent", "redirect_uris": ["http://127.0.0.1:5000/cb"]});
    let register = || {
        reqwest::Client::new()
            .post(format!("{address}/register"))
            .bearer_auth(token)
            .json(&registration)
            .send()
    };
    let registered: serde_json::Value = register().await.unwrap().json().await.unwrap();
    assert_eq!(registered["token_endpoint_auth_method"], "none", "the policy's method when none is asked");
    assert_eq!(register().await.unwrap().status(), 401, "its one use is taken");

    let listed = portcullis(dir.path()).args(["registration-token", "list"]).output().unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["initial_access_tokens"][0]["state"], "used_up");
    assert!(!String::from_utf8_lossy(&output.stderr).contains(token), "the token is never logged");
    let revoke = || portcullis(dir.path()).args(["registration-token", "revoke", token_id]).output().unwrap();
    assert!(revoke().status.success());
    let stderr = String::from_utf8_lossy(&revoke().stderr).into_owned();
    assert!(stderr.contains("no initial access token"), "{stderr}");
}

#[test]
fn custom_attributes_are_defined_and_set_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = portcullis(dir.path()).args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}: {output:?}");
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    run(&[
        "user-attribute",
        "define",
        "--name",
        "department",
        "--type",
        "string",
        "--description",
        "where they work",
    ]);
    let stderr = failure(portcullis(dir.path()).args([
        "user-attribute",
        "define",
        "--name",
        "email",
        "--type",
        "string",
    ]));
    assert!(stderr.contains("cannot be an attribute"), "{stderr}");
    let user = run(&["user", "create", "--username", "ada"]);
    let user_id = user["user_id"].as_str().unwrap();
    let file = dir.path().join("attributes.json");
    std::fs::write(&file, r#"{"department": "Research"}"#).unwrap();
    let set = run(&["user", "set-attributes", "--user-id", user_id, "--file", file.to_str().unwrap()]);
    assert_eq!(set["attributes"]["department"], "Research");
    std::fs::write(&file, r#"{"department": 7}"#).unwrap();
    let stderr = failure(
        portcullis(dir.path()).args(["user", "set-attributes", "--user-id", user_id, "--file"]).arg(&file),
    );
    assert!(stderr.contains("department: must be text"), "{stderr}");
    assert_eq!(run(&["user-attribute", "list"])["attributes"][0]["type"], "string");
    assert_eq!(run(&["user-attribute", "remove", "department"])["values_cleared"], 1);
}

/// Two `portcullis serve` processes on one database, with one key-encryption key.
fn two_servers(
    db: &portcullis_store::test_support::TestDb,
    dir: &Path,
) -> [(Running, crate::helpers::TestApp); 2] {
    two_servers_with(db, dir, &crate::helpers::new_kek())
}

/// [`two_servers`] with the key-encryption key `kek`.
fn two_servers_with(
    db: &portcullis_store::test_support::TestDb,
    dir: &Path,
    kek: &str,
) -> [(Running, crate::helpers::TestApp); 2] {
    let start = || {
        let mut command = portcullis(dir);
        command
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("DATABASE_URL", db.url())
            .env("PORTCULLIS_KEK", kek);
        let (running, address) = serve(command);
        (running, crate::helpers::TestApp { address, client: reqwest::Client::new() })
    };
    let first = start();
    [first, start()]
}

/// Polls until `token` is inactive at `app`, returning how long that took.
pub async fn until_inactive(app: &crate::helpers::TestApp, caller: (&str, &str), token: &str) -> Duration {
    let started = std::time::Instant::now();
    while app.is_active(caller, token).await {
        assert!(started.elapsed() < Duration::from_secs(5), "still active after 5 s");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    started.elapsed()
}

portcullis_store::backend_tests! {
    #[tokio::test]
    async fn a_revocation_on_one_instance_applies_on_another_within_a_second(db) {
        let dir = tempfile::tempdir().unwrap();
        let (id, secret) = crate::token::service(&db);
        let [(_a, a), (_b, b)] = two_servers(&db, dir.path());
        let token = a.access_token((&id, &secret)).await;
        assert!(b.is_active((&id, &secret), &token).await);
        assert_eq!(a.revoke((&id, &secret), &token).await.status(), 200);
        let waited = until_inactive(&b, (&id, &secret), &token).await;
        assert!(waited < Duration::from_secs(1), "took {waited:?}");
    }

    #[tokio::test]
    async fn a_client_disabled_from_the_command_line_is_refused_by_every_instance_within_a_second(db) {
        let dir = tempfile::tempdir().unwrap();
        let caller = crate::token::service(&db);
        let (id, secret) = crate::token::service(&db);
        let kek = crate::helpers::new_kek();
        let [(_a, a), (_b, b)] = two_servers_with(&db, dir.path(), &kek);
        let token = a.access_token((&id, &secret)).await;
        let cli = |args: &[&str]| portcullis(dir.path()).args(args).env("DATABASE_URL", db.url()).env("PORTCULLIS_KEK", &kek).output().unwrap();
        // Without the servers' key-encryption key, nothing is written: it would seal what they cannot open.
        let keyless = portcullis(dir.path()).args(["client", "disable", &id]).env("DATABASE_URL", db.url()).output().unwrap();
        assert_eq!(keyless.status.code(), Some(1), "{keyless:?}");
        assert!(String::from_utf8_lossy(&keyless.stderr).contains("key-encryption key"));
        let output = cli(&["client", "disable", &id]);
        assert!(output.status.success(), "{output:?}");
        for app in [&a, &b] {
            let waited = until_inactive(app, (&caller.0, &caller.1), &token).await;
            assert!(waited < Duration::from_secs(1), "took {waited:?}");
            assert_eq!(app.token(&id, &secret, "").await.status(), 401);
        }
        let output = cli(&["client", "enable", &id]);
        assert!(output.status.success(), "{output:?}");
        let missing = cli(&["client", "disable", "nobody"]);
        assert_eq!(missing.status.code(), Some(1));
    }

    #[tokio::test]
    async fn bootstrap_prints_the_admin_credentials_once_and_refuses_to_run_again(db) {
        let dir = tempfile::tempdir().unwrap();
        let kek = crate::helpers::new_kek();
        let run = |extra: &[&str]| {
            portcullis(dir.path()).arg("bootstrap").args(extra).env("DATABASE_URL", db.url()).env("PORTCULLIS_KEK", &kek).output().unwrap()
        };
        let first = run(&[]);
        assert!(first.status.success(), "{first:?}");
        let created: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
        assert_eq!(created["scope"], "admin");
        let again = run(&[]);
        assert_eq!(again.status.code(), Some(1), "{again:?}");
        assert!(again.stdout.is_empty(), "no credentials printed the second time");
        let said = String::from_utf8_lossy(&again.stderr);
        assert!(said.contains("already bootstrapped") && said.contains("--rotate-secret"), "{said}");
        let other_key = portcullis(dir.path()).args(["bootstrap", "--rotate-secret"]).env("DATABASE_URL", db.url())
            .env("PORTCULLIS_KEK", crate::helpers::new_kek()).output().unwrap();
        assert_eq!(other_key.status.code(), Some(1), "only the installation's key seals: {other_key:?}");
        assert!(String::from_utf8_lossy(&other_key.stderr).contains("wrong key-encryption key"));
        let rotated = run(&["--rotate-secret"]);
        assert!(rotated.status.success(), "{rotated:?}");
        let rotated: serde_json::Value = serde_json::from_slice(&rotated.stdout).unwrap();
        assert_eq!(rotated["client_id"], created["client_id"]);
        assert_ne!(rotated["client_secret"], created["client_secret"]);
    }

    #[tokio::test]
    async fn audit_verify_reports_an_intact_chain(db) {
        let dir = tempfile::tempdir().unwrap();
        let app = portcullis_app::App::with_defaults(db.connect());
        for name in ["first", "second"] {
            app.create_client(&portcullis_app::Actor::operator(), portcullis_core::ClientMetadata::parse(serde_json::json!({"client_name": name}).as_object().unwrap().clone()).unwrap()).unwrap();
        }
        let output = portcullis(dir.path()).args(["audit", "verify"]).env("DATABASE_URL", db.url()).output().unwrap();
        assert!(output.status.success(), "{output:?}");
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report, serde_json::json!({"verified": true, "entries": 2, "first": 1, "last": 2}));
    }
}

#[test]
fn user_create_stores_an_argon2id_hash_and_the_claims() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/users.db", dir.path().display());
    let generated = portcullis(dir.path())
        .args([
            "user",
            "create",
            "--username",
            "Alice",
            "--name",
            "Alice Liddell",
            "--email",
            "alice@example.com",
        ])
        .args(["--email-verified", "--database-url", &database])
        .output()
        .unwrap();
    assert!(generated.status.success(), "{generated:?}");
    let created: serde_json::Value = serde_json::from_slice(&generated.stdout).unwrap();
    assert_eq!(created["username"], "alice");
    assert_eq!(created["email_verified"], true);
    let password = created["password"].as_str().expect("a generated password is shown once").to_owned();

    let mut child = portcullis(dir.path())
        .args(["user", "create", "--username", "bob", "--password-stdin", "--database-url", &database])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"bobs password\n").unwrap();
    let typed = child.wait_with_output().unwrap();
    assert!(typed.status.success(), "{typed:?}");
    assert!(serde_json::from_slice::<serde_json::Value>(&typed.stdout).unwrap().get("password").is_none());

    let db = portcullis_store::Database::connect(
        &portcullis_store::DatabaseUrl::parse(&database).unwrap(),
        &portcullis_store::PoolOptions::default(),
    )
    .unwrap();
    let mut conn = db.get().unwrap();
    let alice = portcullis_store::users::find_by_username(&mut conn, "alice").unwrap().unwrap();
    assert_eq!(alice.user_id, created["user_id"].as_str().unwrap());
    assert!(!alice.password_hash.contains(&password));
    let verify = |phc: &str, password: &str| {
        portcullis_app::users::verify_password(&portcullis_core::Password::new(password.to_owned()), phc)
    };
    assert!(verify(&alice.password_hash, &password));
    let bob = portcullis_store::users::find_by_username(&mut conn, "bob").unwrap().unwrap();
    assert!(verify(&bob.password_hash, "bobs password"));
    assert!(!verify(&bob.password_hash, "bobs password\n"));
    assert!(portcullis_store::admin_roles::of_user(&mut conn, &bob.user_id).unwrap().is_empty());

    let admin = portcullis(dir.path())
        .args(["user", "create", "--username", "root-admin", "--admin", "--database-url", &database])
        .output()
        .unwrap();
    assert!(admin.status.success(), "{admin:?}");
    let admin: serde_json::Value = serde_json::from_slice(&admin.stdout).unwrap();
    let roles: Vec<&str> = portcullis_app::Permission::ALL.iter().map(|p| p.scope()).collect();
    assert_eq!(admin["admin_roles"], serde_json::json!(roles));
    let held = portcullis_store::admin_roles::of_user(&mut conn, admin["user_id"].as_str().unwrap()).unwrap();
    assert_eq!(held.len(), roles.len());
}

#[test]
fn user_create_refuses_taken_names_weak_passwords_and_bad_claims() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/users.db", dir.path().display());
    let create = |args: &[&str]| {
        let mut command = portcullis(dir.path());
        command.args(["user", "create", "--database-url", &database]).args(args);
        command
    };
    assert!(create(&["--username", "carol"]).output().unwrap().status.success());
    let stderr = failure(&mut create(&["--username", "CAROL"]));
    assert!(stderr.contains("taken"), "{stderr}");
    let stderr = failure(&mut create(&["--username", "dave", "--email", "not-an-email"]));
    assert!(stderr.contains("email"), "{stderr}");
    let mut short = create(&["--username", "erin", "--password-stdin"]);
    let stderr = failure(short.stdin(std::fs::File::open("/dev/null").unwrap()));
    assert!(stderr.contains("at least 8"), "{stderr}");
    let stderr = failure(&mut create(&["--username", " spaced"]));
    assert!(stderr.contains("username"), "{stderr}");
}

/// `examples/admin.sh`, as its header says, against a server started a
/// moment before with the README's command: the admin client that
/// `portcullis bootstrap` writes is usable at once (issue 9).
#[tokio::test]
async fn examples_admin_sh_runs_against_a_fresh_server() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, address) = serve({
        let mut command = portcullis(dir.path());
        command.args(["serve", "--listen", "127.0.0.1:0"]);
        command
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/admin.sh");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("bash")
            .arg(script)
            .current_dir(dir.path())
            .env("ISSUER", &address)
            .env("PORTCULLIS", env!("CARGO_BIN_EXE_portcullis"))
            .env_remove("DATABASE_URL")
            .env_remove("PORTCULLIS_DATABASE_URL")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let said =
        format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "examples/admin.sh failed:\n{said}");
}

/// Issue 10: with `trace` logging on, a bootstrap, an admin creating a
/// client and a second secret and a user, a code flow with PKCE, a refresh
/// and a revocation leave no secret, password, code, verifier, token or
/// key-encryption key anywhere in what the server and the CLI print to
/// their logs.
#[tokio::test]
async fn trace_logs_hold_no_secret() {
    use crate::code_flow::{query, Browser, PASSWORD, REDIRECT};
    use crate::helpers::TestApp;
    let dir = tempfile::tempdir().unwrap();
    let kek = crate::helpers::new_kek();
    let traced = |args: &[&str]| {
        let mut command = portcullis(dir.path());
        command.env("PORTCULLIS_LOG", "trace").env("PORTCULLIS_KEK", &kek).args(args);
        command
    };
    let boot = traced(&["bootstrap"]).output().unwrap();
    assert!(boot.status.success(), "{boot:?}");
    let mut logs = String::from_utf8_lossy(&boot.stderr).into_owned();
    let admin: serde_json::Value = serde_json::from_slice(&boot.stdout).unwrap();
    let (admin_id, admin_secret) =
        (admin["client_id"].as_str().unwrap(), admin["client_secret"].as_str().unwrap());
    let (server, address, lines) = serve_logged(traced(&["serve", "--listen", "127.0.0.1:0"]));
    let app = TestApp { address: address.clone(), client: reqwest::Client::new() };
    let token = app.access_token((admin_id, admin_secret)).await;
    let admin_api = |path: &str| app.client.post(format!("{address}/admin/v1{path}")).bearer_auth(&token);
    let client: serde_json::Value = admin_api("/clients")
        .json(
            &serde_json::json!({"client_name": "App", "grant_types": ["authorization_code", "refresh_token"],
                                  "redirect_uris": [REDIRECT], "scope": "openid profile"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (client_id, first_secret) =
        (client["client_id"].as_str().unwrap(), client["client_secret"].as_str().unwrap());
    let second: serde_json::Value =
        admin_api(&format!("/clients/{client_id}/secrets")).send().await.unwrap().json().await.unwrap();
    let second_secret = second["client_secret"].as_str().unwrap();
    let user = admin_api("/users")
        .json(&serde_json::json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), 201);

    let browser = Browser::new(TestApp { address: address.clone(), client: reqwest::Client::new() });
    let code = query(&browser.sign_in(client_id).await)["code"].clone();
    let verifier = crate::code_exchange::VERIFIER;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    let (_, tokens) = browser.exchange((client_id, first_secret), &form).await;
    let refresh = tokens["refresh_token"].as_str().expect("a refresh token").to_owned();
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())];
    let (_, refreshed) = browser.exchange((client_id, second_secret), &form).await;
    let rotated = refreshed["refresh_token"].as_str().expect("a rotated refresh token").to_owned();
    assert_eq!(app.revoke((client_id, second_secret), &rotated).await.status(), 200);
    drop(server);
    logs.extend(lines.iter().map(|line| line + "\n"));

    assert!(logs.contains("TRACE"), "trace logging was on");
    let secrets = [
        ("the admin secret", admin_secret),
        ("a client secret", first_secret),
        ("a second client secret", second_secret),
        ("a password", PASSWORD),
        ("a code", &code),
        ("a code verifier", verifier),
        ("an access token", tokens["access_token"].as_str().unwrap()),
        ("an ID token", tokens["id_token"].as_str().unwrap()),
        ("a refresh token", &refresh),
        ("a rotated refresh token", &rotated),
        ("the admin token", &token),
        ("the KEK", &kek),
    ];
    for (what, secret) in secrets {
        assert!(!logs.contains(secret), "{what} was logged");
    }
}

#[test]
fn teams_are_created_given_a_policy_and_invited_to_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = portcullis(dir.path()).args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}: {output:?}");
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    let policy = dir.path().join("policy.json");
    std::fs::write(&policy, r#"{"clients": {"scopes": ["orders"]}, "max_clients": 5}"#).unwrap();
    let team = run(&["team", "create", "--name", "Shop", "--policy-file", policy.to_str().unwrap()]);
    let team_id = team["team_id"].as_str().unwrap();
    assert_eq!(team["policy"]["max_clients"], 5);
    assert_eq!(run(&["team", "list"])["teams"][0]["name"], "Shop");
    std::fs::write(&policy, r#"{"max_clients": 1000000}"#).unwrap();
    let stderr = failure(portcullis(dir.path()).args([
        "team",
        "set-policy",
        team_id,
        "--policy-file",
        policy.to_str().unwrap(),
    ]));
    assert!(stderr.contains("max_clients"), "a policy outside the bounds is refused, naming why: {stderr}");
    let invited = run(&["team", "invite", team_id, "--role", "owner", "--issuer", "https://id.example/"]);
    let token = invited["invitation_token"].as_str().unwrap();
    assert_eq!(invited["invitation_url"], format!("https://id.example/portal/join?token={token}"));
    assert_eq!(invited["role"], "owner");
    let stderr = failure(portcullis(dir.path()).args(["team", "invite", team_id, "--role", "admin"]));
    assert!(stderr.contains("--role"), "{stderr}");
}
