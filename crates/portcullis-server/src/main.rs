//! The `portcullis` command.

use portcullis_app::actor::ADMIN;
use portcullis_app::{Actor, App, AppError, Permission};
use portcullis_core::{Password, Username};
use portcullis_server::config::{
    AuditCommand, Cli, ClientCommand, ClientIdArgs, Command, ConfigCommand, DatabaseArgs,
    RegistrationTokenCommand, TeamCommand, TokenIssueArgs, UserAttributeCommand, UserCommand, UserCreateArgs,
};
use portcullis_server::config_file;
use portcullis_server::{key_encryption, telemetry, Application};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match config_file::parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(error) => {
            eprintln!("portcullis: error: {error:#}");
            return ExitCode::FAILURE;
        }
    };
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
        Command::Config(ConfigCommand::Check(args)) => {
            let settings = args.into_settings()?;
            println!("{settings:#?}");
            Ok(())
        }
        Command::Migrate(args) => {
            let (app, applied) = App::open(&args.url()?, &args.pool())?;
            let database = app.database().url().to_string();
            println!("{}", serde_json::json!({ "database": database, "applied": applied }));
            Ok(())
        }
        Command::Client(ClientCommand::Create(args)) => {
            // Read and checked before the database is opened: bad input writes nothing.
            let draft = portcullis_app::clients::draft(args.metadata()?, None).read().map_err(refused)?;
            portcullis_app::clients::check(&draft).map_err(refused)?;
            let created = app(&args.database)?.create_client(&Actor::operator(), draft).map_err(refused)?;
            // RFC 7591 §3.2.1: the registered metadata plus the credentials, shown this once.
            let mut response = serde_json::to_value(&created.client.metadata)?;
            response["client_id"] = created.client.client_id.into();
            if let Some(secret) = created.secret {
                response["client_secret"] = secret.expose().into();
                response["client_secret_expires_at"] = 0.into();
            }
            println!("{response}");
            Ok(())
        }
        Command::User(UserCommand::Create(args)) => create_user(&args),
        Command::User(UserCommand::SetAttributes(args)) => {
            use anyhow::Context;
            let text = std::fs::read_to_string(&args.file)
                .with_context(|| format!("cannot read {}", args.file.display()))?;
            let values = portcullis_app::user_attributes::parse_values(&text)?;
            let user = app(&args.database)?.set_user_attributes(&Actor::operator(), &args.user_id, values)?;
            println!("{}", serde_json::json!({ "user_id": user.user_id, "attributes": user.attributes }));
            Ok(())
        }
        Command::UserAttribute(UserAttributeCommand::Define(args)) => {
            let kind = portcullis_core::user_attributes::AttributeType::parse(&args.kind)
                .map_err(anyhow::Error::msg)?;
            let definition = portcullis_core::user_attributes::AttributeDefinition {
                name: args.name.clone(),
                kind,
                description: args.description.clone(),
            };
            let defined = app(&args.database)?.define_user_attribute(&Actor::operator(), definition)?;
            println!("{}", serde_json::to_value(defined)?);
            Ok(())
        }
        Command::UserAttribute(UserAttributeCommand::List(args)) => {
            let attributes = app(&args)?.user_attributes(&Actor::operator())?;
            println!("{}", serde_json::json!({ "attributes": attributes }));
            Ok(())
        }
        Command::UserAttribute(UserAttributeCommand::Remove(args)) => {
            let cleared = app(&args.database)?.remove_user_attribute(&Actor::operator(), &args.name)?;
            println!("{}", serde_json::json!({ "name": args.name, "values_cleared": cleared }));
            Ok(())
        }
        Command::RegistrationToken(RegistrationTokenCommand::Issue(args)) => issue_registration_token(&args),
        Command::RegistrationToken(RegistrationTokenCommand::List(args)) => {
            let tokens = app(&args)?.initial_access_tokens(&Actor::operator())?;
            println!("{}", serde_json::json!({ "initial_access_tokens": tokens }));
            Ok(())
        }
        Command::RegistrationToken(RegistrationTokenCommand::Revoke(args)) => {
            app(&args.database)?.revoke_initial_access_token(&Actor::operator(), &args.token_id)?;
            println!("{}", serde_json::json!({ "token_id": args.token_id, "revoked": true }));
            Ok(())
        }
        Command::Team(command) => team(command),
        Command::Audit(AuditCommand::Verify(args)) => {
            // The chain hashes what is stored: checking it needs no key.
            let verified = App::open(&args.url()?, &args.pool())?.0.verify_audit_log(&Actor::operator())?;
            println!(
                "{}",
                serde_json::json!({ "verified": true, "entries": verified.entries, "first": verified.first, "last": verified.last })
            );
            Ok(())
        }
        Command::Bootstrap(args) => {
            let admin =
                app(&args.database)?.bootstrap(&Actor::operator(), args.rotate_secret).map_err(refused)?;
            println!(
                "{}",
                serde_json::json!({
                    "client_id": admin.client_id,
                    "client_secret": admin.client_secret.expose(),
                    "scope": ADMIN,
                })
            );
            Ok(())
        }
        Command::Client(ClientCommand::Disable(args)) => set_disabled(&args, true),
        Command::Client(ClientCommand::Enable(args)) => set_disabled(&args, false),
        Command::Client(ClientCommand::AddSecret(args)) => {
            let operator = Actor::operator();
            let added =
                app(&args.database)?.add_client_secret(&operator, &args.client_id, None).map_err(refused)?;
            println!(
                "{}",
                serde_json::json!({ "client_id": args.client_id, "client_secret": added.secret.expose() })
            );
            Ok(())
        }
    }
}

