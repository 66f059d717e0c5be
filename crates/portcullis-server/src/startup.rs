//! Building the whole application from [`Settings`]: database, migrations,
//! keys, routes, listener. Tests build it on port 0 with a fresh database.

use crate::authorization::Authorization;
use crate::client_address::TrustedProxies;
use crate::client_authentication::HttpClientAuthenticator;
use crate::console::context::ConsoleContext;
use crate::metrics::{self, Exposure, Metrics};
use crate::routes::discovery::{DiscoveryDocument, Offered};
use crate::routes::jwks::JwksMaxAge;
use crate::routes::register::RegistrationEndpoint;
use crate::shutdown::{self, ShutdownSettings, Stopping};
use crate::{open_files, routes, KeyRing, Settings};
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{from_fn, Condition, DefaultHeaders, Logger};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use chrono::TimeDelta;
use portcullis_app::clients::{ChangePolicy, KnownScopes};
use portcullis_app::compliance::Facts;
use portcullis_app::geoip::Countries;
use portcullis_app::housekeeping::Retention;
use portcullis_app::key_rotation::{self, RotationPolicy};
use portcullis_app::keys::KeyMaker;
use portcullis_app::{Actor, EventBus};
use portcullis_core::outbound::OutboundPolicy;
use portcullis_core::{RegistrationPolicy, SigningAlgorithm};
use portcullis_jose::dpop::DpopNonces;
use portcullis_oauth::authorization_requests::AuthorizationRequests;
use portcullis_oauth::client_auth::ClientAuthenticator;
use portcullis_oauth::client_documents::ClientDocuments;
use portcullis_oauth::clients::ClientRegistry;
use portcullis_oauth::device_authorization::DeviceAuthorizations;
use portcullis_oauth::dpop::Dpop;
use portcullis_oauth::grants::TokenSettings;
use portcullis_oauth::mirror::{self, Mirrors, RevocationList};
use portcullis_oauth::registration::Registrar;
use portcullis_oauth::request_objects::RequestObjects;
use portcullis_oauth::sector_identifiers::SectorDocuments;
use portcullis_oauth::software_statements::SoftwareStatements;
use portcullis_outbound::Outbound;
use portcullis_store::{change_log, Database};
use std::net::TcpListener;
use std::sync::Arc;

/// How long a client has to send a request's head.
const REQUEST_HEAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A started server, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    events: EventBus,
    metrics_server: Option<(u16, Server)>,
    app: web::Data<portcullis_app::App>,
    stopping: web::Data<Stopping>,
    shutdown: ShutdownSettings,
}

