//! Prometheus metrics (issue 11): the text exposition at `GET /metrics`, on
//! the main listener or an address of its own, or off (`--metrics`).
//!
//! Built on `prometheus-client`, the Prometheus project's own Rust client:
//! typed label sets, a counter is one atomic add once its series exists,
//! and it writes the OpenMetrics text format Prometheus scrapes.
//!
//! Where each number comes from, so that no handler counts anything:
//! - requests, statuses and latency: the [`record`] middleware, by route
//!   *pattern* (`/admin/v1/clients/{client_id}`), so ids cannot multiply
//!   the series; logins by the login page's answer (303, 401, 429);
//! - tokens issued: the [`IssuedToken`] the token endpoint's answer carries;
//! - security events: a subscriber of the event bus; failures by reason: an
//!   observer of the failure log, as each failure is counted (the audit
//!   log's summaries stay windowed, `--auth-failure-window`);
//! - gauges (connections, mirror lag, key ages): read when scraped.

use crate::KeyRing;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use portcullis_app::failures::FailureKind;
use portcullis_app::{App, Event, Published};
use portcullis_core::{GrantType, SigningAlgorithm};
use portcullis_oauth::mirror::LastRead;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Metric, Registry, Unit};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

/// Where `GET /metrics` is served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exposure {
    /// Nowhere.
    Off,
    /// On the main listener, beside the endpoints.
    Main,
    /// On a listener of its own (`host:port`), e.g. loopback only.
    Listen(String),
}

impl std::str::FromStr for Exposure {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        match value {
            "off" => Ok(Self::Off),
            "on" => Ok(Self::Main),
            address if address.parse::<std::net::SocketAddr>().is_ok() => {
                Ok(Self::Listen(address.to_owned()))
            }
            other => Err(format!("`{other}` is not `off`, `on` or an address such as 127.0.0.1:9464")),
        }
    }
}

/// The path metrics are served at.
pub const PATH: &str = "/metrics";

/// The OpenMetrics text format's media type.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    grant_type: &'static str,
    alg: &'static str,
    client_id: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailureLabels {
    kind: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    event: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyLabels {
    alg: &'static str,
    kid: String,
}

type Seconds = Gauge<f64, AtomicU64>;

/// What the token endpoint issued, carried on its answer for [`record`].
#[derive(Clone, Debug)]
pub struct IssuedToken {
    /// The grant used.
    pub grant_type: GrantType,
    /// The access token's signing algorithm.
    pub alg: SigningAlgorithm,
    /// The client it was issued to.
    pub client_id: String,
}

/// This instance's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    tokens: Family<TokenLabels, Counter>,
    logins: Family<OutcomeLabels, Counter>,
    failures: Family<FailureLabels, Counter>,
    security_events: Family<EventLabels, Counter>,
    connections: Family<StateLabels, Gauge>,
    connection_waits: Counter,
    mirror_lag: Seconds,
    key_age: Family<KeyLabels, Seconds>,
    started: Instant,
    last_read: Arc<LastRead>,
    /// One scrape at a time: each sets the gauges it then writes.
    scraping: std::sync::Mutex<()>,
}

/// A new metric of type `M`, registered in `registry`.
fn registered<M: Metric + Clone + Default>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    unit: Option<Unit>,
) -> M {
    registered_as(registry, name, help, unit, M::default())
}

