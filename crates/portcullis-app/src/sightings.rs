//! Where clients and tokens are used from (issue 25), and what is new
//! about it:
//! - each network (IPv4 /24, IPv6 /48) a client authenticates from, per
//!   minute: the distinct-networks signal of its [baselines](crate::baselines),
//!   and its **first sightings**: a confidential client authenticating from
//!   a network (`client.new_network`) or, with a country database, a
//!   country (`client.new_country`) it did not use within its retained
//!   history ([`NETWORK_HISTORY`]), once it has [`MIN_HISTORY`] of it;
//! - with a City database, the place each refresh-token family and access
//!   token is used from (not the address: only its country and the
//!   database's point and radius are stored): **impossible travel**
//!   (`token.impossible_travel`) is a use of one token from another country
//!   too far from the last for the time between, faster than
//!   [`MAX_SPEED_KMH`] even at the near edges of both places' radii.
//!
//! A request only notes a sighting in this instance's memory: a network in
//! the usage tally its request is counted in anyway (see [`crate::usage`]),
//! a token's use under one short lock of its own; the usage job writes them
//! with the usage counts, and the detection job, never a request path,
//! judges them. Of
//! several instances judging at once, each event is announced by the one
//! whose compare-and-swap wins, in the transaction that audits it.

use crate::geoip::Location;
use crate::{Actor, App, AppError, Event};
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_core::client::TokenEndpointAuthMethod;
use portcullis_store::clients;
use portcullis_store::sightings::{self, KnownNetwork, NetworkSighting, TokenSighting};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Mutex;

/// How long a client must have been seen before a new network or country
/// is news: before, everything is new.
pub const MIN_HISTORY: TimeDelta = TimeDelta::days(7);
/// How long a network a client stopped using is remembered: one it comes
/// back to after this is new again.
pub const NETWORK_HISTORY: TimeDelta = TimeDelta::days(90);
/// How long network sightings are kept: the longest rule window (three
/// hours), and slack.
pub const SIGHTING_RETENTION: TimeDelta = TimeDelta::hours(4);
/// How long token sightings are kept: the longest travel compared, and slack.
pub const TOKEN_RETENTION: TimeDelta = TimeDelta::hours(25);
/// Faster than this between two uses of one token is impossible travel
/// (an airliner cruises at about 900 km/h).
pub const MAX_SPEED_KMH: f64 = 1_000.0;
/// Places nearer than this (beyond their radii) are never impossible:
/// databases place neighbouring countries' addresses loosely.
pub const MIN_TRAVEL_KM: f64 = 500.0;
/// How long after a token's use every instance has surely written its
/// uses before it (two usage batches, and slack), so that the use it
/// follows is known when it is judged.
pub const SETTLE: TimeDelta = TimeDelta::minutes(1);
/// The most token uses an instance holds before writing them; past this,
/// new ones are dropped (a database down for long).
const MAX_PENDING: usize = 100_000;
/// The most sightings (of networks, of tokens) judged in one run.
const JUDGED_PER_RUN: i64 = 5_000;
/// Token uses further apart than this are not compared: nothing is
/// impossible in a day around the earth.
const TRAVEL_HORIZON: TimeDelta = TimeDelta::hours(24);

/// The actor first sightings and impossible travel are announced by.
const DETECTION: Actor = Actor::System { job: "detection" };

/// The first address of the network of `ip` as sightings count it: its
/// IPv4 /24 or IPv6 /48 (IPv4-mapped addresses are IPv4). No allocation: a
/// request notes it as it is.
pub(crate) fn network_start(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::from([a, b, c, 0])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::from([s[0], s[1], s[2], 0, 0, 0, 0, 0])
        }
    }
}

/// The network a network's first address starts, as text: `a.b.c.0/24` or `x:y:z::/48`.
pub(crate) fn network_text(start: IpAddr) -> String {
    let prefix = if start.is_ipv4() { 24 } else { 48 };
    format!("{start}/{prefix}")
}

/// The first address of `network` (as [`network_text`] writes it), to place it.
pub(crate) fn first_address(network: &str) -> Option<IpAddr> {
    network.split_once('/')?.0.parse().ok()
}

