//! Alert rules (issue 11): conditions over what the server already records,
//! checked every [`CHECK_INTERVAL`] by every instance:
//! - `error_rate`: a client's share of errors over the last N finished
//!   minutes of the usage rollups, above X % (default 5 % over 5 minutes,
//!   from 20 requests);
//! - `auth_failures`: failed client authentications per minute, above N,
//!   per client or overall, from the audit log's failure summaries over the
//!   last summary window (a minute at least; `--auth-failure-window`);
//! - `outside_cidrs`: a client called from outside its `allowed_cidrs`
//!   within that time;
//! - `outside_countries`: a client used from a country outside its
//!   `allowed_countries` within that time (with a country database).
//!
//! One check reads each kind of failure summary once, for all its rules.
//!
//! Two kinds act on a client at request time instead (see [`remediation`]):
//! - `consecutive_failures`: the lockout, `threshold` failed
//!   authentications in a row from addresses that authenticated the client
//!   before lock or disable it (without such a rule, the `--client-lockout-*`
//!   flags apply);
//! - `malformed_requests`: a client whose authenticated requests are
//!   refused as malformed for more than `seconds`, none well-formed between,
//!   is disabled.
//!
//! `outside_cidrs` and `outside_countries` may act too (`disable` or
//! `revoke_tokens`) when a client starts firing; `error_rate` and
//! `auth_failures` only alert: strangers can cause what they count. Each
//! instance reads the acting rules at most every [`CHECK_INTERVAL`], and at
//! once after it changes one.
//!
//! [`remediation`]: crate::remediation
//!
//! A subject (a client, or `(all)`) that meets the condition fires
//! `alert.fired`, again once per window while it still does, and
//! `alert.resolved` when it no longer does. Each change of a subject's state
//! is a compare-and-swap in the transaction that audits it (and so sends it
//! to webhooks): of several instances, one announces it.

use crate::audit::Sealing;
use crate::baselines::Unusual;
use crate::clock::{minute_of, minute_start};
use crate::remediation::{self, Action};
use crate::transaction::{Attempt as Change, Tx};
use crate::{Actor, App, AppError, Event, Permission};
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_core::baseline::{Signal, Tolerance};
use portcullis_store::alerts::{self, RuleRecord, StateRecord};
use portcullis_store::audit::{self, Filter};
use portcullis_store::{baselines, sightings};
use portcullis_store::{usage, DbConnection, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// How often each instance checks the rules.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(30);
/// What an alert over every client is raised for.
pub const ALL: &str = "(all)";
/// The failure reason client authentication records for a caller outside
/// the client's `allowed_cidrs`.
pub const OUTSIDE_CIDRS: &str = "address not allowed";

fn five() -> f64 {
    5.0
}
fn five_minutes() -> u32 {
    5
}
fn twenty() -> i64 {
    20
}
fn ten() -> u32 {
    10
}
fn sixty() -> u32 {
    60
}
fn lock() -> Action {
    Action::Lock
}
fn four() -> f64 {
    4.0
}
fn an_hour() -> u32 {
    60
}

/// What an `anomaly` rule watches: a signal with a [baseline](crate::baselines),
/// or a first sighting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Watched {
    /// Requests answered, against the client's baseline.
    Requests,
    /// The share of errors, in percent, against the client's baseline.
    ErrorRate,
    /// Failed client authentications, against the client's baseline.
    FailedAuthentications,
    /// Access tokens issued, against the client's baseline.
    TokensIssued,
    /// Distinct networks authenticated from, against the client's baseline.
    Networks,
    /// A `client.new_network` announced within the window.
    NewNetwork,
    /// A `client.new_country` announced within the window.
    NewCountry,
    /// A `token.impossible_travel` announced within the window.
    ImpossibleTravel,
}

impl From<Signal> for Watched {
    /// The rule's name for a signal with a baseline.
    fn from(signal: Signal) -> Self {
        match signal {
            Signal::Requests => Self::Requests,
            Signal::ErrorRate => Self::ErrorRate,
            Signal::FailedAuthentications => Self::FailedAuthentications,
            Signal::TokensIssued => Self::TokensIssued,
            Signal::Networks => Self::Networks,
        }
    }
}

impl Watched {
    /// The signal with a baseline it is.
    pub fn signal(self) -> Option<Signal> {
        match self {
            Self::Requests => Some(Signal::Requests),
            Self::ErrorRate => Some(Signal::ErrorRate),
            Self::FailedAuthentications => Some(Signal::FailedAuthentications),
            Self::TokensIssued => Some(Signal::TokensIssued),
            Self::Networks => Some(Signal::Networks),
            Self::NewNetwork | Self::NewCountry | Self::ImpossibleTravel => None,
        }
    }

    /// The least volume that departs, unless a rule sets one: requests for
    /// the error rate, the value itself for counts.
    fn default_min_volume(self) -> f64 {
        match self {
            Self::Requests | Self::ErrorRate | Self::TokensIssued => 200.0,
            Self::FailedAuthentications => 50.0,
            Self::Networks => 10.0,
            Self::NewNetwork | Self::NewCountry | Self::ImpossibleTravel => 1.0,
        }
    }

