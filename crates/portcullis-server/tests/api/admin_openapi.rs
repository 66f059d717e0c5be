//! The OpenAPI document of the admin API matches the routes served: every
//! documented operation exists (and asks for a token), and every other
//! method on a documented path is 405.

use crate::helpers::spawn_app;
use portcullis_store::backend_tests;
use reqwest::Method;
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

backend_tests! {
    #[tokio::test]
    async fn every_documented_route_is_served_and_every_served_route_is_documented(db) {
        let app = spawn_app(&db);
        let document: Value = app.get_json("/admin/v1/openapi.json").await;
        assert_eq!(document["openapi"], "3.1.0");
        let paths = document["paths"].as_object().unwrap();
        let operations: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
        assert_eq!(operations, 26);
        for (path, item) in paths {
            let concrete = path.replace("{client_id}", "c").replace("{version}", "1").replace("{secret_id}", "s")
                .replace("{kid}", "k").replace("{user_id}", "u");
            for method in METHODS {
                let response = app.client.request(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(), format!("{}{concrete}", app.address))
                    .send().await.unwrap();
                match item.get(method) {
                    Some(operation) => {
                        assert_eq!(response.status(), 401, "{method} {path} is documented but not served behind a token");
                        let scope = operation["security"][0]["admin"][0].as_str().unwrap();
                        assert!(scope.starts_with("admin:"), "{method} {path} names its scope");
                    }
                    None => assert_eq!(response.status(), 405, "{method} {path} is served but not documented"),
                }
            }
        }
        assert_eq!(app.client.get(format!("{}/admin/v1/nothing", app.address)).send().await.unwrap().status(), 404);
    }
}
