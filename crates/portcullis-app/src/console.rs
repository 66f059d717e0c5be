//! Signing in to the console (issue 12). The console is an OpenID Connect
//! client of this server, registered as [`CONSOLE_CLIENT_ID`] (public,
//! code + PKCE, no consent): admins sign in on the same login page as
//! everyone, give a second factor there, and the console redeems the code
//! through the same operation the token endpoint uses. A user who holds
//! admin roles and gave a second factor (`amr` holds `otp`) gets a console
//! session: a cookie and a CSRF token, both stored hashed, ending after
//! [`IDLE_TIMEOUT`] without use, after [`ABSOLUTE_TIMEOUT`] in any case,
//! at sign-out, or when the user is disabled. Each request reads the
//! user's roles afresh, so a withdrawn role applies at once; the session's
//! actions are audited as the user with the session's id.

use crate::grants::RedeemedCode;
use crate::{secrets, Actor, App, AppError, Event, Permission};
use chrono::TimeDelta;
use portcullis_core::{ClientId, CsrfToken, SessionToken};
use portcullis_store::clients as stored;
use portcullis_store::console_sessions::{self, ConsoleSessionRecord};
use serde_json::json;
use std::net::IpAddr;

/// The console's client id.
pub const CONSOLE_CLIENT_ID: &str = "portcullis-console";
/// Where the console's authorization responses go, under the issuer.
pub const CALLBACK_PATH: &str = "/console/callback";
/// A session unused for this long ends.
pub const IDLE_TIMEOUT: TimeDelta = TimeDelta::minutes(30);
/// A session ends this long after sign-in, used or not.
pub const ABSOLUTE_TIMEOUT: TimeDelta = TimeDelta::hours(12);
/// How often a session's last use is written.
const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(1);
/// Who keeps the sites' clients registered.
const SITES: Actor = Actor::System { job: "console" };

/// A site of this server that users sign in to as an OpenID Connect client
/// of it, registered under a reserved id (public, code + PKCE, no
/// consent), with sessions of its own.
pub struct Site {
    /// Its client id.
    pub client_id: &'static str,
    /// Its client's name.
    pub name: &'static str,
    /// Where its authorization responses go, under the issuer.
    pub callback_path: &'static str,
    /// Its sessions' mark.
    kind: &'static str,
}

impl Site {
    /// Its redirect URI under `issuer`.
    pub fn callback_uri(&self, issuer: &str) -> String {
        format!("{}{}", issuer.trim_end_matches('/'), self.callback_path)
    }
}

/// The console.
pub const CONSOLE: Site = Site {
    client_id: CONSOLE_CLIENT_ID,
    name: "Portcullis console",
    callback_path: CALLBACK_PATH,
    kind: console_sessions::KIND_CONSOLE,
};

/// The developer portal.
pub const PORTAL: Site = Site {
    client_id: crate::portal::PORTAL_CLIENT_ID,
    name: "Portcullis developer portal",
    callback_path: crate::portal::CALLBACK_PATH,
    kind: console_sessions::KIND_PORTAL,
};

/// Refuses a change of a site's own client by anyone but the server:
/// the site could otherwise be locked, or its callback moved.
pub(crate) fn ensure_not_reserved(actor: &Actor, client_id: &str) -> Result<(), AppError> {
    if [CONSOLE_CLIENT_ID, PORTAL.client_id].contains(&client_id) && *actor != SITES {
        return Err(AppError::Conflict(format!(
            "{client_id} is the client of one of this server's own sites: the server manages it"
        )));
    }
    Ok(())
}

/// A session just opened and the user it belongs to.
pub(crate) struct LiveSession {
    /// Its record.
    pub record: ConsoleSessionRecord,
    /// The user's username.
    pub username: String,
}

/// A live console session.
pub struct ConsoleSession {
    /// Its public id, in audit entries.
    pub session_id: String,
    /// The user signed in.
    pub user_id: String,
    /// Their username.
    pub username: String,
    /// The admin permissions the user holds now.
    pub permissions: Vec<Permission>,
    csrf_hash: Vec<u8>,
}

impl ConsoleSession {
    /// The actor the session's actions are audited as, from `address`.
    pub fn actor(&self, address: Option<IpAddr>) -> Actor {
        Actor::AdminUser {
            user_id: self.user_id.clone(),
            session: self.session_id.clone(),
            permissions: self.permissions.clone(),
            address,
        }
    }

    /// Whether `posted` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, posted: &str) -> bool {
        secrets::matches_any(posted, [self.csrf_hash.as_slice()])
    }
}

/// A session just started: its cookie and CSRF token, shown once.
#[derive(Debug)]
pub struct SignIn {
    /// The cookie's value.
    pub token: SessionToken,
    /// The CSRF token of its forms.
    pub csrf: CsrfToken,
}

/// Why a redeemed code opens no console session.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The code is not the console's.
    NotTheConsoles,
    /// The user gave no second factor.
    NoSecondFactor,
    /// The user holds no admin role (or is disabled).
    NoRole,
}

