//! Automatic signing-key rotation (issue 11), off by default: every
//! `period`, each algorithm's key is replaced through the same operations
//! an admin uses, as the system job `key_rotation`, so each step is audited
//! and published (`key.staged`, `key.activated`, `key.retired`).
//!
//! The next key is staged — published in the JWKS, not yet signing — `lead`
//! before it activates, and `lead` is at least the JWKS cache lifetime, so
//! no verifier meets a token signed by a key it has not fetched. The
//! retired key stays published as after a manual rotation.
//!
//! Every instance runs the job; a step re-reads the keys first, so an
//! instance that finds the work done does nothing. Two instances staging in
//! the same instant would stage two keys; the older is activated, the other
//! waits for the next period.

use crate::keys::KeyMaker;
use crate::{Actor, App, AppError};
use chrono::TimeDelta;
use portcullis_core::{KeyState, SigningAlgorithm};
use portcullis_store::keys;
use std::any::Any;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// The actor rotation acts as.
const ROTATION: Actor = Actor::System { job: "key_rotation" };

/// How often the job looks.
const INTERVAL: Duration = Duration::from_secs(60);

/// When keys are rotated.
#[derive(Clone, Copy, Debug)]
pub struct RotationPolicy {
    /// How long a key signs.
    pub period: TimeDelta,
    /// How long the next key is published before it signs.
    pub lead: TimeDelta,
}

/// What one step did to one algorithm's keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A next key was staged.
    Staged(SigningAlgorithm, String),
    /// A staged key began signing.
    Activated(SigningAlgorithm, String),
}

impl App {
    /// Rotates what is due at the application's clock: for each algorithm
    /// with an active key, stages the next key `lead` before the active one
    /// is `period` old, and activates it once it has been published for
    /// `lead` and the active key is `period` old.
    pub fn rotate_due_keys(
        &self,
        maker: &dyn KeyMaker,
        policy: &RotationPolicy,
    ) -> Result<Vec<Step>, AppError> {
        let now = self.now();
        let all = keys::all(&mut *self.db.get()?)?;
        let mut steps = Vec::new();
        for active in all.iter().filter(|key| key.state == KeyState::Active) {
            let since = active.activated_at.unwrap_or(active.created_at);
            let staged = all
                .iter()
                .filter(|key| key.alg == active.alg && key.state == KeyState::Next)
                .min_by_key(|key| key.created_at);
            match staged {
                None if now >= since + policy.period - policy.lead => {
                    let key = self.stage_key(&ROTATION, maker, active.alg)?;
                    steps.push(Step::Staged(active.alg, key.kid));
                }
                Some(next) if now >= since + policy.period && now >= next.created_at + policy.lead => {
                    self.activate_key(&ROTATION, &next.kid)?;
                    steps.push(Step::Activated(active.alg, next.kid.clone()));
                }
                _ => {}
            }
        }
        Ok(steps)
    }
}

/// Runs [`App::rotate_due_keys`] on a background thread every minute, for as
/// long as `alive` (something the running server holds) exists.
pub fn spawn(
    app: Arc<App>,
    maker: Arc<dyn KeyMaker>,
    policy: RotationPolicy,
    alive: Weak<dyn Any + Send + Sync>,
) {
    crate::periodic::spawn("key-rotation", INTERVAL, alive, move || {
        match app.rotate_due_keys(maker.as_ref(), &policy) {
            Ok(steps) => steps.iter().for_each(|step| tracing::info!(?step, "signing keys rotated")),
            Err(e) => tracing::warn!(error = %e, "key rotation failed; it will try again"),
        }
    });
}
