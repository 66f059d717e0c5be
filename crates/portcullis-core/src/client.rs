//! Clients: identifiers, grant types, authentication methods and the
//! configuration each client version holds (RFC 7591 metadata names).

use crate::client_fields::client_field;
use crate::{RedirectUri, Scope, SigningAlgorithm};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// A client identifier (RFC 6749 §2.2): 1 to 255 visible ASCII characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(String);

/// Why a string is not a client identifier.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a client_id is 1 to 255 visible ASCII characters")]
pub struct ClientIdError;

impl ClientId {
    /// Parses a client identifier.
    pub fn parse(raw: &str) -> Result<Self, ClientIdError> {
        // RFC 6749 Appendix A.1: client-id = *VSCHAR; spaces are refused too.
        let valid = (1..=255).contains(&raw.len()) && raw.bytes().all(|b| (0x21..=0x7E).contains(&b));
        valid.then(|| Self(raw.to_owned())).ok_or(ClientIdError)
    }
}

parsed_string!(ClientId);

/// A grant type a client may use (RFC 7591 §2 `grant_types`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    /// RFC 6749 §4.1.
    AuthorizationCode,
    /// RFC 6749 §4.4.
    ClientCredentials,
    /// RFC 6749 §6.
    RefreshToken,
    /// RFC 8628 §3.4: a device without a browser polls while its user
    /// approves on another.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:device_code")]
    DeviceCode,
    /// RFC 8693 §2.1: a token of another party exchanged for one of this
    /// client's, under its `token_exchange` policy.
    #[serde(rename = "urn:ietf:params:oauth:grant-type:token-exchange")]
    TokenExchange,
}

impl GrantType {
    /// Every grant type a client may be registered for.
    pub const ALL: [GrantType; 5] = [
        Self::AuthorizationCode,
        Self::ClientCredentials,
        Self::RefreshToken,
        Self::DeviceCode,
        Self::TokenExchange,
    ];

    /// The grant type named `name`, if there is one.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|grant| grant.as_str() == name)
    }

    /// The `grant_type` value (RFC 6749 §4.1.3, §4.4.2, §6).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::ClientCredentials => "client_credentials",
            Self::RefreshToken => "refresh_token",
            Self::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
            Self::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }
}

/// How a client authenticates at the token endpoint (RFC 7591 §2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    /// HTTP Basic with the form-encoded id and secret (RFC 6749 §2.3.1).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body (RFC 6749 §2.3.1).
    ClientSecretPost,
    /// A JWT signed with the client's registered key (RFC 7523 §2.2).
    PrivateKeyJwt,
    /// A public client: no authentication.
    None,
}

impl TokenEndpointAuthMethod {
    /// Every method, in the order they are advertised.
    pub const ALL: [TokenEndpointAuthMethod; 4] = [
        TokenEndpointAuthMethod::ClientSecretBasic,
        TokenEndpointAuthMethod::ClientSecretPost,
        TokenEndpointAuthMethod::PrivateKeyJwt,
        TokenEndpointAuthMethod::None,
    ];

    /// The RFC 7591 name.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenEndpointAuthMethod::ClientSecretBasic => "client_secret_basic",
            TokenEndpointAuthMethod::ClientSecretPost => "client_secret_post",
            TokenEndpointAuthMethod::PrivateKeyJwt => "private_key_jwt",
            TokenEndpointAuthMethod::None => "none",
        }
    }

    /// The method named `name`, if this server supports it.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|method| method.as_str() == name)
    }

    /// Whether the method proves possession of a shared secret.
    pub fn uses_secret(self) -> bool {
        matches!(self, TokenEndpointAuthMethod::ClientSecretBasic | TokenEndpointAuthMethod::ClientSecretPost)
    }
}

/// The kind of application (OpenID Connect Registration §2 `application_type`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationType {
    /// Runs on a web server or in a browser; the default.
    #[default]
    Web,
    /// Runs on the user's device (RFC 8252).
    Native,
}

/// The longest access-token lifetime a client may be configured with.
pub const MAX_ACCESS_TOKEN_LIFETIME: u64 = 24 * 60 * 60;

