//! The application layer of Portcullis (DESIGN.md, "Layers"): one
//! operation per use case, grouped by aggregate.
//!
//! Admin operations ([`clients`], [`client_secrets`], [`keys`], [`users`],
//! [`audit`], [`bootstrap`]) take an [`Actor`], check the [`Permission`]
//! it declares, run one transaction holding the change, its change-log row
//! and its audit entry, then publish typed [`Event`]s on the [`EventBus`]
//! and return a public view. Protocol operations ([`sessions`] for the
//! front channel, [`grants`] for codes, refresh tokens and revocation,
//! [`client_lockouts`] for client authentication) are authorised by the
//! party the protocol authenticated instead of an admin permission; the
//! security events among them are audited and published the same way.
//! Jobs ([`housekeeping`], [`failures`], [`key_rotation`]) run as the system.
//!
//! Nothing here knows HTTP: the REST API, the protocol endpoints, the CLI
//! and the console are adapters that parse their input, call an operation
//! and render its result. Operations block (diesel); async adapters run
//! them off their workers.

pub mod actor;
pub mod admin_roles;
pub mod alerts;
pub mod audit;
pub mod baselines;
pub mod bootstrap;
pub mod bus;
pub mod client_lockouts;
pub mod client_secrets;
pub mod clients;
pub mod clock;
pub mod compliance;
pub mod console;
pub mod device_cookies;
pub mod device_grants;
pub mod error;
pub mod event;
pub mod exports;
pub mod failures;
pub mod geoip;
pub mod grants;
pub mod housekeeping;
pub mod key_rotation;
pub mod keys;
pub mod login_throttle;
pub mod malformed;
pub mod once_every;
pub mod periodic;
pub mod personal_tokens;
pub mod portal;
pub mod pushed_requests;
pub mod rate_limits;
pub mod registration;
pub mod remediation;
pub mod replays;
pub mod second_factor;
pub mod secrets;
pub mod sessions;
pub mod sightings;
pub mod teams;
mod transaction;
pub mod unusual;
pub mod usage;
pub mod user_attributes;
pub mod users;
pub mod webhooks;

pub use actor::{Actor, Permission};
pub use bus::{EventBus, Published, Subscriber};
pub use clock::Clock;
pub use error::AppError;
pub use event::Event;

use chrono::{DateTime, Utc};
use clients::{ChangePolicy, KnownScopes};
use failures::FailureLog;
use portcullis_store::{Database, DatabaseUrl, DbConnection, PoolOptions, StoreError};
use std::sync::Arc;

/// A cache of this instance that must follow a committed change at once, so
/// that the actor who made it can use it in its very next request (other
/// instances follow the change log within a second).
pub trait LocalMirror: Send + Sync {
    /// Applies the committed `events`, reading what it needs on `conn` (the
    /// connection the change was made on: no second one is taken).
    fn apply(&self, conn: &mut DbConnection, events: &[Event]);
}

/// The application: storage, the event bus, the clock and the rules changes
/// follow. Cheap to share: adapters hold it in an `Arc`.
pub struct App {
    db: Database,
    bus: EventBus,
    failures: Arc<FailureLog>,
    clock: Clock,
    policy: ChangePolicy,
    scopes: KnownScopes,
    mirrors: Vec<Arc<dyn LocalMirror>>,
    usage: usage::UsageRecorder,
    rate_limits: rate_limits::RateLimiter,
    sealing: audit::Sealing,
    request_rules: alerts::RequestRules,
    malformed: malformed::Streaks,
    outbound: portcullis_core::outbound::OutboundPolicy,
    sightings: sightings::Sightings,
    places: Option<Arc<geoip::Countries>>,
    learnt: baselines::Learnt,
}

