//! Automated remediation over HTTP (issue 11): a client that keeps sending
//! malformed token requests is disabled by a `malformed_requests` rule; an
//! `outside_cidrs` rule revokes the tokens of a client used from elsewhere,
//! as introspection then says; an admin lists both and undoes them.

use crate::admin_audit::failures_summarised;
use crate::admin_clients::Admin;
use crate::helpers::{new_kek, settings};
use crate::token::{register, service};
use portcullis_oauth::endpoints;
use portcullis_store::backend_tests;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

backend_tests! {
    #[tokio::test]
    async fn malformed_requests_for_longer_than_the_rule_disable_the_client_until_undone(db) {
        let admin = Admin::start(&db).await;
        admin.call(Method::POST, "/alert-rules", Some(json!({"kind": "malformed_requests", "seconds": 1})), 201).await;
        let (id, secret) = service(&db);
        let token = |grant: &'static str| {
            let (admin, id, secret) = (&admin, id.clone(), secret.clone());
            async move {
                let body = format!("grant_type={grant}");
                admin.app.post_form(endpoints::TOKEN, &body).basic_auth(id, Some(secret)).send().await.unwrap().status()
            }
        };
        assert_eq!(token("bogus").await, 400);
        assert_eq!(token("authorization_code").await, 400, "not its grant, but well-formed: the run ends");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(token("bogus").await, 400);
        assert_eq!(token("client_credentials").await, 200, "a new run had just begun");
        assert_eq!(token("").await, 400, "no grant type at all");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(token("bogus").await, 400, "refused as before; the run outlasted the rule");
        assert_eq!(token("client_credentials").await, 401, "the client is disabled");

        let listed = admin.call(Method::GET, &format!("/remediations?client_id={id}"), None, 200).await;
        let done = &listed["remediations"][0];
        assert_eq!((done["action"].as_str(), done["client_id"].as_str()), (Some("disable"), Some(id.as_str())));
        let path = format!("/remediations/{}/undo", done["remediation_id"].as_str().unwrap());
        let undone = admin.call(Method::POST, &path, None, 200).await;
        assert!(undone["undone_at"].is_string());
        assert_eq!(token("client_credentials").await, 200, "enabled again");
        assert_eq!(admin.call(Method::POST, &path, None, 409).await["error"], "conflict");
    }

    #[tokio::test]
    async fn an_outside_cidrs_rule_revokes_the_clients_tokens_until_undone(db) {
        let kek = new_kek();
        let admin = Admin::on(&db, portcullis_server::Settings {
            trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
            ..settings(&db, &kek)
        }).await;
        admin.call(Method::POST, "/alert-rules", Some(json!({"kind": "outside_cidrs", "action": "revoke_tokens"})), 201).await;
        let (id, secret) = register(&db, json!({"client_name": "fenced", "allowed_cidrs": ["10.0.0.0/8"]}));
        let introspector = service(&db);
        let from = |ip: &'static str| {
            let (admin, id, secret) = (&admin, id.clone(), secret.clone());
            async move {
                admin.app.post_form(endpoints::TOKEN, "grant_type=client_credentials")
                    .basic_auth(id, Some(secret)).header("x-forwarded-for", ip).send().await.unwrap()
            }
        };
        let issued: Value = from("10.1.2.3").await.json().await.unwrap();
        let access_token = issued["access_token"].as_str().unwrap().to_owned();
        let caller = (introspector.0.as_str(), introspector.1.as_str());
        assert!(admin.app.is_active(caller, &access_token).await);
        assert_eq!(from("192.0.2.1").await.status(), 403);
        failures_summarised(&admin).await;

        // Another instance's check: the rule fires, and the server follows the change log.
        let kek = std::sync::Arc::new(portcullis_jose::KeyEncryptionKey::from_base64(&kek).unwrap());
        let other = portcullis_app::App::with_defaults(db.connect()).with_kek(kek);
        assert_eq!(other.check_alert_rules().unwrap()[0].name(), "alert.fired");
        let mut revoked = false;
        for _ in 0..50 {
            revoked = !admin.app.is_active(caller, &access_token).await;
            if revoked { break }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(revoked, "the client's token is revoked");
        // Token times are whole seconds: one issued in the second of the revocation is revoked too.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let fresh: Value = from("10.1.2.3").await.json().await.unwrap();
        assert!(admin.app.is_active(caller, fresh["access_token"].as_str().unwrap()).await, "tokens issued later work");

        let listed = admin.call(Method::GET, "/remediations", None, 200).await;
        let done = &listed["remediations"][0];
        assert_eq!(done["action"], "revoke_tokens");
        let client = admin.call(Method::GET, &format!("/clients/{id}"), None, 200).await;
        assert!(client["tokens_revoked_before"].is_string(), "{client}");
        admin.call(Method::POST, &format!("/remediations/{}/undo", done["remediation_id"].as_str().unwrap()), None, 200).await;
        assert!(admin.app.is_active(caller, &access_token).await, "restored");
    }
}
