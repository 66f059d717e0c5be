//! Signing in to the developer portal (issue 23): like the console, an
//! OpenID Connect client of this server under a reserved id
//! ([`PORTAL_CLIENT_ID`]), its sessions kept beside the console's but never
//! taken for them. Any enabled user may sign in; what they may do is what
//! their teams' roles say ([`crate::teams`]). A member of a team whose
//! policy requires a second factor gives one at each portal sign-in, and
//! reaches that team only from a session whose sign-in gave one.

use crate::console::{LiveSession, SignIn, PORTAL};
use crate::grants::RedeemedCode;
use crate::{secrets, Actor, App, AppError, Event};
use portcullis_store::teams;
use std::net::IpAddr;

/// The portal's client id.
pub const PORTAL_CLIENT_ID: &str = "portcullis-portal";
/// Where the portal's authorization responses go, under the issuer.
pub const CALLBACK_PATH: &str = "/portal/callback";

/// A live portal session.
pub struct PortalSession {
    /// Its public id, in audit entries.
    pub session_id: String,
    /// The user signed in.
    pub user_id: String,
    /// Their username.
    pub username: String,
    csrf_hash: Vec<u8>,
}

impl PortalSession {
    /// The actor the session's actions are audited as, from `address`.
    pub fn actor(&self, address: Option<IpAddr>) -> Actor {
        Actor::PortalUser { user_id: self.user_id.clone(), session: self.session_id.clone(), address }
    }

    /// Whether `posted` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, posted: &str) -> bool {
        secrets::matches_any(posted, [self.csrf_hash.as_slice()])
    }
}

impl App {
    /// Whether `user_id` belongs to a team whose policy requires a second
    /// factor: their portal sign-in then asks for one.
    pub fn portal_needs_second_factor(&self, user_id: &str) -> Result<bool, AppError> {
        let joined = teams::teams_of(&mut *self.db.get()?, user_id)?;
        Ok(joined.iter().any(|(team, _)| team.policy.second_factor_required))
    }

    /// Opens a portal session for the user of `code` (redeemed for the
    /// portal, its PKCE verifier checked by the caller), signing in from
    /// `address`: audited as `portal.signed_in`. `None` for a code of
    /// another client.
    pub fn start_portal_session(
        &self,
        code: &RedeemedCode,
        address: Option<IpAddr>,
    ) -> Result<Option<SignIn>, AppError> {
        if code.client_id != PORTAL_CLIENT_ID {
            return Ok(None);
        }
        let session_id = uuid::Uuid::new_v4().to_string();
        let user_id = code.details.user_id.clone();
        let actor = Actor::PortalUser { user_id: user_id.clone(), session: session_id.clone(), address };
        let event = Event::PortalSignedIn { user_id: user_id.clone(), session_id: session_id.clone() };
        let second_factor = code.details.amr.iter().any(|method| method == "otp");
        self.open_session(&PORTAL, (&user_id, &actor, second_factor), (&session_id, event)).map(Some)
    }

    /// The live portal session whose cookie is `token`; `None` once it
    /// timed out, ended, or its user was disabled.
    pub fn portal_session(&self, token: &str) -> Result<Option<PortalSession>, AppError> {
        Ok(self.live_session(&PORTAL, token)?.map(|LiveSession { record, username }| PortalSession {
            session_id: record.session_id,
            user_id: record.user_id,
            username,
            csrf_hash: record.csrf_hash,
        }))
    }

    /// Signs `session` out, from `address`: audited as `portal.signed_out`.
    pub fn end_portal_session(
        &self,
        session: &PortalSession,
        address: Option<IpAddr>,
    ) -> Result<(), AppError> {
        let event = Event::PortalSignedOut {
            user_id: session.user_id.clone(),
            session_id: session.session_id.clone(),
        };
        self.end_site_session(&session.actor(address), &session.session_id, event)
    }
}
