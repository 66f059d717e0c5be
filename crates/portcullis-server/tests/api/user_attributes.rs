//! Custom user attributes over the admin API and the console: an admin
//! defines the schema (names that are no protocol claim, four types), sets
//! a user's values within it, and removing an attribute removes its values
//! from every user; each change audited.

use crate::admin_clients::Admin;
use crate::console::signed_in;
use portcullis_app::{Actor, App, Permission};
use portcullis_store::backend_tests;
use reqwest::Method;
use serde_json::{json, Value};

backend_tests! {
    #[tokio::test]
    async fn an_admin_defines_attributes_sets_them_per_user_and_removes_them(db) {
        let admin = Admin::start(&db).await;
        let user = admin.call(Method::POST, "/users", Some(json!({"username": "ada"})), 201).await;
        let user_id = user["user_id"].as_str().unwrap().to_owned();
        assert_eq!(user["attributes"], json!({}));

        for (name, kind) in [("department", "string"), ("level", "number"), ("contractor", "boolean"), ("teams", "strings")] {
            let defined = admin.call(Method::POST, "/user-attributes",
                Some(json!({"name": name, "type": kind, "description": format!("the {name}")})), 201).await;
            assert_eq!(defined["type"], kind);
        }
        for (body, why) in [
            (json!({"name": "email", "type": "string"}), "a standard claim"),
            (json!({"name": "acr", "type": "string"}), "a protocol claim"),
            (json!({"name": "Dept", "type": "string"}), "not a plain name"),
            (json!({"name": "x", "type": "date"}), "an unknown type"),
        ] {
            assert_eq!(admin.send(Method::POST, "/user-attributes", Some(body)).await.status(), 400, "{why}");
        }
        assert_eq!(admin.send(Method::POST, "/user-attributes", Some(json!({"name": "level", "type": "number"}))).await.status(), 409);
        let schema = admin.call(Method::GET, "/user-attributes", None, 200).await;
        let names: Vec<&str> = schema["attributes"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["contractor", "department", "level", "teams"]);

        let path = format!("/users/{user_id}/attributes");
        let values = json!({"department": "Research", "level": 3, "contractor": false, "teams": ["engines", "notes"]});
        let set = admin.call(Method::PUT, &path, Some(json!({"attributes": values.clone()})), 200).await;
        assert_eq!(set["attributes"], values);
        for (bad, why) in [
            (json!({"level": "three"}), "a text for a number"),
            (json!({"teams": "engines"}), "a text for a list"),
            (json!({"favourite": "tea"}), "an attribute nobody defined"),
        ] {
            let refused = admin.send(Method::PUT, &path, Some(json!({"attributes": bad}))).await;
            assert_eq!(refused.status(), 409, "{why}: conflicts with the schema as it stands");
        }
        assert_eq!(admin.call(Method::GET, &format!("/users/{user_id}"), None, 200).await["attributes"], values, "refusals change nothing");
        assert_eq!(admin.send(Method::PUT, "/users/nobody/attributes", Some(json!({"attributes": {}}))).await.status(), 404);

        let removed = admin.call(Method::DELETE, "/user-attributes/teams", None, 200).await;
        assert_eq!(removed["values_cleared"], 1);
        let after = admin.call(Method::GET, &format!("/users/{user_id}"), None, 200).await;
        assert!(after["attributes"].get("teams").is_none() && after["attributes"]["level"] == 3, "{after}");
        admin.call(Method::DELETE, "/user-attributes/teams", None, 404).await;

        let audit = admin.call(Method::GET, "/audit-logs?action=user_attribute.removed", None, 200).await;
        assert_eq!(audit["entries"][0]["details"]["values_cleared"], 1);
        let audit = admin.call(Method::GET, "/audit-logs?action=user.updated", None, 200).await;
        assert_eq!(audit["entries"][0]["details"]["changed"], "attributes");
    }

    #[tokio::test]
    async fn the_console_defines_attributes_and_edits_a_users_values(db) {
        let (browser, csrf) = signed_in(&db, "uma", &[Permission::Users]).await;
        let app = App::with_defaults(db.connect());
        let page = browser.get("/console/user-attributes").await.text().await.unwrap();
        assert!(page.contains("No attribute is defined yet"), "{page}");
        let refused = browser.post("/console/user-attributes", &[("csrf", &csrf), ("name", "sub"), ("type", "string"), ("description", "mine")]).await;
        assert_eq!(refused.status(), 400);
        assert!(refused.text().await.unwrap().contains("value=\"mine\""), "what was typed stays");
        browser.post("/console/user-attributes", &[("csrf", &csrf), ("name", "badge"), ("type", "number"), ("description", "door badge")]).await;
        assert_eq!(app.user_attributes(&Actor::operator()).unwrap()[0].name, "badge");

        let uma = app.users(&Actor::operator(), &portcullis_app::users::UserQuery { limit: 10, ..Default::default() }).unwrap().users.remove(0);
        let path = format!("/console/users/{}", uma.user_id);
        let user_page = browser.get(&path).await.text().await.unwrap();
        assert!(user_page.contains("<code>badge</code> (number)"), "{user_page}");
        let bad = browser.post(&format!("{path}/attributes"), &[("csrf", &csrf), ("attributes", "{\"badge\": \"x\"}")]).await;
        assert_eq!(bad.status(), 409);
        assert!(bad.text().await.unwrap().contains("&#34;badge&#34;: &#34;x&#34;"), "the refused JSON stays as typed");
        browser.post(&format!("{path}/attributes"), &[("csrf", &csrf), ("attributes", "{\"badge\": 1042}")]).await;
        assert_eq!(app.user(&Actor::operator(), &uma.user_id).unwrap().attributes, *json!({"badge": 1042}).as_object().unwrap());

        // A value of a user who holds more admin roles is not uma's to remove.
        let root = app.create_user(&Actor::operator(), &portcullis_core::Username::parse("root").unwrap(), None, &Default::default()).unwrap().user;
        for permission in Permission::ALL {
            app.set_admin_role(&Actor::operator(), &root.user_id, permission, true).unwrap();
        }
        app.set_user_attributes(&Actor::operator(), &root.user_id, json!({"badge": 1}).as_object().unwrap().clone()).unwrap();
        let confirm = browser.get("/console/user-attributes/badge/remove").await;
        assert_eq!(confirm.status(), 200);
        let outranked = browser.post("/console/user-attributes/badge/remove", &[("csrf", &csrf)]).await;
        assert_eq!(outranked.status(), 403);
        assert_eq!(app.user_attributes(&Actor::operator()).unwrap().len(), 1, "nothing was removed");
        app.set_user_attributes(&Actor::operator(), &root.user_id, serde_json::Map::new()).unwrap();
        browser.post("/console/user-attributes/badge/remove", &[("csrf", &csrf)]).await;
        assert!(app.user_attributes(&Actor::operator()).unwrap().is_empty());
        let values: Value = json!(app.user(&Actor::operator(), &uma.user_id).unwrap().attributes);
        assert_eq!(values, json!({}));
    }
}
