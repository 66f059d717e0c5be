//! Prometheus metrics at /metrics (issue 11): requests by route pattern,
//! tokens issued, failures by reason as each happens, and gauges read
//! when scraped; on the main listener or a listener of its own.

use crate::helpers::{new_kek, serve, settings, TestApp};
use crate::token::{register, service};
use portcullis_server::metrics::Exposure;
use portcullis_server::Application;
use portcullis_store::backend_tests;
use serde_json::json;
use std::time::Duration;

impl TestApp {
    /// The exposition, checked to be OpenMetrics text.
    async fn metrics(&self) -> String {
        let response = self.get("/metrics").await;
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
        let text = response.text().await.unwrap();
        assert!(text.ends_with("# EOF\n"), "{text}");
        text
    }
}

/// The value of the sample `series` (name and labels exactly) in `text`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

backend_tests! {
    #[tokio::test]
    async fn requests_tokens_and_failures_are_counted_by_route_pattern_and_reason(db) {
        // Summaries wait an hour; the failure counters do not.
        let app = crate::helpers::spawn_with(portcullis_server::Settings { auth_failure_window: Duration::from_secs(3600), ..settings(&db, &new_kek()) });
        let (id, secret) = service(&db);
        let es = register(&db, json!({"client_name": "es", "scope": "read", "access_token_signed_response_alg": "ES256"}));
        assert_eq!(app.token(&id, &secret, "").await.status(), 200);
        assert_eq!(app.token(&id, &secret, "").await.status(), 200);
        assert_eq!(app.token(&es.0, &es.1, "").await.status(), 200);
        assert_eq!(app.token(&id, "wrong", "").await.status(), 401);
        app.get("/admin/v1/clients/some-id").await;

        let text = app.metrics().await;
        assert_eq!(sample(&text, r#"portcullis_http_requests_total{route="/token",method="POST",status="200"}"#), Some(3.0), "{text}");
        assert_eq!(sample(&text, r#"portcullis_http_requests_total{route="/token",method="POST",status="401"}"#), Some(1.0));
        assert!(text.contains(r#"route="/admin/v1/clients/{client_id}""#), "the pattern, never the id: {text}");
        assert!(!text.contains("some-id"), "{text}");
        let rs256 = format!(r#"portcullis_tokens_issued_total{{grant_type="client_credentials",alg="RS256",client_id="{id}"}}"#);
        let es256 = format!(r#"portcullis_tokens_issued_total{{grant_type="client_credentials",alg="ES256",client_id="{}"}}"#, es.0);
        assert_eq!((sample(&text, &rs256), sample(&text, &es256)), (Some(2.0), Some(1.0)), "{text}");
        assert!(text.contains(r#"portcullis_http_request_duration_seconds_bucket{le="#) || text.contains("portcullis_http_request_duration_seconds_count{"), "{text}");
        assert!(sample(&text, r#"portcullis_db_pool_connections{state="idle"}"#).is_some(), "{text}");
        assert!(sample(&text, "portcullis_db_pool_waits_total").is_some(), "{text}");
        assert!(sample(&text, "portcullis_change_log_mirror_lag_seconds").is_some_and(|lag| lag < 5.0), "{text}");
        let ages: Vec<&str> = text.lines().filter(|l| l.starts_with("portcullis_signing_key_age_seconds{")).collect();
        assert_eq!(ages.len(), 4, "one active key per algorithm: {text}");

        let series = r#"portcullis_auth_failures_total{kind="client",reason="wrong secret"}"#;
        assert_eq!(sample(&text, series), Some(1.0), "counted when it happened: {text}");
        assert_eq!(app.token(&id, "wrong", "").await.status(), 401);
        assert_eq!(sample(&app.metrics().await, series), Some(2.0));
    }

    #[tokio::test]
    async fn metrics_can_have_a_listener_of_their_own_or_none(db) {
        let kek = new_kek();
        let mut own = settings(&db, &kek);
        own.metrics = Exposure::Listen("127.0.0.1:0".into());
        let built = Application::build(own).unwrap();
        let port = built.metrics_port().expect("a metrics listener");
        let app = serve(built);
        assert_eq!(app.get("/metrics").await.status(), 404, "not on the main listener");
        let scraped = app.client.get(format!("http://127.0.0.1:{port}/metrics")).send().await.unwrap();
        assert_eq!(scraped.status(), 200);
        assert!(scraped.text().await.unwrap().contains("portcullis_http_requests_total"));

        let mut off = settings(&db, &kek);
        off.metrics = Exposure::Off;
        let app = serve(Application::build(off).unwrap());
        assert_eq!(app.get("/metrics").await.status(), 404);
    }
}
