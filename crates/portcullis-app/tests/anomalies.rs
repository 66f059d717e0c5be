//! Unusual request patterns on both backends (issue 25), driven by a manual
//! clock and synthetic hourly usage rollups: four weeks of normal traffic
//! from clients of several shapes (office hours, a nightly batch job, a
//! steady service, a jittery one) teach their baselines; the last two of
//! them, judged hour by hour, fire nothing. Then a burst, a new network, a
//! new country and impossible travel each fire their rule once, and each
//! resolves an hour later. The networks and token uses go through the
//! recorder requests use, placed by a real MaxMind-format City database.

use chrono::{DateTime, TimeDelta, Utc};
use portcullis_app::alerts::parse_rule;
use portcullis_app::audit::Query;
use portcullis_app::geoip::test_database::{write_place_db, TestPlace};
use portcullis_app::geoip::Countries;
use portcullis_app::sightings::TokenKind;
use portcullis_app::usage::Answered;
use portcullis_app::{Actor, App, Clock, Event};
use portcullis_store::backend_tests;
use portcullis_store::usage::{self, Counts, Rollup};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

/// Monday 2026-11-02 00:00 UTC: the first hour of traffic.
const START: &str = "2026-11-02T00:00:00Z";
const HOUR: TimeDelta = TimeDelta::hours(1);
/// Weeks of traffic before the unusual day: two to learn, two judged.
const LEARNING_WEEKS: i64 = 2;
const JUDGED_WEEKS: i64 = 2;

/// How a client's traffic moves through the week.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// Office hours on weekdays (08:00–18:00 UTC), little at night and at weekends.
    Office,
    /// A batch job 01:00–04:00 every night, a trickle otherwise.
    Nightly,
    /// The same all week.
    Steady,
    /// Twice the usual in a few random hours a day, which it does all the time.
    Jittery,
}

/// A client: its shape, scale and the /24s (in Germany) it authenticates from.
struct Traffic {
    name: &'static str,
    shape: Shape,
    scale: f64,
    networks: &'static [&'static str],
}

const CLIENTS: [Traffic; 6] = [
    Traffic { name: "office", shape: Shape::Office, scale: 800.0, networks: &["81.2.1.10", "81.2.2.10"] },
    Traffic { name: "reports", shape: Shape::Office, scale: 300.0, networks: &["81.2.3.10"] },
    Traffic { name: "batch", shape: Shape::Nightly, scale: 3_000.0, networks: &["81.2.4.10"] },
    Traffic { name: "billing", shape: Shape::Steady, scale: 400.0, networks: &["81.2.5.10", "81.2.6.10"] },
    Traffic {
        name: "search",
        shape: Shape::Steady,
        scale: 1_500.0,
        networks: &["81.2.7.10", "81.2.8.10", "81.2.9.10"],
    },
    Traffic { name: "webhooks", shape: Shape::Jittery, scale: 500.0, networks: &["81.2.10.10"] },
];

/// A reproducible stream of numbers in [0, 1) (xorshift64*).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `value`, give or take `spread` of it.
    fn around(&mut self, value: f64, spread: f64) -> f64 {
        value * (1.0 + spread * (2.0 * self.next() - 1.0))
    }
}

/// What `client` does in the hour starting at `at`.
fn counts(client: &Traffic, at: DateTime<Utc>, noise: &mut Noise) -> Counts {
    use chrono::{Datelike, Timelike};
    let (hour, weekday) = (at.hour(), at.weekday().num_days_from_monday());
    let usual = match client.shape {
        Shape::Office if weekday < 5 && (8..18).contains(&hour) => 1.0,
        Shape::Office if weekday < 5 => 0.08,
        Shape::Office => 0.04,
        Shape::Nightly if (1..4).contains(&hour) => 1.0,
        Shape::Nightly => 0.01,
        Shape::Steady => 1.0,
        Shape::Jittery if noise.next() < 0.15 => 2.0,
        Shape::Jittery => 1.0,
    };
    let requests = noise.around(client.scale * usual, 0.3).round() as i64;
    let errors = (requests as f64 * noise.around(0.02, 0.5)).round() as i64;
    Counts {
        requests,
        auth_errors: errors / 2,
        other_errors: errors - errors / 2,
        server_errors: 0,
        tokens_issued: requests / 8,
    }
}

fn object(value: Value) -> serde_json::Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// The world as the test's City database has it.
fn places(dir: &std::path::Path) -> Arc<Countries> {
    let file = dir.join("cities.mmdb");
    write_place_db(
        &file,
        &[
            TestPlace::at("81.2.0.0/16", "DE", 52.52, 13.405, 20),
            TestPlace::at("89.160.0.0/16", "AU", -33.8688, 151.2093, 50),
        ],
    )
    .unwrap();
    Arc::new(Countries::open(&file).unwrap())
}