    /// Whether only the client's own credentials can produce it, so that a
    /// rule may act on it: tokens issued and the networks a confidential
    /// client authenticated from. Requests, errors and failed
    /// authentications anyone can cause; impossible travel is a user's
    /// token, not the client.
    fn stranger_proof(self) -> bool {
        matches!(self, Self::TokensIssued | Self::Networks | Self::NewNetwork | Self::NewCountry)
    }
}

/// A rule's kind and parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleKind {
    /// A client's errors above `threshold_percent` of its requests over
    /// `window_minutes`, once it made `min_requests`.
    ErrorRate {
        /// One client; every client when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        /// The share of errors, in percent.
        #[serde(default = "five")]
        threshold_percent: f64,
        /// The window, in minutes.
        #[serde(default = "five_minutes")]
        window_minutes: u32,
        /// Requests below which the rate is not judged.
        #[serde(default = "twenty")]
        min_requests: i64,
    },
    /// Failed client authentications above `per_minute` in the last minute.
    AuthFailures {
        /// One client; all failures together when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        /// Failures per minute above which it fires.
        per_minute: u64,
    },
    /// Failed and throttled sign-ins (passwords and second-factor codes,
    /// every account together) above `per_minute` in the last minute.
    LoginFailures {
        /// Failures per minute above which it fires.
        per_minute: u64,
    },
    /// A client called from outside its `allowed_cidrs` in the last minute.
    OutsideCidrs {
        /// One client; every client when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        /// What is done to a client when it starts firing: `disable` or
        /// `revoke_tokens`; nothing when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action: Option<Action>,
    },
    /// A client used from a country outside its `allowed_countries` in the
    /// last minute.
    OutsideCountries {
        /// One client; every client when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        /// As for `outside_cidrs`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action: Option<Action>,
    },
    /// The lockout: `threshold` failed authentications of a client in a
    /// row, from addresses that authenticated it before, `lock` or
    /// `disable` it.
    ConsecutiveFailures {
        /// One client; every client without a rule of its own when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        /// Failures in a row.
        #[serde(default = "ten")]
        threshold: u32,
        /// `lock` (a cooldown that doubles on each lockout) or `disable`.
        #[serde(default = "lock")]
        action: Action,
    },
    /// A client's last `window_minutes` depart from what is usual for it
    /// (its [baseline](crate::baselines)): more than `factor` times the
    /// usual value, more than three spreads above it, and at least
    /// `min_volume`; or a first sighting within the window.
    Anomaly {
        /// One client; every client when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        /// What is watched.
        signal: Watched,
        /// The factor over the usual value.
        #[serde(default = "four")]
        factor: f64,
        /// The least volume judged (requests, for the error rate); a
        /// default per signal when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_volume: Option<f64>,
        /// The window, in minutes.
        #[serde(default = "an_hour")]
        window_minutes: u32,
        /// What is done to a confidential client when it starts firing
        /// (`disable` or `revoke_tokens`), for signals only its own
        /// credentials produce; nothing when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        action: Option<Action>,
    },
    /// A client whose authenticated requests are refused as malformed
    /// (`invalid_request`, `unsupported_grant_type`) for more than `seconds`,
    /// with none well-formed between, is disabled.
    MalformedRequests {
        /// One client; every client without a rule of its own when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        /// How long the malformed requests go on.
        #[serde(default = "sixty")]
        seconds: u32,
    },
}

