//! Stopping without losing a request. On SIGTERM (systemd, Docker and
//! Kubernetes stop with it) `/readyz` answers 503 for the configured delay,
//! so the load balancer's health checks take this instance out while it
//! still serves; then the listener closes, the requests in flight finish
//! (within the configured timeout), what only this instance holds is
//! written, and the process exits. SIGINT (Ctrl-C at a terminal) skips the
//! delay: nobody balances load onto a developer's server.
//!
//! actix-web's own signal handling is switched off: it closes the listener
//! at once, while the balancer still sends requests here.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};

/// How this instance stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShutdownSettings {
    /// How long `/readyz` answers 503 before the listener closes (SIGTERM).
    pub delay: Duration,
    /// How long the requests in flight then have to finish.
    pub timeout: Duration,
}

impl Default for ShutdownSettings {
    fn default() -> Self {
        Self { delay: Duration::from_secs(2), timeout: Duration::from_secs(30) }
    }
}

/// Whether this instance is stopping: `/readyz` then answers 503.
#[derive(Debug, Default)]
pub struct Stopping(AtomicBool);

impl Stopping {
    /// True once a stop signal arrived.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Waits for SIGTERM or SIGINT, marks the instance as stopping and waits
/// out the delay the signal calls for. Waits for ever if the signals cannot
/// be watched (the process is then stopped by SIGKILL alone, as before).
pub async fn signalled(stopping: &Stopping, settings: &ShutdownSettings) {
    let (Ok(mut terminate), Ok(mut interrupt)) =
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        tracing::warn!("cannot watch for SIGTERM and SIGINT; stop this server with SIGKILL");
        return std::future::pending().await;
    };
    let delay = tokio::select! {
        _ = terminate.recv() => settings.delay,
        _ = interrupt.recv() => Duration::ZERO,
    };
    stopping.set();
    tracing::info!(
        delay_ms = delay.as_millis() as u64,
        timeout_s = settings.timeout.as_secs(),
        "stopping: /readyz answers 503, then requests in flight finish"
    );
    tokio::time::sleep(delay).await;
}
