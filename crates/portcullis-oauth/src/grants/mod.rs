//! The grants of the token endpoint: a registry ([`REGISTRY`]) the endpoint
//! and discovery read, and one module per grant type, each with its typed
//! request (parsed from the form once), the operations of
//! [`portcullis_app::grants`] it needs, and its handler. A new grant is a module and one line in the registry.

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;

use crate::clients::RegisteredClient;
use crate::params::Params;
use crate::KeyRing;
use portcullis_app::{App, Clock};
use portcullis_core::SigningAlgorithm;
use portcullis_core::{ClientId, ClientMetadata, GrantType};
use portcullis_core::{ErrorCode, Issuer, OAuthError, RefreshToken, Scope};
use portcullis_jose::AccessTokenClaims;
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// What every grant needs to mint tokens.
pub struct TokenSettings {
    /// The issuer, the `iss` of every token.
    pub issuer: Issuer,
    /// Access-token lifetime for clients that configure none.
    pub access_token_lifetime: Duration,
    /// The time every grant reads: codes' and refresh tokens' expiry, `iat`, `exp`.
    pub clock: Clock,
    /// Token requests per minute of a client that sets no limit of its own.
    pub token_rate_limit: u32,
}

/// What a grant's handler works with: the authenticated client and the
/// server's state.
pub struct GrantContext<'a> {
    /// The client, authenticated.
    pub client: &'a RegisteredClient,
    /// Issuer, lifetimes and clock.
    pub settings: &'a TokenSettings,
    /// The signing keys.
    pub keys: &'a KeyRing,
    /// The operations of the grants that keep state (codes, refresh tokens).
    pub app: &'a Arc<App>,
    /// Where the request came from, for the audit of what it revokes.
    pub address: Option<std::net::IpAddr>,
}

impl GrantContext<'_> {
    /// The client as the grant operations know it.
    pub fn caller(&self) -> portcullis_app::grants::Caller {
        portcullis_app::grants::Caller {
            client_id: self.client.id.as_str().to_owned(),
            address: self.address,
        }
    }
}

/// What every token request may carry besides its grant's own parameters.
pub struct Requested {
    /// `scope` (RFC 6749 §3.3), when asked.
    pub scope: Option<String>,
    /// `resource` (RFC 8707 §2), each one asked.
    pub resources: Vec<String>,
}

impl Requested {
    /// The common parameters of `form`.
    pub fn parse(form: &Params) -> Self {
        Self { scope: form.get("scope").map(str::to_owned), resources: form.all("resource").to_vec() }
    }
}

/// A handler's answer, once its work is done.
pub type Issued<'a> = Pin<Box<dyn Future<Output = Result<TokenResponse, OAuthError>> + 'a>>;

/// One grant type the token endpoint serves.
pub struct Grant {
    /// Its `grant_type`.
    pub grant_type: GrantType,
    /// Parses the request from the form and issues tokens.
    pub handle: for<'a> fn(&'a GrantContext<'a>, &'a Params) -> Issued<'a>,
}

/// Every grant, in the order discovery advertises them.
pub const REGISTRY: [Grant; 3] = [
    Grant { grant_type: GrantType::AuthorizationCode, handle: authorization_code::handle },
    Grant { grant_type: GrantType::ClientCredentials, handle: client_credentials::handle },
    Grant { grant_type: GrantType::RefreshToken, handle: refresh_token::handle },
];

/// The grant named `grant_type`, if this server serves it.
pub fn find(grant_type: &str) -> Option<&'static Grant> {
    REGISTRY.iter().find(|grant| grant.grant_type.as_str() == grant_type)
}

/// The `grant_type`s this server serves, for discovery.
pub fn supported() -> Vec<&'static str> {
    REGISTRY.iter().map(|grant| grant.grant_type.as_str()).collect()
}

/// Refuses a client whose configuration does not allow `grant_type`
/// (RFC 6749 §5.2 `unauthorized_client`).
pub fn ensure_allowed(client: &RegisteredClient, grant_type: GrantType) -> Result<(), OAuthError> {
    if client.metadata.allows_grant(grant_type) {
        return Ok(());
    }
    let description = format!("this client may not use {}", grant_type.as_str());
    Err(OAuthError::new(ErrorCode::UnauthorizedClient, description))
}

