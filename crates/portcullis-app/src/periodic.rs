//! Background jobs of an instance: a thread that runs a job at start and
//! then every interval, for as long as the server that started it runs.

use crate::once_every::OnceEvery;
use std::any::Any;
use std::fmt::Display;
use std::sync::Weak;
use std::time::{Duration, Instant};

/// Runs `job` on a thread named `portcullis-{name}` at once and then every
/// `interval`, for as long as `alive` (something the running server holds)
/// exists; the thread notices the server is gone within a second.
pub fn spawn(
    name: &str,
    interval: Duration,
    alive: Weak<dyn Any + Send + Sync>,
    mut job: impl FnMut() + Send + 'static,
) {
    std::thread::Builder::new()
        .name(format!("portcullis-{name}"))
        .spawn(move || {
            let mut last: Option<Instant> = None;
            while alive.strong_count() > 0 {
                if last.is_none_or(|at| at.elapsed() >= interval) {
                    job();
                    last = Some(Instant::now());
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
        .unwrap_or_else(|e| panic!("spawn the {name} thread: {e}"));
}

/// Runs the fallible `job` as [`spawn`] does; a failure is logged with
/// `failed` at most once a minute, so that a job failing every second (its
/// database down) does not flood the log.
pub fn spawn_job<E: Display>(
    name: &str,
    interval: Duration,
    alive: Weak<dyn Any + Send + Sync>,
    failed: &'static str,
    mut job: impl FnMut() -> Result<(), E> + Send + 'static,
) {
    let warning = OnceEvery::new(Duration::from_secs(60));
    spawn(name, interval, alive, move || {
        if let Err(e) = job() {
            if warning.due() {
                tracing::warn!(error = %e, "{failed}");
            }
        }
    });
}
