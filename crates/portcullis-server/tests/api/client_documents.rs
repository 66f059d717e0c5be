//! Clients named by the URL of their metadata document
//! (draft-ietf-oauth-client-id-metadata-document): advertised, fetched
//! through the guarded client and kept as its headers say, named on the
//! consent page, signing a user in as a public client with PKCE; documents
//! that do not name themselves, carry a secret, answer other than 200, or
//! live on a host the operator did not list are refused, and nothing is
//! fetched with the feature off.

use crate::code_exchange::VERIFIER;
use crate::code_flow::{browser_with, location, query, with_user, REDIRECT};
use crate::helpers::{new_kek, settings};
use portcullis_oauth::client_documents::DocumentHosts;
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Documents a test serves by path: status, body (JSON, or a string as
/// itself) and `Cache-Control`;
/// and how often each was fetched.
#[derive(Default)]
pub struct Documents {
    /// What is served at each path.
    pub served: Mutex<HashMap<String, (u16, Value, &'static str)>>,
    fetches: Mutex<HashMap<String, usize>>,
    total: AtomicUsize,
}

impl Documents {
    /// How often `path` was fetched.
    pub fn fetched(&self, path: &str) -> usize {
        self.fetches.lock().unwrap().get(path).copied().unwrap_or_default()
    }
}

/// Serves `documents` at `http://127.0.0.1:PORT/…`; returns the base URL.
pub fn serve(documents: Arc<Documents>) -> String {
    use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
    let data = web::Data::from(documents);
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).default_service(web::to(
            |req: HttpRequest, docs: web::Data<Documents>| async move {
                let path = req.path().to_owned();
                docs.total.fetch_add(1, Ordering::SeqCst);
                *docs.fetches.lock().unwrap().entry(path.clone()).or_default() += 1;
                match docs.served.lock().unwrap().get(&path) {
                    Some((status, body, cache)) => {
                        let mut response =
                            HttpResponse::build(actix_web::http::StatusCode::from_u16(*status).unwrap());
                        response.insert_header(("cache-control", *cache));
                        match body {
                            // A string is served as itself: a request object.
                            Value::String(jwt) => {
                                response.content_type("application/oauth-authz-req+jwt").body(jwt.clone())
                            }
                            json => response.json(json),
                        }
                    }
                    None => HttpResponse::NotFound().finish(),
                }
            },
        ))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let base = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    base
}

fn document(client_id: &str) -> Value {
    json!({"client_id": client_id, "client_name": "Desk Agent", "redirect_uris": [REDIRECT],
           "grant_types": ["authorization_code", "refresh_token"], "logo_uri": "https://agent.example/logo.png"})
}

backend_tests! {
    #[tokio::test]
    async fn a_client_known_by_its_document_signs_a_user_in_and_is_named_by_its_host(db) {
        with_user(&db);
        let documents = Arc::new(Documents::default());
        let base = serve(documents.clone());
        let client_id = format!("{base}/agent.json");
        documents.served.lock().unwrap().insert("/agent.json".into(), (200, document(&client_id), "max-age=600"));
        let mut at = settings(&db, &new_kek());
        at.client_metadata_documents = Some(DocumentHosts::Any);
        let browser = browser_with(at);
        let discovery: Value = browser.get("/.well-known/openid-configuration").await.json().await.unwrap();
        assert_eq!(discovery["client_id_metadata_document_supported"], true);

        let to_login = browser.authorize(&client_id, &[]).await;
        assert_eq!(to_login.status(), 303);
        let login = location(to_login.headers());
        let page = browser.get(&login).await.text().await.unwrap();
        assert!(page.contains("Desk Agent") && page.contains("describes itself at <strong>127.0.0.1</strong>"), "{page}");
        let to_client = browser.sign_in(&client_id).await;
        let code = query(&to_client).remove("code").unwrap_or_else(|| panic!("no code in {to_client}"));
        let http = &browser.http;
        let tokens: Value = http.post(format!("{}/token", browser.app.address))
            .form(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT),
                    ("client_id", &client_id), ("code_verifier", VERIFIER)])
            .send().await.unwrap().json().await.unwrap();
        assert!(tokens["access_token"].is_string() && tokens["id_token"].is_string(), "{tokens}");
        assert_eq!(documents.fetched("/agent.json"), 1, "kept as its Cache-Control says");

        // A document that does not name itself, carries a secret, or is not there is refused.
        let impostor = format!("{base}/impostor.json");
        let secretive = format!("{base}/secretive.json");
        let mut with_secret = document(&secretive);
        with_secret["client_secret"] = json!("shared");
        {
            let mut served = documents.served.lock().unwrap();
            served.insert("/impostor.json".into(), (200, document(&client_id), "max-age=600"));
            served.insert("/secretive.json".into(), (200, with_secret, "no-store"));
        }
        for refused in [impostor, secretive, format!("{base}/missing.json")] {
            let answer = browser.authorize(&refused, &[]).await;
            assert_eq!(answer.status(), 400, "{refused}: an error page, never a redirect");
            assert!(answer.headers().get("location").is_none());
        }
        assert_eq!(documents.fetched("/missing.json"), 1);
        browser.authorize(&format!("{base}/missing.json"), &[]).await;
        assert_eq!(documents.fetched("/missing.json"), 2, "a failed fetch is never kept");
    }
}

#[tokio::test]
async fn only_listed_hosts_are_fetched_and_nothing_is_while_off() {
    let db = TestDb::sqlite();
    let documents = Arc::new(Documents::default());
    let base = serve(documents.clone());
    let client_id = format!("{base}/agent.json");
    documents.served.lock().unwrap().insert("/agent.json".into(), (200, document(&client_id), "max-age=600"));

    let kek = new_kek();
    let off = browser_with(settings(&db, &kek));
    let discovery: Value = off.get("/.well-known/openid-configuration").await.json().await.unwrap();
    assert!(discovery.get("client_id_metadata_document_supported").is_none());
    assert_eq!(off.authorize(&client_id, &[]).await.status(), 400);

    let mut listed = settings(&db, &kek);
    listed.client_metadata_documents = Some(DocumentHosts::Only(vec!["agents.example".into()]));
    let elsewhere = browser_with(listed);
    assert_eq!(elsewhere.authorize(&client_id, &[]).await.status(), 400);
    assert_eq!(documents.total.load(Ordering::SeqCst), 0, "no document was fetched");
}