impl App {
    /// Registers the client of `site` with its callback at `issuer`, or
    /// brings its configuration up to date (a new version, when the issuer
    /// changed); of instances starting together, one registers it.
    pub fn ensure_site_client(&self, site: &Site, issuer: &str) -> Result<(), AppError> {
        let redirect_uri = site.callback_uri(issuer);
        let configuration = json!({
            "client_name": site.name,
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "redirect_uris": [redirect_uri],
            "scope": "openid",
            "skip_consent": true,
            "require_pkce": true,
        });
        let serde_json::Value::Object(configuration) = configuration else { unreachable!("an object") };
        let metadata = crate::clients::parse_metadata(configuration, &self.scopes)?;
        let current = stored::find(&mut *self.db.get()?, site.client_id)?;
        match current {
            Some(client) if client.metadata == metadata => Ok(()),
            Some(_) => {
                let change = crate::clients::ClientChange::Replace(metadata.into());
                self.update_client(&SITES, site.client_id, None, change).map(drop)
            }
            None => {
                let id = ClientId::parse(site.client_id).expect("a valid client id");
                let registered =
                    self.commit(&SITES, |tx| self.register(tx, &SITES, &metadata, id, None, None));
                match registered {
                    Ok(_) | Err(AppError::Conflict(_)) => Ok(()),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Opens a console session for the user of `code` (redeemed for the
    /// console, its PKCE verifier checked by the caller), signing in from
    /// `address`: audited as `console.signed_in`.
    pub fn start_console_session(
        &self,
        code: &RedeemedCode,
        address: Option<IpAddr>,
    ) -> Result<Result<SignIn, Refusal>, AppError> {
        if code.client_id != CONSOLE_CLIENT_ID {
            return Ok(Err(Refusal::NotTheConsoles));
        }
        if !code.details.amr.iter().any(|method| method == "otp") {
            return Ok(Err(Refusal::NoSecondFactor));
        }
        let user_id = code.details.user_id.as_str();
        let permissions = self.console_permissions(user_id)?;
        if permissions.is_empty() {
            return Ok(Err(Refusal::NoRole));
        }
        let session_id = uuid::Uuid::new_v4().to_string();
        let actor = Actor::AdminUser {
            user_id: user_id.to_owned(),
            session: session_id.clone(),
            permissions,
            address,
        };
        let event = Event::ConsoleSignedIn { user_id: user_id.to_owned(), session_id: session_id.clone() };
        // The console opens only for a sign-in with a second factor (checked above).
        self.open_session(&CONSOLE, (user_id, &actor, true), (&session_id, event)).map(Ok)
    }

    /// Opens the session `session_id` of `site` for `user_id`, who acts as
    /// `actor` there and signed in with a `second_factor` or not, auditing
    /// `event`.
    pub(crate) fn open_session(
        &self,
        site: &Site,
        (user_id, actor, second_factor): (&str, &Actor, bool),
        (session_id, event): (&str, Event),
    ) -> Result<SignIn, AppError> {
        let (token, csrf) =
            (SessionToken::new(secrets::random_token()), CsrfToken::new(secrets::random_token()));
        let user_id = user_id.to_owned();
        self.commit(actor, |tx| {
            let record = ConsoleSessionRecord {
                session_hash: secrets::hash(token.expose()).to_vec(),
                session_id: session_id.to_owned(),
                user_id,
                csrf_hash: secrets::hash(csrf.expose()).to_vec(),
                created_at: tx.now.naive_utc(),
                last_seen_at: tx.now.naive_utc(),
                expires_at: (tx.now + ABSOLUTE_TIMEOUT).naive_utc(),
                ended_at: None,
                kind: site.kind.to_owned(),
                second_factor,
            };
            console_sessions::create(tx.conn, &record)?;
            tx.emit(event);
            Ok(())
        })?;
        Ok(SignIn { token, csrf })
    }

    /// The live session of `site` whose cookie is `token`, of a user who is
    /// not disabled; its use is recorded (once a minute at most).
    pub(crate) fn live_session(&self, site: &Site, token: &str) -> Result<Option<LiveSession>, AppError> {
        let now = self.now();
        let conn = &mut *self.db.get()?;
        let hash = secrets::hash(token);
        let Some(record) = console_sessions::live(conn, site.kind, &hash, (now, now - IDLE_TIMEOUT))? else {
            return Ok(None);
        };
        if now - record.last_seen_at.and_utc() >= TOUCH_EVERY {
            console_sessions::touch(conn, &record.session_id, now)?;
        }
        let user = portcullis_store::users::find(conn, &record.user_id)?.filter(|u| u.disabled_at.is_none());
        Ok(user.map(|user| LiveSession { record, username: user.username }))
    }

    /// The live console session whose cookie is `token`, with the roles its
    /// user holds now; `None` once it timed out, ended, or its user holds
    /// no role.
    pub fn console_session(&self, token: &str) -> Result<Option<ConsoleSession>, AppError> {
        let Some(LiveSession { record, username }) = self.live_session(&CONSOLE, token)? else {
            return Ok(None);
        };
        let conn = &mut *self.db.get()?;
        let permissions = crate::admin_roles::roles_of(conn, &record.user_id)?;
        if permissions.is_empty() {
            return Ok(None);
        }
        Ok(Some(ConsoleSession {
            session_id: record.session_id,
            user_id: record.user_id,
            username,
            permissions,
            csrf_hash: record.csrf_hash,
        }))
    }

    /// Ends the session `session_id` as `actor`, auditing `event` when it was live.
    pub(crate) fn end_site_session(
        &self,
        actor: &Actor,
        session_id: &str,
        event: Event,
    ) -> Result<(), AppError> {
        self.commit(actor, |tx| {
            if console_sessions::end(tx.conn, session_id, tx.now)? {
                tx.emit(event);
            }
            Ok(())
        })
    }

    /// Signs `session` out, from `address`: audited as `console.signed_out`.
    pub fn end_console_session(
        &self,
        session: &ConsoleSession,
        address: Option<IpAddr>,
    ) -> Result<(), AppError> {
        let event = Event::ConsoleSignedOut {
            user_id: session.user_id.clone(),
            session_id: session.session_id.clone(),
        };
        self.end_site_session(&session.actor(address), &session.session_id, event)
    }
}