impl RuleKind {
    /// The kind's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ErrorRate { .. } => "error_rate",
            Self::AuthFailures { .. } => "auth_failures",
            Self::LoginFailures { .. } => "login_failures",
            Self::OutsideCidrs { .. } => "outside_cidrs",
            Self::OutsideCountries { .. } => "outside_countries",
            Self::ConsecutiveFailures { .. } => "consecutive_failures",
            Self::MalformedRequests { .. } => "malformed_requests",
            Self::Anomaly { .. } => "anomaly",
        }
    }

    fn client_id(&self) -> Option<&str> {
        match self {
            Self::ErrorRate { client_id, .. }
            | Self::AuthFailures { client_id, .. }
            | Self::OutsideCidrs { client_id, .. }
            | Self::OutsideCountries { client_id, .. }
            | Self::ConsecutiveFailures { client_id, .. }
            | Self::MalformedRequests { client_id, .. }
            | Self::Anomaly { client_id, .. } => client_id.as_deref(),
            Self::LoginFailures { .. } => None,
        }
    }

    /// Whether the periodic check judges it (the others act at request time).
    fn is_checked(&self) -> bool {
        !matches!(self, Self::ConsecutiveFailures { .. } | Self::MalformedRequests { .. })
    }

    /// What it does to a client that starts firing.
    fn action(&self) -> Option<Action> {
        match self {
            Self::OutsideCidrs { action, .. }
            | Self::OutsideCountries { action, .. }
            | Self::Anomaly { action, .. } => *action,
            _ => None,
        }
    }

    /// How long one firing lasts before it is announced again, when
    /// failures are summarised over `lookback`.
    fn window(&self, lookback: TimeDelta) -> TimeDelta {
        match self {
            Self::ErrorRate { window_minutes, .. } | Self::Anomaly { window_minutes, .. } => {
                TimeDelta::minutes(i64::from(*window_minutes))
            }
            _ => lookback,
        }
    }

    fn validate(&self) -> Result<(), AppError> {
        let invalid = |m: &str| Err(AppError::Invalid(m.to_owned()));
        match self {
            Self::ErrorRate { threshold_percent, .. } if !(0.0..=100.0).contains(threshold_percent) => {
                invalid("threshold_percent: from 0 to 100")
            }
            Self::ErrorRate { window_minutes, .. } if !(1..=1440).contains(window_minutes) => {
                invalid("window_minutes: from 1 to 1440")
            }
            Self::ErrorRate { min_requests, .. } if *min_requests < 1 => invalid("min_requests: at least 1"),
            Self::ConsecutiveFailures { threshold, .. } if !(1..=10_000).contains(threshold) => {
                invalid("threshold: from 1 to 10000")
            }
            Self::ConsecutiveFailures { action: Action::RevokeTokens, .. } => {
                invalid("action: `lock` or `disable`")
            }
            Self::MalformedRequests { seconds, .. } if !(1..=86_400).contains(seconds) => {
                invalid("seconds: from 1 to 86400")
            }
            Self::OutsideCidrs { action: Some(Action::Lock), .. }
            | Self::OutsideCountries { action: Some(Action::Lock), .. }
            | Self::Anomaly { action: Some(Action::Lock), .. } => invalid("action: `disable` or `revoke_tokens`"),
            Self::Anomaly { signal, action: Some(_), .. } if !signal.stranger_proof() => invalid(
                "action: only tokens_issued, networks, new_network and new_country rules may act; strangers can cause the rest",
            ),
            Self::Anomaly { factor, .. } if !(1.0..=1000.0).contains(factor) => invalid("factor: from 1 to 1000"),
            Self::Anomaly { min_volume: Some(volume), .. } if !(1.0..=1e9).contains(volume) => {
                invalid("min_volume: from 1 to 1000000000")
            }
            Self::Anomaly { window_minutes, .. } if !(5..=180).contains(window_minutes) => {
                invalid("window_minutes: from 5 to 180")
            }
            // Distinct networks do not add up over hours: judged against one hour's.
            Self::Anomaly { signal: Watched::Networks, window_minutes, .. } if *window_minutes > 60 => {
                invalid("window_minutes: at most 60 for networks")
            }
            _ => Ok(()),
        }
    }
}

/// A rule as admins see it, with its subjects now firing.
#[derive(Clone, Debug, Serialize)]
pub struct RuleView {
    /// Its id.
    pub rule_id: String,
    /// What the admin called it.
    pub description: String,
    /// Whether it is checked.
    pub enabled: bool,
    /// Its kind and parameters.
    #[serde(flatten)]
    pub rule: RuleKind,
    /// The subjects firing now, each since when (RFC 3339).
    pub firing: BTreeMap<String, String>,
    /// When it was created, RFC 3339.
    pub created_at: String,
}

pub(crate) fn rule_of(record: &RuleRecord) -> Result<RuleKind, AppError> {
    serde_json::from_str(&record.config)
        .map_err(|e| AppError::Corrupt(format!("alert rule {}: {e}", record.rule_id)))
}

fn view(conn: &mut DbConnection, record: &RuleRecord) -> Result<RuleView, AppError> {
    let firing = alerts::states(conn, &record.rule_id)?
        .into_iter()
        .filter(|s| s.firing)
        .map(|s| (s.subject, crate::time(s.since.and_utc())))
        .collect();
    Ok(RuleView {
        rule_id: record.rule_id.clone(),
        description: record.description.clone(),
        enabled: record.enabled,
        rule: rule_of(record)?,
        firing,
        created_at: crate::time(record.created_at.and_utc()),
    })
}

/// The members of a rule as an admin sends them: `kind` and its
/// parameters, and optionally `description` and `enabled`.
pub fn parse_rule(mut body: Map<String, Value>) -> Result<(RuleKind, String, bool), AppError> {
    let description = match body.remove("description") {
        None => String::new(),
        Some(Value::String(text)) if text.chars().count() <= 200 && !text.chars().any(char::is_control) => {
            text
        }
        Some(_) => return Err(AppError::Invalid("description: text of at most 200 characters".into())),
    };
    let enabled = match body.remove("enabled") {
        None => true,
        Some(Value::Bool(enabled)) => enabled,
        Some(_) => return Err(AppError::Invalid("enabled: true or false".into())),
    };
    if body.contains_key("action")
        && matches!(
            body.get("kind").and_then(Value::as_str),
            Some("error_rate" | "auth_failures" | "login_failures")
        )
    {
        return Err(AppError::Invalid(
            "action: error_rate, auth_failures and login_failures rules only alert, since strangers can cause what they count".into(),
        ));
    }
    let rule: RuleKind = serde_json::from_value(Value::Object(body))
        .map_err(|e| AppError::Invalid(format!("not a rule: {e}")))?;
    rule.validate()?;
    Ok((rule, description, enabled))
}

/// Refuses a rule that acts on clients (disables, locks, revokes) to an
/// actor who may not change clients: creating one, changing one (from or
/// to acting), or deleting one.
fn ensure_may_act(actor: &Actor, rule: &RuleKind) -> Result<(), AppError> {
    if !rule.is_checked() || rule.action().is_some() {
        actor.require(Permission::Clients)?;
    }
    Ok(())
}

