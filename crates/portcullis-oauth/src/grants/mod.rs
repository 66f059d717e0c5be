//! The grants of the token endpoint: a registry ([`REGISTRY`]) the endpoint
//! and discovery read, and one module per grant type, each with its typed
//! request (parsed from the form once), the operations of
//! [`portcullis_app::grants`] it needs, and its handler. A new grant is a module and one line in the registry.

pub mod authorization_code;
pub mod client_credentials;
pub mod device_code;
pub mod refresh_token;
pub mod token_exchange;

use crate::clients::RegisteredClient;
use crate::dpop::Proven;
use crate::params::Params;
use crate::KeyRing;
use portcullis_app::{App, Clock};
use portcullis_core::claim_mappings::{self, ClaimMapping, TokenKind, UserClaims};
use portcullis_core::claims_request::{self, RequestedClaims};
use portcullis_core::SigningAlgorithm;
use portcullis_core::{ClientId, ClientMetadata, GrantType};
use portcullis_core::{ErrorCode, Issuer, OAuthError, RefreshToken, Scope};
use portcullis_jose::{AccessTokenClaims, Confirmation, IdTokenClaims};
use serde::Serialize;
use serde_json::{Map, Value};
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
    /// The thumbprint of the key of the request's DPoP proof, checked
    /// (RFC 9449 §4.3): what its tokens are bound to.
    pub dpop_jkt: Option<&'a str>,
    /// Revoked tokens and grants, for the tokens a grant is given (token exchange).
    pub revocations: &'a crate::mirror::RevocationList,
    /// The registered clients, for the tokens a grant is given.
    pub clients: &'a crate::clients::ClientRegistry,
}

impl GrantContext<'_> {
    /// The `token_type` of the access token issued (RFC 9449 §5: `DPoP`
    /// for a token bound to the proof's key).
    pub fn token_type(&self) -> &'static str {
        if self.dpop_jkt.is_some() {
            "DPoP"
        } else {
            "Bearer"
        }
    }

    /// Whether the request proves the DPoP key `bound` a code or a refresh
    /// token is bound to, if it is bound to one (RFC 9449 §5, §10).
    pub fn proves(&self, bound: Option<&str>) -> bool {
        bound.is_none_or(|bound| self.dpop_jkt == Some(bound))
    }

    /// The check of an access token presented to a grant (token exchange).
    pub fn token_check(&self) -> crate::access_tokens::TokenCheck<'_> {
        crate::access_tokens::TokenCheck {
            keys: self.keys,
            settings: self.settings,
            revocations: self.revocations,
            clients: self.clients,
        }
    }

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
pub const REGISTRY: [Grant; 5] = [
    Grant { grant_type: GrantType::AuthorizationCode, handle: authorization_code::handle },
    Grant { grant_type: GrantType::ClientCredentials, handle: client_credentials::handle },
    Grant { grant_type: GrantType::RefreshToken, handle: refresh_token::handle },
    Grant { grant_type: GrantType::DeviceCode, handle: device_code::handle },
    Grant { grant_type: GrantType::TokenExchange, handle: token_exchange::handle },
];

/// The grant named `grant_type`, if this server serves it.
pub fn find(grant_type: &str) -> Option<&'static Grant> {
    REGISTRY.iter().find(|grant| grant.grant_type.as_str() == grant_type)
}

/// The `grant_type`s this server serves, for discovery.
pub fn supported() -> Vec<&'static str> {
    REGISTRY.iter().map(|grant| grant.grant_type.as_str()).collect()
}

/// Refuses a token request without a DPoP proof from a client whose
/// access tokens must be bound (`dpop_bound_access_tokens`, RFC 9449 §5.2),
/// or with one its profile refuses.
pub fn ensure_proof(client: &RegisteredClient, proven: Option<&Proven>) -> Result<(), OAuthError> {
    if proven.is_none() && client.metadata.dpop_bound_access_tokens {
        let description = "this client's access tokens are DPoP-bound: send a DPoP proof (RFC 9449)";
        return Err(OAuthError::new(ErrorCode::InvalidDpopProof, description));
    }
    ensure_proof_alg(client, proven)
}