impl App {
    /// The application over `db`, with the system clock and no subscribers.
    pub fn new(db: Database, policy: ChangePolicy, scopes: KnownScopes) -> Self {
        let bus = EventBus::default();
        let sealing = audit::Sealing::default();
        let failures =
            Arc::new(FailureLog::new(db.clone(), bus.clone(), failures::DEFAULT_WINDOW, sealing.clone()));
        Self {
            db,
            bus,
            failures,
            clock: Clock::system(),
            policy,
            scopes,
            mirrors: Vec::new(),
            usage: usage::UsageRecorder::default(),
            rate_limits: rate_limits::RateLimiter::default(),
            sealing,
            request_rules: alerts::RequestRules::default(),
            malformed: malformed::Streaks::default(),
            outbound: Default::default(),
            sightings: sightings::Sightings::default(),
            places: None,
            learnt: baselines::Learnt::default(),
        }
    }

    /// Opens the database `url` names, applies its pending migrations, and
    /// returns the application over it with the defaults (what the CLI
    /// runs), and the migrations applied.
    pub fn open(url: &DatabaseUrl, pool: &PoolOptions) -> Result<(Self, Vec<String>), StoreError> {
        let db = Database::connect_on_demand(url, pool)?;
        let applied = db.migrate()?;
        Ok((Self::with_defaults(db), applied))
    }

    /// This application summarising high-volume failures every `window`.
    pub fn with_failure_window(self, window: std::time::Duration) -> Self {
        let failures =
            Arc::new(FailureLog::new(self.db.clone(), self.bus.clone(), window, self.sealing.clone()));
        Self { failures, ..self }
    }

    /// The application over `db` with the default change policy and no
    /// configured API scopes: what the CLI and tools use.
    pub fn with_defaults(db: Database) -> Self {
        Self::new(db, ChangePolicy::default(), KnownScopes::default())
    }

    /// This application reading time from `clock`.
    pub fn with_clock(self, clock: Clock) -> Self {
        Self { clock, ..self }
    }

    /// This application sealing what it keeps secret (audit details and
    /// sources, webhook signing secrets) under `kek`.
    pub fn with_kek(self, kek: Arc<portcullis_jose::KeyEncryptionKey>) -> Self {
        self.sealing.set(kek);
        self
    }

    /// This application accepting URLs that requests are made to on
    /// someone's behalf (webhooks) only where `policy` admits: the
    /// server's guarded client (`portcullis-outbound`) applies the same
    /// policy when it sends.
    pub fn with_outbound(self, policy: portcullis_core::outbound::OutboundPolicy) -> Self {
        Self { outbound: policy, ..self }
    }

    /// This application placing addresses with `places` (`--geoip-db`): the
    /// countries of first sightings, the places of token uses.
    pub fn with_places(self, places: Arc<geoip::Countries>) -> Self {
        Self { places: Some(places), ..self }
    }

    /// The database addresses are placed with, if any.
    pub fn places(&self) -> Option<&Arc<geoip::Countries>> {
        self.places.as_ref()
    }

    /// This application keeping `mirror` up to date with every change.
    pub fn with_mirror(mut self, mirror: Arc<dyn LocalMirror>) -> Self {
        self.mirrors.push(mirror);
        self
    }

    /// Where high-volume security events are counted: the bus's policy for
    /// events anyone can cause (see [`failures`]).
    pub fn failures(&self) -> &Arc<FailureLog> {
        &self.failures
    }

    /// The event bus, to subscribe to.
    pub fn events(&self) -> &EventBus {
        &self.bus
    }

    /// The database, for the instance's mirrors and jobs to read.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Whether the database answers a query (a readiness probe).
    pub fn ping(&self) -> Result<(), AppError> {
        Ok(self.db.ping()?)
    }

    /// A digest of an identifier that names nothing known, the same on
    /// every instance sharing the key-encryption key (see
    /// [`audit::Sealing::identifier_digest`]).
    pub fn identifier_digest(&self, presented: &str) -> String {
        self.sealing.identifier_digest(presented)
    }

    /// The time now, by this application's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// `value` to two decimals, as events and views show measurements.
pub(crate) fn hundredths(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// A time as views show it: RFC 3339, UTC, whole seconds.
pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