/// Refuses a rule that acts (rather than only alerts) when another rule
/// (than `except`) already acts the same way on the same clients: which one
/// acts would be left to chance.
fn ensure_alone(conn: &mut DbConnection, rule: &RuleKind, except: Option<&str>) -> Result<(), AppError> {
    if rule.is_checked() {
        return Ok(());
    }
    let same = |other: &RuleKind| other.name() == rule.name() && other.client_id() == rule.client_id();
    let others = alerts::all(conn)?;
    let existing = others
        .iter()
        .filter(|r| Some(r.rule_id.as_str()) != except)
        .find(|r| rule_of(r).is_ok_and(|o| same(&o)));
    match existing {
        Some(existing) => Err(AppError::Conflict(format!(
            "alert rule {} already acts as {} on {}; delete it first",
            existing.rule_id,
            rule.name(),
            rule.client_id().unwrap_or("every client")
        ))),
        None => Ok(()),
    }
}

/// What one check found of a subject meeting the condition.
#[derive(Clone, Debug, PartialEq)]
struct Finding {
    /// Its value.
    value: f64,
    /// For an anomaly against a baseline, what departed from what.
    unusual: Option<Unusual>,
}

impl From<f64> for Finding {
    fn from(value: f64) -> Self {
        Self { value, unusual: None }
    }
}

/// What one check found: each subject meeting the condition.
type Findings = BTreeMap<String, Finding>;

impl App {
    /// Creates an alert rule.
    pub fn create_alert_rule(
        &self,
        actor: &Actor,
        rule: RuleKind,
        description: String,
        enabled: bool,
    ) -> Result<RuleView, AppError> {
        let attempt = Change { permission: Permission::Monitoring, action: "alert_rule.created", target: "" };
        let created = self.change(actor, attempt, |tx| {
            ensure_may_act(actor, &rule)?;
            ensure_alone(tx.conn, &rule, None)?;
            let record = RuleRecord {
                rule_id: format!("ar_{}", uuid::Uuid::new_v4().simple()),
                description,
                config: serde_json::to_string(&rule).map_err(|e| AppError::Corrupt(e.to_string()))?,
                enabled,
                created_at: tx.now.naive_utc(),
                updated_at: tx.now.naive_utc(),
            };
            alerts::create(tx.conn, &record)?;
            tx.emit(Event::AlertRuleCreated { rule_id: record.rule_id.clone(), kind: rule.name() });
            view(tx.conn, &record)
        });
        self.request_rules.forget();
        created
    }

    /// Replaces an alert rule's kind, parameters, description and state.
    /// A rule that keeps its kind and subjects keeps what it fires for (the
    /// next check resolves what no longer holds); one turned off, or made
    /// of another kind or for other clients, resolves it now. A rule that
    /// acts on clients needs `admin:clients` too.
    pub fn update_alert_rule(
        &self,
        actor: &Actor,
        rule_id: &str,
        rule: RuleKind,
        description: String,
        enabled: bool,
    ) -> Result<RuleView, AppError> {
        let attempt =
            Change { permission: Permission::Monitoring, action: "alert_rule.updated", target: rule_id };
        let updated = self.change(actor, attempt, |tx| {
            ensure_may_act(actor, &rule)?;
            let mut record = alerts::find(tx.conn, rule_id)?
                .ok_or_else(|| AppError::NotFound(format!("no alert rule `{rule_id}`")))?;
            // An unreadable rule is replaced as one of another kind would be.
            let was = rule_of(&record).ok();
            if let Some(was) = &was {
                ensure_may_act(actor, was)?;
            }
            ensure_alone(tx.conn, &rule, Some(rule_id))?;
            let same =
                was.as_ref().is_some_and(|w| w.name() == rule.name() && w.client_id() == rule.client_id());
            if !enabled || !same {
                let kind = was.as_ref().map_or(rule.name(), RuleKind::name);
                for state in alerts::states(tx.conn, rule_id)?.into_iter().filter(|s| s.firing) {
                    tx.emit(Event::AlertResolved {
                        rule_id: rule_id.to_owned(),
                        kind,
                        subject: state.subject,
                    });
                }
                alerts::clear_states(tx.conn, rule_id)?;
            }
            record.description = description;
            record.config = serde_json::to_string(&rule).map_err(|e| AppError::Corrupt(e.to_string()))?;
            record.enabled = enabled;
            record.updated_at = tx.now.naive_utc();
            alerts::update(tx.conn, &record)?;
            tx.emit(Event::AlertRuleUpdated { rule_id: rule_id.to_owned(), kind: rule.name() });
            view(tx.conn, &record)
        });
        self.request_rules.forget();
        updated
    }

    /// Deletes an alert rule (its firing subjects are forgotten, not
    /// resolved); one that acts on clients needs `admin:clients` too.
    pub fn delete_alert_rule(&self, actor: &Actor, rule_id: &str) -> Result<(), AppError> {
        let attempt =
            Change { permission: Permission::Monitoring, action: "alert_rule.deleted", target: rule_id };
        let deleted = self.change(actor, attempt, |tx| {
            let record = alerts::find(tx.conn, rule_id)?
                .ok_or_else(|| AppError::NotFound(format!("no alert rule `{rule_id}`")))?;
            if let Ok(rule) = rule_of(&record) {
                ensure_may_act(actor, &rule)?;
            }
            if !alerts::delete(tx.conn, rule_id)? {
                return Err(AppError::NotFound(format!("no alert rule `{rule_id}`")));
            }
            tx.emit(Event::AlertRuleDeleted { rule_id: rule_id.to_owned() });
            Ok(())
        });
        self.request_rules.forget();
        deleted
    }