/// Refuses a DPoP proof signed with an algorithm the client's profile
/// refuses (FAPI 2.0 §5.4.1).
pub fn ensure_proof_alg(client: &RegisteredClient, proven: Option<&Proven>) -> Result<(), OAuthError> {
    if proven.is_some_and(|proven| !client.metadata.admits_signature(proven.alg)) {
        let description = "FAPI 2.0 refuses DPoP proofs signed with RS256 (§5.4.1)";
        return Err(OAuthError::new(ErrorCode::InvalidDpopProof, description));
    }
    Ok(())
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
    /// The access token's claims, its client's mapped claims among them; a
    /// user's grant without a chosen user shows placeholders for the user
    /// and the grant.
    pub access_token: Map<String, Value>,
    /// The ID token's claims, for a user's grant with `openid` (its
    /// `at_hash` is the signed token's).
    pub id_token: Option<Map<String, Value>>,
    /// What introspection would answer about the access token.
    pub introspection: Map<String, Value>,
    /// The access token's lifetime in seconds.
    pub lifetime: u64,
    /// The scope granted.
    pub scope: Scope,
}

/// Who a user's token is for, in a preview without a chosen user.
pub const PREVIEWED_USER: &str = "(the signed-in user's id)";
/// The grant a user's token belongs to, in a preview.
pub const PREVIEWED_GRANT: &str = "(the grant's id)";

/// The tokens client `id` configured as `metadata` (saved or not) would get
/// for `grant_type` with `requested`, for `user` (an id and the claims the
/// client's mappings read) when one is chosen: the token endpoint's own
/// checks (the grant allowed, each grant's rules, scope, RFC 8707
/// resource) and claims. A grant made by a user previews the client's whole
/// scope narrowed as asked, as a code or refresh token would carry it.
pub fn preview(
    (id, version, metadata): (ClientId, i64, ClientMetadata),
    grant_type: GrantType,
    requested: &Requested,
    settings: &TokenSettings,
    user: Option<(&str, &UserClaims)>,
) -> Result<Preview, OAuthError> {
    let client = &RegisteredClient::unsaved(id, version, metadata);
    ensure_allowed(client, grant_type)?;
    let (sub, claims) = user.map_or((PREVIEWED_USER, None), |(sub, claims)| (sub, Some(claims)));
    let (grantee, scope, aud) = match grant_type {
        GrantType::ClientCredentials => {
            let (scope, aud) = client_credentials::decide(client, settings, requested)?;
            (Grantee::client(client, None), scope, aud)
        }
        GrantType::AuthorizationCode
        | GrantType::RefreshToken
        | GrantType::DeviceCode
        | GrantType::TokenExchange => {
            let scope = granted_scope(requested, &client.metadata.scope)?;
            let aud = audience(requested, client, &settings.issuer)?;
            let grant_id = Some(PREVIEWED_GRANT.to_owned());
            (
                Grantee { sub, grant_id, user: claims, userinfo_claims: &[], dpop_jkt: None, act: None },
                scope,
                aud,
            )
        }
    };
    let unsigned = access_token_claims(client, settings, &grantee, &scope, aud);
    let who = Authenticated {
        user_id: sub,
        auth_time: unsigned.claims.iat,
        sid: "(the session's id)",
        nonce: None,
        amr: &[],
        claims,
        asked: &[],
    };
    let id_token = (grant_type != GrantType::ClientCredentials && scope.contains("openid")).then(|| {
        let claims = id_token_claims(client, settings, &who, unsigned.lifetime);
        portcullis_jose::access_token::with_extra(&claims, &id_token_extra(client, &scope, &who))
    });
    let introspection = introspection(&unsigned.claims, &client.metadata.claim_mappings, grantee.user);
    Ok(Preview {
        access_token: portcullis_jose::access_token::with_extra(&unsigned.claims, &unsigned.mapped),
        id_token,
        introspection,
        lifetime: unsigned.lifetime,
        scope,
    })
}

