//! Command line and environment configuration. Every option is documented
//! in the README's configuration table; each flag has a `PORTCULLIS_*`
//! environment variable.

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use ipnet::IpNet;
use portcullis_core::client::MAX_ACCESS_TOKEN_LIFETIME;
use portcullis_core::{Issuer, StandardClaims};
use portcullis_oauth::client_documents::DocumentHosts;
use portcullis_oauth::registration::RegistrationMode;
use portcullis_store::{DatabaseUrl, PoolOptions};
use std::path::PathBuf;
use std::time::Duration;

/// The SQLite database used when none is configured.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/portcullis.db";
/// Where the development key-encryption key is generated when none is configured.
pub const DEV_KEK_PATH: &str = "keys/dev.kek";
/// What outbound requests may reach besides public addresses in dev mode
/// when `--outbound-allow` is not set: loopback.
pub const DEV_OUTBOUND_ALLOW: [&str; 2] = ["127.0.0.0/8", "::1/128"];
/// The environment variable that may hold the key-encryption key itself.
pub const KEK_ENV: &str = "PORTCULLIS_KEK";

/// `portcullis`: an OAuth 2.0 / OpenID Connect authorization server.
#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about)]
pub struct Cli {
    /// Log filter: a level (`info`, `debug`, ...) or tracing directives.
    #[arg(long, env = "PORTCULLIS_LOG", default_value = "info", global = true)]
    pub log_level: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (migrates the database and creates signing keys first).
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Manage clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the custom user attribute schema.
    #[command(subcommand)]
    UserAttribute(UserAttributeCommand),
    /// Manage the initial access tokens of dynamic client registration.
    #[command(subcommand)]
    RegistrationToken(RegistrationTokenCommand),
    /// Manage teams: their policies and invitations.
    #[command(subcommand)]
    Team(TeamCommand),
    /// Create the first admin client and print its credentials once.
    Bootstrap(BootstrapArgs),
    /// Work with the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Work with the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// `portcullis config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Resolve the configuration `serve` would run with (flags, environment,
    /// `--config` file, defaults), print it, and exit 1 naming what is wrong.
    Check(Box<ServeArgs>),
}

/// `portcullis audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit log's hash chain; exits 1 naming the first entry
    /// that was edited, removed or moved.
    Verify(DatabaseArgs),
}

/// Options of `portcullis bootstrap`.
#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// Replace the secret of the admin client created before (its old
    /// secrets stop working); without this a second run changes nothing.
    #[arg(long)]
    pub rotate_secret: bool,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// `portcullis registration-token …`
#[derive(Debug, Subcommand)]
pub enum RegistrationTokenCommand {
    /// Issue an initial access token (RFC 7591 §3) and print it once, as JSON.
    Issue(Box<TokenIssueArgs>),
    /// List the initial access tokens as JSON (never their values).
    List(DatabaseArgs),
    /// Revoke an initial access token: it admits no more registrations.
    Revoke(TokenIdArgs),
}