    /// Every alert rule, with its firing subjects.
    pub fn alert_rules(&self, actor: &Actor) -> Result<Vec<RuleView>, AppError> {
        self.read(actor, Permission::Monitoring, |conn| {
            alerts::all(conn)?.iter().map(|record| view(conn, record)).collect()
        })
    }

    /// One alert rule, with its firing subjects.
    pub fn alert_rule(&self, actor: &Actor, rule_id: &str) -> Result<RuleView, AppError> {
        self.read(actor, Permission::Monitoring, |conn| {
            let record = alerts::find(conn, rule_id)?
                .ok_or_else(|| AppError::NotFound(format!("no alert rule `{rule_id}`")))?;
            view(conn, &record)
        })
    }

    /// Checks every enabled rule now and announces what changed; returns
    /// the events this instance announced.
    pub fn check_alert_rules(&self) -> Result<Vec<Event>, AppError> {
        let now = self.now();
        let (rules, _) = self.enabled_rules()?;
        let lookback = self.failures.window().max(TimeDelta::minutes(1)) + SUMMARY_SLACK;
        let mut summaries = Summaries::between(now - lookback, None, &self.sealing);
        let mut announced = Vec::new();
        for record in rules {
            // One rule that cannot be checked does not hold up the others.
            match self.check_rule(&record, now, lookback, &mut summaries) {
                Ok(events) => announced.extend(events),
                Err(e) => {
                    tracing::warn!(rule = %record.rule_id, error = %e, "an alert rule could not be checked")
                }
            }
        }
        Ok(announced)
    }

    fn check_rule(
        &self,
        record: &RuleRecord,
        now: DateTime<Utc>,
        lookback: TimeDelta,
        summaries: &mut Summaries<'_>,
    ) -> Result<Vec<Event>, AppError> {
        let rule = rule_of(record)?;
        if !rule.is_checked() {
            return Ok(Vec::new());
        }
        let findings = findings(&mut *self.db.get()?, &rule, now, lookback, summaries)?;
        let states = alerts::states(&mut *self.db.get()?, &record.rule_id)?;
        self.announce(record, &rule, &findings, &states, now, lookback)
    }

    /// Moves each subject's state as `findings` say, each change in its own
    /// transaction with its event, and only while the rule is as `record`
    /// was read.
    fn announce(
        &self,
        record: &RuleRecord,
        rule: &RuleKind,
        findings: &Findings,
        states: &[StateRecord],
        now: DateTime<Utc>,
        lookback: TimeDelta,
    ) -> Result<Vec<Event>, AppError> {
        let rule_id = record.rule_id.as_str();
        let threshold = threshold(rule);
        let system = Actor::System { job: "alerts" };
        let mut announced = Vec::new();
        // A client is acted on each time it fires (a client disabled already is
        // not disabled again; a new cutoff revokes tokens minted since), in
        // the transaction that announces it.
        let act = |tx: &mut Tx<'_>, subject: &str, value: f64| match rule.action() {
            Some(action) if subject != ALL => {
                let reason = format!("alert rule {rule_id} ({}) fired: {value}", rule.name());
                remediation::apply(tx, (rule_id, reason), subject, action, None).map(drop)
            }
            _ => Ok(()),
        };
        // One subject that cannot be moved does not hold up the others.
        let mut change = |event: Event, work: &dyn Fn(&mut DbConnection) -> Result<bool, StoreError>| {
            let done = self.commit(&system, |tx| {
                if !alerts::still_enabled_as(tx.conn, record)? {
                    // Turned off, changed or deleted since it was read: that change resolved it.
                    return Err(AppError::Conflict("the rule changed since it was read".into()));
                }
                if !work(tx.conn)? {
                    // Another instance announced it: write nothing.
                    return Err(AppError::Conflict("the alert state moved".into()));
                }
                tx.emit(event.clone());
                if let Event::AlertFired { subject, value, .. } = &event {
                    act(tx, subject, *value)?;
                }
                Ok(())
            });
            match done {
                Ok(()) => announced.push(event),
                Err(AppError::Conflict(_)) => {}
                Err(e) => {
                    tracing::warn!(rule_id, subject = event.target(), error = %e, "an alert could not be announced")
                }
            }
        };
        let at = now.naive_utc();
        for (subject, finding) in findings {
            let fired = Event::AlertFired {
                rule_id: rule_id.to_owned(),
                kind: rule.name(),
                subject: subject.clone(),
                value: crate::hundredths(finding.value),
                threshold,
                unusual: finding.unusual.clone(),
            };
            match states.iter().find(|s| &s.subject == subject) {
                None => change(fired, &|conn| {
                    // A conflict: another instance started it (or the rule is gone).
                    alerts::start_firing(conn, rule_id, subject, now).map(|()| true).or_else(|e| match e {
                        StoreError::Conflict(_) => Ok(false),
                        other => Err(other),
                    })
                }),
                Some(state)
                    if !state.firing || now - state.last_fired_at.and_utc() >= rule.window(lookback) =>
                {
                    let since = if state.firing { state.since } else { at };
                    let next = StateRecord { firing: true, since, last_fired_at: at, ..state.clone() };
                    change(fired, &|conn| alerts::swap(conn, state, &next))
                }
                Some(_) => {}
            }
        }
        for state in states.iter().filter(|s| s.firing && !findings.contains_key(&s.subject)) {
            let resolved = Event::AlertResolved {
                rule_id: rule_id.to_owned(),
                kind: rule.name(),
                subject: state.subject.clone(),
            };
            let next = StateRecord { firing: false, since: at, ..state.clone() };
            change(resolved, &|conn| alerts::swap(conn, state, &next));
        }
        Ok(announced)
    }
}