/// One version of a client's configuration. Field names are RFC 7591's where
/// it has one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientMetadata {
    /// Human-readable name.
    pub client_name: String,
    /// Response types the client may use at the authorization endpoint
    /// (RFC 7591 §2): only `code` is supported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_types: Vec<String>,
    /// `web` (the default) or `native`, which decides the redirect URIs
    /// allowed (OpenID Connect Registration §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_type: Option<ApplicationType>,
    /// The client's home page (RFC 7591 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    /// The client's logo (RFC 7591 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    /// The client's terms of service (RFC 7591 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<String>,
    /// The client's privacy policy (RFC 7591 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    /// Ways to reach the people responsible for the client, usually e-mail
    /// addresses (RFC 7591 §2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<String>,
    /// The software the client runs, across its instances (RFC 7591 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    /// The version of that software (RFC 7591 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    /// Where a third party may start a login for the client (OpenID Connect
    /// Registration §2); https.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiate_login_uri: Option<String>,
    /// `public` (the default: a user's `sub` is the same at every client) or
    /// `pairwise` (one per sector, OpenID Connect Core §8.1; Registration §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_type: Option<String>,
    /// The https URL of a JSON array of the sector's redirect URIs, whose
    /// host is the sector of pairwise subjects (OpenID Connect Registration
    /// §2, Core §8.1); without it, the host of the redirect URIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector_identifier_uri: Option<String>,
    /// Signs UserInfo answers with this algorithm (`application/jwt`,
    /// OpenID Connect Core §5.3.2); plain JSON when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_signed_response_alg: Option<SigningAlgorithm>,
    /// Signs the introspection answers this client asks for as JWTs
    /// (`application/token-introspection+jwt`, RFC 9701 §6); RS256 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_signed_response_alg: Option<SigningAlgorithm>,
    /// The algorithm the client signs its `private_key_jwt` assertions with
    /// (OpenID Connect Registration §2); any supported one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<SigningAlgorithm>,
    /// Whether the client's authorization requests must be pushed first
    /// (RFC 9126 §6): `/authorize` then takes only a `request_uri` it issued.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_pushed_authorization_requests: bool,
    /// Whether the client's authorization requests must come as request
    /// objects signed with its keys (RFC 9101 §10.5).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_signed_request_object: bool,
    /// The algorithm the client signs its request objects with (OpenID
    /// Connect Registration §2); any supported one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_object_signing_alg: Option<SigningAlgorithm>,
    /// The https locations of request objects the client may pass by
    /// reference as `request_uri` (OpenID Connect Registration §2, RFC 9101
    /// §5.2): no other location is ever fetched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_uris: Vec<String>,
    /// Whether the client's access tokens are always bound to a DPoP key:
    /// a token request without a proof is refused (RFC 9449 §5.2).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dpop_bound_access_tokens: bool,
    /// Whether ID tokens must carry `auth_time` (OpenID Connect
    /// Registration §2); they always do here.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_auth_time: bool,
    /// Grant types the client may use.
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<GrantType>,
    /// The scope the client may ask for; also its default when it asks for none.
    #[serde(default)]
    pub scope: Scope,
    /// How the client authenticates at the token endpoint.
    #[serde(default)]
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// The client's public keys (RFC 7517 JWK Set), for `private_key_jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// Where the client publishes its public keys, instead of `jwks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// How access tokens for this client are signed.
    #[serde(default = "default_alg")]
    pub access_token_signed_response_alg: SigningAlgorithm,
    /// Access-token lifetime in seconds; the server default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_lifetime: Option<u64>,
    /// Addresses the client may call from; any when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_cidrs: Vec<IpNet>,
    /// Countries the client is expected to be used from; a use from
    /// elsewhere (by the configured country database) is reported to
    /// `outside_countries` alert rules. Any when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_countries: Vec<crate::country::Country>,
    /// Token requests per minute the client may make (0: unlimited); the
    /// server default (`--token-rate-limit`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_rate_limit: Option<u32>,
    /// Resource indicators (RFC 8707) the client may ask for as `resource`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// The audience of tokens issued without a `resource`; the issuer when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_resource: Option<String>,
    /// Whether the client may call the introspection endpoint.
    #[serde(default)]
    pub introspection_allowed: bool,
    /// Where authorization responses may be sent (RFC 7591 §2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<RedirectUri>,
    /// Web origins (`https://app.example`) whose pages may call the token,
    /// revocation and UserInfo endpoints for this client across origins
    /// (CORS, without credentials); the origins of its https and loopback
    /// redirect URIs when absent, none when empty. An extension of RFC 7591,
    /// like Keycloak's web origins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_origins: Option<Vec<String>>,
    /// Where the user may be sent after logging out (RP-Initiated Logout §3.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// Whether authorization requests must carry a PKCE challenge. Always
    /// true for public clients (RFC 9700 §2.1.1); true by default for all.
    #[serde(default = "yes")]
    pub require_pkce: bool,
    /// Whether the `plain` PKCE method is accepted; S256 only by default.
    #[serde(default)]
    pub pkce_plain_allowed: bool,
    /// How ID tokens for this client are signed (OpenID Connect Registration §2).
    #[serde(default = "default_alg")]
    pub id_token_signed_response_alg: SigningAlgorithm,
    /// A first-party client whose users are not asked for consent.
    #[serde(default)]
    pub skip_consent: bool,
    /// Seconds a refresh token stays valid unused; the server default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_idle_lifetime: Option<u64>,
    /// Seconds a refresh-token family lives at most; the server default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_absolute_lifetime: Option<u64>,
    /// Whether each use of a refresh token gives a new one and retires it
    /// (RFC 9700 §4.14.2; on by default). Off, the token stays the same
    /// until its family ends, as FAPI 2.0 §5.3.2.1 asks: no new one is
    /// issued, and using it keeps it alive for its idle lifetime.
    #[serde(default = "yes")]
    pub refresh_token_rotation: bool,
    /// The profile the client follows, whose rules its configuration keeps
    /// ([`crate::client_profile`]): `fapi2`, or none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<crate::ClientProfile>,
    /// Seconds after rotation during which the previous refresh token may be
    /// presented again without revoking its family (0 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_reuse_interval: Option<u64>,
    /// What the client may exchange with the token-exchange grant (RFC
    /// 8693); set by admins only. Without it the grant is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_exchange: Option<crate::token_exchange::ExchangePolicy>,
    /// The claims of the client's own domain its tokens carry, each from a
    /// user attribute, a standard claim or a constant (an extension, like
    /// Keycloak's protocol mappers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claim_mappings: Vec<crate::claim_mappings::ClaimMapping>,
}