/// What a token request would get, decided as the token endpoint decides
/// it but issuing, storing and auditing nothing: what the console's sandbox
/// shows for a client's saved or draft configuration.
pub struct Preview {
    /// The access token's claims; a user's grant shows placeholders for the
    /// user and the grant.
    pub claims: AccessTokenClaims,
    /// Its lifetime in seconds.
    pub lifetime: u64,
    /// The scope granted.
    pub scope: Scope,
}

/// Who a user's token is for, in a preview.
pub const PREVIEWED_USER: &str = "(the signed-in user's id)";
/// The grant a user's token belongs to, in a preview.
pub const PREVIEWED_GRANT: &str = "(the grant's id)";

/// The token client `id` configured as `metadata` (saved or not) would get
/// for `grant_type` with `requested`: the token endpoint's own checks (the
/// grant allowed, each grant's rules, scope, RFC 8707 resource). A grant
/// made by a user previews the client's whole scope narrowed as asked, as a
/// code or refresh token would carry it.
pub fn preview(
    (id, version, metadata): (ClientId, i64, ClientMetadata),
    grant_type: GrantType,
    requested: &Requested,
    settings: &TokenSettings,
) -> Result<Preview, OAuthError> {
    let client = &RegisteredClient::unsaved(id, version, metadata);
    ensure_allowed(client, grant_type)?;
    let (sub, scope, aud, grant_id) = match grant_type {
        GrantType::ClientCredentials => {
            let (scope, aud) = client_credentials::decide(client, settings, requested)?;
            (client.id.as_str(), scope, aud, None)
        }
        GrantType::AuthorizationCode | GrantType::RefreshToken => {
            let scope = granted_scope(requested, &client.metadata.scope)?;
            let aud = audience(requested, client, &settings.issuer)?;
            (PREVIEWED_USER, scope, aud, Some(PREVIEWED_GRANT.to_owned()))
        }
    };
    let (claims, lifetime) = access_token_claims(client, settings, sub, &scope, aud, grant_id);
    Ok(Preview { claims, lifetime, scope })
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Serialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// Always `Bearer` (RFC 6750).
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The granted scope.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
    /// The ID token, for OpenID Connect requests (OpenID Connect Core §3.1.3.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// A refresh token, for clients that may use the refresh_token grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshToken>,
}

/// The tokens are never printed: only what they are.
impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .field("refresh_token", &self.refresh_token)
            .finish_non_exhaustive()
    }
}

/// `invalid_grant` (RFC 6749 §5.2) with `description`.
pub fn invalid_grant(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidGrant, description)
}

/// A freshly minted access token.
pub struct MintedAccessToken {
    /// The signed JWT.
    pub token: String,
    /// Its lifetime in seconds.
    pub lifetime: u64,
}

/// Mints an RFC 9068 access token for `client`, acting for `sub`.
pub fn access_token(
    client: &RegisteredClient,
    settings: &TokenSettings,
    keys: &KeyRing,
    sub: &str,
    scope: &Scope,
    aud: String,
    grant_id: Option<String>,
) -> Result<MintedAccessToken, OAuthError> {
    let (claims, lifetime) = access_token_claims(client, settings, sub, scope, aud, grant_id);
    let token = sign(keys, client.metadata.access_token_signed_response_alg, |key| claims.sign(key))?;
    Ok(MintedAccessToken { token, lifetime })
}

/// The claims of an RFC 9068 access token for `client`, acting for `sub`,
/// and its lifetime in seconds: what [`access_token`] signs.
pub fn access_token_claims(
    client: &RegisteredClient,
    settings: &TokenSettings,
    sub: &str,
    scope: &Scope,
    aud: String,
    grant_id: Option<String>,
) -> (AccessTokenClaims, u64) {
    let lifetime = client.metadata.access_token_lifetime.unwrap_or(settings.access_token_lifetime.as_secs());
    let now = settings.clock.now().timestamp();
    let scope = scope.to_string();
    let claims = AccessTokenClaims {
        iss: settings.issuer.as_str().to_owned(),
        sub: sub.to_owned(),
        aud,
        client_id: client.id.as_str().to_owned(),
        scope: (!scope.is_empty()).then_some(scope),
        jti: uuid::Uuid::new_v4().to_string(),
        grant_id,
        iat: now,
        nbf: None,
        exp: now + i64::try_from(lifetime).unwrap_or(i64::MAX / 2),
    };
    (claims, lifetime)
}

