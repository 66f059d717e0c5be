//! Unusual request patterns over HTTP (issue 25): what requests note is
//! written by the server's own jobs and judged off the request path. A
//! confidential client's refresh-token family used in Berlin and then, a
//! minute later, in Sydney (as the trusted proxy says, placed by a City
//! database the test writes) is announced once as impossible travel; an
//! `anomaly` rule over it fires, and the admin API lists it as unusual now,
//! with both places and times. The client's networks are remembered, but
//! not announced: it has no history yet.

use crate::admin_clients::Admin;
use crate::code_exchange::{confidential_app, exchange_form};
use crate::code_flow::{with_user, Browser};
use crate::helpers::{new_kek, settings, TestApp};
use chrono::TimeDelta;
use portcullis_app::audit::Query;
use portcullis_app::geoip::Countries;
use portcullis_app::{Actor, App, Clock};
use portcullis_server::test_support::{write_place_db, TestPlace};
use portcullis_store::backend_tests;
use reqwest::Method;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

backend_tests! {
    #[tokio::test]
    async fn a_family_refreshed_in_berlin_then_in_sydney_is_announced_once_as_impossible_travel(db) {
        let dir = tempfile::tempdir().unwrap();
        let cities = dir.path().join("cities.mmdb");
        write_place_db(&cities, &[
            TestPlace::at("81.2.0.0/16", "DE", 52.52, 13.405, 20),
            TestPlace::at("89.160.0.0/16", "AU", -33.8688, 151.2093, 50),
        ]).unwrap();
        let clock = Clock::manual(chrono::Utc::now());
        let kek = new_kek();
        let mut settings = settings(&db, &kek);
        settings.clock = clock.clone();
        settings.geoip_db = Some(cities.clone());
        settings.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        settings.issuer = portcullis_core::Issuer::parse("http://localhost").unwrap();
        with_user(&db);
        let ((id, secret), _) = confidential_app(&db);
        let admin = Admin::on(&db, settings).await;
        admin.call(Method::POST, "/alert-rules", Some(json!({"kind": "anomaly", "signal": "impossible_travel"})), 201).await;
        let browser = Browser::new(TestApp { address: admin.app.address.clone(), client: reqwest::Client::new() });

        let code = browser.code(&id).await;
        let (_, first) = browser.exchange((&id, &secret), &exchange_form(&code)).await;
        let refresh = |token: String, from: &'static str| {
            let (http, address, id, secret) = (browser.http.clone(), browser.app.address.clone(), id.clone(), secret.clone());
            async move {
                let answer = http.post(format!("{address}/token")).basic_auth(id, Some(secret)).header("x-forwarded-for", from)
                    .form(&[("grant_type", "refresh_token"), ("refresh_token", token.as_str())]).send().await.unwrap();
                assert_eq!(answer.status(), 200, "refreshed from {from}");
                answer.json::<serde_json::Value>().await.unwrap()["refresh_token"].as_str().unwrap().to_owned()
            }
        };
        let second = refresh(first["refresh_token"].as_str().unwrap().to_owned(), "81.2.1.10").await;
        clock.advance(TimeDelta::minutes(1));
        refresh(second, "89.160.9.9").await;
        // Every sighting settled; the server writes them within a usage batch (15 s).
        clock.advance(TimeDelta::minutes(3));

        // A second instance judging too: of the two, one announces.
        let other = App::with_defaults(db.connect())
            .with_clock(clock.clone())
            .with_kek(Arc::new(portcullis_jose::KeyEncryptionKey::from_base64(&kek).unwrap()))
            .with_places(Arc::new(Countries::open(&cities).unwrap()));
        let operator = Actor::operator();
        let travels = |app: &App| {
            let query = Query { action: Some("token.impossible_travel".into()), limit: 10, ..Query::default() };
            app.audit_entries(&operator, query).unwrap().entries
        };
        let mut waited = 0;
        while travels(&other).is_empty() {
            assert!(waited < 40, "the sightings were written and judged within 20 s");
            other.detect().unwrap();
            tokio::time::sleep(Duration::from_millis(500)).await;
            waited += 1;
        }
        other.detect().unwrap();
        let announced = travels(&other);
        assert_eq!(announced.len(), 1, "announced once: {announced:?}");
        let details = &announced[0].details;
        assert_eq!((announced[0].target.as_str(), &details["token_kind"]), (id.as_str(), &json!("refresh_family")));
        assert_eq!((&details["from"]["country"], &details["to"]["country"], &details["hours"]), (&json!("DE"), &json!("AU"), &json!(0.02)));

        let unusual = admin.call(Method::GET, "/unusual", None, 200).await;
        let listed = unusual["unusual"].as_array().unwrap();
        assert_eq!(listed.len(), 1, "{unusual}");
        assert_eq!((&listed[0]["client_id"], &listed[0]["signal"], &listed[0]["sighting"]["to"]["country"]), (&json!(id), &json!("impossible_travel"), &json!("AU")));
        let known = portcullis_store::sightings::known_networks(&mut db.connect().get().unwrap(), &id).unwrap();
        let networks: Vec<&str> = known.iter().map(|k| k.network.as_str()).collect();
        assert_eq!(networks, ["127.0.0.0/24", "81.2.1.0/24", "89.160.9.0/24"], "remembered as the client's own (the code came from the test itself)");
        let news = other.audit_entries(&operator, Query { action: Some("client.new_network".into()), limit: 10, ..Query::default() }).unwrap();
        assert!(news.entries.is_empty(), "no history yet: nothing is news");
        let baselines = admin.call(Method::GET, &format!("/clients/{id}/baselines"), None, 200).await;
        assert!(baselines["baselines"].as_array().is_some(), "{baselines}");
    }
}