fn threshold(rule: &RuleKind) -> f64 {
    match rule {
        RuleKind::ErrorRate { threshold_percent, .. } => *threshold_percent,
        RuleKind::AuthFailures { per_minute, .. } | RuleKind::LoginFailures { per_minute } => {
            *per_minute as f64
        }
        RuleKind::Anomaly { signal, factor, .. } if signal.signal().is_some() => *factor,
        // A use outside the client's networks or countries is one too many;
        // the kinds that act at request time are never announced.
        _ => 0.0,
    }
}

/// How far past a summary window's end its summaries may be written.
const SUMMARY_SLACK: TimeDelta = TimeDelta::seconds(10);
/// How long after a minute ends its usage rollups are surely written.
const ROLLUP_DELAY: TimeDelta = TimeDelta::seconds(20);

/// Each subject meeting `rule`'s condition at `now`, with its value.
fn findings(
    conn: &mut DbConnection,
    rule: &RuleKind,
    now: DateTime<Utc>,
    lookback: TimeDelta,
    summaries: &mut Summaries<'_>,
) -> Result<Findings, AppError> {
    // Failures per minute, from summaries over `lookback`.
    let rate_of = |count: u64| count as f64 * 60.0 / lookback.num_seconds().max(1) as f64;
    let wanted = |subject: &str| rule.client_id().is_none_or(|id| id == subject);
    let mut found = Findings::new();
    match rule {
        RuleKind::ErrorRate { threshold_percent, window_minutes, min_requests, .. } => {
            // Only minutes every instance has written.
            let to = minute_start(minute_of(now - ROLLUP_DELAY));
            let from = to - TimeDelta::minutes(i64::from(*window_minutes));
            for (client_id, counts) in usage::totals_by_client(conn, (from, to), None)? {
                let rate = counts.errors() as f64 * 100.0 / counts.requests.max(1) as f64;
                if wanted(&client_id) && counts.requests >= *min_requests && rate > *threshold_percent {
                    found.insert(client_id, rate.into());
                }
            }
        }
        RuleKind::AuthFailures { per_minute, client_id } => {
            let failures = summaries.counts(conn, CLIENT_FAILED, None)?;
            let (subject, count) = match client_id {
                Some(id) => (id.clone(), failures.get(id).copied().unwrap_or(0)),
                None => (ALL.to_owned(), failures.values().sum()),
            };
            let rate = rate_of(count);
            if rate > *per_minute as f64 {
                found.insert(subject, rate.into());
            }
        }
        RuleKind::LoginFailures { per_minute } => {
            let failed: u64 = summaries.counts(conn, LOGIN_FAILED, None)?.values().sum();
            let throttled: u64 = summaries.counts(conn, LOGIN_THROTTLED, None)?.values().sum();
            let rate = rate_of(failed + throttled);
            if rate > *per_minute as f64 {
                found.insert(ALL.to_owned(), rate.into());
            }
        }
        RuleKind::ConsecutiveFailures { .. } | RuleKind::MalformedRequests { .. } => {}
        RuleKind::OutsideCidrs { .. } | RuleKind::OutsideCountries { .. } => {
            let (action, reason) = match rule {
                RuleKind::OutsideCidrs { .. } => (CLIENT_FAILED, Some(OUTSIDE_CIDRS)),
                _ => (OUTSIDE_COUNTRIES, None),
            };
            for (client_id, count) in summaries.counts(conn, action, reason)? {
                if wanted(&client_id) {
                    found.insert(client_id, (count as f64).into());
                }
            }
        }
        RuleKind::Anomaly { signal, factor, min_volume, window_minutes, .. } => {
            let min_volume = min_volume.unwrap_or(signal.default_min_volume());
            let window = TimeDelta::minutes(i64::from(*window_minutes));
            let Some(learnt) = signal.signal() else {
                // A first sighting: those announced within the window (a window ago is out of it).
                let since = now - window + TimeDelta::seconds(1);
                let counts = match signal {
                    Watched::ImpossibleTravel => sightings::travels_since(conn, since)?,
                    Watched::NewCountry => sightings::announced_since(conn, "country", since)?,
                    _ => sightings::announced_since(conn, "network", since)?,
                };
                for (client_id, count) in counts {
                    if wanted(&client_id) && count as f64 >= min_volume {
                        found.insert(client_id, (count as f64).into());
                    }
                }
                return Ok(found);
            };
            // Only minutes every instance has written.
            let to = minute_start(minute_of(now - ROLLUP_DELAY));
            let from = to - window;
            let mut within = Summaries::between(from, Some(to), summaries.sealing);
            let values = crate::baselines::values(conn, (from, to), &mut within, &[learnt])?
                .remove(&learnt)
                .unwrap_or_default();
            // Only a client with the volume can depart: its baseline alone is read.
            let candidates: Vec<String> = values
                .iter()
                .filter(|(client_id, (_, volume))| wanted(client_id) && *volume >= min_volume)
                .map(|(client_id, _)| client_id.clone())
                .collect();
            let tolerance = Tolerance { factor: *factor, min_volume };
            for record in baselines::of_clients(conn, learnt.name(), &candidates)? {
                let Some(&observed) = values.get(&record.client_id) else { continue };
                let judged =
                    crate::baselines::judge(&record, learnt, (from, *window_minutes), observed, tolerance);
                if let Some(unusual) = judged {
                    found.insert(record.client_id, Finding { value: observed.0, unusual: Some(unusual) });
                }
            }
        }
    }
    Ok(found)
}