impl Application {
    /// Connects to the database, applies migrations, loads (or on first start
    /// generates) the signing keys and binds the listener. Every failure is
    /// reported with its cause; nothing is overwritten.
    pub fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = Database::connect(&settings.database_url, &settings.pool)?;
        let applied = db.migrate()?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied database migrations");
        }
        // Read the log position first: whatever changes while the mirrors load is replayed.
        let log_position = change_log::last_seq(&mut *db.get()?)?;
        let kek = crate::key_encryption::for_installation(&db, &settings.kek)?;
        let outbound = Arc::new(Outbound::new(OutboundPolicy::new(settings.outbound_allow.clone())));
        let known_scopes = KnownScopes::new(&settings.scopes);
        let mut clients = ClientRegistry::load(&db)?;
        if let Some(hosts) = &settings.client_metadata_documents {
            // Admitted as open registration admits: the same policy, the same scopes.
            let policy = RegistrationPolicy::anonymous(known_scopes.api());
            let documents =
                ClientDocuments::new(outbound.clone(), hosts.clone(), policy, settings.loopback_documents);
            clients = clients.with_documents(documents);
        }
        let mirrors = Mirrors {
            keys: Arc::new(KeyRing::open(&db, kek)?),
            clients: Arc::new(clients),
            revocations: Arc::new(RevocationList::load(&db)?),
        };
        let last_read = mirror::spawn(db.clone(), &mirrors, log_position);
        let Mirrors { keys, clients, revocations } = mirrors;
        let change_policy = ChangePolicy {
            version_retention: TimeDelta::from_std(settings.client_version_retention)
                .context("version retention")?,
            redirect_uri_grace: TimeDelta::from_std(settings.redirect_uri_grace)
                .context("redirect URI grace")?,
        };
        let countries = match &settings.geoip_db {
            Some(path) => Some(Arc::new(Countries::open(path)?)),
            None => None,
        };
        let mut operations = portcullis_app::App::new(db.clone(), change_policy, known_scopes.clone())
            .with_clock(settings.clock.clone())
            .with_kek(keys.kek())
            .with_failure_window(settings.auth_failure_window)
            .with_outbound(OutboundPolicy::new(settings.outbound_allow.clone()))
            .with_mirror(clients.clone())
            .with_mirror(keys.clone())
            .with_mirror(revocations.clone());
        if let Some(places) = &countries {
            if !places.locates() {
                tracing::info!("the --geoip-db has countries but no locations: impossible travel of tokens needs a City database (GeoLite2-City, GeoIP2-City)");
            }
            operations = operations.with_places(places.clone());
        }
        // The first start's keys (or a new algorithm's) are installed as
        // any key change is: audited, and followed by every instance's ring.
        let first_start = Actor::System { job: "first start" };
        for key in
            operations.install_signing_keys(&first_start, &*keys).context("installing the signing keys")?
        {
            tracing::info!(alg = key.alg, kid = %key.kid, "installed an active signing key");
        }
        // A key another instance installed first is read now, not at the follower's next poll.
        if SigningAlgorithm::ALL.into_iter().any(|alg| keys.current().signer(alg).is_none()) {
            keys.reload().context("reading the signing keys")?;
        }
        if !settings.outbound_allow.is_empty() {
            let networks: Vec<String> = settings.outbound_allow.iter().map(ToString::to_string).collect();
            tracing::info!(
                networks = %networks.join(","),
                "the admins' webhooks and client key fetches may reach these inside networks (--outbound-allow; in dev mode loopback when unset); teams' webhooks never do"
            );
        }
        let events = operations.events().clone();
        let operations = web::Data::new(operations);
        let keys = web::Data::from(keys);
        let branding = web::Data::new(crate::branding::Branding::load(&settings.branding)?);
        let sectors = Arc::new(SectorDocuments::new(outbound.clone()));
        let console = web::Data::new(ConsoleContext {
            app: operations.clone(),
            issuer: settings.issuer.clone(),
            proxies: TrustedProxies(settings.trusted_proxies.clone()),
            secure_cookies: settings.issuer.is_https(),
        });
        // Whatever the server holds: the jobs stop once it is gone.
        let alive: Arc<dyn std::any::Any + Send + Sync> = console.clone().into_inner();
        if let Some(period) = settings.key_rotation {
            let lead = TimeDelta::from_std(2 * settings.jwks_max_age).context("JWKS max-age")?;
            let policy =
                RotationPolicy { period: TimeDelta::from_std(period).context("rotation period")?, lead };
            let maker: Arc<dyn KeyMaker> = keys.clone().into_inner();
            key_rotation::spawn(operations.clone().into_inner(), maker, policy, Arc::downgrade(&alive));
        }
        let retention = Retention {
            audit: TimeDelta::from_std(settings.audit_retention).context("audit retention")?,
            usage: TimeDelta::from_std(settings.usage_retention).context("usage retention")?,
        };
        portcullis_app::housekeeping::spawn(db.clone(), retention, Arc::downgrade(&alive));
        portcullis_app::usage::spawn(operations.clone().into_inner(), Arc::downgrade(&alive));
        portcullis_app::rate_limits::spawn(operations.clone().into_inner(), Arc::downgrade(&alive));
        portcullis_app::webhooks::spawn_queue(operations.clone().into_inner(), Arc::downgrade(&alive));
        portcullis_app::compliance::spawn(operations.clone().into_inner(), Arc::downgrade(&alive));
        portcullis_app::alerts::spawn(operations.clone().into_inner(), Arc::downgrade(&alive));
        crate::webhook_sender::spawn(
            operations.clone().into_inner(),
            outbound.clone(),
            Arc::downgrade(&alive),
        );
        if let Some(period) = settings.webhook_failure_period {
            let period = TimeDelta::from_std(period).context("webhook failure period")?;
            portcullis_app::webhooks::spawn_disabler(
                operations.clone().into_inner(),
                period,
                Arc::downgrade(&alive),
            );
        }
        portcullis_app::failures::spawn(operations.failures());
        let authenticator = web::Data::new(HttpClientAuthenticator {
            engine: ClientAuthenticator::new(
                clients.clone(),
                operations.clone().into_inner(),
                &settings.issuer,
                settings.lockout,
                settings.rate_limits.unknown_client,
                countries,
            )
            .fetching_through(outbound.clone()),
            proxies: TrustedProxies(settings.trusted_proxies.clone()),
        });
        let requests = web::Data::new(AuthorizationRequests {
            app: operations.clone().into_inner(),
            clients: clients.clone(),
            keys: keys.clone().into_inner(),
            issuer: settings.issuer.clone(),
            sectors: sectors.clone(),
            objects: RequestObjects::new(
                authenticator.engine.client_keys(),
                outbound,
                settings.issuer.clone(),
            ),
            pushed: settings.pushed_requests,
        });
        let dpop = web::Data::new(Dpop::new(
            operations.clone().into_inner(),
            settings.issuer.clone(),
            DpopNonces::new(keys.kek().derive("dpop nonces")),
            settings.require_dpop_nonce,
        ));
        let flow = web::Data::new(Authorization {
            requests: requests.clone(),
            app: operations.clone(),
            branding: branding.clone(),
            clients: clients.clone(),
            issuer: settings.issuer.clone(),
            secure_cookies: settings.issuer.is_https(),
            proxies: TrustedProxies(settings.trusted_proxies.clone()),
            login_rate_limit: settings.rate_limits.login,
            user_code_rate_limit: settings.rate_limits.user_code,
        });
        let devices = web::Data::new(DeviceAuthorizations::new(
            operations.clone().into_inner(),
            &settings.issuer,
            settings.device_code_lifetime,
        ));
        let revocations = web::Data::from(revocations);
        let token_settings = web::Data::new(TokenSettings {
            issuer: settings.issuer.clone(),
            access_token_lifetime: settings.access_token_lifetime,
            clock: settings.clock.clone(),
            token_rate_limit: settings.rate_limits.token,
        });
        // Bound before anything runs: a taken port fails the start, leaving nothing behind.
        let metrics_listener = match &settings.metrics {
            Exposure::Listen(at) => Some(metrics::bind(at)?),
            Exposure::Off | Exposure::Main => None,
        };
        let listener = TcpListener::bind(&settings.listen)
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let address = listener.local_addr()?;
        let registration = web::Data::new(RegistrationEndpoint {
            registrar: Registrar::new(
                operations.clone().into_inner(),
                (settings.registration, settings.issuer.clone()),
                SoftwareStatements::load(&settings.software_statement_issuers)
                    .context("--software-statement-issuers")?,
                sectors,
            ),
            proxies: TrustedProxies(settings.trusted_proxies.clone()),
            rate_limit: settings.rate_limits.registration,
        });
        let offered = Offered {
            registration: registration.registrar.is_on(),
            client_metadata_documents: settings.client_metadata_documents.is_some(),
            pushed_requests_required: settings.pushed_requests.required,
        };
        let discovery = web::Data::new(DiscoveryDocument::new(&settings.issuer, known_scopes.api(), offered));
        let jwks_max_age = web::Data::new(JwksMaxAge(settings.jwks_max_age));
        let facts = web::Data::new(Facts {
            issuer: settings.issuer.to_string(),
            access_token_lifetime: settings.access_token_lifetime,
            audit_retention: settings.audit_retention,
            key_rotation: settings.key_rotation,
            pushed_request_lifetime: settings.pushed_requests.lifetime,
        });
        let metrics = web::Data::from(Arc::new(Metrics::new(last_read)));
        let counted = settings.metrics != Exposure::Off;
        if counted {
            metrics.clone().into_inner().subscribe(&operations);
        }
        let on_main = settings.metrics == Exposure::Main;
        let (scraped, scraped_keys, scraped_app) = (metrics.clone(), keys.clone(), operations.clone());
        let stopping = web::Data::new(Stopping::default());
        let readiness = stopping.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(crate::usage::record))
                .wrap(Condition::new(counted, from_fn(metrics::record)))
                // %U is the path alone: query strings may carry secrets and are never logged.
                .wrap(
                    Logger::new(r#"%a "%{method}xi %U" %s %b %Dms"#)
                        .custom_request_replace("method", |req| req.method().to_string()),
                )
                .wrap(DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")))
                .app_data(keys.clone())
                .app_data(discovery.clone())
                .app_data(jwks_max_age.clone())
                .app_data(authenticator.clone())
                .app_data(flow.clone())
                .app_data(requests.clone())
                .app_data(dpop.clone())
                .app_data(devices.clone())
                .app_data(console.clone())
                .app_data(branding.clone())
                .app_data(revocations.clone())
                .app_data(token_settings.clone())
                .app_data(operations.clone())
                .app_data(metrics.clone())
                .app_data(facts.clone())
                .app_data(registration.clone())
                .app_data(readiness.clone())
                .configure(|cfg| {
                    if on_main {
                        cfg.service(metrics::resource());
                    }
                })
                .configure(routes::configure)
        });
        let workers = if settings.workers > 0 {
            settings.workers
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        };
        let open_files = open_files::raise_limit();
        server = server
            .workers(workers)
            // Slow clients are cut off: the request head within this, the body
            // within form::BODY_TIMEOUT, and connections are capped.
            .client_request_timeout(REQUEST_HEAD_TIMEOUT)
            // Stopping is `run_until_stopped`'s: readiness first, then the listener.
            .disable_signals()
            .shutdown_timeout(settings.shutdown.timeout.as_secs())
            .max_connections(open_files::connections_per_worker(open_files, workers));
        let server = server.listen(listener)?.run();
        tracing::info!(issuer = %settings.issuer, database = %db.url(), "listening on http://{address}");
        let metrics_server = metrics_listener
            .map(|bound| metrics::serve(bound, scraped, scraped_keys, scraped_app.clone()))
            .transpose()?;
        Ok(Self {
            port: address.port(),
            server,
            events,
            metrics_server,
            app: scraped_app,
            stopping,
            shutdown: settings.shutdown,
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port metrics are served on when they have a listener of their own.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(port, _)| *port)
    }

    /// The application's event bus, to subscribe to.
    pub fn events(&self) -> &EventBus {
        &self.events
    }

    /// Serves requests until SIGTERM or SIGINT, then stops as
    /// [`shutdown`] describes and writes what only this instance holds:
    /// the usage counted since the last batch, the open failure summaries.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Self { server, metrics_server, app, stopping, shutdown, .. } = self;
        let mut handles = vec![server.handle()];
        handles.extend(metrics_server.as_ref().map(|(_, metrics)| metrics.handle()));
        let served = async move {
            match metrics_server {
                Some((_, metrics)) => futures_util::future::try_join(server, metrics).await.map(drop),
                None => server.await,
            }
        };
        let signalled = shutdown::on_signal(&stopping, &shutdown, &handles);
        tokio::pin!(served, signalled);
        // Both are polled until the servers end: they act on a stop while polled.
        let served = tokio::select! {
            served = &mut served => served,
            () = &mut signalled => served.await,
        };
        let app = app.into_inner();
        let written = match web::block(move || app.flush_before_stopping()).await {
            Ok(written) => written.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match written {
            Ok(()) => tracing::info!("stopped; usage counts and failure summaries written"),
            Err(e) => {
                tracing::warn!(error = %e, "stopped; the last usage counts or failure summaries could not be written")
            }
        }
        served
    }
}
