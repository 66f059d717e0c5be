//! Rate limits over HTTP (issue 11): per authenticated client at the token
//! endpoint, per address for unknown client ids and for logins; `429` with
//! `Retry-After` and a JSON error, or the sign-in page.

use crate::code_flow::{app_client, browser_with, location, with_user};
use crate::helpers::{new_kek, settings, spawn_with, TestApp};
use crate::token::register;
use portcullis_server::config::RateLimits;
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use serde_json::{json, Value};

fn limited(db: &TestDb, rate_limits: RateLimits) -> TestApp {
    let mut at = settings(db, &new_kek());
    at.rate_limits = rate_limits;
    spawn_with(at)
}

/// Asserts `response` is the RFC 6749-style 429 and returns its `Retry-After`.
async fn slow_down(response: reqwest::Response) -> u64 {
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=120).contains(&retry), "at most two minutes: {retry}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "slow_down", "{body}");
    retry
}

backend_tests! {
    #[tokio::test]
    async fn each_client_has_its_own_token_allowance_that_strangers_cannot_spend(db) {
        let app = limited(&db, RateLimits { token: 4, ..RateLimits::default() });
        let (own, own_secret) = register(&db, json!({"client_name": "own", "token_rate_limit": 2}));
        let (other, other_secret) = register(&db, json!({"client_name": "other"}));
        for _ in 0..5 {
            assert_eq!(app.token(&own, "wrong", "").await.status(), 401, "a stranger's guesses");
        }
        for _ in 0..2 {
            assert_eq!(app.token(&own, &own_secret, "").await.status(), 200);
        }
        slow_down(app.token(&own, &own_secret, "").await).await;
        for _ in 0..4 {
            assert_eq!(app.token(&other, &other_secret, "").await.status(), 200, "the server default");
        }
        slow_down(app.token(&other, &other_secret, "").await).await;
    }

    #[tokio::test]
    async fn unknown_client_ids_are_limited_per_address(db) {
        let (known, secret) = register(&db, json!({"client_name": "known"}));
        let app = limited(&db, RateLimits { unknown_client: 3, ..RateLimits::default() });
        for n in 0..3 {
            assert_eq!(app.token(&format!("invented-{n}"), "x", "").await.status(), 401);
        }
        slow_down(app.token("invented-4", "x", "").await).await;
        // Clients this instance knows cost no lookup and are not held back.
        assert_eq!(app.token(&known, &secret, "").await.status(), 200);
    }

    #[tokio::test]
    async fn logins_from_one_address_are_limited(db) {
        with_user(&db);
        let client = app_client(&db, json!({}));
        let mut at = settings(&db, &new_kek());
        at.rate_limits = RateLimits { login: 2, ..RateLimits::default() };
        let browser = browser_with(at);
        let login = location(browser.authorize(&client, &[]).await.headers());
        for _ in 0..2 {
            assert_eq!(browser.log_in(&login, "alice", "wrong").await.status(), 401);
        }
        let refused = browser.log_in(&login, "alice", crate::code_flow::PASSWORD).await;
        assert_eq!(refused.status(), 429);
        assert!(refused.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
        assert!(refused.text().await.unwrap().contains("Too many attempts"));
    }
}
