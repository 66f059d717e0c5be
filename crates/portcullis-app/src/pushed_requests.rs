//! Pushed authorization requests (RFC 9126): a client sends its
//! authorization request to the server directly, authenticated, and the
//! browser carries only a `request_uri` naming it. The request is kept as
//! validated, under the hash of its `request_uri`, and taken once; while
//! the user signs in, the interaction holds it and a reload takes it back.
//!
//! Protocol operations: the authenticated client is their authority, and
//! nothing is audited (a pushed request changes nothing until a user acts on it).

use crate::{secrets, App, AppError};
use chrono::TimeDelta;
use portcullis_core::authorization_request::{AuthorizationRequest, Pushed};
use portcullis_store::{pushed_requests, sessions};
use std::time::Duration;

/// How every `request_uri` this server issues begins (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

impl App {
    /// Keeps `request` for `lifetime`; returns the `request_uri` naming it,
    /// a CSPRNG value stored only as its hash.
    pub fn push_request(
        &self,
        request: &AuthorizationRequest,
        lifetime: Duration,
    ) -> Result<String, AppError> {
        let request_uri = format!("{REQUEST_URI_PREFIX}{}", secrets::random_token());
        let expires_at = self.clock.now() + TimeDelta::from_std(lifetime).unwrap_or(TimeDelta::MAX);
        pushed_requests::insert(&mut *self.db.get()?, &secrets::hash(&request_uri), request, expires_at)?;
        Ok(request_uri)
    }

    /// Takes the request `client_id` pushed as `request_uri`: `None` when
    /// there is none, it expired, another client pushed it, or it was taken
    /// before and its authorization completed (RFC 9126 §4: a `request_uri`
    /// is used once). Taken before and not expired, it comes back from the
    /// interaction still waiting with it, which ends (FAPI 2.0 §5.3.2.2
    /// note 3: a reload before the authorization completes succeeds; RFC
    /// 9126 §4 allows it).
    pub fn take_pushed_request(
        &self,
        client_id: &str,
        request_uri: &str,
    ) -> Result<Option<AuthorizationRequest>, AppError> {
        let (conn, now) = (&mut *self.db.get()?, self.clock.now());
        let hash = secrets::hash(&format!("{client_id} {request_uri}")).to_vec();
        if let Some((request, expires_at)) =
            pushed_requests::take(conn, &secrets::hash(request_uri), client_id, now)?
        {
            let pushed = Pushed { hash, expires_at: expires_at.timestamp() };
            return Ok(Some(AuthorizationRequest { pushed: Some(pushed), ..request }));
        }
        let reloaded = sessions::take_pushed_interaction(conn, &hash, now)?;
        Ok(reloaded
            .map(|interaction| AuthorizationRequest { pushed: interaction.pushed, ..interaction.request }))
    }
}
