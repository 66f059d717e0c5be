//! The authorization request's way through the front channel (RFC 6749
//! §4.1.1, OpenID Connect Core §3.1.2): checking an `id_token_hint`, then,
//! for the browser's session, deciding whether the user must log in, give
//! a second factor or consent, or gets a code now. The pages that ask and
//! the redirects that answer are the adapter's.

use crate::clients::ClientRegistry;
use crate::storage::{self, Failed};
use crate::KeyRing;
use portcullis_app::console::CONSOLE_CLIENT_ID;
use portcullis_app::portal::PORTAL_CLIENT_ID;
use portcullis_app::sessions::{Interaction, Session};
use portcullis_app::App;
use portcullis_core::authorization_request::AuthorizationRequest;
use portcullis_core::{ErrorCode, Issuer};
use portcullis_jose::IdTokenClaims;
use std::sync::Arc;

/// Where a valid authorization request goes next.
pub enum Step {
    /// Answered at the client's redirect URI with this error (OpenID
    /// Connect Core §3.1.2.6).
    Refuse(ErrorCode, &'static str),
    /// The user must log in.
    Login,
    /// The client was disabled or removed while the user was away.
    ClientGone,
    /// The user of this session must give a second factor.
    SecondFactor(Session),
    /// The user of this session must consent.
    Consent(Session),
    /// A code is issued to the user of this session.
    IssueCode(Session),
}

/// Decides the front channel's steps.
pub struct Authorizer {
    /// The operations of sessions and consents.
    pub app: Arc<App>,
    /// The registered clients.
    pub clients: Arc<ClientRegistry>,
}

impl Authorizer {
    /// Checks `request`'s `id_token_hint` (OpenID Connect Core §3.1.2.2: the
    /// OP validates the hint it is given), noting the user it names; a
    /// hint this server did not issue as `issuer` is refused. The subjects
    /// a client names (the hint's, the `claims` parameter's `sub`) are read
    /// back to the user, through their sector for a pairwise client.
    pub fn check_hint(
        request: &mut AuthorizationRequest,
        clients: &ClientRegistry,
        keys: &KeyRing,
        issuer: &Issuer,
    ) -> Result<(), (ErrorCode, &'static str)> {
        let subjects = keys.subjects();
        if let Some(asked) = request.claims.subject.take() {
            // A pairwise subject that reads back to nobody admits nobody (never
            // the raw value, which could be tried against users' ids).
            let user = match clients.get(request.client_id.as_str()) {
                Some(client) => subjects.user_id(&client.metadata, &asked).unwrap_or_default(),
                None => asked,
            };
            request.claims.subject = Some(user);
        }
        let Some(hint) = &request.id_token_hint else { return Ok(()) };
        let hinted = keys.current().id_token_hint(hint, issuer);
        let Some(user) = hinted.and_then(|claims| hinted_user(clients, keys, &claims)) else {
            return Err((ErrorCode::InvalidRequest, "the id_token_hint was not issued by this server"));
        };
        if request.claims.subject.as_ref().is_some_and(|asked| *asked != user) {
            return Err((
                ErrorCode::InvalidRequest,
                "the id_token_hint and the claims parameter name different users",
            ));
        }
        request.hinted_subject = Some(user);
        Ok(())
    }

    /// The next step of `request` for a browser with `session`. The session
    /// the user logged in with for this very `interaction` satisfies
    /// `prompt=login` and `max_age`.
    pub async fn next(
        &self,
        request: &AuthorizationRequest,
        session: Option<Session>,
        interaction: Option<&Interaction>,
    ) -> Result<Step, Failed> {
        let now = self.app.now();
        let logged_in_for = interaction.and_then(|i| i.session_id.as_deref());
        let session = session.filter(|s| {
            let fresh = logged_in_for == Some(s.session_id.as_str());
            // OpenID Connect Core §3.1.2.1: prompt=login and max_age ask for a
            // new login, and an id_token_hint names the user who must be logged in.
            let recent = request.max_age.is_none_or(|max| (now - s.auth_time).num_seconds() <= max as i64);
            let hinted = request.required_subject().is_none_or(|sub| sub == s.user_id);
            fresh || (!request.prompt.login && recent && hinted)
        });
        if let (Some(session), Some(required)) = (&session, request.required_subject()) {
            if required != session.user_id {
                // Someone else logged in for this request: §3.1.2.1 and §5.5.1 say answer an error.
                return Ok(Step::Refuse(
                    ErrorCode::LoginRequired,
                    "the user who logged in is not the one the request names (id_token_hint or claims sub)",
                ));
            }
        }
        let Some(session) = session else {
            if request.prompt.none {
                return Ok(Step::Refuse(ErrorCode::LoginRequired, "the user is not logged in"));
            }
            return Ok(Step::Login);
        };
        let Some(client) = self.clients.get(request.client_id.as_str()).filter(|c| c.disabled_at.is_none())
        else {
            return Ok(Step::ClientGone);
        };
        // The console asks each sign-in for a second factor, given after its
        // request arrived; the portal does for a member of a team that requires one.
        let second_factor = match client.id.as_str() {
            CONSOLE_CLIENT_ID => true,
            PORTAL_CLIENT_ID => {
                let user_id = session.user_id.clone();
                storage::operation(&self.app, move |app| app.portal_needs_second_factor(&user_id)).await??
            }
            _ => false,
        };
        if second_factor {
            let started = interaction.map_or(now, |i| i.started_at);
            if !session.second_factor_since(started) {
                if request.prompt.none {
                    return Ok(Step::Refuse(ErrorCode::LoginRequired, "a second factor is needed"));
                }
                return Ok(Step::SecondFactor(session));
            }
        }
        // prompt=consent always asks; a client that skips consent never does;
        // otherwise the user is asked unless they consented to all of it before.
        let (session, consent_needed) = if request.prompt.consent || client.metadata.skip_consent {
            (session, request.prompt.consent)
        } else {
            let asked = request.clone();
            storage::operation(&self.app, move |app| {
                let consented = app.has_consented(&session, &asked)?;
                Ok((session, !consented))
            })
            .await??
        };
        if !consent_needed {
            return Ok(Step::IssueCode(session));
        }
        if request.prompt.none {
            return Ok(Step::Refuse(ErrorCode::ConsentRequired, "the user has not consented"));
        }
        Ok(Step::Consent(session))
    }
}

/// The user an ID token this server issued names: its `sub`, read back
/// through the sector of the client it was issued to (as it stands, when
/// that client is no longer known here: a public one's).
pub fn hinted_user(clients: &ClientRegistry, keys: &KeyRing, claims: &IdTokenClaims) -> Option<String> {
    match clients.get(&claims.aud) {
        Some(client) => keys.subjects().user_id(&client.metadata, &claims.sub),
        None => Some(claims.sub.clone()),
    }
}
