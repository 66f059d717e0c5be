//! Webhooks over HTTP (issue 11): a receiver here verifies every delivery's
//! Standard Webhooks signature itself, answers the first attempt with 500
//! and sees the retry; the delivery log shows both; a test event arrives;
//! an endpoint that never answers holds up no one else.

use crate::admin_clients::Admin;
use crate::helpers::{new_kek, settings};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use portcullis_store::backend_tests;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the receiver was sent: the `webhook-id` and the body.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    body: Value,
}

/// A receiver verifying signatures with `secret`, failing the first
/// `fail_first` requests with 500.
#[derive(Clone)]
struct Receiver {
    secret: Arc<Mutex<Vec<u8>>>,
    seen: Arc<Mutex<Vec<Received>>>,
    fail_first: usize,
}

fn verified(secret: &[u8], req: &HttpRequest, body: &str) -> Option<String> {
    let header = |name: &str| req.headers().get(name)?.to_str().ok().map(str::to_owned);
    let (id, timestamp, signatures) =
        (header("webhook-id")?, header("webhook-timestamp")?, header("webhook-signature")?);
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).ok()?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    signatures.split(' ').any(|s| s == expected).then_some(id)
}

async fn receive(req: HttpRequest, body: String, receiver: web::Data<Receiver>) -> HttpResponse {
    let secret = receiver.secret.lock().unwrap().clone();
    let Some(id) = verified(&secret, &req, &body) else { return HttpResponse::Unauthorized().finish() };
    let mut seen = receiver.seen.lock().unwrap();
    seen.push(Received { id, body: serde_json::from_str(&body).unwrap() });
    if seen.len() <= receiver.fail_first {
        HttpResponse::InternalServerError().finish()
    } else {
        HttpResponse::NoContent().finish()
    }
}

