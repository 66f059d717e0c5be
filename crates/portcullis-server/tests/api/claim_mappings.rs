//! Claim mappings per client: a claim from a custom attribute, a standard
//! claim or a constant reaches exactly the tokens it names (ID token, access
//! token, UserInfo, introspection), only under the scope that releases it,
//! read afresh at every grant; what could never be released, or a
//! protocol claim, is refused.

use crate::admin_clients::Admin;
use crate::code_exchange::{exchange_form, payload};
use crate::code_flow::{browser, location, query, with_user, REDIRECT};
use crate::console::signed_in;
use crate::console_clients::draft;
use crate::token::register;
use portcullis_app::{Actor, App, Permission};
use portcullis_core::user_attributes::{AttributeDefinition, AttributeType};
use portcullis_core::StandardClaims;
use portcullis_store::backend_tests;
use reqwest::Method;
use serde_json::{json, Map, Value};

/// `alice` (from [`with_user`]) with an e-mail address and two attributes.
fn alice_with_attributes(db: &portcullis_store::test_support::TestDb) -> (App, String) {
    with_user(db);
    let (app, operator) = (App::with_defaults(db.connect()), Actor::operator());
    for (name, kind) in [("department", AttributeType::String), ("teams", AttributeType::Strings)] {
        let definition = AttributeDefinition { name: name.into(), kind, description: String::new() };
        app.define_user_attribute(&operator, definition).unwrap();
    }
    let alice = app.user_named(&operator, "Alice").unwrap();
    let claims = StandardClaims {
        name: Some("Alice".into()),
        email: Some("alice@example.com".into()),
        ..Default::default()
    };
    app.set_user_claims(&operator, &alice.user_id, &claims).unwrap();
    let values = json!({"department": "Research", "teams": ["engines"]});
    app.set_user_attributes(&operator, &alice.user_id, values.as_object().unwrap().clone()).unwrap();
    (app, alice.user_id)
}

/// The claims of `claims` among `names`.
fn only(claims: &Value, names: &[&str]) -> Map<String, Value> {
    names
        .iter()
        .filter_map(|name| claims.get(*name).map(|value| ((*name).to_owned(), value.clone())))
        .collect()
}