/// The summaries of failed client authentications.
pub(crate) const CLIENT_FAILED: &str = "auth.client_failed";
/// The summaries of failed sign-ins (wrong passwords and second-factor codes).
const LOGIN_FAILED: &str = "auth.login_failed";
/// The summaries of sign-ins refused unchecked while throttled.
const LOGIN_THROTTLED: &str = "auth.login_throttled";
/// The summaries of uses from outside a client's countries.
const OUTSIDE_COUNTRIES: &str = "client.outside_countries";

/// The failure summaries (and other audited events) one check reads: each
/// action's from `since` (until `until`), read once and unsealed for all the
/// rules that need it.
pub(crate) struct Summaries<'a> {
    since: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    sealing: &'a Sealing,
    read: BTreeMap<&'static str, Vec<(String, Value)>>,
}

impl<'a> Summaries<'a> {
    /// The summaries written in `[since, until)` (since `since` for `None`).
    pub(crate) fn between(since: DateTime<Utc>, until: Option<DateTime<Utc>>, sealing: &'a Sealing) -> Self {
        Self { since, until, sealing, read: BTreeMap::new() }
    }

    fn entries(
        &mut self,
        conn: &mut DbConnection,
        action: &'static str,
    ) -> Result<&[(String, Value)], AppError> {
        if !self.read.contains_key(action) {
            let filter = Filter {
                from: Some(self.since),
                to: self.until,
                action: Some(action.into()),
                ..Filter::default()
            };
            let entries = audit::entries(conn, &filter, 0, 10_000)?;
            let unsealed = entries.into_iter().map(|entry| self.sealing.view(entry));
            self.read.insert(action, unsealed.map(|entry| (entry.target, entry.details)).collect());
        }
        Ok(&self.read[action])
    }

    /// The counts of `action`'s summaries per presented client (only those
    /// for `reason`, when given); none zero.
    pub(crate) fn counts(
        &mut self,
        conn: &mut DbConnection,
        action: &'static str,
        reason: Option<&str>,
    ) -> Result<BTreeMap<String, u64>, AppError> {
        let mut counts = BTreeMap::new();
        for (target, details) in self.entries(conn, action)? {
            let count = match reason {
                Some(reason) => details["reasons"][reason].as_u64(),
                None => details["count"].as_u64(),
            };
            *counts.entry(target.clone()).or_default() += count.unwrap_or(0);
        }
        counts.retain(|_, count| *count > 0);
        Ok(counts)
    }
}

/// The enabled rules that act at request time, as this instance last read
/// them: again after [`CHECK_INTERVAL`], or once it changes a rule.
#[derive(Default)]
pub(crate) struct RequestRules {
    read: Mutex<Option<(Instant, Arc<ActingRules>)>>,
    /// Moves at every change this instance makes, so that rules read before
    /// it are not kept after it.
    generation: AtomicU64,
}

/// Rules that act at request time, each with its id.
type ActingRules = Vec<(String, RuleKind)>;

impl RequestRules {
    /// The generation to pass to [`RequestRules::keep`], taken before reading.
    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// What `rules` (every enabled rule, read during `generation`) hold;
    /// kept unless this instance changed a rule since.
    fn keep(&self, rules: &[RuleRecord], generation: u64) -> Arc<ActingRules> {
        let acting: Arc<ActingRules> = Arc::new(
            rules
                .iter()
                .filter_map(|record| rule_of(record).ok().map(|rule| (record.rule_id.clone(), rule)))
                .filter(|(_, rule)| !rule.is_checked())
                .collect(),
        );
        let mut read = self.read.lock().expect("request rules lock");
        if self.generation() == generation {
            *read = Some((Instant::now(), acting.clone()));
        }
        acting
    }

    /// Reads them again when next asked.
    fn forget(&self) {
        let mut read = self.read.lock().expect("request rules lock");
        self.generation.fetch_add(1, Ordering::AcqRel);
        *read = None;
    }

    fn fresh(&self) -> Option<Arc<ActingRules>> {
        let read = self.read.lock().expect("request rules lock");
        read.as_ref().filter(|(at, _)| at.elapsed() < CHECK_INTERVAL).map(|(_, rules)| rules.clone())
    }
}

