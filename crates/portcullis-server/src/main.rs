//! The `portcullis` command.

use clap::Parser;
use portcullis_server::config::{Cli, ClientCommand, ClientIdArgs, Command};
use portcullis_server::{clients, telemetry, Application};
use portcullis_store::{clients as stored_clients, Database};
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
        Command::Client(ClientCommand::Create(args)) => {
            let metadata = args.metadata()?;
            let db = Database::connect(&args.database.url()?, &args.database.pool())?;
            db.migrate()?;
            let (client_id, secret) = clients::create(&db, &metadata, "cli")?;
            // RFC 7591 §3.2.1: the registered metadata plus the credentials, shown this once.
            let mut response = serde_json::to_value(&metadata)?;
            response["client_id"] = client_id.as_str().into();
            if let Some(secret) = secret {
                response["client_secret"] = secret.expose().into();
                response["client_secret_expires_at"] = 0.into();
            }
            println!("{response}");
            Ok(())
        }
        Command::Client(ClientCommand::Disable(args)) => set_disabled(&args, true),
        Command::Client(ClientCommand::Enable(args)) => set_disabled(&args, false),
        Command::Client(ClientCommand::AddSecret(args)) => {
            let db = Database::connect(&args.database.url()?, &args.database.pool())?;
            db.migrate()?;
            let secret = clients::add_secret(&db, &args.client_id)?;
            println!(
                "{}",
                serde_json::json!({ "client_id": args.client_id, "client_secret": secret.expose() })
            );
            Ok(())
        }
    }
}

fn set_disabled(args: &ClientIdArgs, disabled: bool) -> anyhow::Result<()> {
    let db = Database::connect(&args.database.url()?, &args.database.pool())?;
    db.migrate()?;
    if !stored_clients::set_disabled(&mut *db.get()?, &args.client_id, disabled)? {
        anyhow::bail!("there is no client {}", args.client_id);
    }
    println!("{}", serde_json::json!({ "client_id": args.client_id, "disabled": disabled }));
    Ok(())
}