/// Options of `portcullis registration-token issue`.
#[derive(Debug, Args)]
pub struct TokenIssueArgs {
    /// What it is for (whom it is given to).
    #[arg(long)]
    pub description: String,
    /// The registration policy of the clients it admits, as a JSON file
    /// (grant_types, token_endpoint_auth_methods, scopes,
    /// redirect_uri_patterns, max_access_token_lifetime,
    /// max_refresh_token_lifetime); without one, it admits what an admin could register.
    #[arg(long)]
    pub policy_file: Option<PathBuf>,
    /// Days until it stops admitting; never when absent.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub expires_in_days: Option<u32>,
    /// How many registrations it admits; unlimited when absent.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..=1_000_000))]
    pub max_uses: Option<i64>,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Options of `portcullis registration-token revoke`.
#[derive(Debug, Args)]
pub struct TokenIdArgs {
    /// The token's id (`iat_…`).
    pub token_id: String,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// `portcullis team …`
#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Create a team and print it as JSON.
    Create(TeamCreateArgs),
    /// List the teams as JSON.
    List(DatabaseArgs),
    /// Replace a team's policy with the one in a JSON file.
    SetPolicy(TeamPolicyArgs),
    /// Invite someone to a team; prints the invitation and its one-time
    /// token (and link, with --issuer) once, as JSON.
    Invite(TeamInviteArgs),
}

/// Options of `portcullis team create`.
#[derive(Debug, Args)]
pub struct TeamCreateArgs {
    /// Its name, unique.
    #[arg(long)]
    pub name: String,
    /// Its policy, as a JSON file (clients, max_clients, second_factor_required,
    /// approval_scopes, max_secret_lifetime_days, max_token_lifetime_days);
    /// without one, members are bound only by what only admins set.
    #[arg(long)]
    pub policy_file: Option<std::path::PathBuf>,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Options of `portcullis team set-policy`.
#[derive(Debug, Args)]
pub struct TeamPolicyArgs {
    /// The team's id.
    pub team_id: String,
    /// The policy, as a JSON file.
    #[arg(long)]
    pub policy_file: std::path::PathBuf,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Options of `portcullis team invite`.
#[derive(Debug, Args)]
pub struct TeamInviteArgs {
    /// The team's id.
    pub team_id: String,
    /// The role the invitation gives: viewer, developer or owner.
    #[arg(long, default_value = "developer")]
    pub role: String,
    /// How many days the link is accepted (1 to 30).
    #[arg(long, default_value_t = 7)]
    pub days: u64,
    /// The server's issuer, to print the link (`<issuer>/portal/join?token=…`).
    #[arg(long)]
    pub issuer: Option<String>,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// `portcullis user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; prints its user_id (its `sub`), and the password when one was generated.
    Create(Box<UserCreateArgs>),
    /// Replace a user's custom attribute values with those of a JSON file.
    SetAttributes(UserAttributesArgs),
}

/// Options of `portcullis user set-attributes`.
#[derive(Debug, Args)]
pub struct UserAttributesArgs {
    /// The user's id (its `sub`).
    #[arg(long)]
    pub user_id: String,
    /// A JSON object of attribute values by name, each checked against the schema.
    #[arg(long)]
    pub file: PathBuf,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// `portcullis user-attribute …`
#[derive(Debug, Subcommand)]
pub enum UserAttributeCommand {
    /// Define a custom user attribute.
    Define(Box<AttributeDefineArgs>),
    /// List the schema as JSON.
    List(DatabaseArgs),
    /// Remove an attribute, and its value from every user.
    Remove(AttributeNameArgs),
}

/// Options of `portcullis user-attribute define`.
#[derive(Debug, Args)]
pub struct AttributeDefineArgs {
    /// Its name (a-z, 0-9 and _, starting with a letter): the claim it may become.
    #[arg(long)]
    pub name: String,
    /// What its values are: string, number, boolean or strings (a list of texts).
    #[arg(long = "type")]
    pub kind: String,
    /// What it means, for admins.
    #[arg(long, default_value = "")]
    pub description: String,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Options of `portcullis user-attribute remove`.
#[derive(Debug, Args)]
pub struct AttributeNameArgs {
    /// The attribute.
    pub name: String,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Options of `portcullis user create`.
#[derive(Debug, Args)]
pub struct UserCreateArgs {
    /// The login name (kept in lower case).
    #[arg(long)]
    pub username: String,
    /// Read the password from the first line of standard input; otherwise a
    /// random one is generated and printed once.
    #[arg(long)]
    pub password_stdin: bool,
    /// OpenID Connect standard claims as a JSON file (name, email, address, ...).
    #[arg(long)]
    pub claims_file: Option<PathBuf>,
    /// Full name (`name`), when no claims file is given.
    #[arg(long, conflicts_with = "claims_file")]
    pub name: Option<String>,
    /// E-mail address (`email`), when no claims file is given.
    #[arg(long, conflicts_with = "claims_file")]
    pub email: Option<String>,
    /// Mark the e-mail address as verified.
    #[arg(long, requires = "email")]
    pub email_verified: bool,
    /// Grant every admin role: the user may sign in to the console (after
    /// enrolling a TOTP second factor at the first sign-in).
    #[arg(long)]
    pub admin: bool,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

impl UserCreateArgs {
    /// The user's claims, parsed and validated.
    pub fn claims(&self) -> anyhow::Result<StandardClaims> {
        let claims = match &self.claims_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                serde_json::from_str(&text)
                    .with_context(|| format!("invalid claims in {}", path.display()))?
            }
            None => StandardClaims {
                name: self.name.clone(),
                email: self.email.clone(),
                email_verified: self.email.as_ref().map(|_| self.email_verified),
                ..StandardClaims::default()
            },
        };
        claims.validate().context("invalid claims")?;
        Ok(claims)
    }
}

/// `portcullis client …`
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client and print its client_id and client_secret once, as JSON.
    Create(Box<ClientCreateArgs>),
    /// Disable a client: it can no longer authenticate and its tokens turn inactive.
    Disable(ClientIdArgs),
    /// Enable a disabled client again.
    Enable(ClientIdArgs),
    /// Add a secret to a client, printed once; its other secrets stay valid.
    AddSecret(ClientIdArgs),
}

/// Options of commands that act on one client.
#[derive(Debug, Args)]
pub struct ClientIdArgs {
    /// The client.
    pub client_id: String,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Options of `portcullis client create`: RFC 7591 metadata from flags, or
/// whole from a JSON file.
#[derive(Debug, Args)]
pub struct ClientCreateArgs {
    /// Human-readable name (client_name).
    #[arg(long, required_unless_present = "metadata_file")]
    pub name: Option<String>,
    /// Scope the client may ask for, space-separated; also its default.
    #[arg(long, default_value = "")]
    pub scope: String,
    /// A grant type the client may use; repeat for several.
    #[arg(long = "grant-type", default_value = "client_credentials")]
    pub grant_types: Vec<String>,
    /// token_endpoint_auth_method: client_secret_basic, client_secret_post, private_key_jwt or none.
    #[arg(long, default_value = "client_secret_basic")]
    pub auth_method: String,
    /// access_token_signed_response_alg: RS256, ES256, PS256 or EdDSA.
    #[arg(long, default_value = "RS256")]
    pub access_token_alg: String,
    /// Access-token lifetime in seconds (server default when absent).
    #[arg(long)]
    pub access_token_lifetime: Option<u64>,
    /// A network the client may call from, e.g. 10.0.0.0/8; repeat for several.
    #[arg(long = "allowed-cidr")]
    pub allowed_cidrs: Vec<String>,
    /// Allow the client to call the introspection endpoint.
    #[arg(long)]
    pub introspection_allowed: bool,
    /// A redirect URI for the authorization code flow; repeat for several.
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// Read the whole RFC 7591 metadata from this JSON file instead of flags.
    #[arg(long, conflicts_with_all = ["name", "access_token_lifetime", "introspection_allowed"])]
    pub metadata_file: Option<PathBuf>,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

impl ClientCreateArgs {
    /// The client's metadata as a JSON object (the operation validates it).
    pub fn metadata(&self) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
        let value = match &self.metadata_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?
            }
            None => {
                let mut value = serde_json::json!({
                    "client_name": self.name,
                    "scope": self.scope,
                    "grant_types": self.grant_types,
                    "token_endpoint_auth_method": self.auth_method,
                    "access_token_signed_response_alg": self.access_token_alg,
                    "allowed_cidrs": self.allowed_cidrs,
                    "introspection_allowed": self.introspection_allowed,
                    "redirect_uris": self.redirect_uris,
                });
                if let Some(lifetime) = self.access_token_lifetime {
                    value["access_token_lifetime"] = lifetime.into();
                }
                value
            }
        };
        match value {
            serde_json::Value::Object(metadata) => Ok(metadata),
            _ => anyhow::bail!("client metadata must be a JSON object"),
        }
    }
}

/// Where the database is and how many connections to open.
#[derive(Args)]
pub struct DatabaseArgs {
    /// Database URL: postgres://USER:PASSWORD@HOST:PORT/DB or sqlite://PATH.
    /// `DATABASE_URL` is read when this is not set. [default: sqlite://data/portcullis.db]
    #[arg(long, env = "PORTCULLIS_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Most database connections per instance.
    #[arg(long, env = "PORTCULLIS_DB_POOL_SIZE", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_pool_size: u32,
    /// Seconds any one wait on the database may take (a free connection, a
    /// new one, a statement); a request that would wait longer answers 503.
    #[arg(long, env = "PORTCULLIS_DB_TIMEOUT", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub db_timeout: u64,
    /// File holding the key-encryption key (32 bytes, base64). The key may
    /// instead be given in `PORTCULLIS_KEK`. In dev mode, when neither is set,
    /// one is generated at keys/dev.kek. It seals signing keys, webhook
    /// secrets and the details of audit entries.
    #[arg(long, env = "PORTCULLIS_KEK_FILE")]
    pub kek_file: Option<PathBuf>,
}

/// The URL may hold a password: it is shown as the store shows URLs.
impl std::fmt::Debug for DatabaseArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = self.database_url.as_deref().map(|raw| match DatabaseUrl::parse(raw) {
            Ok(url) => url.to_string(),
            Err(_) => "[unparsable, redacted]".to_owned(),
        });
        f.debug_struct("DatabaseArgs")
            .field("database_url", &url)
            .field("db_pool_size", &self.db_pool_size)
            .field("db_timeout", &self.db_timeout)
            .field("kek_file", &self.kek_file)
            .finish()
    }
}

impl DatabaseArgs {
    /// Where the key-encryption key comes from: `PORTCULLIS_KEK`,
    /// `--kek-file`, or the development key file.
    pub fn kek_source(&self) -> anyhow::Result<KekSource> {
        Ok(match (std::env::var(KEK_ENV).ok().filter(|v| !v.is_empty()), &self.kek_file) {
            (Some(_), Some(_)) => bail!("set either {KEK_ENV} or --kek-file / PORTCULLIS_KEK_FILE, not both"),
            (Some(value), None) => KekSource::Value(value),
            (None, Some(path)) => KekSource::File(path.clone()),
            (None, None) => KekSource::DevFile(PathBuf::from(DEV_KEK_PATH)),
        })
    }