/// The application over the database `args` name, migrated. The CLI's
/// operator holds every permission, as anyone with the database would.
fn app(args: &DatabaseArgs) -> anyhow::Result<App> {
    let app = App::open(&args.url()?, &args.pool())?.0;
    // What it audits is sealed as the server seals it.
    let kek = key_encryption::for_command(app.database(), &args.kek_source()?)?;
    Ok(app.with_kek(kek))
}

/// A refusal as the CLI reports it: one line, metadata errors named as such.
fn refused(error: AppError) -> anyhow::Error {
    match error {
        AppError::InvalidMetadata { .. } => anyhow::anyhow!("invalid client metadata: {error}"),
        other => other.into(),
    }
}

fn set_disabled(args: &ClientIdArgs, disabled: bool) -> anyhow::Result<()> {
    app(&args.database)?
        .set_client_disabled(&Actor::operator(), &args.client_id, disabled)
        .map_err(refused)?;
    println!("{}", serde_json::json!({ "client_id": args.client_id, "disabled": disabled }));
    Ok(())
}

/// A team's policy from the JSON file `path`.
fn policy_file(path: &std::path::Path) -> anyhow::Result<portcullis_core::team::TeamPolicy> {
    use anyhow::Context;
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a team policy", path.display()))
}

/// `portcullis team …`, as the operator.
fn team(command: TeamCommand) -> anyhow::Result<()> {
    let operator = Actor::operator();
    let shown = match command {
        TeamCommand::Create(args) => {
            let policy = args.policy_file.as_deref().map(policy_file).transpose()?.unwrap_or_default();
            serde_json::to_value(
                app(&args.database)?.create_team(&operator, &args.name, policy).map_err(refused)?,
            )?
        }
        TeamCommand::List(args) => serde_json::json!({ "teams": app(&args)?.teams(&operator)? }),
        TeamCommand::SetPolicy(args) => {
            let policy = policy_file(&args.policy_file)?;
            serde_json::to_value(
                app(&args.database)?.set_team_policy(&operator, &args.team_id, policy).map_err(refused)?,
            )?
        }
        TeamCommand::Invite(args) => {
            let role = portcullis_core::team::TeamRole::parse(&args.role)
                .ok_or_else(|| anyhow::anyhow!("--role is viewer, developer or owner, not {}", args.role))?;
            let lifetime = std::time::Duration::from_secs(args.days.saturating_mul(24 * 3_600));
            let created = app(&args.database)?.invite_to_team(&operator, &args.team_id, role, lifetime)?;
            let mut shown = serde_json::to_value(&created.invitation)?;
            shown["invitation_token"] = created.token.expose().into();
            if let Some(issuer) = &args.issuer {
                let issuer = portcullis_core::Issuer::parse(issuer)
                    .map_err(|e| anyhow::anyhow!("--issuer is not an issuer URL: {e}"))?;
                let link = portcullis_server::admin::teams::invitation_link(&issuer, created.token.expose());
                shown["invitation_url"] = link.into();
            }
            shown
        }
    };
    println!("{shown}");
    Ok(())
}

fn issue_registration_token(args: &TokenIssueArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    let policy = match &args.policy_file {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a registration policy", path.display()))?
        }
        None => Default::default(),
    };
    let expires_at = args
        .expires_in_days
        .map(|days| portcullis_app::time(chrono::Utc::now() + chrono::TimeDelta::days(i64::from(days))));
    let request = portcullis_app::registration::InitialAccessTokenRequest {
        description: args.description.clone(),
        policy,
        expires_at,
        max_uses: args.max_uses,
    };
    let issued = app(&args.database)?.issue_initial_access_token(&Actor::operator(), request)?;
    let mut shown = serde_json::to_value(&issued.token)?;
    shown["initial_access_token"] = issued.value.expose().into();
    println!("{shown}");
    Ok(())
}

fn create_user(args: &UserCreateArgs) -> anyhow::Result<()> {
    let username = Username::parse(&args.username)?;
    let claims = args.claims()?;
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Some(Password::new(line.trim_end_matches(['\r', '\n']).to_owned()))
    } else {
        None
    };
    let app = app(&args.database)?;
    let created = app.create_user(&Actor::operator(), &username, password, &claims).map_err(refused)?;
    let mut output = serde_json::to_value(&claims)?;
    if args.admin {
        let mut roles = Vec::new();
        for permission in Permission::ALL {
            roles = app
                .set_admin_role(&Actor::operator(), &created.user.user_id, permission, true)
                .map_err(refused)?;
        }
        output["admin_roles"] = roles.iter().map(|p| p.scope()).collect::<Vec<_>>().into();
    }
    output["user_id"] = created.user.user_id.into();
    output["username"] = username.as_str().into();
    if let Some(password) = created.generated_password {
        output["password"] = password.expose().into();
    }
    println!("{output}");
    Ok(())
}
