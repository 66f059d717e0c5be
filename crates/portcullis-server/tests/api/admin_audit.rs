//! The audit log through the admin API: admin actions and security events
//! are recorded without secrets, and read back filtered, paged, as JSON,
//! JSON lines or CSV (issue 5).

use crate::admin_clients::Admin;
use crate::helpers::{new_kek, settings};
use portcullis_store::backend_tests;
use reqwest::Method;
use serde_json::{json, Value};

async fn entries(admin: &Admin, query: &str) -> Value {
    let response = admin.send(Method::GET, &format!("/audit-logs?{query}"), None).await;
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

/// Waits for the summary of failed client authentications, written once
/// its window (a second in tests) has ended.
pub async fn failures_summarised(admin: &Admin) -> Vec<Value> {
    summarised(admin, "auth.client_failed").await
}

/// The audit entries of `action`, once its first summary is written.
pub async fn summarised(admin: &Admin, action: &str) -> Vec<Value> {
    for _ in 0..50 {
        let found = entries(admin, &format!("action={action}")).await;
        let found = found["entries"].as_array().unwrap().clone();
        if !found.is_empty() {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no {action} summary was written within 5 s");
}

backend_tests! {
    #[tokio::test]
    async fn failed_logins_are_summarised_and_an_unknown_name_is_never_kept(db) {
        use crate::code_flow::{location, with_user, REDIRECT};
        use portcullis_app::audit::Query;
        with_user(&db);
        let (client, _) = crate::token::register(&db, json!({"client_name": "App", "grant_types": ["authorization_code"],
                                                             "redirect_uris": [REDIRECT], "scope": "openid profile"}));
        let kek = new_kek();
        let browser = crate::code_flow::browser_with(settings(&db, &kek));
        let login = location(browser.authorize(&client, &[]).await.headers());
        for (username, password) in [("alice", "wrong one"), ("alice", "wrong two"), ("s3cret-typed-as-name", "x")] {
            assert_eq!(browser.log_in(&login, username, password).await.status(), 401, "the form again");
        }
        let kek = std::sync::Arc::new(portcullis_jose::KeyEncryptionKey::from_base64(&kek).unwrap());
        let app = portcullis_app::App::with_defaults(db.connect()).with_kek(kek);
        let query = Query { action: Some("auth.login_failed".into()), limit: 100, ..Query::default() };
        // Summed per window (a second here): the failures may fall into two.
        let total = |entries: &[portcullis_app::audit::EntryView], actor: &str, reason: &str| -> u64 {
            entries.iter().filter(|e| e.actor == actor).filter_map(|e| e.details["reasons"][reason].as_u64()).sum()
        };
        let mut found = Vec::new();
        for _ in 0..50 {
            found = app.audit_entries(&portcullis_app::Actor::operator(), query.clone()).unwrap().entries;
            if total(&found, "alice", "wrong password") == 2 && total(&found, "(unknown user)", "unknown user") == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let text = serde_json::to_string(&found).unwrap();
        assert_eq!(total(&found, "alice", "wrong password"), 2, "{text}");
        assert_eq!(total(&found, "(unknown user)", "unknown user"), 1, "{text}");
        assert!(!text.contains("s3cret") && !text.contains("wrong one"), "{text}");
        assert!(found.iter().all(|e| e.outcome == "failure"), "{text}");
    }

    #[tokio::test]
    async fn a_stuck_event_subscriber_neither_delays_nor_fails_admin_changes(db) {
        let credentials = portcullis_app::App::with_defaults(db.connect()).bootstrap(&portcullis_app::Actor::operator(), false).unwrap();
        let server = portcullis_server::Application::build(settings(&db, &new_kek())).unwrap();
        let (holding, held) = std::sync::mpsc::channel();
        let (release, stuck) = std::sync::mpsc::channel::<()>();
        server.events().subscribe("stuck", move |p: &portcullis_app::Published| {
            let _ = holding.send(p.event.name());
            let _ = stuck.recv();
        });
        let admin = Admin::serving(credentials, server).await;
        for name in ["a", "b", "c"] {
            assert_eq!(admin.send(Method::POST, "/clients", Some(json!({"client_name": name}))).await.status(), 201);
        }
        assert_eq!(entries(&admin, &format!("action=client.created&actor={}", admin.id)).await["entries"].as_array().unwrap().len(), 3);
        // Every change above was answered while the subscriber held the first event.
        assert_eq!(held.recv().unwrap(), "client.created");
        assert!(held.try_recv().is_err(), "the subscriber is still on its first event");
        drop(release);
        assert_eq!(held.recv_timeout(std::time::Duration::from_secs(10)).unwrap(), "client.created", "it goes on once free");
    }


    #[tokio::test]
    async fn admin_actions_and_security_events_are_recorded_without_secrets(db) {
        let admin = Admin::start(&db).await;
        let created: Value = admin.send(Method::POST, "/clients", Some(json!({"client_name": "billing", "scope": "read"}))).await.json().await.unwrap();
        let id = created["client_id"].as_str().unwrap().to_owned();
        let secret = created["client_secret"].as_str().unwrap().to_owned();
        assert_eq!(admin.send(Method::PATCH, &format!("/clients/{id}"), Some(json!({"scope": "read write"}))).await.status(), 200);
        assert_eq!(admin.send(Method::PATCH, &format!("/clients/{id}"), Some(json!({"grant_types": ["password"]}))).await.status(), 400);
        assert_eq!(admin.send(Method::POST, &format!("/clients/{id}/rollback"), Some(json!({"version": 1}))).await.status(), 200);
        let wrong = "the-wrong-secret-123";
        assert_eq!(admin.app.token(&id, wrong, "").await.status(), 401);
        let token = admin.app.access_token((&id, &secret)).await;
        assert_eq!(admin.app.revoke((&id, &secret), &token).await.status(), 200);
        failures_summarised(&admin).await;

        let all = entries(&admin, "").await;
        let list = all["entries"].as_array().unwrap();
        let text = all.to_string();
        assert!(!text.contains(&secret) && !text.contains(wrong) && !text.contains(&admin.secret), "no secret is recorded");
        let find = |action: &str, outcome: &str| {
            list.iter().find(|e| e["action"] == action && e["outcome"] == outcome).unwrap_or_else(|| panic!("no {action} {outcome} in {all}"))
        };
        let created_entry = list.iter().find(|e| e["action"] == "client.created" && e["target"] == id.as_str()).unwrap();
        assert_eq!(created_entry["actor"], admin.id.as_str());
        assert_eq!(created_entry["target"], id.as_str(), "a created client is the target of its creation");
        let refused = find("client.updated", "refused");
        assert!(refused["details"]["error"].as_str().unwrap().starts_with("grant_types"), "{refused}");
        assert_eq!(refused["target"], id.as_str());
        let rollback = find("client.rolled_back", "success");
        assert_eq!((rollback["details"]["restored"].as_i64(), rollback["details"]["via"].as_str()), (Some(1), Some("admin-api")));
        assert_eq!(rollback["target"], id.as_str());
        let failed = find("auth.client_failed", "failure");
        assert_eq!((failed["actor"].as_str(), failed["source"].as_str()), (Some(id.as_str()), Some("127.0.0.1")));
        assert_eq!((failed["details"]["count"].as_u64(), failed["details"]["reasons"]["wrong secret"].as_u64()), (Some(1), Some(1)));
        assert_eq!(find("token.revoked", "success")["actor"], id.as_str());
        // Each entry carries the hash of the one before.
        for pair in list.windows(2) {
            assert_eq!(pair[1]["prev_hash"], pair[0]["hash"]);
        }
    }

    #[tokio::test]
    async fn the_log_is_filtered_paged_and_exported(db) {
        let admin = Admin::start(&db).await;
        for name in ["a", "b", "c"] {
            admin.send(Method::POST, "/clients", Some(json!({"client_name": name}))).await;
        }
        admin.app.token("nobody", "x", "").await;
        failures_summarised(&admin).await;
        let created = entries(&admin, &format!("action=client.created&actor={}", admin.id)).await;
        assert_eq!(created["entries"].as_array().unwrap().len(), 3);
        // An id that names no client is never recorded as typed: it may be a secret.
        assert_eq!(entries(&admin, "actor=nobody").await["entries"], json!([]));
        let unknown = entries(&admin, "actor=(unknown%20client)").await;
        assert_eq!(unknown["entries"].as_array().unwrap().len(), 1);
        assert!(!unknown.to_string().contains("nobody"), "{unknown}");
        assert_eq!(entries(&admin, "target=(unknown%20client)").await["entries"].as_array().unwrap().len(), 1);
        assert_eq!(entries(&admin, "from=2000-01-01T00:00:00Z&to=2001-01-01T00:00:00Z").await["entries"], json!([]));
        let first = entries(&admin, "limit=2").await;
        assert_eq!(first["entries"].as_array().unwrap().len(), 2);
        let cursor = first["next_cursor"].as_i64().unwrap();
        let rest = entries(&admin, &format!("limit=2&cursor={cursor}")).await;
        assert_eq!(rest["entries"][0]["seq"].as_i64().unwrap(), cursor + 1);

        let csv = admin.request(Method::GET, "/audit-logs?limit=2").header("accept", "text/csv").send().await.unwrap();
        assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert!(csv.headers().contains_key("x-next-cursor"));
        let csv = csv.text().await.unwrap();
        assert!(csv.starts_with("seq,at,actor,action,target,source,outcome,details,prev_hash,hash\r\n"), "{csv}");
        assert_eq!(csv.lines().count(), 3, "{csv}");
        assert!(csv.contains(",\"{\"\"client_id\"\":"), "JSON details are quoted: {csv}");
        let lines = admin.send(Method::GET, "/audit-logs?format=jsonl", None).await.text().await.unwrap();
        let parsed: Vec<Value> = lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(parsed.len(), 10, "the first start's four keys, the bootstrap's two, three clients, one summary");
        let installed = parsed.iter().filter(|e| e["action"] == "key.activated" && e["actor"] == "system:first start");
        assert_eq!(installed.count(), 4, "each algorithm's first key is audited: {parsed:?}");

        for bad in ["format=xml", "limit=0", "limit=1001", "cursor=-1", "from=yesterday", "actor=a&actor=b"] {
            assert_eq!(admin.send(Method::GET, &format!("/audit-logs?{bad}"), None).await.status(), 400, "{bad}");
        }
    }
}