/// What kind of token a use was of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A refresh token, followed by its family across rotations.
    RefreshFamily,
    /// An access token, presented to UserInfo.
    AccessToken,
}

impl TokenKind {
    fn name(self) -> &'static str {
        match self {
            Self::RefreshFamily => "refresh_family",
            Self::AccessToken => "access_token",
        }
    }
}

/// One use of a token, as a request noted it.
#[derive(Clone, Debug)]
struct TokenUse {
    token: String,
    kind: TokenKind,
    client_id: String,
    ip: IpAddr,
    at: DateTime<Utc>,
}

/// This instance's token uses not yet written.
#[derive(Default)]
pub struct Sightings {
    pending: Mutex<Pending>,
}

#[derive(Default)]
struct Pending {
    tokens: Vec<TokenUse>,
}

impl Sightings {
    /// Notes that a token (a refresh family's id, an access token's `jti`)
    /// of `client_id` was used from `ip` at `at`.
    pub fn token(&self, kind: TokenKind, token: &str, client_id: &str, ip: IpAddr, at: DateTime<Utc>) {
        let mut pending = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if pending.tokens.len() < MAX_PENDING {
            let used = TokenUse { token: token.to_owned(), kind, client_id: client_id.to_owned(), ip, at };
            pending.tokens.push(used);
        }
    }

    /// Takes what was noted.
    fn take(&self) -> Vec<TokenUse> {
        let mut pending = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::take(&mut pending.tokens)
    }

    /// Puts back what could not be written, as far as there is room.
    fn put_back(&self, tokens: Vec<TokenUse>) {
        let mut pending = self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let room = MAX_PENDING.saturating_sub(pending.tokens.len());
        pending.tokens.extend(tokens.into_iter().take(room));
    }
}

/// Where and when a token was used, as `token.impossible_travel` names it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Whereabouts {
    /// The country.
    pub country: String,
    /// Where in it, as the database places the address: degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
    /// Give or take, in kilometres.
    pub radius_km: i64,
    /// When, RFC 3339.
    pub at: String,
}

impl Whereabouts {
    fn of(sighting: &TokenSighting) -> Self {
        Self {
            country: sighting.country.clone(),
            latitude: sighting.latitude,
            longitude: sighting.longitude,
            radius_km: sighting.radius_km,
            at: crate::time(sighting.seen_at),
        }
    }
}

/// Whether two uses of one token are impossible travel: from different
/// countries, further apart (beyond both radii) than [`MIN_TRAVEL_KM`] and
/// than [`MAX_SPEED_KMH`] covers in the time between; the distance if so.
fn impossible(before: &TokenSighting, after: &TokenSighting) -> Option<f64> {
    if before.country == after.country {
        return None;
    }
    let point = |s: &TokenSighting| Location {
        latitude: s.latitude,
        longitude: s.longitude,
        radius_km: s.radius_km as f64,
    };
    let apart = point(before).distance_km(&point(after));
    let beyond_radii = apart - (before.radius_km + after.radius_km) as f64;
    let hours = (after.seen_at - before.seen_at).num_seconds().max(0) as f64 / 3_600.0;
    (beyond_radii > MIN_TRAVEL_KM && beyond_radii > MAX_SPEED_KMH * hours).then_some(apart)
}

impl App {
    /// Where this instance notes sightings.
    pub fn sightings(&self) -> &Sightings {
        &self.sightings
    }

    /// Writes this instance's token uses, placed (with a City database;
    /// without one they are dropped); returns the rows written. What could
    /// not be written is kept for next time.
    pub fn flush_sightings(&self) -> Result<usize, AppError> {
        let mut conn = self.db.get()?;
        let tokens = self.sightings.take();
        let placed: Vec<TokenSighting> = tokens
            .iter()
            .filter_map(|used| {
                let place = self.places.as_ref()?.place(used.ip)?;
                let location = place.location?;
                Some(TokenSighting {
                    sighting_id: uuid::Uuid::new_v4().to_string(),
                    token: used.token.clone(),
                    token_kind: used.kind.name().to_owned(),
                    client_id: used.client_id.clone(),
                    seen_at: used.at,
                    country: place.country.code().to_owned(),
                    latitude: location.latitude,
                    longitude: location.longitude,
                    radius_km: location.radius_km.round() as i64,
                })
            })
            .collect();
        if placed.is_empty() {
            return Ok(0);
        }
        match conn.atomically(|conn| sightings::insert_tokens(conn, &placed)) {
            Ok(()) => Ok(placed.len()),
            Err(e) => {
                self.sightings.put_back(tokens);
                Err(e.into())
            }
        }
    }

