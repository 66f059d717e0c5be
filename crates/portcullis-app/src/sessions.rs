//! The front channel's operations (the sessions aggregate): the pending
//! interaction an authorization request waits in while the user logs in
//! and consents, the login session, remembered consents, and signing in
//! (argon2id, throttled per account, address and device, see
//! [`login_throttle`] and [`device_cookies`]).
//!
//! These are protocol operations: the browser's cookies and the posted
//! form are their authority, so they take no admin actor and check no
//! permission. Everything secret is a secret type, stored only hashed.
//!
//! [`login_throttle`]: crate::login_throttle
//! [`device_cookies`]: crate::device_cookies

use crate::device_cookies::{DeviceKey, Proof};
use crate::failures::{Failure, FailureKind};
use crate::login_throttle::{Attempt, Reservation, Throttled};
use crate::users::{hash_password, verify_password};
use crate::{secrets, App, AppError};
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_core::authorization_request::AuthorizationRequest;
use portcullis_core::{CsrfToken, InteractionId, Password, Scope, SessionToken, Username};
use portcullis_store::sessions::{self, InteractionRecord, SessionRecord};
use portcullis_store::users::{self, UserRecord};
use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Duration;

/// How long a user has to log in and consent.
pub const INTERACTION_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// How long a login session lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);

/// A live login session, as the flows see it.
pub struct Session {
    /// The session's public id (`sid` in ID tokens).
    pub session_id: String,
    /// The user logged in.
    pub user_id: String,
    /// When the user authenticated.
    pub auth_time: DateTime<Utc>,
    /// When the user last gave a second factor in this session, if ever.
    pub second_factor_at: Option<DateTime<Utc>>,
    hash: Vec<u8>,
}

impl Session {
    /// How the user authenticated for a request made at `requested_at`, as
    /// RFC 8176 names it: a password, and a one-time password when one was
    /// given for that request (not for an earlier one: that would tell every
    /// client who uses the console).
    pub fn methods_since(&self, requested_at: DateTime<Utc>) -> Vec<&'static str> {
        let mut methods = vec!["pwd"];
        methods.extend(self.second_factor_since(requested_at).then_some("otp"));
        methods
    }

    /// Whether the user gave a second factor at or after `requested_at`.
    pub fn second_factor_since(&self, requested_at: DateTime<Utc>) -> bool {
        self.second_factor_at.is_some_and(|at| at >= requested_at)
    }
}

impl From<SessionRecord> for Session {
    fn from(record: SessionRecord) -> Self {
        Self {
            session_id: record.session_id,
            user_id: record.user_id,
            auth_time: record.auth_time,
            second_factor_at: record.second_factor_at,
            hash: record.session_hash,
        }
    }
}

/// An authorization request waiting while the user logs in and consents.
pub struct Interaction {
    /// The id in the pages' URLs.
    pub id: InteractionId,
    /// The request waiting.
    pub request: AuthorizationRequest,
    /// The session logged in for this request, once there is one.
    pub session_id: Option<String>,
    /// When the request arrived.
    pub started_at: DateTime<Utc>,
    hash: Vec<u8>,
    csrf_hash: Vec<u8>,
}

impl Interaction {
    fn of(id: InteractionId, record: InteractionRecord) -> Self {
        Self {
            id,
            request: AuthorizationRequest { pushed: record.pushed, ..record.request },
            session_id: record.session_id,
            started_at: record.created_at,
            hash: record.interaction_hash,
            csrf_hash: record.csrf_hash,
        }
    }

    /// Whether `session` is the one logged in for this request.
    pub fn is_logged_in_with(&self, session: &Session) -> bool {
        self.session_id.as_deref() == Some(session.session_id.as_str())
    }

    /// Whether `posted` is the CSRF token issued with this interaction
    /// (compared in constant time).
    pub fn csrf_matches(&self, posted: &str) -> bool {
        !posted.is_empty() && secrets::matches_any(posted, [self.csrf_hash.as_slice()])
    }

