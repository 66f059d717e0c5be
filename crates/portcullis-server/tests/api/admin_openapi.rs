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
        assert_eq!(operations, 73);
        for (path, item) in paths {
            let concrete = path.replace("{client_id}", "c").replace("{version}", "1").replace("{secret_id}", "s")
                .replace("{kid}", "k").replace("{user_id}", "u").replace("{webhook_id}", "w").replace("{template}", "soc2").replace("{rule_id}", "r").replace("{remediation_id}", "m").replace("{role}", "keys").replace("{token_id}", "t").replace("{name}", "n").replace("{team_id}", "t").replace("{invitation_id}", "i").replace("{request_id}", "r");
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

    #[tokio::test]
    async fn bodies_are_described_and_every_error_status_is_listed(db) {
        let app = spawn_app(&db);
        let document: Value = app.get_json("/admin/v1/openapi.json").await;
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let responses = operation["responses"].as_object().unwrap();
                for status in ["400", "401", "403", "404", "409", "503"] {
                    assert!(responses.contains_key(status), "{method} {path} lists {status}");
                }
                let Some(body) = operation.get("requestBody") else { continue };
                for status in ["413", "415"] {
                    assert!(responses.contains_key(status), "{method} {path} lists {status}");
                }
                let schema = body["content"].as_object().unwrap().values().next().unwrap()["schema"].clone();
                let described = schema.get("properties").is_some() || schema.get("anyOf").is_some();
                assert!(described, "{method} {path} describes its body: {schema}");
            }
        }
        let kinds = document["paths"]["/admin/v1/clients"]["post"]["requestBody"]["content"]["application/json"]["schema"]["anyOf"]
            .as_array().unwrap().clone();
        assert!(kinds.iter().all(|kind| kind["required"][0] == "client_name" && kind["additionalProperties"] == false));
        let limit = &document["paths"]["/admin/v1/audit-logs"]["get"]["parameters"].as_array().unwrap().iter()
            .find(|p| p["name"] == "limit").unwrap()["schema"];
        assert_eq!((limit["type"].as_str(), limit["maximum"].as_i64()), (Some("integer"), Some(1000)));
    }
}
