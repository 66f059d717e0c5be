//! The `portcullis` command.

use clap::Parser;
use portcullis_core::{Password, Username};
use portcullis_server::config::{
    AuditCommand, Cli, ClientCommand, ClientIdArgs, Command, UserCommand, UserCreateArgs,
};
use portcullis_server::{bootstrap, client_changes, clients, secrets, telemetry, users, Application};
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
        Command::User(UserCommand::Create(args)) => create_user(&args),
        Command::Audit(AuditCommand::Verify(args)) => {
            let db = Database::connect(&args.url()?, &args.pool())?;
            db.migrate()?;
            let verified = db.maintenance(portcullis_store::audit::verify)?;
            println!(
                "{}",
                serde_json::json!({ "verified": true, "entries": verified.entries, "first": verified.first, "last": verified.last })
            );
            Ok(())
        }
        Command::Bootstrap(args) => {
            let db = Database::connect(&args.database.url()?, &args.database.pool())?;
            db.migrate()?;
            let admin = bootstrap::bootstrap(&db, args.rotate_secret)?;
            println!(
                "{}",
                serde_json::json!({
                    "client_id": admin.client_id,
                    "client_secret": admin.client_secret.expose(),
                    "scope": portcullis_server::admin::auth::ADMIN,
                })
            );
            Ok(())
        }
        Command::Client(ClientCommand::Disable(args)) => set_disabled(&args, true),
        Command::Client(ClientCommand::Enable(args)) => set_disabled(&args, false),
        Command::Client(ClientCommand::AddSecret(args)) => {
            let db = Database::connect(&args.database.url()?, &args.database.pool())?;
            db.migrate()?;
            let (secret, _) = clients::add_secret(&db, &args.client_id, None)?;
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
    client_changes::set_disabled(&db, &args.client_id, disabled)?;
    println!("{}", serde_json::json!({ "client_id": args.client_id, "disabled": disabled }));
    Ok(())
}

fn create_user(args: &UserCreateArgs) -> anyhow::Result<()> {
    let username = Username::parse(&args.username)?;
    let claims = args.claims()?;
    let (password, generated) = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        (Password::new(line.trim_end_matches(['\r', '\n']).to_owned()), false)
    } else {
        (Password::new(secrets::random_token()), true)
    };
    users::check_policy(&password).map_err(anyhow::Error::msg)?;
    let db = Database::connect(&args.database.url()?, &args.database.pool())?;
    db.migrate()?;
    let user_id = users::create(&db, &username, &password, &claims)?;
    let mut output = serde_json::to_value(&claims)?;
    output["user_id"] = user_id.into();
    output["username"] = username.as_str().into();
    if generated {
        output["password"] = password.expose().into();
    }
    println!("{output}");
    Ok(())
}