    /// The configured URL (flag, `PORTCULLIS_DATABASE_URL`, then `DATABASE_URL`),
    /// or `None` when the default applies.
    fn explicit_url(&self) -> Option<String> {
        self.database_url.clone().or_else(|| std::env::var("DATABASE_URL").ok().filter(|url| !url.is_empty()))
    }

    /// The database URL to use.
    pub fn url(&self) -> anyhow::Result<DatabaseUrl> {
        let raw = self.explicit_url().unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        Ok(DatabaseUrl::parse(&raw)?)
    }

    /// The pool settings.
    pub fn pool(&self) -> PoolOptions {
        PoolOptions { max_size: self.db_pool_size, connection_timeout: Duration::from_secs(self.db_timeout) }
    }
}

/// Whether development defaults are allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Zero-setup defaults: SQLite under ./data, a generated key-encryption key, an http issuer.
    Dev,
    /// Refuses every development default: needs an https issuer, a database
    /// URL and a key-encryption key from configuration.
    Production,
}

/// Options of `portcullis serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "PORTCULLIS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Issuer identifier: the server's public base URL, used byte for byte.
    #[arg(long, env = "PORTCULLIS_ISSUER", default_value = "http://localhost:8080")]
    pub issuer: String,
    /// Development or production defaults.
    #[arg(long, env = "PORTCULLIS_MODE", value_enum, default_value_t = Mode::Dev)]
    pub mode: Mode,
    /// Seconds verifiers may cache the JWKS (its `Cache-Control: max-age`; at most a week).
    #[arg(long, env = "PORTCULLIS_JWKS_MAX_AGE", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(0..=604_800))]
    pub jwks_max_age: u64,
    /// HTTP worker threads; 0 means one per CPU core.
    #[arg(long, env = "PORTCULLIS_WORKERS", default_value_t = 0)]
    pub workers: usize,
    /// Seconds `/readyz` answers 503 after SIGTERM before the listener
    /// closes, so a load balancer's health checks take this instance out first.
    #[arg(long, env = "PORTCULLIS_SHUTDOWN_DELAY", default_value_t = 2,
          value_parser = clap::value_parser!(u64).range(0..=300))]
    pub shutdown_delay: u64,
    /// Seconds the requests in flight at a stop then have to finish.
    #[arg(long, env = "PORTCULLIS_SHUTDOWN_TIMEOUT", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub shutdown_timeout: u64,
    /// Access-token lifetime in seconds for clients that set none.
    #[arg(long, env = "PORTCULLIS_ACCESS_TOKEN_LIFETIME", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..=MAX_ACCESS_TOKEN_LIFETIME))]
    pub access_token_lifetime: u64,
    /// Comma-separated networks of reverse proxies whose X-Forwarded-For is
    /// believed. None by default: the header is ignored.
    #[arg(long, env = "PORTCULLIS_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpNet>,
    /// Comma-separated networks (CIDRs) that requests made on someone's
    /// behalf (webhooks, client keys) may reach besides public addresses,
    /// over http too. Empty by default; in dev mode empty means loopback.
    #[arg(long, env = "PORTCULLIS_OUTBOUND_ALLOW", value_delimiter = ',')]
    pub outbound_allow: Vec<IpNet>,
    /// Days a webhook endpoint may fail every delivery before it is
    /// disabled (0: never).
    #[arg(long, env = "PORTCULLIS_WEBHOOK_FAILURE_DAYS", default_value_t = portcullis_app::webhooks::DEFAULT_FAILURE_DAYS,
          value_parser = clap::value_parser!(u32).range(0..=365))]
    pub webhook_failure_days: u32,
    /// Days a client configuration version can still be rolled back to.
    #[arg(long, env = "PORTCULLIS_CLIENT_VERSION_RETENTION_DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub client_version_retention_days: u32,
    /// Hours a redirect URI that an update removes keeps working.
    #[arg(long, env = "PORTCULLIS_REDIRECT_URI_GRACE_HOURS", default_value_t = 24,
          value_parser = clap::value_parser!(u32).range(0..=720))]
    pub redirect_uri_grace_hours: u32,
    /// Days audit entries are kept (30 days to 3 years).
    #[arg(long, env = "PORTCULLIS_AUDIT_RETENTION_DAYS", default_value_t = 365,
          value_parser = clap::value_parser!(u32).range(30..=1095))]
    pub audit_retention_days: u32,
    /// Days usage rollups (per client and minute) are kept.
    #[arg(long, env = "PORTCULLIS_USAGE_RETENTION_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=1095))]
    pub usage_retention_days: u32,
    /// Failed authentications in a row that lock a client out.
    #[arg(long, env = "PORTCULLIS_CLIENT_LOCKOUT_THRESHOLD", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub client_lockout_threshold: u32,
    /// What the threshold does: lock the client for a cooldown that doubles
    /// on each lockout, or disable it until an admin enables it.
    #[arg(long, env = "PORTCULLIS_CLIENT_LOCKOUT_POLICY", value_enum, default_value_t = LockoutAction::Lock)]
    pub client_lockout_policy: LockoutAction,
    /// Comma-separated API scopes this server issues, besides the OpenID
    /// Connect and admin ones. When set, the admin API refuses a client that
    /// names any other scope; when empty, any scope token is accepted.
    #[arg(long, env = "PORTCULLIS_SCOPES", value_delimiter = ',')]
    pub scopes: Vec<String>,
    /// Seconds over which failed client authentications are summed into one
    /// audit entry per presented client id and source address.
    #[arg(long, env = "PORTCULLIS_AUTH_FAILURE_WINDOW", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub auth_failure_window: u64,
    /// Days each signing key signs before the job replaces it (0: never,
    /// rotate by hand). The next key is published twice the JWKS max-age
    /// before it signs.
    #[arg(long, env = "PORTCULLIS_KEY_ROTATION_DAYS", default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(0..=3650))]
    pub key_rotation_days: u32,
    /// Token requests per minute of each client that sets no
    /// `token_rate_limit` of its own (0: unlimited).
    #[arg(long, env = "PORTCULLIS_TOKEN_RATE_LIMIT", default_value_t = 1200)]
    pub token_rate_limit: u32,
    /// Login submissions per minute from one address (an IPv6 /64; 0: unlimited).
    #[arg(long, env = "PORTCULLIS_LOGIN_RATE_LIMIT", default_value_t = 120)]
    pub login_rate_limit: u32,
    /// Requests per minute from one address (an IPv6 /64) that name a client
    /// id nobody registered (0: unlimited).
    #[arg(long, env = "PORTCULLIS_UNKNOWN_CLIENT_RATE_LIMIT", default_value_t = 30)]
    pub unknown_client_rate_limit: u32,
    /// Who may register clients at /register (RFC 7591): nobody (`off`),
    /// holders of an initial access token an admin issued (`token`), or
    /// anyone under the anonymous policy (`open`: public clients of the code
    /// flow with PKCE, https or loopback redirect URIs, OpenID and API scopes).
    #[arg(long, env = "PORTCULLIS_REGISTRATION", value_enum, default_value_t = RegistrationArg::Off)]
    pub registration: RegistrationArg,
    /// Whether a client_id that is an https URL names the client's metadata
    /// document (draft-ietf-oauth-client-id-metadata-document, what MCP
    /// clients use): `off`, `on` (any host), or comma-separated hosts. In
    /// dev mode, http documents on loopback are accepted too.
    #[arg(long, env = "PORTCULLIS_CLIENT_METADATA_DOCUMENTS", default_value = "off", value_parser = parse_document_hosts)]
    pub client_metadata_documents: DocumentHostsArg,
    /// Issuers of software statements (RFC 7591 §2.3) a registration may
    /// carry, as comma-separated ISSUER=PATH pairs, PATH a JWK Set file of
    /// the issuer's public keys. None by default: statements are refused.
    #[arg(long, env = "PORTCULLIS_SOFTWARE_STATEMENT_ISSUERS", value_delimiter = ',')]
    pub software_statement_issuers: Vec<String>,
    /// Registration requests per minute from one address (an IPv6 /64; 0: unlimited).
    #[arg(long, env = "PORTCULLIS_REGISTRATION_RATE_LIMIT", default_value_t = 20)]
    pub registration_rate_limit: u32,
    /// Seconds the request_uri of a pushed authorization request stays
    /// usable (RFC 9126 §2.2; 5 to 599: under 600, as FAPI 2.0 §5.3.2.2 asks).
    #[arg(long, env = "PORTCULLIS_PAR_LIFETIME", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(5..=599))]
    pub par_lifetime: u64,
    /// Seconds a device code and its user code stay usable (RFC 8628 §3.2; 60 to 1800).
    #[arg(long, env = "PORTCULLIS_DEVICE_CODE_LIFETIME", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(60..=1800))]
    pub device_code_lifetime: u64,
    /// User codes typed on the device page per minute from one address (an
    /// IPv6 /64; 0: unlimited), against guessing (RFC 8628 §5.1).
    #[arg(long, env = "PORTCULLIS_USER_CODE_RATE_LIMIT", default_value_t = 10)]
    pub user_code_rate_limit: u32,
    /// Every client must push its authorization requests first (RFC 9126
    /// §5), not only those whose metadata says so.
    #[arg(long, env = "PORTCULLIS_REQUIRE_PUSHED_AUTHORIZATION_REQUESTS")]
    pub require_pushed_authorization_requests: bool,
    /// Every DPoP proof must carry the server's current nonce (RFC 9449 §8),
    /// which responses hand out in `DPoP-Nonce`.
    #[arg(long, env = "PORTCULLIS_REQUIRE_DPOP_NONCE")]
    pub require_dpop_nonce: bool,
    /// A MaxMind-format country database (`.mmdb`, e.g. GeoLite2 Country):
    /// clients with `allowed_countries` used from elsewhere are reported.
    #[arg(long, env = "PORTCULLIS_GEOIP_DB")]
    pub geoip_db: Option<PathBuf>,
    /// The product name the sign-in pages show.
    #[arg(long, env = "PORTCULLIS_BRAND_NAME", default_value = crate::branding::DEFAULT_NAME)]
    pub brand_name: String,
    /// A logo for the sign-in pages: an .svg, .png or .webp file.
    #[arg(long, env = "PORTCULLIS_BRAND_LOGO")]
    pub brand_logo: Option<PathBuf>,
    /// The accent colour of the sign-in pages (`#rrggbb`).
    #[arg(long, env = "PORTCULLIS_BRAND_COLOR", value_parser = crate::branding::parse_color)]
    pub brand_color: Option<String>,
    /// The accent colour in the dark theme (`#rrggbb`); the built-in one when absent.
    #[arg(long, env = "PORTCULLIS_BRAND_COLOR_DARK", value_parser = crate::branding::parse_color)]
    pub brand_color_dark: Option<String>,
    /// A TOML file with a key for every flag (see examples/portcullis.toml);
    /// the environment overrides it, and flags override both.
    #[arg(long, env = "PORTCULLIS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where Prometheus metrics are served at /metrics: `off`, `on` (the
    /// main listener) or an address of their own such as 127.0.0.1:9464.
    #[arg(long, env = "PORTCULLIS_METRICS", default_value = "off")]
    pub metrics: crate::metrics::Exposure,
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Where the key-encryption key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum KekSource {
    /// The base64 key itself (from `PORTCULLIS_KEK`).
    Value(String),
    /// A file that must exist.
    File(PathBuf),
    /// The development key file, generated when the database has no keys yet.
    DevFile(PathBuf),
}