/// Who authenticated, for an ID token.
pub struct Authenticated<'a> {
    /// The user, `sub`.
    pub user_id: &'a str,
    /// When they authenticated, seconds since the epoch.
    pub auth_time: i64,
    /// The session, `sid`.
    pub sid: &'a str,
    /// The authorization request's `nonce`; never on refresh (OpenID Connect Core §12.2).
    pub nonce: Option<&'a str>,
    /// How the user authenticated (RFC 8176); known at the code exchange only.
    pub amr: &'a [String],
}

/// An ID token for `client` (OpenID Connect Core §2), bound to the access
/// token issued with it by `at_hash`, and living as long as it.
pub fn id_token(
    client: &RegisteredClient,
    settings: &TokenSettings,
    keys: &KeyRing,
    who: &Authenticated<'_>,
    access_token: &MintedAccessToken,
) -> Result<String, OAuthError> {
    let alg = client.metadata.id_token_signed_response_alg;
    let now = settings.clock.now().timestamp();
    let claims = portcullis_jose::IdTokenClaims {
        iss: settings.issuer.as_str().to_owned(),
        sub: who.user_id.to_owned(),
        aud: client.id.as_str().to_owned(),
        exp: now + i64::try_from(access_token.lifetime).unwrap_or(i64::MAX / 2),
        iat: now,
        auth_time: who.auth_time,
        nonce: who.nonce.map(str::to_owned),
        at_hash: Some(portcullis_jose::at_hash(&access_token.token, alg)),
        azp: client.id.as_str().to_owned(),
        sid: Some(who.sid.to_owned()),
        amr: who.amr.to_vec(),
    };
    sign(keys, alg, |key| claims.sign(key))
}

/// Signs with the active key of `alg`; a failure is the server's.
pub fn sign(
    keys: &KeyRing,
    alg: SigningAlgorithm,
    sign: impl FnOnce(&portcullis_jose::SigningKey) -> Result<String, portcullis_jose::JoseError>,
) -> Result<String, OAuthError> {
    let set = keys.current();
    let key = set
        .signer(alg)
        .ok_or_else(|| OAuthError::new(ErrorCode::ServerError, format!("no active {alg} key")))?;
    sign(key).map_err(|e| {
        tracing::error!(error = %e, "signing a token failed");
        OAuthError::new(ErrorCode::ServerError, "the token could not be signed")
    })
}

/// The scope to grant: the requested one when the client may have all of
/// it, else `invalid_scope`; the client's own scope when none is asked.
pub fn granted_scope(requested: &Requested, allowed: &Scope) -> Result<Scope, OAuthError> {
    let Some(requested) = requested.scope.as_deref() else { return Ok(allowed.clone()) };
    let requested =
        Scope::parse(requested).map_err(|e| OAuthError::new(ErrorCode::InvalidScope, e.to_string()))?;
    if !requested.is_subset(allowed) {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "the requested scope exceeds what the client may have",
        ));
    }
    Ok(requested)
}

/// The audience: the RFC 8707 `resource` when the client may ask for it,
/// else the client's default resource, else the issuer.
pub fn audience(
    requested: &Requested,
    client: &RegisteredClient,
    issuer: &Issuer,
) -> Result<String, OAuthError> {
    let invalid = |message: &str| OAuthError::new(ErrorCode::InvalidTarget, message);
    match requested.resources.as_slice() {
        [] => Ok(client.metadata.default_resource.clone().unwrap_or_else(|| issuer.as_str().to_owned())),
        [resource] if client.metadata.resources.contains(resource) => Ok(resource.clone()),
        [_] => Err(invalid("the resource is not one this client may ask for")),
        _ => Err(invalid("ask for one resource per request")),
    }
}