/// RFC 7662 §2.2: what introspection answers about an active access token
/// with `claims`, with what its client's `mappings` release into
/// introspection for `user`.
pub fn introspection(
    claims: &AccessTokenClaims,
    mappings: &[ClaimMapping],
    user: Option<&UserClaims>,
) -> Map<String, Value> {
    let mut answer = Map::new();
    answer.insert("active".into(), true.into());
    if let Some(scope) = &claims.scope {
        answer.insert("scope".into(), scope.as_str().into());
    }
    for (name, value) in [
        ("client_id", &claims.client_id),
        ("sub", &claims.sub),
        ("aud", &claims.aud),
        ("iss", &claims.iss),
        ("jti", &claims.jti),
    ] {
        answer.insert(name.into(), value.as_str().into());
    }
    answer.insert("exp".into(), claims.exp.into());
    answer.insert("iat".into(), claims.iat.into());
    // RFC 8693 §4.1: who acts for the subject.
    if let Some(act) = &claims.act {
        answer.insert("act".into(), act.clone());
    }
    // RFC 9449 §6.2: a bound token's key, and its type.
    match &claims.cnf {
        Some(cnf) => {
            answer.insert("token_type".into(), "DPoP".into());
            answer.insert("cnf".into(), serde_json::json!({"jkt": cnf.jkt}));
        }
        None => {
            answer.insert("token_type".into(), "Bearer".into());
        }
    }
    if !mappings.is_empty() {
        let scope = Scope::parse(claims.scope.as_deref().unwrap_or_default()).unwrap_or_default();
        claim_mappings::release(mappings, TokenKind::Introspection, &scope, user, &mut answer);
    }
    answer
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Serialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// `Bearer` (RFC 6750), or `DPoP` for a token bound to a key (RFC 9449 §5).
    pub token_type: &'static str,
    /// What was issued, for a token exchange (RFC 8693 §2.2.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
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

/// Who a token acts for: the client itself, or a user through a grant.
pub struct Grantee<'a> {
    /// `sub`: the user's subject at the client, or the client itself.
    pub sub: &'a str,
    /// The grant, for a user's token.
    pub grant_id: Option<String>,
    /// The user's claims, when the client's mappings or the `claims`
    /// parameter read any.
    pub user: Option<&'a UserClaims>,
    /// The standard claims the `claims` parameter asked for at UserInfo
    /// (OpenID Connect Core §5.5).
    pub userinfo_claims: &'a [String],
    /// The thumbprint of the DPoP key that holds the token (`cnf.jkt`,
    /// RFC 9449 §6.1), when the request proved one.
    pub dpop_jkt: Option<&'a str>,
    /// Who acts for `sub`, for an exchanged token (RFC 8693 §4.1).
    pub act: Option<Value>,
}

impl<'a> Grantee<'a> {
    /// The client itself (client credentials), holding the DPoP key `dpop_jkt` when it proved one.
    pub fn client(client: &'a RegisteredClient, dpop_jkt: Option<&'a str>) -> Self {
        Self {
            sub: client.id.as_str(),
            grant_id: None,
            user: None,
            userinfo_claims: &[],
            dpop_jkt,
            act: None,
        }
    }
}

/// An access token's claims before it is signed.
pub struct UnsignedAccessToken<'a> {
    /// The RFC 9068 claims.
    pub claims: AccessTokenClaims,
    /// The client's mapped claims, signed beside them (borrowed from its
    /// configuration and the user's claims).
    pub mapped: Vec<(&'a str, &'a Value)>,
    /// Its lifetime in seconds.
    pub lifetime: u64,
}

