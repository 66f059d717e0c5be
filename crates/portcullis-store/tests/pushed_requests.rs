//! Pushed authorization requests, on SQLite and PostgreSQL: taken once, by
//! their own client, while live, even when instances race for one.

use chrono::{TimeDelta, Utc};
use portcullis_core::authorization_request::AuthorizationRequest;
use portcullis_store::backend_tests;
use portcullis_store::pushed_requests;

fn request(client_id: &str) -> AuthorizationRequest {
    serde_json::from_value(serde_json::json!({
        "client_id": client_id, "redirect_uri": "https://app.example/cb", "redirect_uri_sent": true,
        "scope": "openid", "state": "s1", "nonce": null, "code_challenge": null,
        "prompt": {"none": false, "login": false, "consent": false, "select_account": false},
        "max_age": null, "login_hint": null, "id_token_hint": null, "ui_locales": null
    }))
    .unwrap()
}

backend_tests! {
    #[test]
    fn a_pushed_request_is_taken_once_by_its_client_while_live(db) {
        let db = db.connect();
        let mut conn = db.get().unwrap();
        let now = Utc::now();
        pushed_requests::insert(&mut conn, &[1; 32], &request("app"), now + TimeDelta::seconds(60)).unwrap();
        pushed_requests::insert(&mut conn, &[2; 32], &request("app"), now - TimeDelta::seconds(1)).unwrap();
        assert_eq!(pushed_requests::take(&mut conn, &[1; 32], "other", now).unwrap(), None, "another client's");
        let (taken, expires_at) = pushed_requests::take(&mut conn, &[1; 32], "app", now).unwrap().unwrap();
        assert_eq!((taken, expires_at.timestamp()), (request("app"), (now + TimeDelta::seconds(60)).timestamp()));
        assert_eq!(pushed_requests::take(&mut conn, &[1; 32], "app", now).unwrap(), None, "used once");
        assert_eq!(pushed_requests::take(&mut conn, &[2; 32], "app", now).unwrap(), None, "expired");
        pushed_requests::insert(&mut conn, &[3; 32], &request("app"), now - TimeDelta::seconds(1)).unwrap();
        assert_eq!(pushed_requests::delete_expired(&mut conn, now).unwrap(), 1);
    }

    #[test]
    fn of_instances_racing_for_one_request_one_gets_it(db) {
        let db = db.connect();
        let expires = Utc::now() + TimeDelta::seconds(60);
        pushed_requests::insert(&mut db.get().unwrap(), &[7; 32], &request("app"), expires).unwrap();
        let takers: Vec<_> = (0..4)
            .map(|_| {
                let db = db.clone();
                std::thread::spawn(move || {
                    let mut conn = db.get().unwrap();
                    pushed_requests::take(&mut conn, &[7; 32], "app", Utc::now()).unwrap().is_some()
                })
            })
            .collect();
        let won = takers.into_iter().map(|t| t.join().unwrap()).filter(|won| *won).count();
        assert_eq!(won, 1);
    }
}
