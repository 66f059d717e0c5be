//! The admin API for users (issue 5).

use crate::admin_clients::Admin;
use portcullis_core::Password;
use portcullis_store::backend_tests;
use reqwest::Method;
use serde_json::{json, Value};

async fn json_of(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.unwrap()
}

backend_tests! {
    #[tokio::test]
    async fn users_are_created_listed_changed_and_given_passwords(db) {
        let admin = Admin::start(&db).await;
        let alice = json_of(admin.send(Method::POST, "/users", Some(json!({"username": "Alice", "password": "a long password",
            "claims": {"name": "Alice", "email": "alice@example.com", "email_verified": true}}))).await, 201).await;
        assert_eq!((alice["username"].as_str(), alice["claims"]["name"].as_str()), (Some("alice"), Some("Alice")));
        assert!(alice.get("password").is_none(), "a given password is not echoed");
        assert!(!alice.to_string().contains("argon2"), "no hash is shown");
        let bob = json_of(admin.send(Method::POST, "/users", Some(json!({"username": "bob"}))).await, 201).await;
        let generated = bob["password"].as_str().unwrap().to_owned();
        let stored = |id: &str| portcullis_store::users::find(&mut db.connect().get().unwrap(), id).unwrap().unwrap();
        assert!(portcullis_app::users::verify_password(&Password::new(generated), &stored(bob["user_id"].as_str().unwrap()).password_hash));

        for (bad, status) in [
            (json!({"username": "alice", "password": "another password"}), 409),
            (json!({"username": "carol", "password": "short"}), 400),
            (json!({"username": "carol", "claims": {"email": "not-an-email"}}), 400),
            (json!({"username": "carol", "claims": {"colour": "blue"}}), 400),
            (json!({"username": " carol"}), 400),
            (json!({"password": "a long password"}), 400),
            (json!({"username": "carol", "role": "root"}), 400),
        ] {
            assert_eq!(admin.send(Method::POST, "/users", Some(bad.clone())).await.status(), status, "{bad}");
        }
        let listed = json_of(admin.send(Method::GET, "/users?username=ali", None).await, 200).await;
        assert_eq!(listed["users"].as_array().unwrap().len(), 1);
        let page = json_of(admin.send(Method::GET, "/users?limit=1", None).await, 200).await;
        assert_eq!(page["next_cursor"], "alice");

        let id = alice["user_id"].as_str().unwrap();
        let changed = json_of(admin.send(Method::PATCH, &format!("/users/{id}"), Some(json!({"claims": {"name": "Alice B."}}))).await, 200).await;
        assert_eq!(changed["claims"], json!({"name": "Alice B."}));
        assert_eq!(json_of(admin.send(Method::GET, &format!("/users/{id}"), None).await, 200).await["claims"]["name"], "Alice B.");
        assert_eq!(admin.send(Method::PUT, &format!("/users/{id}/password"), Some(json!({"password": "a new long password"}))).await.status(), 204);
        assert!(portcullis_app::users::verify_password(&Password::new("a new long password".into()), &stored(id).password_hash));
        assert_eq!(admin.send(Method::PUT, &format!("/users/{id}/password"), Some(json!({"password": "tiny"}))).await.status(), 400);
        let enabled = json_of(admin.send(Method::POST, &format!("/users/{id}/enable"), None).await, 200).await;
        assert_eq!(enabled["disabled"], false);
        for path in ["/users/nobody", "/users/nobody/disable"] {
            let method = if path.ends_with("disable") { Method::POST } else { Method::GET };
            assert_eq!(admin.send(method, path, None).await.status(), 404, "{path}");
        }
        assert_eq!(admin.send(Method::PUT, "/users/nobody/password", Some(json!({"password": "a long password"}))).await.status(), 404);
    }

    #[tokio::test]
    async fn admin_roles_are_granted_and_withdrawn_and_a_second_factor_is_reset(db) {
        let admin = Admin::start(&db).await;
        let carol = json_of(admin.send(Method::POST, "/users", Some(json!({"username": "carol"}))).await, 201).await;
        let roles = format!("/users/{}/admin-roles", carol["user_id"].as_str().unwrap());
        assert_eq!(json_of(admin.send(Method::GET, &roles, None).await, 200).await, json!({"admin_roles": []}));
        let granted = json_of(admin.send(Method::PUT, &format!("{roles}/keys"), None).await, 200).await;
        assert_eq!(granted, json!({"admin_roles": ["admin:keys"]}));
        json_of(admin.send(Method::PUT, &format!("{roles}/audit"), None).await, 200).await;
        assert_eq!(admin.send(Method::PUT, &format!("{roles}/root"), None).await.status(), 404);
        let withdrawn = json_of(admin.send(Method::DELETE, &format!("{roles}/keys"), None).await, 200).await;
        assert_eq!(withdrawn, json!({"admin_roles": ["admin:audit"]}));
        assert_eq!(admin.send(Method::GET, "/users/nobody/admin-roles", None).await.status(), 404);
        let reset = format!("/users/{}/second-factor/reset", carol["user_id"].as_str().unwrap());
        assert_eq!(admin.send(Method::POST, &reset, None).await.status(), 204);
    }
}