    /// The hash the interaction is stored under.
    pub(crate) fn hash(&self) -> &[u8] {
        &self.hash
    }
}

/// How a sign-in ended.
pub enum SignIn {
    /// A new session (never one the browser brought: no session fixation),
    /// attached to the interaction; the token goes into the cookie.
    SignedIn {
        /// The session.
        session: Session,
        /// Its secret, for the cookie.
        token: SessionToken,
        /// The device cookie's new value (this account remembered in it),
        /// when a key-encryption key signs device cookies.
        device: Option<String>,
    },
    /// Unknown user, wrong password or disabled user: nothing tells which.
    Failed,
}

/// A sign-in counted and allowed to check its password: what
/// [`App::begin_sign_in`] found, for [`SignInAttempt::verify`] (argon2, on
/// no connection) and then [`App::finish_sign_in`].
pub struct SignInAttempt {
    username: Username,
    source: Option<IpAddr>,
    device_cookie: Option<String>,
    attempt: Attempt,
    reservation: Reservation,
    user: Option<UserRecord>,
}

impl SignInAttempt {
    /// Whether `password` is the user's (argon2id; an unknown user costs the
    /// same time against a decoy hash). Slow on purpose: run it where it
    /// blocks nobody and holds no database connection.
    pub fn verify(&self, password: &Password) -> bool {
        match &self.user {
            Some(user) => verify_password(password, &user.password_hash),
            None => verify_password(password, decoy_hash()),
        }
    }
}

/// The username as logs show it: only when it names a user, or else a
/// digest, since a password typed into the username field must not reach
/// the log.
fn shown(sealing: &crate::audit::Sealing, username: &Username, user: Option<&UserRecord>) -> String {
    user.map_or_else(|| sealing.identifier_digest(username.as_str()), |u| u.username.clone())
}

/// A hash to verify against when the user does not exist, so that an
/// unknown username costs as much time as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password(&Password::new(secrets::random_token())).expect("argon2 hashes"))
}

fn lifetime(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).expect("lifetimes fit")
}

impl App {
    /// Keeps `request` as a new interaction, logged in with `session` when
    /// given; returns it and the CSRF token its forms must carry.
    pub fn start_interaction(
        &self,
        request: &AuthorizationRequest,
        session: Option<&Session>,
    ) -> Result<(Interaction, CsrfToken), AppError> {
        let (id, csrf) =
            (InteractionId::new(secrets::random_token()), CsrfToken::new(secrets::random_token()));
        let now = self.clock.now();
        let record = InteractionRecord {
            interaction_hash: secrets::hash(id.expose()).to_vec(),
            request: request.clone(),
            csrf_hash: secrets::hash(csrf.expose()).to_vec(),
            session_id: session.map(|s| s.session_id.clone()),
            created_at: now,
            expires_at: now + lifetime(INTERACTION_LIFETIME),
            pushed: request.pushed.clone(),
        };
        sessions::create_interaction(&mut *self.db.get()?, &record)?;
        Ok((Interaction::of(id, record), csrf))
    }

    /// The live interaction `id`, if any.
    pub fn interaction(&self, id: &str) -> Result<Option<Interaction>, AppError> {
        let found = sessions::live_interaction(&mut *self.db.get()?, &secrets::hash(id), self.clock.now())?;
        Ok(found.map(|record| Interaction::of(InteractionId::new(id.to_owned()), record)))
    }

    /// The live session whose cookie holds `token`, if any.
    pub fn session(&self, token: &str) -> Result<Option<Session>, AppError> {
        let found = sessions::live_session(&mut *self.db.get()?, &secrets::hash(token), self.clock.now())?;
        Ok(found.map(Session::from))
    }