fn default_grant_types() -> Vec<GrantType> {
    vec![GrantType::ClientCredentials]
}

fn default_alg() -> SigningAlgorithm {
    SigningAlgorithm::Rs256
}

fn yes() -> bool {
    true
}

/// The `subject_type` of pairwise subjects.
pub const PAIRWISE: &str = "pairwise";

/// The most countries a client may be restricted to.
pub const MAX_COUNTRIES: usize = 50;
/// The longest a refresh-token family may be configured to live.
pub const MAX_REFRESH_TOKEN_LIFETIME: u64 = 365 * 24 * 60 * 60;
/// The longest reuse interval a client may be configured with.
pub const MAX_REFRESH_TOKEN_REUSE_INTERVAL: u64 = 60;

/// A metadata field that is not acceptable, and why.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[error("{field}: {message}")]
pub struct MetadataError {
    /// The RFC 7591 name of the field (or the path into it).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl MetadataError {
    /// What is wrong with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> MetadataError {
    MetadataError::new(field, message)
}

impl ClientMetadata {
    /// A configuration from its JSON object (RFC 7591 member names): read
    /// into its type, then [`validate`](Self::validate)d: each member by its
    /// [`Shape`](crate::client_fields::Shape), then the rules between them. The one way
    /// a configuration is made from input; a wrong member is named (RFC 7591
    /// §3.2.2).
    pub fn parse(mut object: serde_json::Map<String, serde_json::Value>) -> Result<Self, MetadataError> {
        crate::client_profile::fill_defaults(&mut object);
        let metadata: Self =
            serde_path_to_error::deserialize(serde_json::Value::Object(object)).map_err(|e| {
                let field = e.path().to_string();
                let field = if field == "." { String::new() } else { field };
                MetadataError::new(field, e.into_inner().to_string())
            })?;
        metadata.validate()?;
        Ok(metadata)
    }

    /// Checks each member by its shape, then the rules between members,
    /// which no member's shape can say: what every configuration written
    /// passes, parsed or restored from an older version.
    pub fn validate(&self) -> Result<(), MetadataError> {
        self.check_members()?;
        if self.grant_types.is_empty() {
            return Err(invalid("grant_types", "must name at least one grant type"));
        }
        let method = self.token_endpoint_auth_method;
        if method == TokenEndpointAuthMethod::None && self.grant_types.contains(&GrantType::ClientCredentials)
        {
            // RFC 6749 §4.4: the client credentials grant is for confidential clients only.
            return Err(invalid(
                "token_endpoint_auth_method",
                "a public client (none) cannot use client_credentials",
            ));
        }
        match (&self.jwks, &self.jwks_uri) {
            // RFC 7591 §2: the two must not both be present.
            (Some(_), Some(_)) => {
                return Err(invalid("jwks_uri", "give jwks or jwks_uri, not both (RFC 7591 §2)"))
            }
            (Some(jwks), None) => validate_jwks(jwks)?,
            (None, Some(_)) => {}
            (None, None) if method == TokenEndpointAuthMethod::PrivateKeyJwt => {
                return Err(invalid(
                    "jwks",
                    "private_key_jwt needs the client's public keys (jwks or jwks_uri)",
                ))
            }
            (None, None) => {}
        }
        self.validate_code_flow()?;
        self.validate_registration_members()?;
        crate::client_profile::check(self)?;
        if self.subject_type.as_deref() == Some(PAIRWISE) && self.sector().is_none() {
            // OpenID Connect Core §8.1: redirect URIs on several hosts need a sector_identifier_uri.
            return Err(invalid(
                "sector_identifier_uri",
                "pairwise subjects need one sector: a sector_identifier_uri, or redirect URIs on one host",
            ));
        }
        validate_origins(self.allowed_origins.as_deref().unwrap_or_default())?;
        match (&self.token_exchange, self.allows_grant(GrantType::TokenExchange)) {
            (Some(policy), true) => policy.validate()?,
            (None, false) => {}
            (Some(_), false) => return Err(invalid("token_exchange", "needs the token-exchange grant")),
            (None, true) => {
                return Err(invalid("grant_types", "the token-exchange grant needs a token_exchange policy"))
            }
        }
        if self.allows_grant(GrantType::TokenExchange)
            && self.token_endpoint_auth_method == TokenEndpointAuthMethod::None
        {
            // RFC 8693 §2.1: the exchanging client authenticates.
            return Err(invalid("token_endpoint_auth_method", "a public client cannot exchange tokens"));
        }
        crate::claim_mappings::validate(&self.claim_mappings, &self.scope)?;
        for resource in self.resources.iter().chain(&self.default_resource) {
            validate_resource(resource)?;
        }
        if let Some(default) = &self.default_resource {
            if !self.resources.is_empty() && !self.resources.contains(default) {
                return Err(invalid("default_resource", "must be one of resources"));
            }
        }
        Ok(())
    }

    /// Each member as the table of client metadata describes it.
    fn check_members(&self) -> Result<(), MetadataError> {
        let Ok(serde_json::Value::Object(members)) = serde_json::to_value(self) else {
            return Err(invalid("client_name", "the configuration cannot be written as JSON"));
        };
        for (name, value) in &members {
            if let Some(field) = client_field(name) {
                field.check(value)?;
            }
        }
        Ok(())
    }