backend_tests! {
    #[tokio::test]
    async fn mapped_claims_reach_the_tokens_they_name_under_their_scope(db) {
        let (app, alice) = alice_with_attributes(&db);
        let mappings = json!([
            {"claim": "department", "from": {"attribute": "department"}, "tokens": ["id_token", "userinfo"], "scope": "hr"},
            {"claim": "teams", "from": {"attribute": "teams"}, "tokens": ["access_token", "introspection"]},
            {"claim": "mail", "from": {"standard": "email"}, "tokens": ["access_token"]},
            {"claim": "tenant", "from": {"value": "acme"}, "tokens": ["id_token", "access_token", "introspection"]},
        ]);
        let (id, secret) = register(&db, json!({"client_name": "HR app", "grant_types": ["authorization_code", "refresh_token"],
            "redirect_uris": [REDIRECT], "scope": "openid profile email hr", "skip_consent": true, "claim_mappings": mappings}));
        let rs = register(&db, json!({"client_name": "RS", "introspection_allowed": true}));
        let names = ["department", "teams", "mail", "tenant"];
        let browser = browser(&db);
        let code = query(&browser.sign_in_with(&id, &[("scope", "openid hr")]).await).remove("code").unwrap();
        let (status, tokens) = browser.exchange((&id, &secret), &exchange_form(&code)).await;
        assert_eq!(status, 200, "{tokens}");
        let id_token = payload(tokens["id_token"].as_str().unwrap());
        assert_eq!(Value::Object(only(&id_token, &names)), json!({"department": "Research", "tenant": "acme"}));
        assert_eq!(id_token["sub"], alice.as_str(), "the protocol's claims stay the server's");
        let access = tokens["access_token"].as_str().unwrap();
        assert_eq!(Value::Object(only(&payload(access), &names)),
                   json!({"teams": ["engines"], "mail": "alice@example.com", "tenant": "acme"}));
        let userinfo: Value = reqwest::Client::new().get(format!("{}/userinfo", browser.app.address))
            .bearer_auth(access).send().await.unwrap().json().await.unwrap();
        assert_eq!(Value::Object(only(&userinfo, &names)), json!({"department": "Research"}));
        assert_eq!(userinfo["sub"], alice.as_str());
        let introspected = browser.introspect((&rs.0, &rs.1), access).await;
        assert_eq!(introspected["active"], true);
        assert_eq!(Value::Object(only(&introspected, &names)), json!({"teams": ["engines"], "tenant": "acme"}));

        // Values are read at each grant; a narrower scope releases less.
        let values = json!({"department": "Engines", "teams": []});
        app.set_user_attributes(&Actor::operator(), &alice, values.as_object().unwrap().clone()).unwrap();
        let (status, refreshed) = browser.refresh((&id, &secret), tokens["refresh_token"].as_str().unwrap(), None).await;
        assert_eq!(status, 200, "{refreshed}");
        assert_eq!(payload(refreshed["id_token"].as_str().unwrap())["department"], "Engines");
        assert_eq!(payload(refreshed["access_token"].as_str().unwrap())["teams"], json!([]));
        let (_, narrowed) = browser.refresh((&id, &secret), refreshed["refresh_token"].as_str().unwrap(), Some("openid")).await;
        let narrowed = payload(narrowed["id_token"].as_str().unwrap());
        assert_eq!(Value::Object(only(&narrowed, &names)), json!({"tenant": "acme"}), "without hr, no department");

        // The consent page names the user's claims each scope shares, and those any scope shares.
        let (asking, _) = register(&db, json!({"client_name": "Asking app", "grant_types": ["authorization_code"],
            "redirect_uris": [REDIRECT], "scope": "openid hr", "claim_mappings": mappings}));
        let consent = location(browser.authorize(&asking, &[("scope", "openid hr")]).await.headers());
        assert!(consent.starts_with("/consent"), "{consent}");
        let page = browser.get(&consent).await.text().await.unwrap();
        assert!(page.contains("hr” <span class=\"muted\">(department)</span>"), "{page}");
        assert!(page.contains("Also shared with the app: teams, mail"), "a constant is no claim of the user's: {page}");

        // A client's own token carries only constants: there is no user.
        let (svc, svc_secret) = register(&db, json!({"client_name": "svc", "scope": "read", "claim_mappings": [
            {"claim": "tenant", "from": {"value": {"id": 7}}, "tokens": ["access_token"], "scope": "read"},
            {"claim": "mail", "from": {"standard": "email"}, "tokens": ["access_token"]}]}));
        let (status, own) = browser.exchange((&svc, &svc_secret), &[("grant_type", "client_credentials")]).await;
        assert_eq!(status, 200, "{own}");
        assert_eq!(Value::Object(only(&payload(own["access_token"].as_str().unwrap()), &names)), json!({"tenant": {"id": 7}}));
    }

    #[tokio::test]
    async fn protocol_claims_and_mappings_that_could_never_be_released_are_refused(db) {
        let admin = Admin::start(&db).await;
        admin.call(Method::POST, "/user-attributes", Some(json!({"name": "department", "type": "string"})), 201).await;
        let client = |mapping: Value| json!({"client_name": "App", "scope": "read", "claim_mappings": [mapping]});
        for (mapping, why) in [
            (json!({"claim": "sub", "from": {"attribute": "department"}, "tokens": ["access_token"]}), "sub"),
            (json!({"claim": "client_id", "from": {"value": "x"}, "tokens": ["access_token"]}), "client_id"),
            (json!({"claim": "email", "from": {"attribute": "department"}, "tokens": ["id_token"]}), "a standard claim"),
            (json!({"claim": "dept", "from": {"attribute": "departement"}, "tokens": ["id_token"]}), "no such attribute"),
            (json!({"claim": "dept", "from": {"attribute": "department"}, "tokens": ["id_token"], "scope": "hr"}), "a scope the client lacks"),
            (json!({"claim": "dept", "from": {"attribute": "department"}, "tokens": []}), "no token"),
        ] {
            let refused = admin.send(Method::POST, "/clients", Some(client(mapping))).await;
            assert_eq!(refused.status(), 400, "{why}");
            let body: Value = refused.json().await.unwrap();
            assert!(body.to_string().contains("claim_mappings"), "{why}: the member is named: {body}");
        }
        let audit = admin.call(Method::GET, "/audit-logs?action=client.created&outcome=refused", None, 200).await;
        assert_eq!(audit["entries"].as_array().unwrap().len(), 6, "each refusal is audited: {audit}");
        let view_member = json!({"client_name": "App", "disabled": true});
        assert_eq!(admin.send(Method::POST, "/clients", Some(view_member)).await.status(), 400, "a view's member is no configuration's");
        let created = admin.call(Method::POST, "/clients", Some(client(
            json!({"claim": "dept", "from": {"attribute": "department"}, "tokens": ["access_token"], "scope": "read"})))
        , 201).await;
        assert_eq!(created["claim_mappings"][0]["claim"], "dept", "{created}");
    }

    #[tokio::test]
    async fn the_console_edits_mappings_and_the_sandbox_previews_each_token_for_a_user(db) {
        let (app, _) = alice_with_attributes(&db);
        let (browser, csrf) = signed_in(&db, "carol", &[Permission::Clients, Permission::Users]).await;
        let created = app.create_client(&Actor::operator(), portcullis_core::ClientMetadata::parse(json!({"client_name": "HR app", "grant_types": ["authorization_code"],
            "redirect_uris": ["https://hr.example/cb"], "scope": "openid hr"}).as_object().unwrap().clone()).unwrap()).unwrap();
        let path = format!("/console/clients/{}", created.client.client_id);
        let form = browser.get(&format!("{path}/edit")).await.text().await.unwrap();
        assert!(form.contains("name=\"claim_mappings\""), "the builder has the field: {form}");
        let mappings = json!([{"claim": "department", "from": {"attribute": "department"}, "tokens": ["id_token", "userinfo"], "scope": "hr"}]);
        let edit = format!("{path}/edit");
        let review = |mappings: String| {
            let (browser, edit, csrf) = (&browser, &edit, &csrf);
            async move {
                browser.post(edit, &[("csrf", csrf.as_str()), ("step", "review"), ("based_on", "1"), ("client_name", "HR app"),
                    ("redirect_uris", "https://hr.example/cb"), ("grant_types", "authorization_code"),
                    ("token_endpoint_auth_method", "client_secret_basic"), ("scope", "openid hr"), ("require_pkce", "on"),
                    ("access_token_signed_response_alg", "RS256"), ("id_token_signed_response_alg", "RS256"),
                    ("claim_mappings", &mappings)]).await
            }
        };
        let refused = review(json!([{"claim": "sub", "from": {"value": 1}, "tokens": ["id_token"]}]).to_string()).await;
        assert_eq!(refused.status(), 400);
        assert!(refused.text().await.unwrap().contains("cannot be mapped"), "the refusal explains");
        let review = review(mappings.to_string()).await.text().await.unwrap();
        assert!(review.contains("<th scope=\"row\">Claim mappings</th>"), "{review}");
        let saved = browser.post(&format!("{path}/edit"), &[("csrf", &csrf), ("step", "save"), ("based_on", "1"), ("draft", &draft(&review))]).await;
        assert_eq!(saved.status(), 303);
        assert_eq!(json!(app.client(&Actor::operator(), &created.client.client_id).unwrap().metadata.claim_mappings), mappings);

        let sandbox = format!("{path}/sandbox");
        let tried = browser.post(&sandbox, &[("csrf", &csrf), ("grant_type", "authorization_code"), ("user", "alice")]).await.text().await.unwrap();
        let alice = app.user_named(&Actor::operator(), "alice").unwrap().user_id;
        for shown in ["<h3>ID token", "<h3>UserInfo</h3>", "<h3>Introspection</h3>", "&#34;department&#34;: &#34;Research&#34;",
                      &format!("&#34;sub&#34;: &#34;{alice}&#34;")] {
            assert!(tried.contains(shown), "{shown}: {tried}");
        }
        assert_eq!(tried.matches("&#34;department&#34;: &#34;Research&#34;").count(), 2, "in the ID token and UserInfo only: {tried}");
        let unknown = browser.post(&sandbox, &[("csrf", &csrf), ("grant_type", "authorization_code"), ("user", "nobody")]).await.text().await.unwrap();
        assert!(unknown.contains("The user cannot be previewed: there is no user nobody"), "{unknown}");

        let placeholders = browser.post(&sandbox, &[("csrf", &csrf), ("grant_type", "authorization_code")]).await.text().await.unwrap();
        assert!(placeholders.contains("(the signed-in user&#39;s id)") && !placeholders.contains("Research"), "{placeholders}");
    }
}