    /// Records that `interaction` is carried on by `session` (a user who
    /// was already logged in), unless it already is.
    pub fn attach_session(&self, interaction: &Interaction, session: &Session) -> Result<(), AppError> {
        if interaction.is_logged_in_with(session) {
            return Ok(());
        }
        Ok(sessions::attach_session(&mut *self.db.get()?, interaction.hash(), &session.session_id)?)
    }

    /// Whether the user of `session` has already consented to everything
    /// `request` asks of its client.
    pub fn has_consented(&self, session: &Session, request: &AuthorizationRequest) -> Result<bool, AppError> {
        let conn = &mut *self.db.get()?;
        let granted = sessions::consented_scope(conn, &session.user_id, request.client_id.as_str())?;
        Ok(granted
            .and_then(|scope| Scope::parse(&scope).ok())
            .is_some_and(|granted| consented_to(request).is_subset(&granted)))
    }

    /// Remembers that the user of `session` consents to what `request`
    /// asks, besides what they consented to before.
    pub fn remember_consent(
        &self,
        session: &Session,
        request: &AuthorizationRequest,
    ) -> Result<(), AppError> {
        let (user, client) = (session.user_id.as_str(), request.client_id.as_str());
        let conn = &mut *self.db.get()?;
        let now = self.clock.now();
        conn.atomically(|conn| {
            let before = sessions::consented_scope(conn, user, client)?.unwrap_or_default();
            let asked = consented_to(request);
            let granted = Scope::parse(&format!("{before} {asked}"))
                .map_or_else(|_| asked.to_string(), |s| s.to_string());
            sessions::remember_consent(conn, user, client, &granted, now)
        })?;
        Ok(())
    }

    /// Ends `interaction` without a code (the user denied access); false
    /// when it had already ended.
    pub fn finish_interaction(&self, interaction: &Interaction) -> Result<bool, AppError> {
        Ok(sessions::finish_interaction(&mut *self.db.get()?, interaction.hash())?)
    }

    /// Starts signing in as `username` from `source`, in a browser whose
    /// device cookie is `device_cookie`: the attempt is counted before any
    /// password is checked (see [`login_throttle`](crate::login_throttle));
    /// refused unchecked when throttled, which goes to the
    /// [failure log](crate::failures).
    pub fn begin_sign_in(
        &self,
        username: Username,
        source: Option<IpAddr>,
        device_cookie: Option<&str>,
    ) -> Result<Result<SignInAttempt, Throttled>, AppError> {
        let now = self.clock.now();
        let device = self.recognised_device(device_cookie, username.as_str(), Proof::Password);
        let attempt = Attempt::new(username.as_str(), source, device.as_deref());
        let conn = &mut *self.db.get()?;
        let reservation = match attempt.reserve(conn, now)? {
            Ok(reservation) => reservation,
            Err(throttled) => {
                let shown = shown(&self.sealing, &username, None);
                tracing::warn!(username = %shown, ip = ?source, reason = throttled.reason, "login refused: too many failures");
                self.count_login_failure(
                    FailureKind::LoginThrottled,
                    &username,
                    None,
                    source,
                    throttled.reason,
                );
                return Ok(Err(throttled));
            }
        };
        let user = users::find_by_username(conn, username.as_str())?;
        let device_cookie = device_cookie.map(str::to_owned);
        Ok(Ok(SignInAttempt { username, source, device_cookie, attempt, reservation, user }))
    }

    /// The device `cookie` names for `username` with at least `proof`, when
    /// device cookies are signed (a key-encryption key is set).
    pub(crate) fn recognised_device(
        &self,
        cookie: Option<&str>,
        username: &str,
        proof: Proof,
    ) -> Option<String> {
        let key = DeviceKey::derived(self.sealing.kek()?);
        key.recognise(cookie?, username, proof, self.clock.now())
    }