    /// The rules of clients that use the authorization code flow.
    fn validate_code_flow(&self) -> Result<(), MetadataError> {
        let code = self.allows_grant(GrantType::AuthorizationCode);
        if code && self.redirect_uris.is_empty() {
            return Err(invalid(
                "redirect_uris",
                "the authorization_code grant needs at least one redirect URI",
            ));
        }
        let issuing =
            [GrantType::DeviceCode, GrantType::TokenExchange].into_iter().any(|g| self.allows_grant(g));
        if self.allows_grant(GrantType::RefreshToken) && !code && !issuing {
            return Err(invalid(
                "grant_types",
                "refresh_token is issued only with authorization_code, the device grant or token exchange",
            ));
        }
        if self.token_endpoint_auth_method == TokenEndpointAuthMethod::None && !self.require_pkce {
            // RFC 9700 §2.1.1: public clients must use PKCE.
            return Err(invalid("require_pkce", "a public client (none) must use PKCE"));
        }
        if self.token_endpoint_auth_method == TokenEndpointAuthMethod::None
            && !self.refresh_token_rotation
            && !self.dpop_bound_access_tokens
        {
            // RFC 9700 §4.14.2: a public client's refresh tokens are rotated or sender-constrained.
            return Err(invalid(
                "refresh_token_rotation",
                "a public client keeps rotation unless its tokens are DPoP-bound (dpop_bound_access_tokens)",
            ));
        }
        Ok(())
    }

    /// RFC 7591 §2 and OpenID Connect Registration §2 members that only
    /// describe the client, or restrict it to what this server supports.
    fn validate_registration_members(&self) -> Result<(), MetadataError> {
        if let Some(other) = self.response_types.iter().find(|t| *t != "code") {
            return Err(invalid("response_types", format!("`{other}` is not supported; only `code` is")));
        }
        if !self.response_types.is_empty() && !self.allows_grant(GrantType::AuthorizationCode) {
            // RFC 7591 §2.1: response type `code` goes with the authorization_code grant.
            return Err(invalid(
                "response_types",
                "`code` needs the authorization_code grant (RFC 7591 §2.1)",
            ));
        }
        if self.token_endpoint_auth_signing_alg.is_some()
            && self.token_endpoint_auth_method != TokenEndpointAuthMethod::PrivateKeyJwt
        {
            return Err(invalid("token_endpoint_auth_signing_alg", "applies only to private_key_jwt"));
        }
        self.validate_request_objects()?;
        self.validate_application_type()
    }

    /// Request objects (RFC 9101) are signed with the client's keys and
    /// belong to the authorization code flow.
    fn validate_request_objects(&self) -> Result<(), MetadataError> {
        let uses = [
            ("require_signed_request_object", self.require_signed_request_object),
            ("request_object_signing_alg", self.request_object_signing_alg.is_some()),
            ("request_uris", !self.request_uris.is_empty()),
        ];
        if let Some((member, _)) = uses.iter().find(|(_, used)| *used) {
            if self.jwks.is_none() && self.jwks_uri.is_none() {
                return Err(invalid(
                    member,
                    "request objects need the client's public keys (jwks or jwks_uri)",
                ));
            }
        }
        let front_channel = [
            ("require_pushed_authorization_requests", self.require_pushed_authorization_requests),
            ("require_signed_request_object", self.require_signed_request_object),
            ("request_uris", !self.request_uris.is_empty()),
        ];
        if let Some((member, _)) = front_channel.iter().find(|(_, used)| *used) {
            if !self.allows_grant(GrantType::AuthorizationCode) {
                return Err(invalid(member, "applies only to the authorization_code grant"));
            }
        }
        Ok(())
    }

