//! The `portcullis` command.

use clap::Parser;
use portcullis_server::config::{Cli, Command};
use portcullis_server::{telemetry, Application};
use portcullis_store::Database;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line naming the cause chain; never a panic or a backtrace.
            eprintln!("portcullis: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init(&cli.log_level)?;
    match cli.command {
        Command::Serve(args) => {
            let settings = args.into_settings()?;
            actix_web::rt::System::new().block_on(async move {
                let app = Application::build(settings)?;
                app.run_until_stopped().await?;
                Ok(())
            })
        }
        Command::Migrate(args) => {
            let db = Database::connect(&args.url()?, &args.pool())?;
            let applied = db.migrate()?;
            println!("{}", serde_json::json!({ "database": db.url().to_string(), "applied": applied }));
            Ok(())
        }
    }
}