    /// The device cookie's new value once the user `user_id` signed in with
    /// `proof` in a browser that sent `cookie`; `None` without a
    /// key-encryption key to sign it.
    pub fn remember_device(
        &self,
        cookie: Option<&str>,
        user_id: &str,
        proof: Proof,
    ) -> Result<Option<String>, AppError> {
        let Some(kek) = self.sealing.kek() else { return Ok(None) };
        let Some(user) = users::find(&mut *self.db.get()?, user_id)? else { return Ok(None) };
        Ok(Some(DeviceKey::derived(kek).remember(cookie, &user.username, proof, self.clock.now())))
    }

    /// Finishes `attempt` for `interaction`, its password `verified` or
    /// not: a new session attached to the interaction, or a failure.
    pub fn finish_sign_in(
        &self,
        attempt: SignInAttempt,
        verified: bool,
        interaction: &Interaction,
    ) -> Result<SignIn, AppError> {
        let SignInAttempt { username, source, device_cookie, attempt, reservation, user } = attempt;
        let Some(user) = user.as_ref().filter(|u| verified && u.disabled_at.is_none()) else {
            tracing::info!(username = %shown(&self.sealing, &username, user.as_ref()), ip = ?source, "login failed");
            let reason = match &user {
                None => "unknown user",
                Some(_) if !verified => "wrong password",
                Some(_) => "user disabled",
            };
            let known = user.as_ref().map(|u| u.username.as_str());
            self.count_login_failure(FailureKind::Login, &username, known, source, reason);
            return Ok(SignIn::Failed);
        };
        let token = SessionToken::new(secrets::random_token());
        let now = self.clock.now();
        let record = SessionRecord {
            session_hash: secrets::hash(token.expose()).to_vec(),
            session_id: uuid::Uuid::new_v4().to_string(),
            user_id: user.user_id.clone(),
            auth_time: now,
            created_at: now,
            expires_at: now + lifetime(SESSION_LIFETIME),
            second_factor_at: None,
        };
        let conn = &mut *self.db.get()?;
        attempt.succeeded(conn, reservation)?;
        conn.atomically(|conn| {
            sessions::create_session(conn, &record)?;
            sessions::attach_session(conn, interaction.hash(), &record.session_id)
        })?;
        let device = self.sealing.kek().map(|kek| {
            DeviceKey::derived(kek).remember(
                device_cookie.as_deref(),
                username.as_str(),
                Proof::Password,
                now,
            )
        });
        Ok(SignIn::SignedIn { session: record.into(), token, device })
    }

    fn count_login_failure(
        &self,
        kind: FailureKind,
        username: &Username,
        known: Option<&str>,
        source: Option<IpAddr>,
        reason: &'static str,
    ) {
        let presented = username.as_str();
        self.failures.count(&Failure { kind, known, presented, source, reason, at: Utc::now() });
    }

    /// Records that the user of `session` gave a second factor now.
    pub fn record_second_factor(&self, session: &Session) -> Result<(), AppError> {
        sessions::record_second_factor(&mut *self.db.get()?, &session.session_id, self.clock.now())?;
        Ok(())
    }

    /// Ends `session` (RP-initiated logout).
    pub fn end_session(&self, session: &Session) -> Result<(), AppError> {
        sessions::end_session(&mut *self.db.get()?, &session.hash, self.clock.now())?;
        Ok(())
    }
}

/// What consenting to `request` agrees to, as the consent record keeps it:
/// its scope, and as `claim:NAME` each claim its `claims` parameter asks
/// for by name (OpenID Connect Core §5.5) and each the client's mappings
/// share, so that a claim asked for or mapped later asks the user again.
fn consented_to(request: &AuthorizationRequest) -> Scope {
    let names = request.claims.names().into_iter().chain(request.shared_claims.iter().map(String::as_str));
    let claims: Vec<String> = names.map(|name| format!("claim:{name}")).collect();
    if claims.is_empty() {
        return request.scope.clone();
    }
    Scope::parse(&format!("{} {}", request.scope, claims.join(" "))).unwrap_or_else(|_| request.scope.clone())
}
