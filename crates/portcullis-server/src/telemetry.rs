//! Structured logs through `tracing`, written to standard error so standard
//! output stays free for command results.
//!
//! The HTTP layer reports every malformed request or broken connection as
//! an ERROR; anyone can send thousands a second, so those lines are shown
//! as WARN, at most one per [`MALFORMED_EVERY`], with the number left out.

use anyhow::Context;
use std::fmt;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{Format, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// The least time between two lines about malformed requests.
pub const MALFORMED_EVERY: Duration = Duration::from_secs(10);
/// Where the HTTP layer reports connections it could not serve.
const HTTP_LAYER: &str = "actix_http::h1";

/// Installs the global subscriber with `filter` (a level such as `info`, or
/// tracing directives such as `portcullis_server=debug,actix_web=warn`).
pub fn init(filter: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(filter).with_context(|| format!("invalid log filter `{filter}`"))?;
    let ansi = std::io::stderr().is_terminal();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .event_format(Demoted::new(Format::default().with_ansi(ansi)))
        .try_init()
        .ok();
    Ok(())
}

/// Formats events as `inner` does, but shows the HTTP layer's errors about
/// malformed requests as rate-limited warnings.
pub struct Demoted<F> {
    inner: F,
    limit: Mutex<RateLimit>,
}

impl<F> Demoted<F> {
    /// Wraps `inner`.
    pub fn new(inner: F) -> Self {
        Self { inner, limit: Mutex::new(RateLimit { last: None, suppressed: 0 }) }
    }
}

/// When the last line was written, and how many were left out since.
struct RateLimit {
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimit {
    /// `Some(left out since the last line)` when a line may be written at `now`.
    fn admit(&mut self, now: Instant) -> Option<u64> {
        if self.last.is_some_and(|last| now.duration_since(last) < MALFORMED_EVERY) {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

impl<S, N, F> FormatEvent<S, N> for Demoted<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let metadata = event.metadata();
        if *metadata.level() != Level::ERROR || !metadata.target().starts_with(HTTP_LAYER) {
            return self.inner.format_event(ctx, writer, event);
        }
        let Some(suppressed) = self.limit.lock().expect("log rate limit").admit(Instant::now()) else {
            return Ok(());
        };
        let mut message = Message(String::new());
        event.record(&mut message);
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        writeln!(
            writer,
            "{now}  WARN {}: malformed request or broken connection: {} ({suppressed} more since the last report)",
            metadata.target(),
            message.0
        )
    }
}

/// The `message` field of an event.
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_request_reports_are_rate_limited_and_counted() {
        let (mut limit, start) = (RateLimit { last: None, suppressed: 0 }, Instant::now());
        assert_eq!(limit.admit(start), Some(0));
        for n in 1..1000 {
            assert_eq!(limit.admit(start + Duration::from_millis(n)), None);
        }
        assert_eq!(limit.admit(start + MALFORMED_EVERY), Some(999));
        assert_eq!(limit.admit(start + MALFORMED_EVERY * 2), Some(0));
    }
}