/// Mints an RFC 9068 access token for `client`, acting for `grantee`.
pub fn access_token(
    client: &RegisteredClient,
    settings: &TokenSettings,
    keys: &KeyRing,
    grantee: &Grantee<'_>,
    scope: &Scope,
    aud: String,
) -> Result<MintedAccessToken, OAuthError> {
    let UnsignedAccessToken { claims, mapped, lifetime } =
        access_token_claims(client, settings, grantee, scope, aud);
    let token =
        sign(keys, client.metadata.access_token_signed_response_alg, |key| claims.sign_with(key, &mapped))?;
    Ok(MintedAccessToken { token, lifetime })
}

/// The claims of an RFC 9068 access token for `client`, acting for
/// `grantee`: what [`access_token`] signs.
pub fn access_token_claims<'a>(
    client: &'a RegisteredClient,
    settings: &TokenSettings,
    grantee: &Grantee<'a>,
    scope: &Scope,
    aud: String,
) -> UnsignedAccessToken<'a> {
    let lifetime = client.metadata.access_token_lifetime.unwrap_or(settings.access_token_lifetime.as_secs());
    let now = settings.clock.now().timestamp();
    let mapped = mapped(client, TokenKind::AccessToken, scope, grantee.user);
    let scope = scope.to_string();
    let claims = AccessTokenClaims {
        iss: settings.issuer.as_str().to_owned(),
        sub: grantee.sub.to_owned(),
        aud,
        client_id: client.id.as_str().to_owned(),
        scope: (!scope.is_empty()).then_some(scope),
        jti: uuid::Uuid::new_v4().to_string(),
        grant_id: grantee.grant_id.clone(),
        iat: now,
        nbf: None,
        exp: now + i64::try_from(lifetime).unwrap_or(i64::MAX / 2),
        userinfo_claims: grantee.userinfo_claims.to_vec(),
        cnf: grantee.dpop_jkt.map(|jkt| Confirmation { jkt: jkt.to_owned() }),
        act: grantee.act.clone(),
    };
    UnsignedAccessToken { claims, mapped, lifetime }
}

/// What `client`'s claim mappings release into `token` under `scope`.
fn mapped<'a>(
    client: &'a RegisteredClient,
    token: TokenKind,
    scope: &Scope,
    user: Option<&'a UserClaims>,
) -> Vec<(&'a str, &'a Value)> {
    claim_mappings::released(&client.metadata.claim_mappings, token, scope, user)
}

/// Whether `client`'s mappings, or the `claims` parameter's request for
/// the ID token (`asked`), read the user's claims into the tokens a grant
/// mints: whether the grant reads the user first.
pub fn reads_user(client: &RegisteredClient, asked: &RequestedClaims) -> bool {
    !asked.id_token.is_empty()
        || claim_mappings::reads_user(
            &client.metadata.claim_mappings,
            &[TokenKind::IdToken, TokenKind::AccessToken],
        )
}

/// Who authenticated, for an ID token.
pub struct Authenticated<'a> {
    /// The user's subject at the client, `sub`.
    pub user_id: &'a str,
    /// When they authenticated, seconds since the epoch.
    pub auth_time: i64,
    /// The session, `sid`.
    pub sid: &'a str,
    /// The authorization request's `nonce`; never on refresh (OpenID Connect Core §12.2).
    pub nonce: Option<&'a str>,
    /// How the user authenticated (RFC 8176); known at the code exchange only.
    pub amr: &'a [String],
    /// The user's claims, when the client's mappings or the `claims`
    /// parameter read any.
    pub claims: Option<&'a UserClaims>,
    /// The standard claims the `claims` parameter asked for in the ID
    /// token (OpenID Connect Core §5.5).
    pub asked: &'a [String],
}

/// An ID token for `client` (OpenID Connect Core §2) with what its claim
/// mappings release under `scope` and the standard claims the `claims`
/// parameter asked for in it (§5.5), bound to the access token issued with
/// it by `at_hash`, and living as long as it.
pub fn id_token(
    client: &RegisteredClient,
    settings: &TokenSettings,
    keys: &KeyRing,
    who: &Authenticated<'_>,
    scope: &Scope,
    access_token: &MintedAccessToken,
) -> Result<String, OAuthError> {
    let alg = client.metadata.id_token_signed_response_alg;
    let claims = IdTokenClaims {
        at_hash: Some(portcullis_jose::at_hash(&access_token.token, alg)),
        ..id_token_claims(client, settings, who, access_token.lifetime)
    };
    let extra = id_token_extra(client, scope, who);
    sign(keys, alg, |key| claims.sign(key, &extra))
}