    /// Judges the networks clients authenticated from that no instance
    /// judged yet, oldest first (at most [`JUDGED_PER_RUN`] a run): each
    /// confidential client's first use of a network, or of a country, is
    /// announced once; returns what this instance announced.
    pub fn detect_first_sightings(&self) -> Result<Vec<Event>, AppError> {
        let unjudged = sightings::unjudged_networks(&mut *self.db.get()?, JUDGED_PER_RUN)?;
        let mut by_client: BTreeMap<String, BTreeMap<String, NetworkSighting>> = BTreeMap::new();
        for (_, sighting) in &unjudged {
            // Each network once, at its first minute (rows are oldest first).
            let networks = by_client.entry(sighting.client_id.clone()).or_default();
            networks.entry(sighting.network.clone()).or_insert_with(|| sighting.clone());
        }
        let mut announced = Vec::new();
        for (client_id, seen) in by_client {
            let seen: Vec<NetworkSighting> = seen.into_values().collect();
            announced.extend(self.judge_networks(&client_id, &seen)?);
        }
        let ids: Vec<String> = unjudged.into_iter().map(|(id, _)| id).collect();
        self.db.get()?.atomically(|conn| sightings::judge_networks(conn, &ids))?;
        Ok(announced)
    }

    /// Remembers `seen`, the networks `client_id` authenticated from; what
    /// is new is announced for a confidential client with history enough.
    /// A public client is anyone's: its users' networks are not its own,
    /// and are not remembered.
    fn judge_networks(&self, client_id: &str, seen: &[NetworkSighting]) -> Result<Vec<Event>, AppError> {
        let mut conn = self.db.get()?;
        let Some(client) = clients::find(&mut conn, client_id)? else { return Ok(Vec::new()) };
        if client.metadata.token_endpoint_auth_method == TokenEndpointAuthMethod::None {
            return Ok(Vec::new());
        }
        let known = sightings::known_networks(&mut conn, client_id)?;
        let since = known.iter().map(|k| k.first_seen_at).min();
        let networks: BTreeSet<&str> = known.iter().map(|k| k.network.as_str()).collect();
        let mut announced = Vec::new();
        for sighting in seen {
            let country = first_address(&sighting.network)
                .and_then(|ip| self.places.as_ref()?.country(ip))
                .map(|c| c.code().to_owned());
            let remembered = KnownNetwork {
                network: sighting.network.clone(),
                country: country.clone(),
                first_seen_at: sighting.minute,
                last_seen_at: sighting.minute,
            };
            let news = !networks.contains(sighting.network.as_str())
                && since.is_some_and(|since| sighting.minute - since >= MIN_HISTORY);
            if !news {
                // Remembered (or its last sighting moved) without the audit's lock.
                conn.atomically(|conn| sightings::remember_network(conn, client_id, &remembered, None))?;
                continue;
            }
            // Decided in the transaction that announces it, under the audit's
            // lock: of several instances judging at once, one announces.
            let first = self.commit(&DETECTION, |tx| {
                let known_countries = sightings::countries(tx.conn, client_id)?;
                let event = match &country {
                    Some(country) if !known_countries.contains(country) => Event::ClientNewCountry {
                        client_id: client_id.to_owned(),
                        network: sighting.network.clone(),
                        country: country.clone(),
                        known_countries,
                    },
                    _ => Event::ClientNewNetwork {
                        client_id: client_id.to_owned(),
                        network: sighting.network.clone(),
                        country: country.clone(),
                    },
                };
                let what =
                    if matches!(event, Event::ClientNewCountry { .. }) { "country" } else { "network" };
                if !sightings::remember_network(tx.conn, client_id, &remembered, Some((what, tx.now)))? {
                    return Ok(None);
                }
                tx.emit(event.clone());
                Ok(Some(event))
            })?;
            announced.extend(first);
        }
        Ok(announced)
    }

