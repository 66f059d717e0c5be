//! Reading an authorization request, however it comes: in the query or
//! form at `/authorize`, as a signed request object by value or by
//! reference (RFC 9101), or pushed first by its client to the pushed
//! authorization request endpoint (RFC 9126), which validates it as
//! `/authorize` would and hands back a `request_uri` naming it. Either way
//! the same checks run ([`AuthorizationRequests::validate`]); what a
//! client must use (pushed requests, signed request objects) is decided
//! here too.

use crate::clients::RegisteredClient;
use crate::params::Params;
use crate::request_objects::RequestObjects;
use crate::sector_identifiers::SectorDocuments;
use crate::storage::{operation, protocol_operation, Failed};
use crate::{authorize::Authorizer, clients::ClientRegistry, KeyRing};
use portcullis_app::pushed_requests::REQUEST_URI_PREFIX;
use portcullis_app::App;
use portcullis_core::authorization_request::{self, AuthorizationRequest, Refusal};
use portcullis_core::{Issuer, OAuthError};
use std::sync::Arc;
use std::time::Duration;

/// How pushed requests live and whether they are required.
#[derive(Clone, Copy, Debug)]
pub struct PushedRequestPolicy {
    /// How long a `request_uri` may wait for `/authorize` (RFC 9126 §2.2:
    /// short; 60 s by default).
    pub lifetime: Duration,
    /// Whether every client must push its requests (RFC 9126 §5
    /// `require_pushed_authorization_requests`), not only those that say so.
    pub required: bool,
}

impl Default for PushedRequestPolicy {
    fn default() -> Self {
        Self { lifetime: Duration::from_secs(60), required: false }
    }
}

/// A request pushed and kept: what the client sends on to `/authorize`.
#[derive(Debug)]
pub struct Pushed {
    /// Names the request (RFC 9126 §2.2).
    pub request_uri: String,
    /// Seconds it stays usable.
    pub expires_in: u64,
}

/// Reads authorization requests.
pub struct AuthorizationRequests {
    /// The operations that keep pushed requests.
    pub app: Arc<App>,
    /// The registered clients, for `id_token_hint`s.
    pub clients: Arc<ClientRegistry>,
    /// The signing keys, for `id_token_hint`s and pairwise subjects.
    pub keys: Arc<KeyRing>,
    /// The issuer an `id_token_hint` must name.
    pub issuer: Issuer,
    /// Pairwise clients' sector identifier documents.
    pub sectors: Arc<SectorDocuments>,
    /// Request objects, verified with the clients' keys.
    pub objects: RequestObjects,
    /// How pushed requests live, and whether they are required.
    pub pushed: PushedRequestPolicy,
}

/// An error that cannot go back to the client: an error page.
fn page(why: impl Into<String>) -> Refusal {
    Refusal::ErrorPage(why.into())
}

impl AuthorizationRequests {
    /// The request `params` make at `/authorize`, for `client` (the enabled
    /// client `client_id` names, if any): taken from a pushed request,
    /// read from a request object, or from the parameters themselves.
    pub async fn at_authorize(
        &self,
        params: Params,
        client: Option<&RegisteredClient>,
    ) -> Result<Result<AuthorizationRequest, Refusal>, Failed> {
        let Some(client) = client else {
            return Ok(authorization_request::validate(&params, None));
        };
        let unpacked = |refused: OAuthError| page(refused.error_description);
        let now = self.app.now();
        let must_push = self.pushed.required || client.metadata.require_pushed_authorization_requests;
        let unpushed = page("This client's requests must be pushed first (RFC 9126 §4).");
        let (params, signed) = match (params.get("request_uri"), params.get("request")) {
            (Some(_), Some(_)) => return Ok(Err(page("The request has both request and request_uri."))),
            (Some(uri), None) if uri.starts_with(REQUEST_URI_PREFIX) => {
                let (id, uri) = (client.id.as_str().to_owned(), uri.to_owned());
                let taken = operation(&self.app, move |app| app.take_pushed_request(&id, &uri)).await??;
                // RFC 9126 §4: used once, by the client that pushed it, before it expires.
                return Ok(taken.ok_or_else(|| {
                    page(
                        "The request_uri is unknown, expired, already used, or was pushed by another client.",
                    )
                }));
            }
            // Refused before anything is fetched or verified for it.
            (Some(_), None) | (None, Some(_)) if must_push => return Ok(Err(unpushed)),
            (Some(uri), None) => match self.objects.fetch(client, uri).await {
                Ok(object) => (self.objects.unpack(client, &object, now).await.map_err(unpacked), true),
                Err(refused) => (Err(unpacked(refused)), true),
            },
            (None, Some(object)) => (self.objects.unpack(client, object, now).await.map_err(unpacked), true),
            (None, None) => (Ok(params), false),
        };
        let request = match params.and_then(|params| with_client_id(params, client)) {
            Ok(params) => self.validate(&params, client).await,
            Err(refused) => return Ok(Err(refused)),
        };
        let refused = |request: AuthorizationRequest, description: &str| Refusal::Redirect {
            redirect_uri: request.redirect_uri,
            error: OAuthError::invalid_request(description),
            state: request.state,
        };
        Ok(match request {
            Ok(request) if must_push => {
                Err(refused(request, "this client's requests must be pushed first (RFC 9126 §4)"))
            }
            Ok(request) if !signed && client.metadata.require_signed_request_object => Err(refused(
                request,
                "this client's requests must be signed request objects (RFC 9101 §10.5)",
            )),
            other => other,
        })
    }