/// The claims an ID token carries beside its own: what `client`'s mappings
/// release under `scope`, and the standard claims asked for by name (never
/// the same names: a mapping never takes a standard claim's).
fn id_token_extra<'a>(
    client: &'a RegisteredClient,
    scope: &Scope,
    who: &Authenticated<'a>,
) -> Vec<(&'a str, &'a Value)> {
    let mut extra = mapped(client, TokenKind::IdToken, scope, who.claims);
    if let Some(user) = who.claims {
        extra.extend(claims_request::released(who.asked, &user.standard));
    }
    extra
}

/// The claims of an ID token for `client` living `lifetime` seconds, but
/// its `at_hash`: what [`id_token`] signs.
fn id_token_claims(
    client: &RegisteredClient,
    settings: &TokenSettings,
    who: &Authenticated<'_>,
    lifetime: u64,
) -> IdTokenClaims {
    let now = settings.clock.now().timestamp();
    IdTokenClaims {
        iss: settings.issuer.as_str().to_owned(),
        sub: who.user_id.to_owned(),
        aud: client.id.as_str().to_owned(),
        exp: now + i64::try_from(lifetime).unwrap_or(i64::MAX / 2),
        iat: now,
        auth_time: who.auth_time,
        nonce: who.nonce.map(str::to_owned),
        at_hash: None,
        azp: client.id.as_str().to_owned(),
        sid: Some(who.sid.to_owned()),
        amr: who.amr.to_vec(),
    }
}

/// What a user's grant (a code, a refresh-token family) carries into the
/// tokens minted from it.
pub struct UserGrant<'a> {
    /// The user.
    pub user_id: &'a str,
    /// The grant, `grant_id` in the access token.
    pub grant_id: &'a str,
    /// What the `claims` parameter asked for (OpenID Connect Core §5.5).
    pub requested: &'a RequestedClaims,
    /// When the user authenticated, seconds since the epoch.
    pub auth_time: i64,
    /// The session, `sid`.
    pub sid: &'a str,
    /// The authorization request's `nonce`, at the code exchange only.
    pub nonce: Option<&'a str>,
    /// How the user authenticated, at the code exchange only.
    pub amr: &'a [String],
}

/// The access token of a user's `grant` under `scope` for `aud`, and the
/// ID token with it when `scope` has `openid`: both name the user by their
/// subject at the client (OpenID Connect Core §8.1) and carry the claims of
/// `user` the client's mappings and the `claims` parameter release.
pub fn user_tokens(
    context: &GrantContext<'_>,
    grant: &UserGrant<'_>,
    user: Option<&UserClaims>,
    scope: &Scope,
    aud: String,
) -> Result<(MintedAccessToken, Option<String>), OAuthError> {
    let GrantContext { client, settings, keys, .. } = *context;
    let sub = keys.subjects().subject(&client.metadata, grant.user_id);
    let grantee = Grantee {
        sub: &sub,
        grant_id: Some(grant.grant_id.to_owned()),
        user,
        userinfo_claims: &grant.requested.userinfo,
        dpop_jkt: context.dpop_jkt,
        act: None,
    };
    let minted = access_token(client, settings, keys, &grantee, scope, aud)?;
    let who = Authenticated {
        user_id: &sub,
        auth_time: grant.auth_time,
        sid: grant.sid,
        nonce: grant.nonce,
        amr: grant.amr,
        claims: user,
        asked: &grant.requested.id_token,
    };
    let id_token = scope
        .contains("openid")
        .then(|| id_token(client, settings, keys, &who, scope, &minted))
        .transpose()?;
    Ok((minted, id_token))
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
