//! Structured logs through `tracing`, written to standard error so standard
//! output stays free for command results.

use anyhow::Context;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber with `filter` (a level such as `info`, or
/// tracing directives such as `portcullis_server=debug,actix_web=warn`).
pub fn init(filter: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(filter).with_context(|| format!("invalid log filter `{filter}`"))?;
    let ansi = std::io::stderr().is_terminal();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init()
        .ok();
    Ok(())
}