    /// OpenID Connect Registration §2: native clients redirect to a private-use
    /// scheme or to http on loopback; web clients to https (or, for
    /// development, http on loopback), never to a private-use scheme.
    fn validate_application_type(&self) -> Result<(), MetadataError> {
        let native = self.application_type == Some(ApplicationType::Native);
        for uri in &self.redirect_uris {
            // The parsed scheme, lower-cased: `HTTPS:` is https too.
            let parsed = url::Url::parse(uri.as_str());
            let scheme = parsed.as_ref().map(url::Url::scheme).unwrap_or_default();
            let private_use = scheme != "https" && scheme != "http";
            if native && scheme == "https" {
                return Err(invalid(
                    "redirect_uris",
                    format!("`{uri}`: a native client redirects to a private-use scheme or to http on loopback (OpenID Connect Registration §2)"),
                ));
            }
            if !native && private_use {
                return Err(invalid(
                    "redirect_uris",
                    format!(
                        "`{uri}`: a private-use scheme is for native clients; set application_type to native"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Whether the client follows the FAPI 2.0 Security Profile.
    pub fn is_fapi2(&self) -> bool {
        self.profile == Some(crate::ClientProfile::Fapi2)
    }

    /// Whether a JWT the client signs (an assertion, a request object, a
    /// DPoP proof) may be signed with `alg`, one this server accepts: any,
    /// but RS256 not for a FAPI 2.0 client (FAPI 2.0 §5.4.1).
    pub fn admits_signature(&self, alg: SigningAlgorithm) -> bool {
        !(self.is_fapi2() && alg == SigningAlgorithm::Rs256)
    }

    /// The sector of a pairwise client's subjects (OpenID Connect Core
    /// §8.1): the host of its `sector_identifier_uri`, else the one host of
    /// its https redirect URIs. `None` for a public client, and for a
    /// pairwise one without a sector: redirect URIs on several hosts, on
    /// loopback or of a private-use scheme, which anyone can claim, need a
    /// `sector_identifier_uri`.
    pub fn sector(&self) -> Option<String> {
        if self.subject_type.as_deref() != Some(PAIRWISE) {
            return None;
        }
        if let Some(uri) = &self.sector_identifier_uri {
            return url::Url::parse(uri).ok()?.host_str().map(str::to_ascii_lowercase);
        }
        let mut hosts = self.redirect_uris.iter().map(|uri| {
            let url = url::Url::parse(uri.as_str()).ok().filter(|url| url.scheme() == "https")?;
            let host = url.host_str()?.to_ascii_lowercase();
            (host != "localhost" && host.parse::<std::net::IpAddr>().is_err() && !host.starts_with('['))
                .then_some(host)
        });
        let first = hosts.next()??;
        hosts.all(|host| host.as_deref() == Some(first.as_str())).then_some(first)
    }

    /// Whether the client may use `grant`.
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Whether a page of `origin` (as a browser sends it in `Origin`) may
    /// call this client's endpoints: one of `allowed_origins`, or of its
    /// redirect URIs' origins when it names none.
    pub fn allows_origin(&self, origin: &str) -> bool {
        match &self.allowed_origins {
            Some(origins) => origins.iter().any(|allowed| allowed == origin),
            None => {
                self.redirect_uris.iter().any(|uri| web_origin(uri.as_str()).is_some_and(|o| o == origin))
            }
        }
    }
}

/// The origin of `url` as browsers serialise it (RFC 6454 §6.2), when it
/// has one a page can run at: https, or http on a loopback host.
fn web_origin(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let loopback = match url.host()? {
        url::Host::Domain(name) => name == "localhost",
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    (url.scheme() == "https" || (url.scheme() == "http" && loopback))
        .then(|| url.origin().ascii_serialization())
}

/// The most origins a client may list.
pub const MAX_ORIGINS: usize = 50;

/// Each of `origins` an origin exactly as browsers send it: a scheme, a host
/// and a port only if it is not the scheme's own (no path, not even `/`).
fn validate_origins(origins: &[String]) -> Result<(), MetadataError> {
    if origins.len() > MAX_ORIGINS {
        return Err(invalid("allowed_origins", format!("at most {MAX_ORIGINS} origins")));
    }
    for origin in origins {
        if web_origin(origin).as_deref() != Some(origin.as_str()) {
            return Err(invalid(
                "allowed_origins",
                format!("`{origin}` is not an origin such as https://app.example (https, or http on loopback; no path)"),
            ));
        }
    }
    Ok(())
}

/// An https URL (http only to loopback, for development) without user
/// information or fragment: what a browser may be sent to or load.
pub(crate) fn validate_web_url(field: &'static str, uri: &str) -> Result<(), MetadataError> {
    let refused =
        || invalid(field, format!("`{uri}` must be an https URL without a fragment (http only to loopback)"));
    let url = url::Url::parse(uri).map_err(|_| refused())?;
    let loopback = matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
        || url.host_str() == Some("localhost");
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    if !scheme_ok || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(refused());
    }
    Ok(())
}

/// RFC 8707 §2: an absolute URI without a fragment.
fn validate_resource(resource: &str) -> Result<(), MetadataError> {
    match url::Url::parse(resource) {
        Ok(url) if url.fragment().is_none() && !resource.contains('#') => Ok(()),
        _ => Err(invalid(
            "resources",
            format!("`{resource}` is not an absolute URI without a fragment (RFC 8707 §2)"),
        )),
    }
}

/// A JWK Set of public keys: private members are refused so a client cannot
/// hand its private key to the server by mistake.
fn validate_jwks(jwks: &serde_json::Value) -> Result<(), MetadataError> {
    let keys = jwks.get("keys").and_then(|keys| keys.as_array()).filter(|keys| !keys.is_empty());
    let Some(keys) = keys else {
        return Err(invalid("jwks", "must be a JWK Set with at least one key"));
    };
    for key in keys {
        let Some(key) = key.as_object() else {
            return Err(invalid("jwks", "every key must be a JSON object"));
        };
        if !key.get("kty").is_some_and(|kty| kty.is_string()) {
            return Err(invalid("jwks", "every key needs a kty"));
        }
        if ["d", "p", "q", "dp", "dq", "qi", "k"].iter().any(|member| key.contains_key(*member)) {
            return Err(invalid("jwks", "keys must be public: private members are not accepted"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod origin_tests {
    use super::*;

    fn parsed(json: serde_json::Value) -> Result<ClientMetadata, MetadataError> {
        let serde_json::Value::Object(object) = json else { panic!("an object") };
        ClientMetadata::parse(object)
    }

    #[test]
    fn origins_default_to_the_redirect_uris_and_are_checked_as_browsers_send_them() {
        let spa = parsed(serde_json::json!({"client_name": "spa", "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "none",
            "redirect_uris": ["https://app.example/cb", "http://127.0.0.1:5173/cb"]}))
        .unwrap();
        assert!(spa.allows_origin("https://app.example") && spa.allows_origin("http://127.0.0.1:5173"));
        assert!(!spa.allows_origin("https://app.example:8443") && !spa.allows_origin("https://evil.example"));
        assert!(!spa.allows_origin("null"), "an opaque origin is never allowed");
        let native = parsed(serde_json::json!({"client_name": "app", "application_type": "native", "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "none", "redirect_uris": ["com.example.app:/cb"]})).unwrap();
        assert!(
            !native.allows_origin("null") && !native.allows_origin("com.example.app://"),
            "a private-use scheme is no web origin"
        );
        let named =
            parsed(serde_json::json!({"client_name": "spa", "allowed_origins": ["https://other.example"]}))
                .unwrap();
        assert!(named.allows_origin("https://other.example") && !named.allows_origin("https://app.example"));
        let none = parsed(serde_json::json!({"client_name": "x", "allowed_origins": [],
            "grant_types": ["authorization_code"], "redirect_uris": ["https://app.example/cb"]}))
        .unwrap();
        assert!(!none.allows_origin("https://app.example"), "an empty list allows none");
        for bad in [
            "https://app.example/",
            "https://app.example/path",
            "http://app.example",
            "https://APP.example",
            "https://app.example:443",
            "*",
            "null",
            "app.example",
        ] {
            let refused = parsed(serde_json::json!({"client_name": "x", "allowed_origins": [bad]}));
            assert_eq!(refused.map(drop).unwrap_err().field, "allowed_origins", "{bad}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(json: serde_json::Value) -> Result<ClientMetadata, String> {
        let serde_json::Value::Object(object) = json else { panic!("an object") };
        ClientMetadata::parse(object).map_err(|e| e.to_string())
    }

    #[test]
    fn a_configuration_restored_as_stored_is_checked_member_by_member() {
        // A version written before a member's rule existed never went through `parse`.
        let stored: ClientMetadata = serde_json::from_value(
            serde_json::json!({"client_name": "old", "logo_uri": "http://old.example/l.png"}),
        )
        .unwrap();
        assert_eq!(stored.validate().unwrap_err().field, "logo_uri");
    }

    #[test]
    fn a_service_needs_only_a_name() {
        let m = metadata(serde_json::json!({"client_name": "billing"})).unwrap();
        assert_eq!(m.grant_types, [GrantType::ClientCredentials]);
        assert_eq!(m.token_endpoint_auth_method, TokenEndpointAuthMethod::ClientSecretBasic);
        assert_eq!(m.access_token_signed_response_alg, SigningAlgorithm::Rs256);
        assert!(!m.introspection_allowed);
    }

    /// What standard registration tooling sends for a web app.
    fn web_app() -> serde_json::Value {
        serde_json::json!({
            "client_name": "shop", "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"], "redirect_uris": ["https://shop.example/cb"],
            "client_uri": "https://shop.example/", "logo_uri": "https://shop.example/logo.png",
            "tos_uri": "https://shop.example/tos", "policy_uri": "https://shop.example/privacy",
            "contacts": ["ops@shop.example"], "software_id": "4NRB1-0XZABZI9E6-5SM3R",
            "software_version": "2.1", "application_type": "web", "subject_type": "public",
            "initiate_login_uri": "https://shop.example/login", "require_auth_time": true
        })
    }

    #[test]
    fn every_rfc_7591_member_is_accepted_and_kept() {
        let m = metadata(web_app()).unwrap();
        let kept = serde_json::to_value(&m).unwrap();
        for (name, value) in web_app().as_object().unwrap() {
            assert_eq!(&kept[name], value, "{name}");
        }
    }

    #[test]
    fn a_pairwise_client_has_one_sector() {
        use serde_json::json;
        let pairwise = |extra: serde_json::Value| {
            let mut json = web_app();
            json["subject_type"] = "pairwise".into();
            json.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            metadata(json)
        };
        assert_eq!(metadata(web_app()).unwrap().sector(), None, "a public client has none");
        assert_eq!(pairwise(serde_json::json!({})).unwrap().sector().as_deref(), Some("shop.example"));
        let two_hosts =
            serde_json::json!({"redirect_uris": ["https://shop.example/cb", "https://Other.example/cb"]});
        assert!(
            pairwise(two_hosts.clone()).unwrap_err().starts_with("sector_identifier_uri:"),
            "OpenID Connect Core §8.1"
        );
        let mut listed = two_hosts;
        listed["sector_identifier_uri"] = "https://Sector.example/uris.json".into();
        assert_eq!(pairwise(listed).unwrap().sector().as_deref(), Some("sector.example"));
        for claimable in
            [json!(["com.shop.app:/cb"]), json!(["http://127.0.0.1/cb"]), json!(["https://127.0.0.1/cb"])]
        {
            let native = json!({"application_type": if claimable[0].as_str().unwrap().starts_with("https") { "web" } else { "native" },
                                "redirect_uris": claimable});
            assert!(
                pairwise(native).is_err(),
                "a private-use scheme or loopback names no sector: {claimable}"
            );
        }
    }

    #[test]
    fn request_objects_need_keys_and_the_code_flow() {
        let keys = serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRjG5OcZ8MfqhnZ6Xz3pc8mkN3nKZQ3cEcJLoPQ"}]});
        for (member, value) in [
            ("require_signed_request_object", serde_json::json!(true)),
            ("request_object_signing_alg", serde_json::json!("ES256")),
            ("request_uris", serde_json::json!(["https://shop.example/request.jwt"])),
        ] {
            let mut json = web_app();
            json[member] = value.clone();
            let error = metadata(json.clone()).unwrap_err();
            assert!(error.starts_with(&format!("{member}:")) && error.contains("keys"), "{member}: {error}");
            json["jwks"] = keys.clone();
            assert!(metadata(json).is_ok(), "{member} with keys");
        }
        let mut service =
            serde_json::json!({"client_name": "svc", "require_pushed_authorization_requests": true});
        let error = metadata(service.clone()).unwrap_err();
        assert!(error.starts_with("require_pushed_authorization_requests:"), "{error}");
        service["require_pushed_authorization_requests"] = false.into();
        assert!(metadata(service).is_ok());
        let mut listed = web_app();
        listed["jwks"] = keys;
        listed["request_uris"] = serde_json::json!(["https://shop.example/r.jwt#v1"]);
        assert!(metadata(listed.clone()).is_ok(), "a fragment tells caches apart");
        listed["request_uris"] = serde_json::json!(["ftp://shop.example/r.jwt"]);
        assert!(metadata(listed).unwrap_err().starts_with("request_uris:"));
    }

    #[test]
    fn rfc_7591_members_are_validated_and_named() {
        let refused = |member: &str, value: serde_json::Value| {
            let mut json = web_app();
            json[member] = value;
            metadata(json).unwrap_err()
        };
        for (member, value) in [
            ("response_types", serde_json::json!(["token"])),
            ("response_types", serde_json::json!(["code", "id_token"])),
            ("client_uri", serde_json::json!("javascript:alert(1)")),
            ("logo_uri", serde_json::json!("http://shop.example/logo.png")),
            ("tos_uri", serde_json::json!("not a url")),
            ("policy_uri", serde_json::json!("https://user:pw@shop.example/")),
            ("initiate_login_uri", serde_json::json!("https://shop.example/#frag")),
            ("contacts", serde_json::json!(["", "x"])),
            ("contacts", serde_json::json!(vec!["a@b.example"; 21])),
            ("software_id", serde_json::json!("bad\u{0}id")),
            ("software_version", serde_json::json!("")),
            ("subject_type", serde_json::json!("private")),
            ("token_endpoint_auth_signing_alg", serde_json::json!("RS256")),
        ] {
            let error = refused(member, value.clone());
            assert!(error.starts_with(&format!("{member}:")), "{member} = {value}: {error}");
        }
        let mut service = serde_json::json!({"client_name": "svc", "response_types": ["code"]});
        assert!(
            metadata(service.clone()).unwrap_err().starts_with("response_types:"),
            "code needs the code grant"
        );
        service["response_types"] = serde_json::json!([]);
        assert!(metadata(service).is_ok(), "an empty list suits a service");
        assert!(refused("application_type", serde_json::json!("desktop")).contains("unknown variant"));
    }

    #[test]
    fn native_and_web_clients_redirect_where_openid_connect_registration_says() {
        let app = |kind: &str, uri: &str| {
            metadata(serde_json::json!({"client_name": "app", "grant_types": ["authorization_code"],
                "token_endpoint_auth_method": "none", "application_type": kind, "redirect_uris": [uri]}))
        };
        assert!(app("native", "com.example.app:/cb").is_ok());
        assert!(app("native", "http://127.0.0.1/cb").is_ok());
        assert!(app("native", "http://localhost:8000/cb").is_ok());
        assert!(app("native", "https://app.example/cb").unwrap_err().starts_with("redirect_uris:"));
        assert!(app("native", "HTTPS://app.example/cb").is_err(), "schemes are compared parsed");
        assert!(app("web", "HTTPS://app.example/cb").is_ok());
        assert!(app("web", "https://app.example/cb").is_ok());
        assert!(app("web", "http://localhost/cb").is_ok(), "development on loopback");
        assert!(app("web", "com.example.app:/cb").unwrap_err().contains("native"));
    }

    #[test]
    fn round_trips_through_rfc_7591_names() {
        let json = serde_json::json!({
            "client_name": "api", "grant_types": ["client_credentials"], "scope": "read write",
            "token_endpoint_auth_method": "client_secret_post", "access_token_signed_response_alg": "ES256",
            "access_token_lifetime": 600, "allowed_cidrs": ["10.0.0.0/8", "::1/128"],
            "allowed_countries": ["DE", "FR"], "resources": ["https://api.example/"], "default_resource": "https://api.example/",
            "introspection_allowed": true, "require_pkce": true, "pkce_plain_allowed": false,
            "id_token_signed_response_alg": "RS256", "skip_consent": false, "refresh_token_rotation": true
        });
        let m = metadata(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&m).unwrap(), json);
    }

    #[test]
    fn refuses_unknown_fields_and_values() {
        assert!(metadata(serde_json::json!({"client_name": "x", "colour": "red"}))
            .unwrap_err()
            .contains("colour"));
        assert!(metadata(serde_json::json!({"client_name": "x", "grant_types": ["implicit"]})).is_err());
        assert!(metadata(
            serde_json::json!({"client_name": "x", "token_endpoint_auth_method": "tls_client_auth"})
        )
        .is_err());
        assert!(metadata(
            serde_json::json!({"client_name": "x", "access_token_signed_response_alg": "none"})
        )
        .is_err());
        assert!(metadata(serde_json::json!({"client_name": "x", "allowed_cidrs": ["10.0.0.0/33"]})).is_err());
        for countries in
            [serde_json::json!(["de"]), serde_json::json!(["DE", "DE"]), serde_json::json!(["DEU"])]
        {
            let bad = metadata(serde_json::json!({"client_name": "x", "allowed_countries": countries}));
            assert!(bad.is_err(), "{countries}");
        }
        assert!(metadata(serde_json::json!({"client_name": "x", "scope": "a\"b"})).is_err());
    }

    #[test]
    fn checks_rules_across_fields() {
        let cases = [
            (serde_json::json!({"client_name": " "}), "client_name"),
            (serde_json::json!({"client_name": "x", "grant_types": []}), "grant_types"),
            (
                serde_json::json!({"client_name": "x", "token_endpoint_auth_method": "none"}),
                "token_endpoint_auth_method",
            ),
            (
                serde_json::json!({"client_name": "x", "token_endpoint_auth_method": "private_key_jwt"}),
                "jwks",
            ),
            (
                serde_json::json!({"client_name": "x", "jwks": {"keys": [{"kty": "EC", "d": "secret"}]}}),
                "jwks",
            ),
            (serde_json::json!({"client_name": "x", "jwks": {"keys": []}}), "jwks"),
            (serde_json::json!({"client_name": "x", "grant_types": ["authorization_code"]}), "redirect_uris"),
            (
                serde_json::json!({"client_name": "x", "grant_types": ["client_credentials", "refresh_token"]}),
                "grant_types",
            ),
            (
                serde_json::json!({"client_name": "x", "grant_types": ["authorization_code"], "redirect_uris": ["https://a.example/cb"],
                                "token_endpoint_auth_method": "none", "require_pkce": false}),
                "require_pkce",
            ),
            (
                serde_json::json!({"client_name": "x", "refresh_token_idle_lifetime": 0}),
                "refresh_token_idle_lifetime",
            ),
            (
                serde_json::json!({"client_name": "x", "refresh_token_reuse_interval": 61}),
                "refresh_token_reuse_interval",
            ),
            (
                serde_json::json!({"client_name": "x", "jwks": {"keys": [{"kty": "EC"}]}, "jwks_uri": "https://c.example/jwks"}),
                "jwks_uri",
            ),
            (serde_json::json!({"client_name": "x", "jwks_uri": "http://c.example/jwks"}), "jwks_uri"),
            (serde_json::json!({"client_name": "x", "jwks_uri": "https://c.example/jwks#k"}), "jwks_uri"),
            (serde_json::json!({"client_name": "x", "jwks_uri": "not a url"}), "jwks_uri"),
            (serde_json::json!({"client_name": "x", "access_token_lifetime": 0}), "access_token_lifetime"),
            (
                serde_json::json!({"client_name": "x", "access_token_lifetime": 86401}),
                "access_token_lifetime",
            ),
            (serde_json::json!({"client_name": "x", "resources": ["/relative"]}), "resources"),
            (serde_json::json!({"client_name": "x", "resources": ["https://a.example/#f"]}), "resources"),
            (
                serde_json::json!({"client_name": "x", "resources": ["https://a.example/"], "default_resource": "https://b.example/"}),
                "default_resource",
            ),
        ];
        for (json, field) in cases {
            let error = metadata(json.clone()).unwrap_err();
            assert!(error.starts_with(field), "{json}: {error}");
        }
    }

    #[test]
    fn an_app_using_the_code_flow() {
        let app = metadata(serde_json::json!({
            "client_name": "spa", "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none", "redirect_uris": ["https://spa.example/cb", "http://127.0.0.1/cb"],
            "post_logout_redirect_uris": ["https://spa.example/"], "scope": "openid profile offline_access",
            "id_token_signed_response_alg": "ES256", "refresh_token_reuse_interval": 2
        }))
        .unwrap();
        assert!(app.require_pkce && !app.pkce_plain_allowed && !app.skip_consent, "safe defaults");
        assert!(app.redirect_uris[1].matches("http://127.0.0.1:4000/cb"));
        assert_eq!(app.id_token_signed_response_alg, SigningAlgorithm::Es256);
        let insecure = serde_json::json!({"client_name": "x", "grant_types": ["authorization_code"], "redirect_uris": ["http://app.example/cb"]});
        assert!(
            metadata(insecure).unwrap_err().contains("loopback"),
            "a bad redirect URI is refused while parsing"
        );
    }

    #[test]
    fn jwks_uri_is_https_or_loopback_http() {
        for uri in [
            "https://c.example/jwks",
            "http://127.0.0.1:9000/jwks",
            "http://[::1]/jwks",
            "http://localhost/jwks",
        ] {
            let json = serde_json::json!({"client_name": "x", "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": uri});
            assert!(metadata(json).is_ok(), "{uri}");
        }
    }

    #[test]
    fn client_ids_are_visible_ascii() {
        assert!(ClientId::parse("svc-1_a.b:c").is_ok());
        for bad in ["", "a b", "caf\u{e9}", "a\nb", &"x".repeat(256)] {
            assert!(ClientId::parse(bad).is_err(), "{bad:?}");
        }
    }
}