/// The rules a security team would start with: alert-only, the defaults.
const RULES: [&str; 6] =
    ["requests", "error_rate", "tokens_issued", "new_network", "new_country", "impossible_travel"];

/// The registered clients, their ids by their names.
struct World {
    app: App,
    clock: Clock,
    ids: BTreeMap<&'static str, String>,
    noise: Noise,
}

impl World {
    fn id(&self, name: &str) -> &str {
        &self.ids[name]
    }

    /// Writes the hour starting at `at` as the clients' usage rollups (one
    /// row each, as an instance writes a minute) and their networks through
    /// the recorder (a request each, authenticated from it, counted in a
    /// minute of its own); `burst` multiplies one client's requests.
    fn hour_of_traffic(&mut self, at: DateTime<Utc>, burst: Option<(&str, i64)>) {
        let mut rollups = Vec::new();
        for client in &CLIENTS {
            let mut counts = counts(client, at, &mut self.noise);
            if let Some((_, factor)) = burst.filter(|(name, _)| *name == client.name) {
                counts.requests *= factor;
            }
            let client_id = self.ids[client.name].clone();
            for network in client.networks {
                self.authenticated(&client_id, network, at + TimeDelta::minutes(7));
            }
            rollups.push(Rollup { client_id, minute: at, counts, latency: vec![counts.requests as u64] });
        }
        let mut conn = self.app.database().get().unwrap();
        conn.atomically(|conn| usage::insert(conn, &rollups)).unwrap();
    }

    /// Counts a request of `client_id` authenticated from `address`, as the
    /// server's usage middleware does.
    fn authenticated(&self, client_id: &str, address: &str, at: DateTime<Utc>) {
        let answered = Answered {
            client_id,
            at,
            status: 200,
            took: std::time::Duration::ZERO,
            tokens_issued: 0,
            authenticated_from: Some(ip(address)),
        };
        self.app.usage().record(&answered);
    }

    /// Moves the clock to just after the hour at `next` began and runs the
    /// detection job, as it runs every 30 seconds: what fired and resolved,
    /// as (event, the rule's signal, the client's name).
    fn detect_at(
        &self,
        next: DateTime<Utc>,
        signals: &BTreeMap<String, String>,
    ) -> Vec<(&'static str, String, String)> {
        self.app.flush_usage(true).unwrap();
        self.app.flush_sightings().unwrap();
        self.clock.advance(next + TimeDelta::seconds(50) - self.app.now());
        let names: BTreeMap<&str, &str> = self.ids.iter().map(|(name, id)| (id.as_str(), *name)).collect();
        self.app
            .detect()
            .unwrap()
            .iter()
            .filter_map(|event| match event {
                Event::AlertFired { rule_id, subject, .. }
                | Event::AlertResolved { rule_id, subject, .. } => {
                    Some((event.name(), signals[rule_id].clone(), names[subject.as_str()].to_owned()))
                }
                _ => None,
            })
            .collect()
    }
}

