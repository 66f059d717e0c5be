//! What an attacker who knows only public things (client ids, the issuer)
//! must not be able to do: lock others out, stall the database, grow the
//! audit log, or hold connections forever (issue 9).

use crate::admin_audit::failures_summarised;
use crate::admin_clients::Admin;
use crate::helpers::{new_kek, settings, spawn_with, ISSUER};
use crate::token::{register, service};
use chrono::Utc;
use portcullis_core::SigningAlgorithm;
use portcullis_jose::AccessTokenClaims;
use portcullis_oauth::endpoints;
use portcullis_server::KeyRing;
use portcullis_store::backend_tests;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// The address an attacker's requests appear to come from, through a trusted proxy.
const ATTACKER: &str = "203.0.113.9";

backend_tests! {
    #[tokio::test]
    async fn wrong_secrets_from_elsewhere_lock_out_only_their_address(db) {
        let (id, secret) = service(&db);
        let public = register(&db, json!({"client_name": "spa", "grant_types": ["authorization_code"], "token_endpoint_auth_method": "none",
                                          "redirect_uris": ["https://spa.example/cb"]}));
        let mut behind_proxy = settings(&db, &new_kek());
        behind_proxy.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        behind_proxy.lockout.threshold = 5;
        let app = spawn_with(behind_proxy);
        assert_eq!(app.token(&id, &secret, "").await.status(), 200);
        let from_attacker = |body: String| {
            app.post_form(endpoints::TOKEN, &body).header("x-forwarded-for", ATTACKER)
        };
        for _ in 0..50 {
            let guess = from_attacker("grant_type=client_credentials".into()).basic_auth(&id, Some("guess")).send().await.unwrap();
            assert_eq!(guess.status(), 401);
        }
        for _ in 0..3 {
            assert_eq!(app.token(&id, &secret, "").await.status(), 200, "the client's own callers are not locked out");
        }
        // The locked address's credentials are not even checked: a right guess is not told apart.
        let right_secret = from_attacker("grant_type=client_credentials".into()).basic_auth(&id, Some(&secret)).send().await.unwrap();
        assert_eq!(right_secret.status(), 401);
        let body: Value = right_secret.json().await.unwrap();
        assert_eq!(body["error_description"], "client authentication failed", "{body}");
        // Presenting no secret at all, from the client's own address, is no guess: it locks nothing.
        for _ in 0..10 {
            let bare = app.post_form(endpoints::TOKEN, &format!("grant_type=client_credentials&client_id={id}")).send().await.unwrap();
            assert_eq!(bare.status(), 401);
        }
        assert_eq!(app.token(&id, &secret, "").await.status(), 200);

        // A public client has no secret to guess: nothing it is sent locks it.
        for _ in 0..20 {
            from_attacker(format!("grant_type=authorization_code&code=x&client_id={}&client_secret=guess", public.0)).send().await.unwrap();
        }
        let exchange = app.post_form(endpoints::TOKEN, &format!("grant_type=authorization_code&code=x&client_id={}", public.0)).send().await.unwrap();
        let body: Value = exchange.json().await.unwrap();
        assert_eq!(body["error"], "invalid_grant", "the public client still authenticates: {body}");
    }

    #[tokio::test]
    async fn instances_count_one_addresss_failures_together_and_digest_alike(db) {
        let (id, secret) = service(&db);
        let kek = new_kek();
        let instance = || {
            let mut behind_proxy = settings(&db, &kek);
            behind_proxy.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
            behind_proxy.lockout.threshold = 6;
            behind_proxy
        };
        let one = Admin::on(&db, instance()).await;
        let two = spawn_with(instance());
        let from_attacker = |app: &crate::helpers::TestApp, client: &str, secret: &str| {
            app.post_form(endpoints::TOKEN, "grant_type=client_credentials").header("x-forwarded-for", ATTACKER)
                .basic_auth(client, Some(secret)).send()
        };
        // Three guesses at each instance: one threshold of six, not two of six each.
        for app in [&one.app, &two, &one.app, &two, &one.app, &two] {
            assert_eq!(from_attacker(app, &id, "guess").await.unwrap().status(), 401);
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        for app in [&one.app, &two] {
            let right = from_attacker(app, &id, &secret).await.unwrap();
            assert_eq!(right.status(), 401, "the address is locked out on every instance");
        }
        assert_eq!(two.token(&id, &secret, "").await.status(), 200, "only that address");
        let locked = one.call(Method::GET, "/audit-logs?action=client.locked_out", None, 200).await;
        let entries = locked["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "one lockout: {locked}");
        assert_eq!(entries[0]["details"]["address"], ATTACKER);

        // The same unknown id is digested alike by both instances.
        for app in [&one.app, &two] {
            assert_eq!(from_attacker(app, "my-secret-typed-as-an-id", "x").await.unwrap().status(), 401);
        }
        let mut digests = std::collections::BTreeSet::new();
        for _ in 0..50 {
            let summaries = one.call(Method::GET, "/audit-logs?action=auth.client_failed", None, 200).await;
            digests = summaries["entries"].as_array().unwrap().iter()
                .filter(|e| e["details"]["presented"] == "(unknown client)")
                .flat_map(|e| e["details"]["presented_digests"].as_array().unwrap().clone())
                .map(|d| d.as_str().unwrap().to_owned()).collect();
            let written = summaries["entries"].as_array().unwrap().iter().filter(|e| e["details"]["presented"] == "(unknown client)").count();
            if written >= 2 { break }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(digests.len(), 1, "one digest from both instances: {digests:?}");
    }

    #[tokio::test]
    async fn a_burst_of_wrong_secrets_does_not_starve_the_pool(db) {
        let (id, secret) = service(&db);
        let mut small = settings(&db, &new_kek());
        small.pool.max_size = 2;
        small.pool.connection_timeout = Duration::from_secs(1);
        small.lockout.threshold = 1000;
        let app = spawn_with(small);
        // Failures from an address that authenticated the client go to the database.
        assert_eq!(app.token(&id, &secret, "").await.status(), 200);
        let wrong = (0..30).map(|_| app.token(&id, "wrong", ""));
        let probes = (0..10).map(|_| app.get(endpoints::READYZ));
        let (wrong, probes) = tokio::join!(futures_util::future::join_all(wrong), futures_util::future::join_all(probes));
        assert!(wrong.iter().all(|r| r.status() == 401));
        let statuses: Vec<u16> = probes.iter().map(|r| r.status().as_u16()).collect();
        assert!(statuses.iter().all(|s| *s == 200), "database work waited for a connection: {statuses:?}");
        assert_eq!(app.token(&id, &secret, "").await.status(), 200);
    }

    #[tokio::test]
    async fn a_flood_of_failures_adds_a_handful_of_audit_entries(db) {
        // Registered before the server starts: an id this instance has not yet
        // mirrored counts as unknown until it has (within a second).
        let (id, _) = service(&db);
        let admin = Admin::start(&db).await;
        let flood = (0..400).map(|n| {
            let (id, secret) = if n % 2 == 0 { (id.clone(), "wrong".to_owned()) } else { (format!("invented-{n}"), "x".to_owned()) };
            let app = &admin.app;
            async move { app.token(&id, &secret, "").await.status() }
        });
        let statuses = futures_util::future::join_all(flood).await;
        // Invented ids past the address's limit for unknown ids get 429 before
        // any lookup, and past the database lookups allowed a second 503: not verdicts.
        assert!(statuses.iter().all(|s| [401, 429, 503].contains(&s.as_u16())), "{statuses:?}");
        let refused = statuses.iter().filter(|s| s.as_u16() == 401).count() as u64;
        assert!(refused >= 200, "every wrong secret is refused: {refused}");
        let limited = statuses.iter().filter(|s| s.as_u16() == 429).count();
        assert!(limited >= 200 - 30, "200 invented ids from one address are over its limit: {limited}");
        let unauthenticated = (0..100).map(|n| {
            let path = if n % 2 == 0 { format!("/admin/v1/invented-{n}") } else { "/admin/v1/clients".to_owned() };
            admin.app.client.post(format!("{}{path}", admin.app.address)).send()
        });
        for response in futures_util::future::join_all(unauthenticated).await {
            assert!([401, 404].contains(&response.unwrap().status().as_u16()));
        }
        let mut counted = 0;
        for _ in 0..50 {
            let summaries = failures_summarised(&admin).await;
            counted = summaries.iter().map(|e| e["details"]["count"].as_u64().unwrap()).sum::<u64>();
            if counted == refused {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(counted, refused, "every failure is counted");
        let all: Value = admin.send(Method::GET, "/audit-logs?limit=1000", None).await.json().await.unwrap();
        let rows = all["entries"].as_array().unwrap().len();
        // Four for the first start's keys, two for the bootstrap (client.created,
        // admin.bootstrapped), the rest summaries.
        assert!(rows <= 12, "{rows} audit rows for 500 failed requests: {all}");
    }

    #[tokio::test]
    async fn a_client_made_elsewhere_is_usable_at_once(db) {
        let app = spawn_with(settings(&db, &new_kek()));
        assert_eq!(app.token("not-yet", "x", "").await.status(), 401);
        // As the CLI or another instance would: straight into the database.
        let (id, secret) = service(&db);
        assert_eq!(app.token(&id, &secret, "").await.status(), 200, "read through on a miss");
    }

    #[tokio::test]
    async fn the_last_admin_client_cannot_be_disabled_or_deleted(db) {
        let admin = Admin::start(&db).await;
        for (method, path) in [(Method::POST, format!("/clients/{}/disable", admin.id)), (Method::DELETE, format!("/clients/{}", admin.id))] {
            let refused = admin.send(method.clone(), &path, None).await;
            assert_eq!(refused.status(), 409, "{method} {path}");
            let body: Value = refused.json().await.unwrap();
            assert!(body["error_description"].as_str().unwrap().contains("last enabled client holding the `admin` scope"), "{body}");
        }
        let demoted = admin.send(Method::PATCH, &format!("/clients/{}", admin.id), Some(json!({"scope": "admin:keys"}))).await;
        assert_eq!(demoted.status(), 409, "nor lose its scope");
        let other: Value = admin.send(Method::POST, "/clients", Some(json!({"client_name": "second admin", "scope": "admin"}))).await.json().await.unwrap();
        assert_eq!(admin.send(Method::POST, &format!("/clients/{}/disable", admin.id), None).await.status(), 200, "with another admin it may go");
        let second = admin.app.access_token((other["client_id"].as_str().unwrap(), other["client_secret"].as_str().unwrap())).await;
        let enabled = admin.app.client.post(format!("{}/admin/v1/clients/{}/enable", admin.app.address, admin.id)).bearer_auth(second).send().await.unwrap();
        assert_eq!(enabled.status(), 200);
    }

    #[tokio::test]
    async fn our_apis_take_only_tokens_for_us_and_in_their_time(db) {
        let kek = new_kek();
        let admin = Admin::on(&db, settings(&db, &kek)).await;
        let created: Value = admin.send(Method::POST, "/clients", Some(json!({"client_name": "api admin", "scope": "admin",
            "resources": ["https://api.example/"], "introspection_allowed": true}))).await.json().await.unwrap();
        let (id, secret) = (created["client_id"].as_str().unwrap(), created["client_secret"].as_str().unwrap());
        let for_api: Value = admin.app.token(id, secret, "&resource=https%3A%2F%2Fapi.example%2F").await.json().await.unwrap();
        let for_api = for_api["access_token"].as_str().unwrap();
        let refused = admin.app.client.get(format!("{}/admin/v1/clients", admin.app.address)).bearer_auth(for_api).send().await.unwrap();
        assert_eq!(refused.status(), 401, "RFC 9068 §4: another audience's token");
        assert!(refused.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
        assert!(admin.app.is_active((id, secret), for_api).await, "introspection reports it as it is (RFC 7662)");

        let ring = KeyRing::open(&db.connect(), portcullis_jose::KeyEncryptionKey::from_base64(&kek).unwrap()).unwrap();
        let keys = ring.current();
        let now = Utc::now().timestamp();
        let future = |iat: i64, nbf: Option<i64>| AccessTokenClaims {
            iss: ISSUER.into(), sub: admin.id.clone(), aud: ISSUER.into(), client_id: admin.id.clone(),
            scope: Some("admin openid".into()), jti: uuid::Uuid::new_v4().to_string(), grant_id: None,
            iat, nbf, exp: now + 7200, userinfo_claims: Vec::new(), cnf: None, act: None,
        }.sign(keys.signer(SigningAlgorithm::Rs256).unwrap()).unwrap();
        for (what, token) in [("iat ahead", future(now + 3600, None)), ("nbf ahead", future(now, Some(now + 3600)))] {
            let call = admin.app.client.get(format!("{}/admin/v1/clients", admin.app.address)).bearer_auth(&token).send().await.unwrap();
            assert_eq!(call.status(), 401, "{what} at /admin");
            assert!(!admin.app.is_active((id, secret), &token).await, "{what} at introspection");
            let userinfo = admin.app.client.get(format!("{}/userinfo", admin.app.address)).bearer_auth(&token).send().await.unwrap();
            assert_eq!(userinfo.status(), 401, "{what} at /userinfo");
        }
        let skewed = future(now + 30, None);
        assert_eq!(admin.app.client.get(format!("{}/admin/v1/clients", admin.app.address)).bearer_auth(&skewed).send().await.unwrap().status(),
                   200, "a little clock skew is tolerated");
    }

    #[tokio::test]
    async fn slow_bodies_do_not_keep_others_out(db) {
        let (id, secret) = service(&db);
        let app = spawn_with(settings(&db, &new_kek()));
        let address = app.address.trim_start_matches("http://").to_owned();
        let mut slow = Vec::new();
        for _ in 0..1000 {
            let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
            stream.write_all(b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngr").await.unwrap();
            slow.push(stream);
        }
        for _ in 0..5 {
            let response = tokio::time::timeout(Duration::from_secs(5), app.token(&id, &secret, "")).await;
            assert_eq!(response.expect("a legitimate request gets in").status(), 200);
        }
        drop(slow);
    }
}