    /// Validates and keeps the request `params` push for the authenticated
    /// `client` (RFC 9126 §2.1), its code bound to the key of the DPoP
    /// proof the push carried (`dpop`, RFC 9449 §10.1); a refusal is the
    /// endpoint's JSON error.
    pub async fn push(
        &self,
        params: Params,
        client: &RegisteredClient,
        dpop: Option<&str>,
    ) -> Result<Pushed, OAuthError> {
        // §2.1: a pushed request is the request itself, never a reference to one.
        if params.get("request_uri").is_some() {
            return Err(OAuthError::invalid_request("request_uri cannot be pushed (RFC 9126 §2.1)"));
        }
        let params = match params.get("request") {
            Some(object) => self.objects.unpack(client, object, self.app.now()).await?,
            None if client.metadata.require_signed_request_object => {
                let why = "this client's requests must be signed request objects (RFC 9101 §10.5)";
                return Err(OAuthError::invalid_request(why));
            }
            None => params,
        };
        let params = with_client_id(params, client).map_err(as_error)?;
        let mut request = self.validate(&params, client).await.map_err(as_error)?;
        // RFC 9449 §10.1: the proof's key binds the code, as dpop_jkt would; never two keys.
        match (request.dpop_jkt.as_deref(), dpop) {
            (Some(asked), Some(proven)) if asked != proven => {
                return Err(OAuthError::invalid_request("dpop_jkt is not the key of the DPoP proof"));
            }
            (None, Some(proven)) => request.dpop_jkt = Some(proven.to_owned()),
            _ => {}
        }
        let lifetime = self.pushed.lifetime;
        let request_uri =
            protocol_operation(&self.app, move |app| app.push_request(&request, lifetime)).await?;
        Ok(Pushed { request_uri, expires_in: lifetime.as_secs() })
    }

    /// The checks every request passes, however it came: its parameters
    /// (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1), the sector of a
    /// pairwise client, and the users it names.
    async fn validate(
        &self,
        params: &Params,
        client: &RegisteredClient,
    ) -> Result<AuthorizationRequest, Refusal> {
        // A redirect URI an update removed keeps working through its grace period.
        let metadata = client.metadata_at(self.app.now());
        let mut request = authorization_request::validate(params, Some((&client.id, &metadata)))?;
        // OpenID Connect Registration §2: the sector lists every redirect URI of its clients.
        if let Err(why) = self.sectors.admits(&metadata, &request.redirect_uri).await {
            return Err(page(format!("The client's sector_identifier_uri: {why}.")));
        }
        if let Err((code, why)) =
            Authorizer::check_hint(&mut request, &self.clients, &self.keys, &self.issuer)
        {
            return Err(Refusal::Redirect {
                redirect_uri: request.redirect_uri,
                error: OAuthError::new(code, why),
                state: request.state,
            });
        }
        Ok(request)
    }
}

/// `params` naming `client`: a request object or a pushed request may
/// leave `client_id` out, but never name another (RFC 9101 §6.3, RFC 9126 §2.1).
fn with_client_id(mut params: Params, client: &RegisteredClient) -> Result<Params, Refusal> {
    match params.get("client_id") {
        Some(id) if id != client.id.as_str() => {
            Err(page("The request names another client_id than its client."))
        }
        Some(_) => Ok(params),
        None => {
            params.set("client_id", client.id.as_str().to_owned());
            Ok(params)
        }
    }
}

/// A refusal as the pushed authorization request endpoint answers it
/// (RFC 9126 §2.3): what would have been an error page is `invalid_request`.
fn as_error(refusal: Refusal) -> OAuthError {
    match refusal {
        Refusal::ErrorPage(why) => OAuthError::invalid_request(why),
        Refusal::Redirect { error, .. } => error,
    }
}