impl Receiver {
    /// Starts a receiver on a loopback port; returns it and its URL.
    fn start(fail_first: usize) -> (Self, String) {
        let receiver = Self { secret: Arc::default(), seen: Arc::default(), fail_first };
        let data = web::Data::new(receiver.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = actix_web::HttpServer::new(move || {
            actix_web::App::new().app_data(data.clone()).route("/hook", web::post().to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        (receiver, format!("http://127.0.0.1:{port}/hook"))
    }

    fn trust(&self, secret: &str) {
        *self.secret.lock().unwrap() = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    }

    /// Waits until `n` deliveries have arrived; returns them.
    async fn until(&self, n: usize) -> Vec<Received> {
        for _ in 0..150 {
            let seen = self.seen.lock().unwrap().clone();
            if seen.len() >= n {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{n} deliveries did not arrive: {:?}", self.seen.lock().unwrap());
    }
}

backend_tests! {
    #[tokio::test]
    async fn deliveries_are_signed_retried_logged_and_filtered(db) {
        let clock = portcullis_app::Clock::manual(chrono::Utc::now());
        let mut at = settings(&db, &new_kek());
        at.clock = clock.clone();
        let admin = Admin::on(&db, at).await;
        let (receiver, url) = Receiver::start(1);
        // An endpoint that accepts connections and never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent_url = format!("http://{}/hook", silent.local_addr().unwrap());
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = silent.accept().await {
                held.push(socket);
            }
        });
        admin.call(Method::POST, "/webhooks", Some(json!({"url": silent_url})), 201).await;

        let created = admin.call(Method::POST, "/webhooks", Some(json!({"url": url, "events": ["client.*", "webhook.test"], "description": "audit sink"})), 201).await;
        let secret = created["secret"].as_str().unwrap();
        receiver.trust(secret);
        let id = created["webhook_id"].as_str().unwrap().to_owned();
        let listed = admin.call(Method::GET, "/webhooks", None, 200).await;
        assert!(!listed.to_string().contains(secret), "the secret is shown once");

        admin.call(Method::POST, "/keys", Some(json!({"alg": "ES256"})), 201).await;
        let client = admin.call(Method::POST, "/clients", Some(json!({"client_name": "billing"})), 201).await;
        let first = receiver.until(1).await;
        assert_eq!(first[0].body["type"], "client.created", "the key event is filtered out");
        assert_eq!(first[0].body["data"]["target"], client["client_id"]);
        let log = admin.call(Method::GET, &format!("/webhooks/{id}/deliveries"), None, 200).await;
        let delivery = &log["deliveries"][0];
        assert_eq!((delivery["status"].as_str(), delivery["attempts"].as_i64(), delivery["last_status"].as_i64()), (Some("pending"), Some(1), Some(500)), "{log}");
        assert!(delivery["next_attempt_at"].is_string());

        clock.advance(chrono::TimeDelta::seconds(6));
        let both = receiver.until(2).await;
        assert_eq!(both[1].id, both[0].id, "a retry carries the same webhook-id");
        let log = admin.call(Method::GET, &format!("/webhooks/{id}/deliveries"), None, 200).await;
        assert_eq!((log["deliveries"][0]["status"].as_str(), log["deliveries"][0]["attempts"].as_i64()), (Some("delivered"), Some(2)));

        let test = admin.call(Method::POST, &format!("/webhooks/{id}/test"), None, 202).await;
        let all = receiver.until(3).await;
        assert_eq!((all[2].body["type"].as_str(), all[2].id.as_str()), (Some("webhook.test"), test["delivery_id"].as_str().unwrap()));

        let changed = admin.call(Method::PATCH, &format!("/webhooks/{id}"), Some(json!({"enabled": false})), 200).await;
        assert_eq!(changed["enabled"], false);
        admin.call(Method::DELETE, &format!("/webhooks/{id}"), None, 204).await;
        admin.call(Method::GET, &format!("/webhooks/{id}"), None, 404).await;
    }

    #[tokio::test]
    async fn inside_addresses_are_refused_alike_whether_anything_listens_there(db) {
        let strict = portcullis_server::Settings { outbound_allow: Vec::new(), ..settings(&db, &new_kek()) };
        let admin = Admin::on(&db, strict).await;
        let (_receiver, listening) = Receiver::start(0);
        let closed = format!("http://127.0.0.1:{}/hook", portcullis_server::test_support::free_port());
        let mut refusals = Vec::new();
        for url in [listening.clone(), closed, "https://127.0.0.1/".into(), "http://2130706433/".into(), "https://[::1]/".into(),
                    "https://[::ffff:127.0.0.1]/".into(), "https://169.254.169.254/latest/meta-data/".into(),
                    "https://10.0.0.1/".into(), "https://[fd00::1]/".into(), "https://100.64.0.1/".into(), "https://localhost:9/".into()] {
            let refused = admin.call(Method::POST, "/webhooks", Some(json!({"url": url})), 400).await;
            refusals.push(refused["error_description"].as_str().unwrap().to_owned());
        }
        assert!(refusals.iter().all(|r| r == "url: refused: not a public address"), "{refusals:?}");
        let created = admin.call(Method::POST, "/webhooks", Some(json!({"url": "https://hooks.example/in"})), 201).await;
        let id = created["webhook_id"].as_str().unwrap();
        admin.call(Method::PATCH, &format!("/webhooks/{id}"), Some(json!({"url": listening})), 400).await;
    }

    #[tokio::test]
    async fn endpoints_receive_only_what_their_creator_may_read(db) {
        let admin = Admin::start(&db).await;
        let (id, secret) = crate::token::register(&db, json!({"client_name": "monitor", "scope": "admin:monitoring"}));
        let token = admin.app.access_token((&id, &secret)).await;
        let app = crate::helpers::TestApp { address: admin.app.address.clone(), client: admin.app.client.clone() };
        let monitor = Admin { app, token, id, secret };
        monitor.call(Method::GET, "/audit-logs", None, 403).await;
        for events in [json!([]), json!(["*"]), json!(["auth.*", "alert.fired"]), json!(["console.signed_in"])] {
            let refused = monitor.call(Method::POST, "/webhooks", Some(json!({"url": "https://hooks.example/in", "events": events})), 403).await;
            let description = refused["error_description"].as_str().unwrap();
            let (_, named) = description.split_once("admin:audit reads: ").unwrap_or_else(|| panic!("{events}: {description}"));
            assert!(!named.contains("alert.") && !named.contains("webhook."), "{events}: only the unreadable ones are named: {description}");
        }
        let refused = monitor.call(Method::POST, "/webhooks", Some(json!({"url": "https://hooks.example/in", "events": ["auth.*"]})), 403).await;
        assert!(refused["error_description"].as_str().unwrap().contains("auth.login_failed"), "{refused}");
        let own = monitor.call(Method::POST, "/webhooks", Some(json!({"url": "https://hooks.example/in", "events": ["alert.*", "alert_rule.*", "webhook.*"]})), 201).await;
        let own = own["webhook_id"].as_str().unwrap();
        monitor.call(Method::PATCH, &format!("/webhooks/{own}"), Some(json!({"events": ["client.*"]})), 403).await;
        // An endpoint that receives the audit log cannot be pointed elsewhere by a monitor.
        let audit_sink = admin.call(Method::POST, "/webhooks", Some(json!({"url": "https://audit.example/in"})), 201).await;
        let audit_sink = audit_sink["webhook_id"].as_str().unwrap();
        monitor.call(Method::PATCH, &format!("/webhooks/{audit_sink}"), Some(json!({"url": "https://attacker.example/in"})), 403).await;
        assert_eq!(admin.call(Method::GET, &format!("/webhooks/{audit_sink}"), None, 200).await["url"], "https://audit.example/in");
        let refusals = admin.call(Method::GET, "/audit-logs?action=webhook.created&outcome=refused", None, 200).await;
        assert!(!refusals["entries"].as_array().unwrap().is_empty(), "refusals are audited: {refusals}");
    }

    #[tokio::test]
    async fn bad_endpoints_and_strangers_are_refused(db) {
        let admin = Admin::start(&db).await;
        for body in [json!({"url": "ftp://hooks.example/in"}), json!({"url": "https://hooks.example/in", "events": ["nothing.*"]}),
                     json!({"events": []}), json!({"url": "https://hooks.example/in", "secret": "mine"})] {
            let refused = admin.call(Method::POST, "/webhooks", Some(body.clone()), 400).await;
            assert_eq!(refused["error"], "invalid_request", "{body}: {refused}");
        }
        for path in ["/webhooks/wh_none", "/webhooks/wh_none/deliveries"] {
            admin.call(Method::GET, path, None, 404).await;
        }
        admin.call(Method::POST, "/webhooks/wh_none/test", None, 404).await;
        let (keys_only, secret) = crate::token::register(&db, json!({"client_name": "key admin", "scope": "admin:keys"}));
        let token = admin.app.access_token((&keys_only, &secret)).await;
        let url = format!("{}/admin/v1/webhooks", admin.app.address);
        assert_eq!(admin.app.client.get(&url).bearer_auth(token).send().await.unwrap().status(), 403);
    }
}