/// `metric`, registered in `registry`.
fn registered_as<M: Metric + Clone>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    metric: M,
) -> M {
    match unit {
        Some(unit) => registry.register_with_unit(name, help, unit, metric.clone()),
        None => registry.register(name, help, metric.clone()),
    }
    metric
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to about 4 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

impl Metrics {
    /// The metrics, registered; `last_read` is the change-log follower's.
    pub fn new(last_read: Arc<LastRead>) -> Self {
        let mut registry = Registry::with_prefix("portcullis");
        let r = &mut registry;
        let latency = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        Self {
            requests: registered(
                r,
                "http_requests",
                "HTTP requests answered, by route pattern, method and status",
                None,
            ),
            latency: registered_as(
                r,
                "http_request_duration",
                "Time to answer a request, by route pattern and method",
                Some(Unit::Seconds),
                latency,
            ),
            tokens: registered(
                r,
                "tokens_issued",
                "Access tokens issued, by grant type, signing algorithm and client",
                None,
            ),
            logins: registered(
                r,
                "logins",
                "Login form submissions, by outcome (success, failure, throttled)",
                None,
            ),
            failures: registered(
                r,
                "auth_failures",
                "Failed client authentications and logins, by kind and reason, counted as each happens",
                None,
            ),
            security_events: registered(
                r,
                "security_events",
                "Lockouts, remediations, revocations, refresh-token reuse and code replay, by event name",
                None,
            ),
            connections: registered(
                r,
                "db_pool_connections",
                "Database connections of this instance, by state (in_use, idle)",
                None,
            ),
            connection_waits: registered(
                r,
                "db_pool_waits",
                "Connection takes since start that found none free and waited",
                None,
            ),
            mirror_lag: registered(
                r,
                "change_log_mirror_lag",
                "Time since this instance last read the change log that carries other instances' changes",
                Some(Unit::Seconds),
            ),
            key_age: registered(
                r,
                "signing_key_age",
                "Time since each active signing key was activated",
                Some(Unit::Seconds),
            ),
            registry,
            started: Instant::now(),
            last_read,
            scraping: std::sync::Mutex::default(),
        }
    }

    /// Counts one answered request.
    fn observe(
        &self,
        route: String,
        method: &Method,
        status: StatusCode,
        took: f64,
        issued: Option<&IssuedToken>,
    ) {
        let method = method_label(method);
        if route == crate::authorization::LOGIN_PATH && method == "POST" {
            let outcome = match status {
                StatusCode::SEE_OTHER => Some("success"),
                StatusCode::UNAUTHORIZED => Some("failure"),
                StatusCode::TOO_MANY_REQUESTS => Some("throttled"),
                _ => None,
            };
            if let Some(outcome) = outcome {
                self.logins.get_or_create(&OutcomeLabels { outcome }).inc();
            }
        }
        if let Some(issued) = issued {
            let labels = TokenLabels {
                grant_type: issued.grant_type.as_str(),
                alg: issued.alg.as_str(),
                client_id: issued.client_id.clone(),
            };
            self.tokens.get_or_create(&labels).inc();
        }
        self.latency.get_or_create(&RouteLabels { route: route.clone(), method }).observe(took);
        self.requests.get_or_create(&RequestLabels { route, method, status: status.as_u16() }).inc();
    }

    /// Counts a security event.
    fn observe_event(&self, event: &Event) {
        if matches!(
            event,
            Event::ClientLockedOut { .. }
                | Event::ClientRemediated { .. }
                | Event::TokenRevoked { .. }
                | Event::TokenRefreshReused { .. }
                | Event::TokenCodeReplayed { .. }
        ) {
            self.security_events.get_or_create(&EventLabels { event: event.name() }).inc();
        }
    }

    /// Counts one failure as it happens: the kinds the audit log summarises
    /// as `auth.client_failed`, `auth.login_failed` and `auth.login_throttled`.
    fn observe_failure(&self, kind: FailureKind, reason: &'static str) {
        let kind = match kind {
            FailureKind::Client => "client",
            FailureKind::Login => "login",
            FailureKind::LoginThrottled => "login_throttled",
            FailureKind::OutsideCountries => return,
        };
        self.failures.get_or_create(&FailureLabels { kind, reason }).inc();
    }

    /// The exposition, with the gauges read now.
    fn render(&self, app: &App, keys: &KeyRing) -> Result<String, std::fmt::Error> {
        let _one_at_a_time = self.scraping.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let pool = app.database().pool_state();
        self.connections.get_or_create(&StateLabels { state: "in_use" }).set(i64::from(pool.in_use));
        self.connections.get_or_create(&StateLabels { state: "idle" }).set(i64::from(pool.idle));
        // The pool counts; the counter catches up with it.
        self.connection_waits.inc_by(pool.waits.saturating_sub(self.connection_waits.get()));
        self.mirror_lag.set(self.last_read.seconds_ago(self.started));
        // Keys that left since the last scrape leave the exposition too.
        self.key_age.clear();
        let now = app.now();
        for key in keys.current().active_keys() {
            let age = (now - key.since).num_milliseconds() as f64 / 1000.0;
            self.key_age.get_or_create(&KeyLabels { alg: key.alg.as_str(), kid: key.kid.clone() }).set(age);
        }
        let mut text = String::new();
        encode(&mut text, &self.registry)?;
        Ok(text)
    }

    /// Subscribes these metrics to the event bus of `app`.
    pub fn subscribe(self: &Arc<Self>, app: &App) {
        let metrics = self.clone();
        app.events()
            .subscribe("metrics", move |published: &Published| metrics.observe_event(&published.event));
        let metrics = self.clone();
        app.failures().observe(move |kind, reason| metrics.observe_failure(kind, reason));
    }
}

/// The method as a label: the standard ones, and `other` for the rest (a
/// client may send any token as a method).
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [(Method, &str); 7] = [
        (Method::GET, "GET"),
        (Method::POST, "POST"),
        (Method::HEAD, "HEAD"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::OPTIONS, "OPTIONS"),
    ];
    KNOWN.iter().find(|(known, _)| known == method).map_or("other", |(_, label)| label)
}

