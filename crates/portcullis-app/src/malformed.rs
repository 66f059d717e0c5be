//! The `malformed_requests` rule (issue 11's remediation): a client whose
//! token requests are refused as malformed for more than the rule's
//! seconds, in a run with no gap longer than [`MAX_GAP`] and nothing
//! well-formed between, is disabled. Only what the client itself decides
//! counts (a missing or unsupported `grant_type` of a request it
//! authenticated), never a value it passes along from others, so no
//! stranger can start or extend a run. Each instance keeps the runs of the
//! requests it serves; a well-formed request costs an atomic read while no
//! client is in a run.

use crate::alerts::RuleKind;
use crate::remediation::{self, Action, RemediationView};
use crate::{App, AppError};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// The longest pause between two malformed requests of one run.
pub const MAX_GAP: TimeDelta = TimeDelta::seconds(10);

/// A run of malformed requests: when it began, and its latest request.
#[derive(Clone, Copy)]
struct Run {
    began: DateTime<Utc>,
    last: DateTime<Utc>,
}

/// Each client's run of malformed requests, on this instance.
#[derive(Default)]
pub(crate) struct Streaks {
    any: AtomicBool,
    runs: Mutex<HashMap<String, Run>>,
}

impl Streaks {
    /// Ends `client_id`'s run and forgets runs that lapsed by `now`.
    fn end(&self, client_id: &str, now: DateTime<Utc>) {
        let mut runs = self.runs.lock().expect("malformed runs lock");
        runs.remove(client_id);
        runs.retain(|_, run| now - run.last <= MAX_GAP);
        self.any.store(!runs.is_empty(), Ordering::Relaxed);
    }

    /// Extends (or starts) `client_id`'s run with a request at `now`; when it began.
    fn extend(&self, client_id: &str, now: DateTime<Utc>) -> DateTime<Utc> {
        let mut runs = self.runs.lock().expect("malformed runs lock");
        self.any.store(true, Ordering::Relaxed);
        let run = runs.entry(client_id.to_owned()).or_insert(Run { began: now, last: now });
        if now - run.last > MAX_GAP {
            run.began = now;
        }
        run.last = now;
        run.began
    }
}

impl App {
    /// `client_id` (authenticated) sent a well-formed request: its run of
    /// malformed ones, if any, ends.
    pub fn note_well_formed(&self, client_id: &str) {
        if self.malformed.any.load(Ordering::Relaxed) {
            self.malformed.end(client_id, self.now());
        }
    }

    /// `client_id` (authenticated, confidential) sent a malformed request;
    /// when its run has lasted longer than a `malformed_requests` rule
    /// allows, the client is disabled (audited as `system:remediation` and
    /// published) and what was done is returned.
    pub fn note_malformed(&self, client_id: &str) -> Result<Option<RemediationView>, AppError> {
        let now = self.now();
        let began = self.malformed.extend(client_id, now);
        let rule = self.rule_for(client_id, |rule| match rule {
            RuleKind::MalformedRequests { seconds, .. } => Some(*seconds),
            _ => None,
        })?;
        let outlasted = |(_, seconds): &(String, u32)| now - began > TimeDelta::seconds(i64::from(*seconds));
        let Some((rule_id, seconds)) = rule.filter(outlasted) else { return Ok(None) };
        self.malformed.end(client_id, now);
        let reason = format!("malformed requests for more than {seconds} seconds");
        self.commit(&remediation::REMEDIATION, |tx| {
            remediation::apply(tx, (&rule_id, reason), client_id, Action::Disable, None)
        })
    }
}