    /// Judges the token uses not yet judged from before `now` less
    /// [`SETTLE`], oldest first: a use from too far for the time since the
    /// token's use before is announced, once per token.
    pub fn detect_impossible_travel(&self) -> Result<Vec<Event>, AppError> {
        let before = self.now() - SETTLE;
        let unjudged = sightings::unjudged(&mut *self.db.get()?, before, JUDGED_PER_RUN)?;
        let mut announced = Vec::new();
        for sighting in unjudged {
            let previous = sightings::previous(&mut *self.db.get()?, &sighting)?
                .filter(|p| sighting.seen_at - p.seen_at <= TRAVEL_HORIZON);
            let travel = previous.as_ref().and_then(|p| Some((p, impossible(p, &sighting)?)));
            let event = travel.map(|(previous, km)| Event::TokenImpossibleTravel {
                client_id: sighting.client_id.clone(),
                token_kind: sighting.token_kind.clone(),
                token: sighting.token.clone(),
                from: Whereabouts::of(previous),
                to: Whereabouts::of(&sighting),
                distance_km: km.round(),
                hours: crate::hundredths(
                    (sighting.seen_at - previous.seen_at).num_seconds() as f64 / 3_600.0,
                ),
            });
            let Some(event) = event else {
                // Possible: judged without the audit's lock (another instance may have first).
                sightings::judge(&mut *self.db.get()?, &sighting.sighting_id, false, self.now())?;
                continue;
            };
            let judged = self.commit(&DETECTION, |tx| {
                let fired = !sightings::has_fired(tx.conn, &sighting.token)?;
                if !sightings::judge(tx.conn, &sighting.sighting_id, fired, tx.now)? || !fired {
                    return Ok(None);
                }
                tx.emit(event.clone());
                Ok(Some(event))
            })?;
            announced.extend(judged);
        }
        Ok(announced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_slash_24s_and_slash_48s() {
        let of = |ip: &str| network_text(network_start(ip.parse().unwrap()));
        assert_eq!(of("203.0.113.77"), "203.0.113.0/24");
        assert_eq!(of("::ffff:203.0.113.77"), "203.0.113.0/24", "IPv4-mapped addresses are IPv4");
        assert_eq!(of("2001:db8:1234:5678::1"), "2001:db8:1234::/48");
        assert_eq!(first_address(&of("2001:db8:1234:5678::1")), Some("2001:db8:1234::".parse().unwrap()));
    }

    fn used(country: &str, (latitude, longitude): (f64, f64), radius_km: i64, minutes: i64) -> TokenSighting {
        TokenSighting {
            sighting_id: minutes.to_string(),
            token: "family".into(),
            token_kind: "refresh_family".into(),
            client_id: "app".into(),
            seen_at: DateTime::UNIX_EPOCH + TimeDelta::minutes(minutes),
            country: country.into(),
            latitude,
            longitude,
            radius_km,
        }
    }

    #[test]
    fn travel_is_impossible_only_between_countries_further_than_a_flight() {
        const BERLIN: (f64, f64) = (52.52, 13.405);
        const SYDNEY: (f64, f64) = (-33.8688, 151.2093);
        const PARIS: (f64, f64) = (48.8566, 2.3522);
        let berlin = used("DE", BERLIN, 20, 0);
        assert!(impossible(&berlin, &used("AU", SYDNEY, 50, 60)).is_some(), "16,000 km in an hour");
        assert_eq!(impossible(&berlin, &used("AU", SYDNEY, 50, 20 * 60)), None, "a day's flight");
        assert_eq!(impossible(&berlin, &used("FR", PARIS, 20, 60)), None, "878 km in an hour is a flight");
        assert!(impossible(&berlin, &used("FR", PARIS, 20, 5)).is_some(), "but not in five minutes");
        assert_eq!(impossible(&berlin, &used("FR", PARIS, 400, 5)), None, "within the radii");
        assert_eq!(impossible(&berlin, &used("DE", SYDNEY, 20, 1)), None, "one country");
    }
}
