//! `conformance TARGET.json`: runs the suite against a live server and
//! prints the report; exits 1 if any check failed. See `conformance/README.md`
//! for the target file.

use anyhow::Context;
use clap::Parser;
use portcullis_conformance::Target;
use std::path::PathBuf;

/// Runs the OIDF basic and config plans and the RFC 9700 checks against a live server.
#[derive(Parser)]
struct Args {
    /// The target: issuer, clients and user, as JSON.
    target: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let text = std::fs::read_to_string(&args.target)
        .with_context(|| format!("cannot read {}", args.target.display()))?;
    let target: Target = serde_json::from_str(&text).context("the target file is not valid")?;
    let report = portcullis_conformance::run(&target).await?;
    println!("{report}");
    if report.failures().next().is_some() {
        std::process::exit(1);
    }
    Ok(())
}
