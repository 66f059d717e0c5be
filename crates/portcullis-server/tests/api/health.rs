//! Liveness and readiness.

use crate::helpers::spawn_app;
use portcullis_server::endpoints;
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;

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
async fn readiness_fails_with_a_reason_when_the_database_goes_away() {
    let db = TestDb::postgres();
    let app = spawn_app(&db);
    db.drop_postgres_database();
    let response = app.get(endpoints::READYZ).await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert!(body["reason"].as_str().unwrap().starts_with("database: "), "{body}");
    assert_eq!(app.get(endpoints::HEALTHZ).await.status(), 200, "the process itself is still live");
}