/// The key itself is never printed, only where it comes from.
impl std::fmt::Debug for KekSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Value(_) => f.write_str("Value([redacted])"),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::DevFile(path) => f.debug_tuple("DevFile").field(path).finish(),
        }
    }
}

/// Everything the server needs to start, resolved and validated.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Address to listen on (`host:port`; port 0 picks a free one).
    pub listen: String,
    /// The issuer identifier.
    pub issuer: Issuer,
    /// The database.
    pub database_url: DatabaseUrl,
    /// Database pool settings.
    pub pool: PoolOptions,
    /// The key-encryption key's source.
    pub kek: KekSource,
    /// JWKS cache lifetime.
    pub jwks_max_age: Duration,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// How this instance stops.
    pub shutdown: crate::shutdown::ShutdownSettings,
    /// Default access-token lifetime.
    pub access_token_lifetime: Duration,
    /// Proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Networks outbound requests may reach besides public addresses.
    pub outbound_allow: Vec<IpNet>,
    /// How long a webhook endpoint may fail every delivery before it is
    /// disabled; `None`: never.
    pub webhook_failure_period: Option<Duration>,
    /// How far back a client configuration can be rolled back.
    pub client_version_retention: Duration,
    /// How long a redirect URI an update removes keeps working.
    pub redirect_uri_grace: Duration,
    /// How long audit entries are kept.
    pub audit_retention: Duration,
    /// How long usage rollups are kept.
    pub usage_retention: Duration,
    /// When repeated failed authentications lock a client out, and what it does.
    pub lockout: portcullis_app::client_lockouts::LockoutPolicy,
    /// The API scopes this server issues (empty: not restricted).
    pub scopes: Vec<String>,
    /// The window failed client authentications are summed over for the audit log.
    pub auth_failure_window: Duration,
    /// The time operations and grants read: the system's, or a test's.
    pub clock: portcullis_app::Clock,
    /// Where Prometheus metrics are served.
    pub metrics: crate::metrics::Exposure,
    /// How long each signing key signs before it is replaced; `None`: by hand.
    pub key_rotation: Option<Duration>,
    /// Requests per minute, by what is limited.
    pub rate_limits: RateLimits,
    /// The country database, if one is configured.
    pub geoip_db: Option<PathBuf>,
    /// Who may register clients at /register.
    pub registration: RegistrationMode,
    /// Trusted issuers of software statements, as ISSUER=PATH pairs.
    pub software_statement_issuers: Vec<String>,
    /// Whose client metadata documents are accepted as clients; none when off.
    pub client_metadata_documents: Option<DocumentHosts>,
    /// Whether http documents on loopback are accepted too (dev mode).
    pub loopback_documents: bool,
    /// How pushed authorization requests live, and whether every client must push.
    pub pushed_requests: portcullis_oauth::authorization_requests::PushedRequestPolicy,
    /// Whether every DPoP proof must carry the server's nonce.
    pub require_dpop_nonce: bool,
    /// How long device codes live (RFC 8628).
    pub device_code_lifetime: Duration,
    /// What the sign-in pages show of the server's brand.
    pub branding: crate::branding::BrandSettings,
}

