//! Liveness and readiness.

use crate::helpers::spawn_app;
use crate::token::register;
use portcullis_server::endpoints;
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
    let app = spawn_app(&db);
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
    let page = app.get(&format!("/authorize?client_id={id}&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256")).await;
    assert_eq!(page.status(), 503);
    let body = page.text().await.unwrap();
    assert!(!internal(&body), "{body}");
}
