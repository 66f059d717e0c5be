//! Alert rules over HTTP (issue 11): created, listed, read and deleted
//! through the admin API; a call from outside a client's `allowed_cidrs` is
//! refused and summarised with its own reason, which `outside_cidrs` reads;
//! a use from outside a client's `allowed_countries`, by a country database
//! the test writes, is summarised for `outside_countries`.

use crate::admin_audit::{failures_summarised, summarised};
use crate::admin_clients::Admin;
use crate::helpers::{new_kek, settings};
use portcullis_store::backend_tests;
use reqwest::Method;
use serde_json::json;

backend_tests! {
    #[tokio::test]
    async fn rules_are_managed_and_refusals_outside_the_cidrs_are_recorded_for_them(db) {
        let admin = Admin::start(&db).await;
        let created = admin.call(Method::POST, "/alert-rules", Some(json!({"kind": "error_rate", "description": "5 % over 5 minutes"})), 201).await;
        assert_eq!((created["kind"].as_str(), created["threshold_percent"].as_f64(), created["window_minutes"].as_i64()), (Some("error_rate"), Some(5.0), Some(5)));
        let id = created["rule_id"].as_str().unwrap().to_owned();
        admin.call(Method::POST, "/alert-rules", Some(json!({"kind": "outside_cidrs"})), 201).await;
        let listed = admin.call(Method::GET, "/alert-rules", None, 200).await;
        assert_eq!(listed["rules"].as_array().unwrap().len(), 2);
        assert_eq!(admin.call(Method::GET, &format!("/alert-rules/{id}"), None, 200).await["firing"], json!({}));
        for bad in [json!({"kind": "auth_failures"}), json!({"kind": "error_rate", "threshold_percent": 150}), json!({"kind": "sometimes"})] {
            assert_eq!(admin.call(Method::POST, "/alert-rules", Some(bad), 400).await["error"], "invalid_request");
        }
        let replaced = admin.call(Method::PUT, &format!("/alert-rules/{id}"), Some(json!({"kind": "error_rate", "threshold_percent": 20, "enabled": false})), 200).await;
        assert_eq!((replaced["threshold_percent"].as_f64(), replaced["enabled"].as_bool(), replaced["description"].as_str()), (Some(20.0), Some(false), Some("")));
        admin.call(Method::PUT, "/alert-rules/ar_missing", Some(json!({"kind": "outside_cidrs"})), 404).await;
        admin.call(Method::DELETE, &format!("/alert-rules/{id}"), None, 204).await;
        admin.call(Method::GET, &format!("/alert-rules/{id}"), None, 404).await;

        let (client, secret) = crate::token::register(&db, json!({"client_name": "fenced", "allowed_cidrs": ["10.0.0.0/8"]}));
        let refused = admin.app.token(&client, &secret, "").await;
        assert_eq!(refused.status(), 403);
        let summaries = failures_summarised(&admin).await;
        let fenced = summaries.iter().find(|e| e["target"] == client.as_str()).expect("summarised under the client");
        assert_eq!(fenced["details"]["reasons"][portcullis_app::alerts::OUTSIDE_CIDRS], 1, "{fenced}");
    }

    #[tokio::test]
    async fn uses_from_outside_a_clients_countries_are_summarised_not_refused(db) {
        let dir = tempfile::tempdir().unwrap();
        let countries = dir.path().join("countries.mmdb");
        portcullis_server::test_support::write_country_db(&countries, &[("81.2.69.0/24", "GB"), ("89.160.0.0/16", "SE")]).unwrap();
        let admin = Admin::on(&db, portcullis_server::Settings {
            geoip_db: Some(countries),
            trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
            ..settings(&db, &new_kek())
        }).await;
        admin.call(Method::POST, "/alert-rules", Some(json!({"kind": "outside_countries"})), 201).await;
        let (client, secret) = crate::token::register(&db, json!({"client_name": "nordic", "allowed_countries": ["SE"]}));
        let from = |ip: &'static str| {
            let admin = &admin;
            let (client, secret) = (client.clone(), secret.clone());
            async move {
                admin.app.post_form(portcullis_oauth::endpoints::TOKEN, "grant_type=client_credentials")
                    .basic_auth(client, Some(secret)).header("x-forwarded-for", ip).send().await.unwrap().status()
            }
        };
        assert_eq!(from("89.160.20.128").await, 200, "at home");
        assert_eq!(from("81.2.69.142").await, 200, "abroad: reported, not refused");
        assert_eq!(from("10.1.2.3").await, 200, "no country known: not judged");
        let entries = summarised(&admin, "client.outside_countries").await;
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0]["target"], client.as_str());
        assert_eq!(entries[0]["details"]["reasons"], json!({"GB": 1}));
        assert_eq!(entries[0]["details"]["address"], "81.2.69.142");
        let listed = admin.call(Method::GET, "/alert-rules", None, 200).await;
        assert_eq!(listed["rules"][0]["kind"], "outside_countries");
    }
}