/// Requests per minute each limit allows (0: unlimited); see
/// [`portcullis_app::rate_limits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Token requests of a client that sets no limit of its own.
    pub token: u32,
    /// Login submissions from one address.
    pub login: u32,
    /// Requests naming an unknown client id, from one address.
    pub unknown_client: u32,
    /// Registration requests from one address.
    pub registration: u32,
    /// User codes typed on the device page from one address.
    pub user_code: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self { token: 1200, login: 120, unknown_client: 30, registration: 20, user_code: 10 }
    }
}

/// `--client-metadata-documents`: off, or the hosts whose documents are accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentHostsArg(pub Option<DocumentHosts>);

fn parse_document_hosts(raw: &str) -> Result<DocumentHostsArg, String> {
    match raw.trim() {
        "off" => Ok(DocumentHostsArg(None)),
        "on" => Ok(DocumentHostsArg(Some(DocumentHosts::Any))),
        hosts => {
            let hosts: Vec<String> = hosts.split(',').map(|h| h.trim().to_ascii_lowercase()).collect();
            let valid = |h: &String| {
                !h.is_empty() && url::Host::parse(h).is_ok() && !h.contains(['/', ':', '@', '*'])
            };
            match hosts.iter().find(|h| !valid(h)) {
                Some(bad) => Err(format!(
                    "`{bad}` is not a host name: give off, on, or hosts such as agents.example,app.example"
                )),
                None => Ok(DocumentHostsArg(Some(DocumentHosts::Only(hosts)))),
            }
        }
    }
}