backend_tests! {
    #[test]
    fn a_normal_fortnight_fires_nothing_and_each_unusual_pattern_fires_once_and_resolves(db) {
        let start: DateTime<Utc> = START.parse().unwrap();
        let clock = Clock::manual(start);
        let dir = tempfile::tempdir().unwrap();
        let app = App::with_defaults(db.connect()).with_clock(clock.clone()).with_places(places(dir.path()));
        let operator = Actor::operator();
        let mut ids = BTreeMap::new();
        for client in &CLIENTS {
            let metadata = portcullis_core::ClientMetadata::parse(object(json!({"client_name": client.name}))).unwrap();
            ids.insert(client.name, app.create_client(&operator, metadata).unwrap().client.client_id);
        }
        let mut signals = BTreeMap::new();
        for signal in RULES {
            let (rule, description, enabled) = parse_rule(object(json!({"kind": "anomaly", "signal": signal}))).unwrap();
            let rule_id = app.create_alert_rule(&operator, rule, description, enabled).unwrap().rule_id;
            signals.insert(rule_id, signal.to_owned());
        }
        let mut world = World { app, clock, ids, noise: Noise(0x5eed_1234_abcd_0001) };

        // Four weeks as usual, the last two judged hour by hour.
        let mut at = start;
        let mut fired_in_normal_weeks = Vec::new();
        let mut judged_hours = 0;
        while at < start + TimeDelta::weeks(LEARNING_WEEKS + JUDGED_WEEKS) {
            world.hour_of_traffic(at, None);
            let alerts = world.detect_at(at + HOUR, &signals);
            if at >= start + TimeDelta::weeks(LEARNING_WEEKS) {
                judged_hours += 1;
                fired_in_normal_weeks.extend(alerts);
            } else {
                assert!(alerts.is_empty(), "nothing is judged before a week of history: {alerts:?}");
            }
            at += HOUR;
        }
        assert_eq!(judged_hours, 24 * 7 * JUDGED_WEEKS);
        assert!(fired_in_normal_weeks.is_empty(), "a normal fortnight fires nothing: {fired_in_normal_weeks:?}");
        let baselines = world.app.client_baselines(&operator, world.id("batch")).unwrap();
        assert_eq!(baselines.len(), 5, "every signal of a client is learnt: {baselines:?}");

        // The unusual Monday: each pattern at its own hour from 10:00, each judged an hour later.
        while at < start + TimeDelta::weeks(LEARNING_WEEKS + JUDGED_WEEKS) + TimeDelta::hours(10) {
            world.hour_of_traffic(at, None);
            assert!(world.detect_at(at + HOUR, &signals).is_empty());
            at += HOUR;
        }
        let mut step = |burst: Option<(&str, i64)>, unusual: &dyn Fn(&World, DateTime<Utc>), signal: &str, client: &str| {
            world.hour_of_traffic(at, burst);
            unusual(&world, at);
            let fired = world.detect_at(at + HOUR, &signals);
            assert_eq!(fired, [("alert.fired", signal.to_owned(), client.to_owned())], "{signal} fires once");
            let now = world.app.unusual_now(&Actor::operator(), None).unwrap();
            assert_eq!(now.len(), 1, "{now:?}");
            assert_eq!((json!(now[0].signal), now[0].client_id.as_str()), (json!(signal), world.id(client)));
            assert_eq!(now[0].unusual.is_some(), signal == "requests", "a baseline's signal names what departed");
            assert_eq!(now[0].sighting.is_some(), signal != "requests", "a first sighting names what was seen");
            assert_eq!(now[0].recent.len(), if signal == "requests" { 48 } else { 0 }, "the hours learnt, for the chart");
            at += HOUR;
            world.hour_of_traffic(at, None);
            let resolved = world.detect_at(at + HOUR, &signals);
            assert_eq!(resolved, [("alert.resolved", signal.to_owned(), client.to_owned())], "{signal} resolves");
            assert!(world.app.unusual_now(&Actor::operator(), None).unwrap().is_empty());
            at += HOUR;
        };
        // A burst: eight times the office client's usual requests.
        step(Some(("office", 8)), &|_, _| {}, "requests", "office");
        // A new network in Germany for billing.
        step(None, &|world, at| {
            world.authenticated(world.id("billing"), "81.2.200.7", at + TimeDelta::minutes(9));
        }, "new_network", "billing");
        // A new country: the batch job calls from Australia.
        step(None, &|world, at| {
            world.authenticated(world.id("batch"), "89.160.3.3", at + TimeDelta::minutes(9));
        }, "new_country", "batch");
        // A refresh-token family of the office client used in Berlin, then in Sydney half an hour later.
        step(None, &|world, at| {
            let (sightings, office) = (world.app.sightings(), world.id("office"));
            sightings.token(TokenKind::RefreshFamily, "family-1", office, ip("81.2.1.77"), at + TimeDelta::minutes(5));
            sightings.token(TokenKind::RefreshFamily, "family-1", office, ip("89.160.9.9"), at + TimeDelta::minutes(35));
        }, "impossible_travel", "office");
        let (app, ids) = (&world.app, &world.ids);

        // Each is an audited event, naming what it saw.
        let audited = |action: &str| {
            let query = Query { action: Some(action.into()), limit: 50, ..Query::default() };
            app.audit_entries(&operator, query).unwrap().entries
        };
        let burst = audited("alert.fired");
        let unusual = burst.iter().find(|e| e.details["unusual"]["signal"] == "requests").expect("the burst's alert names its signal");
        let (observed, usual) = (unusual.details["unusual"]["observed"].as_f64().unwrap(), unusual.details["unusual"]["usual"].as_f64().unwrap());
        assert!(observed > 4.0 * usual && usual > 500.0, "observed {observed} against a usual {usual}");
        assert_eq!(unusual.details["unusual"]["judged_by"], "hour_of_week");
        assert_eq!(unusual.details["unusual"]["window_minutes"], 60);
        let network = &audited("client.new_network")[0];
        assert_eq!((network.target.as_str(), &network.details["network"], &network.details["country"]), (ids["billing"].as_str(), &json!("81.2.200.0/24"), &json!("DE")));
        let country = &audited("client.new_country")[0];
        assert_eq!((&country.details["country"], &country.details["known_countries"]), (&json!("AU"), &json!(["DE"])));
        let travel = &audited("token.impossible_travel")[0];
        assert_eq!((&travel.details["from"]["country"], &travel.details["to"]["country"], &travel.details["hours"]), (&json!("DE"), &json!("AU"), &json!(0.5)));
        assert!(travel.details["distance_km"].as_f64().unwrap() > 16_000.0);
    }
}
