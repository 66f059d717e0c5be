//! What is unusual now (issue 25): each client an enabled `anomaly` rule
//! fires for, with why (what departed from what, or the first sighting or
//! travel announced) and the hours its signal's baseline learnt last, for
//! the console's overview, a client's monitoring page and the portal (a
//! team's own apps).

use crate::alerts::{RuleKind, Watched};
use crate::baselines::Unusual;
use crate::{Actor, App, AppError, Permission};
use portcullis_core::team::TeamPermission;
use portcullis_store::audit::{self, Filter};
use portcullis_store::{alerts, clients, DbConnection};
use serde::Serialize;
use serde_json::Value;

/// One client an anomaly rule fires for now.
#[derive(Clone, Debug, Serialize)]
pub struct UnusualNow {
    /// The rule.
    pub rule_id: String,
    /// What the admin called it.
    pub description: String,
    /// What it watches.
    pub signal: Watched,
    /// The client.
    pub client_id: String,
    /// The client's name.
    pub client_name: String,
    /// Firing since, RFC 3339.
    pub since: String,
    /// For a signal with a baseline: what departed from what, as the last
    /// `alert.fired` named it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unusual: Option<Unusual>,
    /// For a first sighting or impossible travel: the fields of the last
    /// such event of the client (network, country, places and times).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sighting: Option<Value>,
    /// The signal's last hours learnt, oldest first (baseline signals).
    pub recent: Vec<crate::baselines::Recent>,
}

/// The event a first sighting was announced as.
fn sighting_event(signal: Watched) -> Option<&'static str> {
    match signal {
        Watched::NewNetwork => Some("client.new_network"),
        Watched::NewCountry => Some("client.new_country"),
        Watched::ImpossibleTravel => Some("token.impossible_travel"),
        _ => None,
    }
}

/// The details of the newest audited `action` about `target` that `pick`
/// accepts (of the last 20).
fn newest(
    app: &App,
    conn: &mut DbConnection,
    (action, target): (&str, &str),
    pick: impl Fn(&Value) -> bool,
) -> Result<Option<Value>, AppError> {
    let filter = Filter {
        action: Some(action.to_owned()),
        target: Some(target.to_owned()),
        newest_first: true,
        ..Filter::default()
    };
    let entries = audit::entries(conn, &filter, 0, 20)?;
    Ok(entries.into_iter().map(|entry| app.sealing.view(entry).details).find(|details| pick(details)))
}

/// What a reader sees of a sighting's `details`: admins all of it; a team's
/// members the network and countries their own client was used from, and
/// of a user's token that travelled, only how far and how fast (not the
/// token, nor where its user was).
fn for_reader(details: Value, signal: Watched, team: bool) -> Value {
    let keep: &[&str] = match (team, signal) {
        (false, _) => return details,
        (true, Watched::ImpossibleTravel) => &["token_kind", "distance_km", "hours"],
        (true, _) => &["network", "country", "known_countries"],
    };
    let kept = keep.iter().filter_map(|key| Some(((*key).to_owned(), details.get(*key)?.clone())));
    Value::Object(kept.collect())
}

impl App {
    /// Every client an enabled `anomaly` rule fires for now (of team
    /// `team`'s only, when named), newest first: for admins monitoring,
    /// and for the members of the team.
    pub fn unusual_now(&self, actor: &Actor, team: Option<&str>) -> Result<Vec<UnusualNow>, AppError> {
        let conn = &mut *self.db.get()?;
        match team {
            Some(team_id) => {
                crate::teams::reach_as(conn, actor, team_id, (Permission::Monitoring, TeamPermission::Read))?;
            }
            None => actor.require(Permission::Monitoring)?,
        }
        let mut found = Vec::new();
        for record in alerts::all(conn)?.into_iter().filter(|r| r.enabled) {
            let Ok(RuleKind::Anomaly { signal, .. }) = crate::alerts::rule_of(&record) else {
                continue;
            };
            for state in alerts::states(conn, &record.rule_id)?.into_iter().filter(|s| s.firing) {
                let Some(client) = clients::find(conn, &state.subject)? else { continue };
                if team.is_some_and(|team| client.team_id.as_deref() != Some(team)) {
                    continue;
                }
                let fired = newest(self, conn, ("alert.fired", &state.subject), |details| {
                    details["rule_id"] == record.rule_id.as_str()
                })?;
                let unusual =
                    fired.and_then(|details| serde_json::from_value(details["unusual"].clone()).ok());
                let sighting = match sighting_event(signal) {
                    Some(event) => newest(self, conn, (event, &state.subject), |_| true)?
                        .map(|details| for_reader(details, signal, team.is_some())),
                    None => None,
                };
                let recent = match signal.signal() {
                    Some(learnt) => crate::baselines::recent(conn, &state.subject, learnt)?,
                    None => Vec::new(),
                };
                found.push(UnusualNow {
                    rule_id: record.rule_id.clone(),
                    // An admin's words, for admins.
                    description: if team.is_some() { String::new() } else { record.description.clone() },
                    signal,
                    client_id: state.subject.clone(),
                    client_name: client.metadata.client_name.clone(),
                    since: crate::time(state.since.and_utc()),
                    unusual,
                    sighting,
                    recent,
                });
            }
        }
        found.sort_by(|a, b| b.since.cmp(&a.since).then_with(|| a.client_id.cmp(&b.client_id)));
        Ok(found)
    }
}
