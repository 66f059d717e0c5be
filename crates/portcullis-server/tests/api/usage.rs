//! Usage analytics over HTTP (issue 11): what clients do at the endpoints is
//! counted per client and minute and read back through the admin API; and
//! the compliance reports built on the same monitoring scope.

use crate::admin_clients::Admin;
use crate::helpers::{new_kek, settings};
use crate::token::{register, service};
use chrono::{TimeDelta, Utc};
use portcullis_oauth::endpoints;
use portcullis_store::backend_tests;
use reqwest::Method;
use serde_json::{json, Value};

async fn json_of(admin: &Admin, path: &str, status: u16) -> Value {
    let response = admin.send(Method::GET, path, None).await;
    assert_eq!(response.status(), status, "GET {path}");
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.unwrap()
}

backend_tests! {
    #[tokio::test]
    async fn each_clients_requests_errors_and_tokens_are_counted_and_read_back(db) {
        let clock = portcullis_app::Clock::manual(Utc::now());
        let mut at = settings(&db, &new_kek());
        at.clock = clock.clone();
        let admin = Admin::on(&db, at).await;
        let (id, secret) = service(&db);
        let from = (clock.now() - TimeDelta::minutes(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        for _ in 0..3 {
            assert_eq!(admin.app.token(&id, &secret, "").await.status(), 200);
        }
        for _ in 0..2 {
            assert_eq!(admin.app.token(&id, "wrong", "").await.status(), 401);
        }
        assert_eq!(admin.app.token(&id, &secret, "&scope=unknown").await.status(), 400);
        // An id nobody registered is nobody's usage.
        assert_eq!(admin.app.token("made-up", "x", "").await.status(), 401);
        let introspected = admin.app.post_form(endpoints::INTROSPECT, "token=x").basic_auth(&id, Some(&secret));
        assert_eq!(introspected.send().await.unwrap().status(), 200);
        clock.advance(TimeDelta::minutes(1));

        let usage = json_of(&admin, &format!("/clients/{id}/usage?from={from}"), 200).await;
        let totals = &usage["totals"];
        assert_eq!(totals["requests"], 7, "{usage}");
        assert_eq!(totals["tokens_issued"], 3);
        assert_eq!(totals["errors"], json!({"auth": 2, "client": 1, "server": 0}));
        assert!(totals["latency_ms"]["p50"].as_f64().unwrap() > 0.0);
        assert_eq!(usage["step"], 60);
        assert!(usage["points"].as_array().unwrap().len() >= 2);

        let summary = json_of(&admin, &format!("/usage?from={from}"), 200).await;
        let clients: Vec<&str> =
            summary["top_by_requests"].as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap()).collect();
        assert!(clients.contains(&id.as_str()) && clients.contains(&admin.id.as_str()), "{summary}");
        assert!(!clients.contains(&"made-up"));
        assert_eq!(summary["clients"], 2);
        // A team's clients only: here, none used.
        let team = admin.call(reqwest::Method::POST, "/teams", Some(json!({"name": "Shop"})), 201).await;
        let of_team = json_of(&admin, &format!("/usage?from={from}&team={}", team["team_id"].as_str().unwrap()), 200).await;
        assert_eq!((of_team["clients"].as_i64(), of_team["totals"]["requests"].as_i64()), (Some(0), Some(0)), "{of_team}");
    }

    #[tokio::test]
    async fn usage_queries_refuse_bad_input_unknown_clients_and_other_scopes_and_bound_long_ranges(db) {
        let admin = Admin::start(&db).await;
        let (id, _) = service(&db);
        for bad in ["step=90", "step=x", "from=yesterday", "to=2026-13-01T00:00:00Z"] {
            let refused = json_of(&admin, &format!("/clients/{id}/usage?{bad}"), 400).await;
            assert_eq!(refused["error"], "invalid_request", "{bad}: {refused}");
        }
        assert_eq!(json_of(&admin, "/usage?limit=0", 400).await["error"], "invalid_request");
        // What the document calls valid is answered: a long range is cut,
        // its step widened; an inverted one is empty.
        let long = json_of(&admin, &format!("/clients/{id}/usage?from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z"), 200).await;
        assert_eq!((long["from"].as_str(), long["step"].as_i64()), (Some("2026-05-01T00:00:00Z"), Some(1860)));
        assert_eq!(long["points"].as_array().unwrap().len(), 1440);
        let inverted = json_of(&admin, &format!("/clients/{id}/usage?from=2026-06-01T00:00:00Z&to=2026-01-01T00:00:00Z"), 200).await;
        assert_eq!(inverted["points"], json!([]));
        assert_eq!(json_of(&admin, "/usage?from=2026-06-01T00:00:00Z&to=2026-01-01T00:00:00Z", 200).await["clients"], 0);
        json_of(&admin, "/clients/nobody/usage", 404).await;

        let (keys_only, secret) = register(&db, json!({"client_name": "key admin", "scope": "admin:keys"}));
        let token = admin.app.access_token((&keys_only, &secret)).await;
        let url = format!("{}/admin/v1/usage", admin.app.address);
        let forbidden = admin.app.client.get(&url).bearer_auth(token).send().await.unwrap();
        assert_eq!(forbidden.status(), 403);
    }

    #[tokio::test]
    async fn compliance_reports_come_as_json_and_csv(db) {
        let admin = Admin::start(&db).await;
        let report = json_of(&admin, "/compliance/soc2", 200).await;
        assert_eq!(report["template"], "soc2");
        let controls = report["controls"].as_array().unwrap();
        assert!(controls.iter().any(|c| c["control"] == "CC6.7"));
        let issuer = controls.iter().flat_map(|c| c["checks"].as_array().unwrap()).find(|c| c["check"] == "issuer_https").unwrap();
        assert_eq!(issuer["status"], "pass", "the test server's issuer is https: {issuer}");

        let csv = admin.send(Method::GET, "/compliance/pci-dss?format=csv", None).await;
        assert_eq!(csv.status(), 200);
        assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let text = csv.text().await.unwrap();
        assert!(text.starts_with("template,control,control_title,control_status,check,status,evidence,verified_at\r\n"));
        assert!(text.contains("pci-dss,10.5.1,"));
        json_of(&admin, "/compliance/iso27001", 404).await;
        json_of(&admin, "/compliance/soc2?format=xml", 400).await;
    }
}
