//! Alert rules over HTTP (issue 11): created, listed, read and deleted
//! through the admin API; a call from outside a client's `allowed_cidrs` is
//! refused and summarised with its own reason, which `outside_cidrs` reads.

use crate::admin_audit::failures_summarised;
use crate::admin_clients::Admin;
use portcullis_store::backend_tests;
use reqwest::Method;
use serde_json::{json, Value};

async fn json_of(admin: &Admin, method: Method, path: &str, body: Option<Value>, status: u16) -> Value {
    let response = admin.send(method.clone(), path, body).await;
    assert_eq!(response.status(), status, "{method} {path}");
    if status == 204 {
        Value::Null
    } else {
        response.json().await.unwrap()
    }
}

backend_tests! {
    #[tokio::test]
    async fn rules_are_managed_and_refusals_outside_the_cidrs_are_recorded_for_them(db) {
        let admin = Admin::start(&db).await;
        let created = json_of(&admin, Method::POST, "/alert-rules", Some(json!({"kind": "error_rate", "description": "5 % over 5 minutes"})), 201).await;
        assert_eq!((created["kind"].as_str(), created["threshold_percent"].as_f64(), created["window_minutes"].as_i64()), (Some("error_rate"), Some(5.0), Some(5)));
        let id = created["rule_id"].as_str().unwrap().to_owned();
        json_of(&admin, Method::POST, "/alert-rules", Some(json!({"kind": "outside_cidrs"})), 201).await;
        let listed = json_of(&admin, Method::GET, "/alert-rules", None, 200).await;
        assert_eq!(listed["rules"].as_array().unwrap().len(), 2);
        assert_eq!(json_of(&admin, Method::GET, &format!("/alert-rules/{id}"), None, 200).await["firing"], json!({}));
        for bad in [json!({"kind": "auth_failures"}), json!({"kind": "error_rate", "threshold_percent": 150}), json!({"kind": "sometimes"})] {
            assert_eq!(json_of(&admin, Method::POST, "/alert-rules", Some(bad), 400).await["error"], "invalid_request");
        }
        json_of(&admin, Method::DELETE, &format!("/alert-rules/{id}"), None, 204).await;
        json_of(&admin, Method::GET, &format!("/alert-rules/{id}"), None, 404).await;

        let (client, secret) = crate::token::register(&db, json!({"client_name": "fenced", "allowed_cidrs": ["10.0.0.0/8"]}));
        let refused = admin.app.token(&client, &secret, "").await;
        assert_eq!(refused.status(), 403);
        let summaries = failures_summarised(&admin).await;
        let fenced = summaries.iter().find(|e| e["target"] == client.as_str()).expect("summarised under the client");
        assert_eq!(fenced["details"]["reasons"][portcullis_app::alerts::OUTSIDE_CIDRS], 1, "{fenced}");
    }
}