/// Who may register clients (`--registration`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RegistrationArg {
    /// Nobody: /register is not served.
    Off,
    /// Holders of an initial access token.
    Token,
    /// Anyone, under the anonymous policy.
    Open,
}

impl From<RegistrationArg> for RegistrationMode {
    fn from(arg: RegistrationArg) -> Self {
        match arg {
            RegistrationArg::Off => Self::Off,
            RegistrationArg::Token => Self::Token,
            RegistrationArg::Open => Self::Open,
        }
    }
}

/// What reaching the lockout threshold does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LockoutAction {
    /// Lock the client for a cooldown (1 minute, doubling on each lockout, at most a day).
    Lock,
    /// Disable the client until an admin enables it.
    Disable,
}

impl ServeArgs {
    /// Resolves the arguments into [`Settings`], refusing development
    /// defaults in production mode.
    pub fn into_settings(self) -> anyhow::Result<Settings> {
        let issuer = Issuer::parse(&self.issuer).context("invalid --issuer / PORTCULLIS_ISSUER")?;
        let kek = self.database.kek_source()?;
        if self.mode == Mode::Production {
            if !issuer.is_https() {
                bail!("production mode needs an https issuer (OpenID Connect Discovery §3), got {issuer}");
            }
            if matches!(kek, KekSource::DevFile(_)) {
                bail!("production mode needs a key-encryption key: set {KEK_ENV} or PORTCULLIS_KEK_FILE");
            }
            if self.database.explicit_url().is_none() {
                bail!("production mode needs a database: set DATABASE_URL or PORTCULLIS_DATABASE_URL");
            }
        }
        Ok(Settings {
            listen: self.listen,
            issuer,
            database_url: self.database.url()?,
            pool: self.database.pool(),
            kek,
            jwks_max_age: Duration::from_secs(self.jwks_max_age),
            workers: self.workers,
            shutdown: crate::shutdown::ShutdownSettings {
                delay: Duration::from_secs(self.shutdown_delay),
                timeout: Duration::from_secs(self.shutdown_timeout),
            },
            access_token_lifetime: Duration::from_secs(self.access_token_lifetime),
            trusted_proxies: self.trusted_proxies,
            outbound_allow: match (self.mode, self.outbound_allow.is_empty()) {
                // A receiver or key server on the developer's own machine.
                (Mode::Dev, true) => {
                    DEV_OUTBOUND_ALLOW.iter().map(|n| n.parse().expect("a network")).collect()
                }
                _ => self.outbound_allow,
            },
            webhook_failure_period: match self.webhook_failure_days {
                0 => None,
                days => Some(Duration::from_secs(u64::from(days) * 86_400)),
            },
            client_version_retention: Duration::from_secs(
                u64::from(self.client_version_retention_days) * 86_400,
            ),
            redirect_uri_grace: Duration::from_secs(u64::from(self.redirect_uri_grace_hours) * 3_600),
            audit_retention: Duration::from_secs(u64::from(self.audit_retention_days) * 86_400),
            usage_retention: Duration::from_secs(u64::from(self.usage_retention_days) * 86_400),
            lockout: portcullis_oauth::client_lockout::policy(
                self.client_lockout_threshold,
                self.client_lockout_policy == LockoutAction::Disable,
            ),
            scopes: self.scopes,
            auth_failure_window: Duration::from_secs(self.auth_failure_window),
            clock: portcullis_app::Clock::system(),
            metrics: self.metrics,
            rate_limits: RateLimits {
                token: self.token_rate_limit,
                login: self.login_rate_limit,
                unknown_client: self.unknown_client_rate_limit,
                registration: self.registration_rate_limit,
                user_code: self.user_code_rate_limit,
            },
            geoip_db: self.geoip_db,
            registration: self.registration.into(),
            software_statement_issuers: self.software_statement_issuers,
            client_metadata_documents: self.client_metadata_documents.0,
            loopback_documents: self.mode == Mode::Dev,
            pushed_requests: portcullis_oauth::authorization_requests::PushedRequestPolicy {
                lifetime: Duration::from_secs(self.par_lifetime),
                required: self.require_pushed_authorization_requests,
            },
            require_dpop_nonce: self.require_dpop_nonce,
            device_code_lifetime: Duration::from_secs(self.device_code_lifetime),
            branding: crate::branding::BrandSettings {
                name: self.brand_name,
                logo: self.brand_logo,
                color: self.brand_color,
                color_dark: self.brand_color_dark,
            },
            key_rotation: match self.key_rotation_days {
                0 => None,
                days => {
                    let period = Duration::from_secs(u64::from(days) * 86_400);
                    if period <= 2 * Duration::from_secs(self.jwks_max_age) {
                        bail!("--key-rotation-days must be longer than twice --jwks-max-age");
                    }
                    Some(period)
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_kek_or_a_database_password() {
        let kek = KekSource::Value("a2VrLWtleS1tYXRlcmlhbA".into());
        assert_eq!(format!("{kek:?}"), "Value([redacted])");
        let args = DatabaseArgs {
            database_url: Some("postgres://app:hunter2@db.example/portcullis".into()),
            db_pool_size: 10,
            db_timeout: 5,
            kek_file: None,
        };
        let shown = format!("{args:?}");
        assert!(!shown.contains("hunter2") && shown.contains("db.example"), "{shown}");
    }
}