/// The middleware that counts every answered request.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let (method, started) = (req.method().clone(), Instant::now());
    let response = next.call(req).await?;
    if let Some(metrics) = metrics {
        let route = response.request().match_pattern().unwrap_or_else(|| "(unmatched)".to_owned());
        let issued = response.response().extensions().get::<IssuedToken>().cloned();
        metrics.observe(route, &method, response.status(), started.elapsed().as_secs_f64(), issued.as_ref());
    }
    Ok(response)
}

/// The `/metrics` resource: GET and HEAD, 405 otherwise.
pub fn resource() -> actix_web::Resource {
    web::resource(PATH)
        .route(web::get().to(scrape))
        .route(web::head().to(scrape))
        .default_service(crate::allowed_methods::refuse_except("GET, HEAD"))
}

/// The listener metrics are served on when they have their own.
pub fn bind(address: &str) -> anyhow::Result<std::net::TcpListener> {
    std::net::TcpListener::bind(address)
        .map_err(|e| anyhow::anyhow!("cannot listen for metrics on {address}: {e}"))
}

/// A server on `listener` serving only `/metrics`; returns its port and the
/// server, not yet running.
pub fn serve(
    listener: std::net::TcpListener,
    metrics: web::Data<Metrics>,
    keys: web::Data<KeyRing>,
    app: web::Data<App>,
) -> anyhow::Result<(u16, actix_web::dev::Server)> {
    let bound = listener.local_addr()?;
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(metrics.clone())
            .app_data(keys.clone())
            .app_data(app.clone())
            .service(resource())
    })
    .workers(1)
    // Stopping is `Application::run_until_stopped`'s (see `shutdown`).
    .disable_signals()
    .listen(listener)?
    .run();
    tracing::info!("serving metrics on http://{bound}{PATH}");
    Ok((bound.port(), server))
}

/// `GET /metrics`.
async fn scrape(metrics: web::Data<Metrics>, app: web::Data<App>, keys: web::Data<KeyRing>) -> HttpResponse {
    match metrics.render(&app, &keys) {
        Ok(text) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, CONTENT_TYPE))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(text),
        Err(e) => {
            tracing::error!(error = %e, "metrics could not be written");
            HttpResponse::InternalServerError().finish()
        }
    }
}
