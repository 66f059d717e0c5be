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
/// A console session unused for this long ends.
pub const IDLE_TIMEOUT: TimeDelta = TimeDelta::minutes(30);
/// A console session ends this long after sign-in, used or not.
pub const ABSOLUTE_TIMEOUT: TimeDelta = TimeDelta::hours(12);
/// How often a session's last use is written.
const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(1);
/// Who keeps the console's client registered.
const CONSOLE: Actor = Actor::System { job: "console" };

/// The console's redirect URI under `issuer`.
pub fn callback_uri(issuer: &str) -> String {
    format!("{}{CALLBACK_PATH}", issuer.trim_end_matches('/'))
}

/// Refuses a change of the console's own client by anyone but the server:
/// the console could otherwise be locked, or its callback moved.
pub(crate) fn ensure_not_reserved(actor: &Actor, client_id: &str) -> Result<(), AppError> {
    if client_id == CONSOLE_CLIENT_ID && *actor != CONSOLE {
        return Err(AppError::Conflict(format!(
            "{CONSOLE_CLIENT_ID} is the console's own client: the server manages it"
        )));
    }
    Ok(())
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

/// A console session just started: its cookie and CSRF token, shown once.
#[derive(Debug)]
pub struct ConsoleSignIn {
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
    /// Registers the console's client with its callback at `issuer`, or
    /// brings its configuration up to date (a new version, when the issuer
    /// changed); of instances starting together, one registers it.
    pub fn ensure_console_client(&self, issuer: &str) -> Result<(), AppError> {
        let redirect_uri = callback_uri(issuer);
        let configuration = json!({
            "client_name": "Portcullis console",
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
        let current = stored::find(&mut *self.db.get()?, CONSOLE_CLIENT_ID)?;
        match current {
            Some(client) if client.metadata == metadata => Ok(()),
            Some(_) => {
                let change = crate::clients::ClientChange::Replace(metadata.into());
                self.update_client(&CONSOLE, CONSOLE_CLIENT_ID, None, change).map(drop)
            }
            None => {
                let id = ClientId::parse(CONSOLE_CLIENT_ID).expect("a valid client id");
                let registered =
                    self.commit(&CONSOLE, |tx| self.register(tx, &CONSOLE, &metadata, id, None, None));
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
    ) -> Result<Result<ConsoleSignIn, Refusal>, AppError> {
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
        let (token, csrf) =
            (SessionToken::new(secrets::random_token()), CsrfToken::new(secrets::random_token()));
        let session_id = uuid::Uuid::new_v4().to_string();
        let actor = Actor::AdminUser {
            user_id: user_id.to_owned(),
            session: session_id.clone(),
            permissions,
            address,
        };
        self.commit(&actor, |tx| {
            let record = ConsoleSessionRecord {
                session_hash: secrets::hash(token.expose()).to_vec(),
                session_id: session_id.clone(),
                user_id: user_id.to_owned(),
                csrf_hash: secrets::hash(csrf.expose()).to_vec(),
                created_at: tx.now.naive_utc(),
                last_seen_at: tx.now.naive_utc(),
                expires_at: (tx.now + ABSOLUTE_TIMEOUT).naive_utc(),
                ended_at: None,
            };
            console_sessions::create(tx.conn, &record)?;
            tx.emit(Event::ConsoleSignedIn { user_id: user_id.to_owned(), session_id: session_id.clone() });
            Ok(())
        })?;
        Ok(Ok(ConsoleSignIn { token, csrf }))
    }

    /// The live console session whose cookie is `token`, with the roles its
    /// user holds now; `None` once it timed out, ended, or its user holds
    /// no role.
    pub fn console_session(&self, token: &str) -> Result<Option<ConsoleSession>, AppError> {
        let now = self.now();
        let conn = &mut *self.db.get()?;
        let hash = secrets::hash(token);
        let Some(record) = console_sessions::live(conn, &hash, now, now - IDLE_TIMEOUT)? else {
            return Ok(None);
        };
        if now - record.last_seen_at.and_utc() >= TOUCH_EVERY {
            console_sessions::touch(conn, &record.session_id, now)?;
        }
        let Some(user) =
            portcullis_store::users::find(conn, &record.user_id)?.filter(|u| u.disabled_at.is_none())
        else {
            return Ok(None);
        };
        let permissions = crate::admin_roles::roles_of(conn, &record.user_id)?;
        if permissions.is_empty() {
            return Ok(None);
        }
        Ok(Some(ConsoleSession {
            session_id: record.session_id,
            user_id: record.user_id,
            username: user.username,
            permissions,
            csrf_hash: record.csrf_hash,
        }))
    }

    /// Signs `session` out, from `address`: audited as `console.signed_out`.
    pub fn end_console_session(
        &self,
        session: &ConsoleSession,
        address: Option<IpAddr>,
    ) -> Result<(), AppError> {
        self.commit(&session.actor(address), |tx| {
            if console_sessions::end(tx.conn, &session.session_id, tx.now)? {
                tx.emit(Event::ConsoleSignedOut {
                    user_id: session.user_id.clone(),
                    session_id: session.session_id.clone(),
                });
            }
            Ok(())
        })
    }
}