impl App {
    /// The enabled rules, as stored now, keeping the acting ones.
    fn enabled_rules(&self) -> Result<(Vec<RuleRecord>, Arc<ActingRules>), AppError> {
        let generation = self.request_rules.generation();
        let all = alerts::all(&mut *self.db.get()?)?;
        let enabled: Vec<RuleRecord> = all.into_iter().filter(|r| r.enabled).collect();
        let acting = self.request_rules.keep(&enabled, generation);
        Ok((enabled, acting))
    }

    /// The acting rule `pick` selects for `client_id`: the client's own,
    /// else one for every client; with its id.
    pub(crate) fn rule_for<T>(
        &self,
        client_id: &str,
        pick: impl Fn(&RuleKind) -> Option<T>,
    ) -> Result<Option<(String, T)>, AppError> {
        let rules = match self.request_rules.fresh() {
            Some(rules) => rules,
            None => self.enabled_rules()?.1,
        };
        let mut general = None;
        for (rule_id, rule) in rules.iter() {
            let Some(picked) = pick(rule) else { continue };
            match rule.client_id() {
                Some(id) if id == client_id => return Ok(Some((rule_id.clone(), picked))),
                None => general = Some((rule_id.clone(), picked)),
                _ => {}
            }
        }
        Ok(general)
    }
}

/// Every [`CHECK_INTERVAL`] for as long as `alive` exists: learns the
/// baselines of the hours just ended, judges the sightings since the last
/// run, then checks the rules (so that they see what was just announced).
pub fn spawn(app: Arc<App>, alive: Weak<dyn std::any::Any + Send + Sync>) {
    let failed = "alert rules could not be checked; they will be on the next try";
    crate::periodic::spawn_job("alerts", CHECK_INTERVAL, alive, failed, move || app.detect().map(drop));
}

impl App {
    /// One run of the detection job: learning, first sightings, impossible
    /// travel, then the rules; what one step could not do is logged and
    /// left to the next run, the others go on. Returns what was announced.
    pub fn detect(&self) -> Result<Vec<Event>, AppError> {
        if let Err(e) = self.learn_baselines() {
            tracing::warn!(error = %e, "baselines could not be learnt; they will be on the next run");
        }
        let mut announced = Vec::new();
        for (step, found) in [
            ("first sightings", self.detect_first_sightings()),
            ("impossible travel", self.detect_impossible_travel()),
        ] {
            match found {
                Ok(events) => announced.extend(events),
                Err(e) => {
                    tracing::warn!(error = %e, "{step} could not be judged; they will be on the next run")
                }
            }
        }
        announced.extend(self.check_alert_rules()?);
        Ok(announced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    portcullis_store::backend_tests! {
        #[test]
        fn a_check_that_read_a_rule_before_it_was_turned_off_records_nothing(db) {
            let app = App::with_defaults(db.connect());
            let operator = Actor::operator();
            let rule = RuleKind::AuthFailures { client_id: None, per_minute: 1 };
            let rule_id = app.create_alert_rule(&operator, rule.clone(), String::new(), true).unwrap().rule_id;
            let read = alerts::find(&mut app.db.get().unwrap(), &rule_id).unwrap().unwrap();
            app.update_alert_rule(&operator, &rule_id, rule.clone(), String::new(), false).unwrap();
            let findings = Findings::from([(ALL.to_owned(), 5.0.into())]);
            let announced = app.announce(&read, &rule, &findings, &[], app.now(), TimeDelta::minutes(1)).unwrap();
            assert!(announced.is_empty(), "{announced:?}");
            assert!(alerts::states(&mut app.db.get().unwrap(), &rule_id).unwrap().is_empty());
            // The same check under the rule as it is now fires.
            app.update_alert_rule(&operator, &rule_id, rule.clone(), String::new(), true).unwrap();
            let read = alerts::find(&mut app.db.get().unwrap(), &rule_id).unwrap().unwrap();
            let announced = app.announce(&read, &rule, &findings, &[], app.now(), TimeDelta::minutes(1)).unwrap();
            assert_eq!(announced.len(), 1, "{announced:?}");
        }
    }

    #[test]
    fn rules_take_their_defaults_and_refuse_what_makes_no_sense() {
        let object = |v: Value| v.as_object().unwrap().clone();
        let (rule, description, enabled) = parse_rule(object(json!({"kind": "error_rate"}))).unwrap();
        assert_eq!(
            rule,
            RuleKind::ErrorRate {
                client_id: None,
                threshold_percent: 5.0,
                window_minutes: 5,
                min_requests: 20
            }
        );
        assert_eq!((description.as_str(), enabled), ("", true));
        assert!(parse_rule(object(json!({"kind": "auth_failures"}))).is_err(), "per_minute is needed");
        assert!(parse_rule(object(json!({"kind": "error_rate", "threshold_percent": 120}))).is_err());
        assert!(parse_rule(object(json!({"kind": "error_rate", "extra": 1}))).is_err());
        assert!(parse_rule(object(json!({"kind": "nothing"}))).is_err());
        let (cidrs, _, off) =
            parse_rule(object(json!({"kind": "outside_cidrs", "client_id": "c", "enabled": false}))).unwrap();
        assert_eq!((cidrs.name(), cidrs.client_id(), off), ("outside_cidrs", Some("c"), false));
    }
}
