//! The `malformed_requests` rule (issue 11's remediation): a client whose
//! authenticated requests are refused as malformed for more than the rule's
//! seconds, with none well-formed between, is disabled. Each instance keeps
//! when each client's current run of malformed requests began; only
//! requests the client authenticated count, so no stranger can start or
//! extend a run. A well-formed request costs an atomic read while no client
//! is in a run.

use crate::alerts::RuleKind;
use crate::remediation::{self, Action, RemediationView};
use crate::{App, AppError};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// When each client's run of malformed requests began, on this instance.
#[derive(Default)]
pub(crate) struct Streaks {
    any: AtomicBool,
    since: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl App {
    /// `client_id` (authenticated) sent a well-formed request: its run of
    /// malformed ones, if any, ends.
    pub fn note_well_formed(&self, client_id: &str) {
        if !self.malformed.any.load(Ordering::Relaxed) {
            return;
        }
        let mut since = self.malformed.since.lock().expect("malformed streaks lock");
        since.remove(client_id);
        self.malformed.any.store(!since.is_empty(), Ordering::Relaxed);
    }

    /// `client_id` (authenticated, confidential) sent a malformed request;
    /// when its run has lasted longer than a `malformed_requests` rule
    /// allows, the client is disabled (audited and published) and what was
    /// done is returned.
    pub fn note_malformed(&self, client_id: &str) -> Result<Option<RemediationView>, AppError> {
        let now = self.now();
        let began = {
            let mut since = self.malformed.since.lock().expect("malformed streaks lock");
            self.malformed.any.store(true, Ordering::Relaxed);
            *since.entry(client_id.to_owned()).or_insert(now)
        };
        let rule = self.rule_for(client_id, |rule| match rule {
            RuleKind::MalformedRequests { seconds, .. } => Some(*seconds),
            _ => None,
        })?;
        let Some((rule_id, seconds)) =
            rule.filter(|(_, seconds)| now - began > TimeDelta::seconds(i64::from(*seconds)))
        else {
            return Ok(None);
        };
        self.note_well_formed(client_id);
        let reason = format!("malformed requests for more than {seconds} seconds");
        self.commit(&remediation::REMEDIATION, |tx| {
            remediation::apply(tx, &rule_id, client_id, Action::Disable, reason)
        })
    }
}
