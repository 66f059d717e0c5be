//! Stopping without losing a request. On SIGTERM (systemd, Docker and
//! Kubernetes stop with it) `/readyz` answers 503 for the configured delay,
//! so the load balancer's health checks take this instance out while it
//! still serves; then the listener closes, the requests in flight finish
//! (within the configured timeout), what only this instance holds is
//! written, and the process exits. SIGINT (Ctrl-C at a terminal) skips the
//! delay: nobody balances load onto a developer's server. A second signal
//! ends the process at once.
//!
//! actix-web's own signal handling is switched off: it closes the listener
//! at once, while the balancer still sends requests here.

use actix_web::dev::ServerHandle;
use futures_util::future::join_all;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::signal::unix::{signal, Signal, SignalKind};

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

/// SIGTERM and SIGINT, watched.
struct StopSignals {
    terminate: Signal,
    interrupt: Signal,
}

impl StopSignals {
    fn watch() -> std::io::Result<Self> {
        Ok(Self { terminate: signal(SignalKind::terminate())?, interrupt: signal(SignalKind::interrupt())? })
    }

    /// The next signal's delay: `delay` for SIGTERM, none for SIGINT.
    async fn next(&mut self, delay: Duration) -> Duration {
        tokio::select! {
            _ = self.terminate.recv() => delay,
            _ = self.interrupt.recv() => Duration::ZERO,
        }
    }
}

/// Waits for SIGTERM or SIGINT, marks the instance as stopping, waits out
/// the delay the signal calls for, and stops the servers of `handles`
/// gracefully; returns once they have stopped. A second signal meanwhile
/// exits the process. Waits for ever if the signals cannot be watched (the
/// process is then stopped by SIGKILL alone).
pub async fn on_signal(stopping: &Stopping, settings: &ShutdownSettings, handles: &[ServerHandle]) {
    let mut signals = match StopSignals::watch() {
        Ok(signals) => signals,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch for SIGTERM and SIGINT; stop this server with SIGKILL");
            return std::future::pending().await;
        }
    };
    let delay = signals.next(settings.delay).await;
    stopping.set();
    tracing::info!(
        delay_ms = delay.as_millis() as u64,
        timeout_s = settings.timeout.as_secs(),
        "stopping: /readyz answers 503, then requests in flight finish"
    );
    let graceful = async {
        tokio::time::sleep(delay).await;
        // No new connection; the requests in flight finish.
        join_all(handles.iter().map(|h| h.stop(true))).await;
    };
    tokio::select! {
        () = graceful => {}
        _ = signals.next(Duration::ZERO) => {
            tracing::warn!("a second signal: exiting at once, requests in flight and unwritten usage counts lost");
            std::process::exit(1);
        }
    }
}
