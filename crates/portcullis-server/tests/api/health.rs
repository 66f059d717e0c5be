//! Liveness and readiness.

use crate::helpers::{new_kek, settings, spawn_app, spawn_with};
use crate::token::register;
use portcullis_oauth::endpoints;
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use serde_json::{json, Value};

backend_tests! {
    #[tokio::test]
    async fn read_only_endpoints_ignore_junk_repeated_and_long_query_strings(db) {
        let app = spawn_app(&db);
        let long = "x".repeat(8_000);
        for path in [endpoints::OPENID_CONFIGURATION, endpoints::OAUTH_AUTHORIZATION_SERVER, endpoints::JWKS, endpoints::HEALTHZ, endpoints::READYZ] {
            for query in ["?a=1&a=2", "?%FF%FE=%zz", &format!("?pad={long}")] {
                assert_eq!(app.get(&format!("{path}{query}")).await.status(), 200, "{path}{query}");
            }
        }
    }

    #[tokio::test]
    async fn both_probes_answer_while_the_database_is_up(db) {
        let app = spawn_app(&db);
        for (path, status) in [(endpoints::HEALTHZ, "ok"), (endpoints::READYZ, "ready")] {
            let response = app.get(path).await;
            assert_eq!(response.headers()["cache-control"], "no-store");
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["status"], status, "{path}");
        }
    }
}

#[tokio::test]
async fn a_database_outage_is_a_clear_503_that_names_nothing_internal() {
    let db = TestDb::postgres();
    let (id, secret) = register(
        &db,
        json!({"client_name": "App", "grant_types": ["authorization_code", "refresh_token"],
                                           "redirect_uris": ["https://app.example/cb"], "scope": "openid"}),
    );
    let admin = crate::admin_clients::Admin::start(&db).await;
    let app = &admin.app;
    db.drop_postgres_database();
    let internal = |text: &str| {
        text.contains("postgres") || text.contains("portcullis_test") || text.contains("127.0.0.1")
    };

    let response = app.get(endpoints::READYZ).await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let body = response.text().await.unwrap();
    assert!(body.contains("\"status\":\"unavailable\"") && !internal(&body), "{body}");
    assert_eq!(app.get(endpoints::HEALTHZ).await.status(), 200, "the process itself is still live");

    // RFC 6749 §5.2 errors at the back channel, with Retry-After (RFC 9110 §10.2.3).
    for (path, form) in [
        (
            endpoints::TOKEN,
            "grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fapp.example%2Fcb",
        ),
        (endpoints::TOKEN, "grant_type=refresh_token&refresh_token=abc"),
        (endpoints::REVOKE, "token=an-opaque-refresh-token"),
    ] {
        let response = app.post_form(path, form).basic_auth(&id, Some(&secret)).send().await.unwrap();
        assert_eq!(response.status(), 503, "{path} {form}");
        assert!(response.headers().contains_key("retry-after"), "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "temporarily_unavailable", "{path}: {body}");
        assert!(!internal(&body.to_string()), "{body}");
    }
    // The admin API's refusal too.
    let listed = admin.send(reqwest::Method::GET, "/clients", None).await;
    assert_eq!(listed.status(), 503);
    assert!(listed.headers().contains_key("retry-after"), "the admin API says when to come back");
    let page = app.get(&format!("/authorize?client_id={id}&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256")).await;
    assert_eq!(page.status(), 503);
    let body = page.text().await.unwrap();
    assert!(!internal(&body), "{body}");
}

/// A TCP relay to PostgreSQL that can be frozen: it stops passing bytes,
/// as a server stopped with SIGSTOP (or a hung network) would.
struct Freezable {
    address: std::net::SocketAddr,
    frozen: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Freezable {
    async fn to(target: std::net::SocketAddr) -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let frozen = std::sync::Arc::new(AtomicBool::new(false));
        let relay_frozen = frozen.clone();
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let Ok(outbound) = tokio::net::TcpStream::connect(target).await else { continue };
                let (from_client, to_client) = inbound.into_split();
                let (from_server, to_server) = outbound.into_split();
                for (mut from, mut to) in [(from_client, to_server), (from_server, to_client)] {
                    let frozen = relay_frozen.clone();
                    tokio::spawn(async move {
                        use tokio::io::{AsyncReadExt, AsyncWriteExt};
                        let mut buffer = vec![0u8; 16 * 1024];
                        loop {
                            while frozen.load(Ordering::SeqCst) {
                                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                            }
                            let Ok(read) = from.read(&mut buffer).await else { return };
                            while frozen.load(Ordering::SeqCst) {
                                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                            }
                            if read == 0 || to.write_all(&buffer[..read]).await.is_err() {
                                return;
                            }
                        }
                    });
                }
            }
        });
        Self { address, frozen }
    }

    fn freeze(&self, frozen: bool) {
        self.frozen.store(frozen, std::sync::atomic::Ordering::SeqCst);
    }
}

// Multi-threaded: the relay must pass bytes while the application starts, which blocks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_database_is_answered_within_the_timeout_and_recovers() {
    let db = TestDb::postgres();
    let (id, secret) = register(
        &db,
        json!({"client_name": "App", "grant_types": ["authorization_code"],
                                           "redirect_uris": ["https://app.example/cb"], "scope": "openid"}),
    );
    let mut url = url::Url::parse(db.url()).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap()).parse().unwrap();
    let relay = Freezable::to(target).await;
    url.set_port(Some(relay.address.port())).unwrap();
    let mut through_relay = settings(&db, &new_kek());
    through_relay.database_url = portcullis_store::DatabaseUrl::parse(url.as_str()).unwrap();
    through_relay.pool.connection_timeout = std::time::Duration::from_secs(2);
    let app = spawn_with(through_relay);
    assert_eq!(app.get(endpoints::READYZ).await.status(), 200);

    relay.freeze(true);
    let bounded = std::time::Duration::from_secs(5);
    let ready = tokio::time::timeout(bounded, app.get(endpoints::READYZ))
        .await
        .expect("/readyz answers within the timeout");
    assert_eq!(ready.status(), 503);
    let exchange = app
        .post_form(
            endpoints::TOKEN,
            "grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fapp.example%2Fcb",
        )
        .basic_auth(&id, Some(&secret))
        .send();
    let exchange = tokio::time::timeout(bounded, exchange)
        .await
        .expect("the code exchange answers within the timeout")
        .unwrap();
    assert_eq!(exchange.status(), 503);
    assert!(exchange.headers().contains_key("retry-after"));

    relay.freeze(false);
    let waited = std::time::Instant::now();
    while app.get(endpoints::READYZ).await.status() != 200 {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(20),
            "the server recovers without a restart"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
