//! Where clients and tokens were used from (issue 25): the networks each
//! client authenticated from, per minute and instance (kept hours, for the
//! distinct-networks signal and for first sightings); every network a
//! client used within its retained history; and the places refresh-token
//! families and access tokens were used from (for impossible travel).

use crate::schema::{client_networks, network_sightings, token_sightings};
use crate::{DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use std::collections::BTreeMap;

/// A network a client authenticated from in a minute.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct NetworkSighting {
    /// The client.
    pub client_id: String,
    /// The minute's start.
    pub minute: DateTime<Utc>,
    /// The network: an IPv4 /24 or IPv6 /48, as text.
    pub network: String,
}

/// Writes `sightings`, one statement per row: callers write a batch in one
/// transaction.
pub fn insert_networks(conn: &mut DbConnection, sightings: &[NetworkSighting]) -> Result<(), StoreError> {
    for s in sightings {
        diesel::insert_into(network_sightings::table)
            .values((
                network_sightings::sighting_id.eq(uuid::Uuid::new_v4().to_string()),
                network_sightings::client_id.eq(&s.client_id),
                network_sightings::minute.eq(s.minute.naive_utc()),
                network_sightings::network.eq(&s.network),
                network_sightings::judged.eq(0),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// How many distinct networks each client authenticated from in the
/// minutes of `[from, to)`, for clients with any.
pub fn distinct_networks(
    conn: &mut DbConnection,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Result<BTreeMap<String, i64>, StoreError> {
    let rows: Vec<(String, i64)> = network_sightings::table
        .filter(network_sightings::minute.ge(from.naive_utc()))
        .filter(network_sightings::minute.lt(to.naive_utc()))
        .group_by(network_sightings::client_id)
        .select((network_sightings::client_id, sql::<BigInt>("CAST(COUNT(DISTINCT network) AS BIGINT)")))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Network sightings not yet judged, oldest first, at most `limit`, each
/// with its row's id.
pub fn unjudged_networks(
    conn: &mut DbConnection,
    limit: i64,
) -> Result<Vec<(String, NetworkSighting)>, StoreError> {
    let rows: Vec<(String, String, String, NaiveDateTime)> = network_sightings::table
        .filter(network_sightings::judged.eq(0))
        .order((network_sightings::minute, network_sightings::sighting_id))
        .limit(limit)
        .select((
            network_sightings::sighting_id,
            network_sightings::client_id,
            network_sightings::network,
            network_sightings::minute,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, client_id, network, minute)| {
            (id, NetworkSighting { client_id, network, minute: minute.and_utc() })
        })
        .collect())
}

/// Marks the network sightings `ids` judged.
pub fn judge_networks(conn: &mut DbConnection, ids: &[String]) -> Result<(), StoreError> {
    for chunk in ids.chunks(1_000) {
        diesel::update(network_sightings::table.filter(network_sightings::sighting_id.eq_any(chunk)))
            .set(network_sightings::judged.eq(1))
            .execute(conn)?;
    }
    Ok(())
}

/// A network a client used within its retained history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownNetwork {
    /// The network.
    pub network: String,
    /// Its country, with a country database.
    pub country: Option<String>,
    /// When the client was first seen there.
    pub first_seen_at: DateTime<Utc>,
    /// When it was last seen there.
    pub last_seen_at: DateTime<Utc>,
}

/// The countries `client_id` used within its retained history, in order.
pub fn countries(conn: &mut DbConnection, client_id: &str) -> Result<Vec<String>, StoreError> {
    let countries: Vec<Option<String>> = client_networks::table
        .filter(client_networks::client_id.eq(client_id))
        .filter(client_networks::country.is_not_null())
        .select(client_networks::country)
        .distinct()
        .order(client_networks::country)
        .load(conn)?;
    Ok(countries.into_iter().flatten().collect())
}

/// The networks `client_id` used within its retained history, oldest first.
pub fn known_networks(conn: &mut DbConnection, client_id: &str) -> Result<Vec<KnownNetwork>, StoreError> {
    let rows: Vec<(String, Option<String>, NaiveDateTime, NaiveDateTime)> = client_networks::table
        .filter(client_networks::client_id.eq(client_id))
        .order((client_networks::first_seen_at, client_networks::network))
        .select((
            client_networks::network,
            client_networks::country,
            client_networks::first_seen_at,
            client_networks::last_seen_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(network, country, first, last)| KnownNetwork {
            network,
            country,
            first_seen_at: first.and_utc(),
            last_seen_at: last.and_utc(),
        })
        .collect())
}

/// Remembers that `client_id` used `known.network` (in its country) at its
/// last sighting: `true` when it is the first time within the retained
/// history (so of several instances noting it, one learns it is new), then
/// `announced` as what (`network`, `country`) and when, if it is news; else
/// moves its last sighting. A first time raced by another instance is
/// `false`; on PostgreSQL it also ends the transaction, so callers run it
/// last in theirs (or under a lock that orders them).
pub fn remember_network(
    conn: &mut DbConnection,
    client_id: &str,
    known: &KnownNetwork,
    announced: Option<(&str, DateTime<Utc>)>,
) -> Result<bool, StoreError> {
    let existing = client_networks::table
        .filter(client_networks::client_id.eq(client_id))
        .filter(client_networks::network.eq(&known.network));
    let moved =
        diesel::update(existing.filter(client_networks::last_seen_at.lt(known.last_seen_at.naive_utc())))
            .set(client_networks::last_seen_at.eq(known.last_seen_at.naive_utc()))
            .execute(conn)?;
    if moved == 1 || existing.count().get_result::<i64>(conn)? == 1 {
        return Ok(false);
    }
    StoreError::first_insert(
        diesel::insert_into(client_networks::table)
            .values((
                client_networks::client_id.eq(client_id),
                client_networks::network.eq(&known.network),
                client_networks::country.eq(&known.country),
                client_networks::first_seen_at.eq(known.first_seen_at.naive_utc()),
                client_networks::last_seen_at.eq(known.last_seen_at.naive_utc()),
                client_networks::announced.eq(announced.map(|(what, _)| what)),
                client_networks::announced_at.eq(announced.map(|(_, at)| at.naive_utc())),
            ))
            .execute(conn),
    )
}

/// How many first sightings announced as `what` (`network`, `country`)
/// since `since` each client has; none zero.
pub fn announced_since(
    conn: &mut DbConnection,
    what: &str,
    since: DateTime<Utc>,
) -> Result<BTreeMap<String, i64>, StoreError> {
    let rows: Vec<(String, i64)> = client_networks::table
        .filter(client_networks::announced.eq(what))
        .filter(client_networks::announced_at.ge(since.naive_utc()))
        .group_by(client_networks::client_id)
        .select((client_networks::client_id, sql::<BigInt>("CAST(COUNT(*) AS BIGINT)")))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// How many token uses announced as impossible travel since `since` each
/// client has; none zero.
pub fn travels_since(
    conn: &mut DbConnection,
    since: DateTime<Utc>,
) -> Result<BTreeMap<String, i64>, StoreError> {
    let rows: Vec<(String, i64)> = token_sightings::table
        .filter(token_sightings::judged.eq(FIRED))
        .filter(token_sightings::judged_at.ge(since.naive_utc()))
        .group_by(token_sightings::client_id)
        .select((token_sightings::client_id, sql::<BigInt>("CAST(COUNT(*) AS BIGINT)")))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// The cutoffs before which [`delete_before`] forgets.
#[derive(Clone, Copy, Debug)]
pub struct Cutoffs {
    /// Network sightings of minutes before this.
    pub networks: DateTime<Utc>,
    /// Token sightings before this.
    pub tokens: DateTime<Utc>,
    /// Networks a client last used before this.
    pub history: DateTime<Utc>,
}

/// Forgets what is older than `cutoffs` say.
pub fn delete_before(conn: &mut DbConnection, cutoffs: Cutoffs) -> Result<usize, StoreError> {
    let old_sightings = network_sightings::minute.lt(cutoffs.networks.naive_utc());
    let sightings = diesel::delete(network_sightings::table.filter(old_sightings)).execute(conn)?;
    let old_tokens = token_sightings::seen_at.lt(cutoffs.tokens.naive_utc());
    let tokens = diesel::delete(token_sightings::table.filter(old_tokens)).execute(conn)?;
    let unused = client_networks::last_seen_at.lt(cutoffs.history.naive_utc());
    let networks = diesel::delete(client_networks::table.filter(unused)).execute(conn)?;
    Ok(sightings + tokens + networks)
}

/// Where a token was used.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenSighting {
    /// The row's id.
    pub sighting_id: String,
    /// The refresh-token family's id, or the access token's `jti`.
    pub token: String,
    /// `refresh_family` or `access_token`.
    pub token_kind: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// When.
    pub seen_at: DateTime<Utc>,
    /// The country.
    pub country: String,
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
    /// How far from the point the address may be, in kilometres.
    pub radius_km: i64,
}

type TokenRow = (String, String, String, String, NaiveDateTime, String, i64, i64, i64);

const TOKEN_COLUMNS: (
    token_sightings::sighting_id,
    token_sightings::token,
    token_sightings::token_kind,
    token_sightings::client_id,
    token_sightings::seen_at,
    token_sightings::country,
    token_sightings::latitude_e6,
    token_sightings::longitude_e6,
    token_sightings::radius_km,
) = (
    token_sightings::sighting_id,
    token_sightings::token,
    token_sightings::token_kind,
    token_sightings::client_id,
    token_sightings::seen_at,
    token_sightings::country,
    token_sightings::latitude_e6,
    token_sightings::longitude_e6,
    token_sightings::radius_km,
);

fn token_sighting(row: TokenRow) -> TokenSighting {
    let (sighting_id, token, token_kind, client_id, seen_at, country, latitude, longitude, radius_km) = row;
    TokenSighting {
        sighting_id,
        token,
        token_kind,
        client_id,
        seen_at: seen_at.and_utc(),
        country,
        latitude: latitude as f64 / 1e6,
        longitude: longitude as f64 / 1e6,
        radius_km,
    }
}

/// Writes `sightings`, not yet judged.
pub fn insert_tokens(conn: &mut DbConnection, sightings: &[TokenSighting]) -> Result<(), StoreError> {
    for s in sightings {
        diesel::insert_into(token_sightings::table)
            .values((
                token_sightings::sighting_id.eq(&s.sighting_id),
                token_sightings::token.eq(&s.token),
                token_sightings::token_kind.eq(&s.token_kind),
                token_sightings::client_id.eq(&s.client_id),
                token_sightings::seen_at.eq(s.seen_at.naive_utc()),
                token_sightings::country.eq(&s.country),
                token_sightings::latitude_e6.eq((s.latitude * 1e6).round() as i64),
                token_sightings::longitude_e6.eq((s.longitude * 1e6).round() as i64),
                token_sightings::radius_km.eq(s.radius_km),
                token_sightings::judged.eq(0),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The sightings not yet judged from before `before`, oldest first, at
/// most `limit`.
pub fn unjudged(
    conn: &mut DbConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<TokenSighting>, StoreError> {
    let rows: Vec<TokenRow> = token_sightings::table
        .filter(token_sightings::judged.eq(0))
        .filter(token_sightings::seen_at.lt(before.naive_utc()))
        .order((token_sightings::seen_at, token_sightings::sighting_id))
        .limit(limit)
        .select(TOKEN_COLUMNS)
        .load(conn)?;
    Ok(rows.into_iter().map(token_sighting).collect())
}

/// The use of the same token just before `sighting`, if any is kept.
pub fn previous(
    conn: &mut DbConnection,
    sighting: &TokenSighting,
) -> Result<Option<TokenSighting>, StoreError> {
    let at = sighting.seen_at.naive_utc();
    let row: Option<TokenRow> =
        token_sightings::table
            .filter(token_sightings::token.eq(&sighting.token))
            .filter(token_sightings::seen_at.lt(at).or(
                token_sightings::seen_at.eq(at).and(token_sightings::sighting_id.lt(&sighting.sighting_id)),
            ))
            .order((token_sightings::seen_at.desc(), token_sightings::sighting_id.desc()))
            .select(TOKEN_COLUMNS)
            .first(conn)
            .optional()?;
    Ok(row.map(token_sighting))
}

/// `judged` of a sighting compared and found possible.
const JUDGED: i64 = 1;
/// `judged` of a sighting announced as impossible travel.
const FIRED: i64 = 2;

/// Marks `sighting_id` judged at `at` (and announced, when `fired`):
/// `false` when another instance did first.
pub fn judge(
    conn: &mut DbConnection,
    sighting_id: &str,
    fired: bool,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let unjudged = token_sightings::table
        .filter(token_sightings::sighting_id.eq(sighting_id))
        .filter(token_sightings::judged.eq(0));
    let judged = if fired { FIRED } else { JUDGED };
    let set = (token_sightings::judged.eq(judged), token_sightings::judged_at.eq(Some(at.naive_utc())));
    Ok(diesel::update(unjudged).set(set).execute(conn)? == 1)
}

/// Whether a use of `token` was announced as impossible travel already.
pub fn has_fired(conn: &mut DbConnection, token: &str) -> Result<bool, StoreError> {
    let fired: i64 = token_sightings::table
        .filter(token_sightings::token.eq(token))
        .filter(token_sightings::judged.eq(FIRED))
        .count()
        .get_result(conn)?;
    Ok(fired > 0)
}
