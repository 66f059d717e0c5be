//! The one description of client metadata: every member a client
//! configuration may carry (RFC 7591 §2, OpenID Connect Registration §2,
//! and this server's own), with what its value must be ([`Shape`]), the
//! words a form shows for it, and the group it is shown in. Every
//! configuration written, parsed from input or restored from an older
//! version, is checked member by member against it
//! ([`ClientMetadata::validate`]); the admin API's JSON Schema and the
//! console's client form are made from the same table, so the three cannot
//! disagree on a member. What one member cannot say alone (a public client
//! needs PKCE, refresh tokens go with the code grant, …) `validate` checks
//! after the members.
//!
//! [`ClientMetadata::validate`]: crate::ClientMetadata::validate

use crate::client::{
    MetadataError, MAX_ACCESS_TOKEN_LIFETIME, MAX_COUNTRIES, MAX_REFRESH_TOKEN_LIFETIME,
    MAX_REFRESH_TOKEN_REUSE_INTERVAL,
};
use serde_json::Value;

/// What a member's value must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Visible text of 1 to this many characters, no control characters.
    Text(usize),
    /// A list of at most `items` texts, each as [`Shape::Text`] of `length`.
    Texts {
        /// The most items.
        items: usize,
        /// The longest item.
        length: usize,
    },
    /// A URL a browser may be sent to: https, or http on loopback.
    WebUrl,
    /// A list of at most this many [`Shape::WebUrl`]s, each of which may
    /// carry a fragment.
    WebUrls(usize),
    /// A number of seconds from 1 to this.
    Seconds(u64),
    /// A number of seconds from 0 to this.
    UpToSeconds(u64),
    /// Requests a minute (0: unlimited).
    PerMinute,
    /// `true` or `false`.
    Flag,
    /// A signing algorithm this server supports.
    Algorithm,
    /// A space-separated list of scope tokens (RFC 6749 §3.3).
    Scope,
    /// A list of IP networks in CIDR notation.
    Networks,
    /// At most [`MAX_COUNTRIES`] ISO 3166-1 alpha-2 codes, each once.
    Countries,
    /// Web origins (at most [`MAX_ORIGINS`](crate::client::MAX_ORIGINS));
    /// absent means the redirect URIs'.
    Origins,
    /// A list of RFC 8707 resource indicators.
    Resources,
    /// A resource indicator.
    Resource,
    /// One of these names.
    OneOf(&'static [&'static str]),
    /// Any of these names, as a list.
    AnyOf(&'static [&'static str]),
    /// A list of redirect URIs, as the kind of client allows them.
    RedirectUris,
    /// A JWK Set of public keys.
    Jwks,
    /// Claim mappings ([`ClaimMapping`](crate::claim_mappings::ClaimMapping)s).
    ClaimMappings,
    /// A token exchange policy ([`ExchangePolicy`](crate::token_exchange::ExchangePolicy)).
    ExchangePolicy,
}

/// Where a form shows a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// Name, type, logo and links.
    Identity,
    /// Redirects, PKCE and consent.
    SignIn,
    /// Grants, authentication and scope.
    Grants,
    /// Algorithms, lifetimes and audiences.
    Tokens,
    /// Where the client may be used from.
    Network,
    /// Not on the form: carried over unchanged when the form is saved.
    Described,
}

impl Group {
    /// The groups a form shows, in page order, each with its heading.
    pub const SHOWN: [(Group, &'static str); 5] = [
        (Group::Identity, "Identity"),
        (Group::SignIn, "Sign-in"),
        (Group::Grants, "Grants and authentication"),
        (Group::Tokens, "Tokens"),
        (Group::Network, "Network"),
    ];
}

/// One member of a client configuration.
#[derive(Debug)]
pub struct ClientField {
    /// Its RFC 7591 (or this server's) name.
    pub name: &'static str,
    /// What its value must be.
    pub shape: Shape,
    /// Where a form shows it.
    pub group: Group,
    /// What a form calls it.
    pub label: &'static str,
    /// A line of help under it.
    pub help: &'static str,
    /// What an absent member means, when it means a value.
    pub default: Option<&'static str>,
}

const fn field(
    name: &'static str,
    shape: Shape,
    group: Group,
    label: &'static str,
    help: &'static str,
) -> ClientField {
    ClientField { name, shape, group, label, help, default: None }
}

/// [`field`], meaning `default` when absent.
const fn defaulted(field: ClientField, default: &'static str) -> ClientField {
    ClientField { default: Some(default), ..field }
}

/// The most `request_uris` a client may register.
pub const MAX_REQUEST_URIS: usize = 10;
/// The grant types a client may be registered for.
pub const GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "client_credentials",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:token-exchange",
];
/// The client authentication methods.
pub const AUTH_METHODS: &[&str] = &["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];
/// The signing algorithms.
pub const ALGORITHMS: &[&str] = &crate::SigningAlgorithm::NAMES;
/// OpenID Connect Registration §2 subject types.
pub const SUBJECT_TYPES: &[&str] = &["public", "pairwise"];
/// OpenID Connect Registration §2 application types.
pub const APPLICATION_TYPES: &[&str] = &["web", "native"];

use Group::{Described, Grants, Identity, Network, SignIn, Tokens};

/// Every member, in the order a form shows them.
pub const CLIENT_FIELDS: &[ClientField] = &[
    field("client_name", Shape::Text(200), Identity, "Name", "Shown to users when they sign in."),
    field(
        "application_type",
        Shape::OneOf(APPLICATION_TYPES),
        Identity,
        "Application type",
        "Native apps may redirect to localhost and custom schemes.",
    ),
    field("logo_uri", Shape::WebUrl, Identity, "Logo URL", "https; shown on the sign-in pages."),
    field("client_uri", Shape::WebUrl, Identity, "Home page", ""),
    field("policy_uri", Shape::WebUrl, Identity, "Privacy policy", ""),
    field("tos_uri", Shape::WebUrl, Identity, "Terms of service", ""),
    field(
        "contacts",
        Shape::Texts { items: 20, length: 254 },
        Identity,
        "Contacts",
        "One e-mail address a line.",
    ),
    field(
        "redirect_uris",
        Shape::RedirectUris,
        SignIn,
        "Redirect URIs",
        "One a line: exact https URLs (localhost and custom schemes for native apps).",
    ),
    field(
        "post_logout_redirect_uris",
        Shape::RedirectUris,
        SignIn,
        "Post-logout redirect URIs",
        "One a line.",
    ),
    defaulted(
        field(
            "require_pkce",
            Shape::Flag,
            SignIn,
            "Require PKCE",
            "Always on for public clients (RFC 9700 §2.1.1).",
        ),
        "true",
    ),
    field("pkce_plain_allowed", Shape::Flag, SignIn, "Allow the plain PKCE method", "S256 only when off."),
    field("skip_consent", Shape::Flag, SignIn, "First-party: skip consent", ""),
    field(
        "subject_type",
        Shape::OneOf(SUBJECT_TYPES),
        SignIn,
        "Subject type",
        "public: one sub for every client; pairwise: one per sector (OpenID Connect Core §8.1).",
    ),
    field(
        "sector_identifier_uri",
        Shape::WebUrl,
        SignIn,
        "Sector identifier URL",
        "For pairwise: an https URL serving a JSON array of the redirect URIs; its host is the sector.",
    ),
    defaulted(
        field("grant_types", Shape::AnyOf(GRANT_TYPES), Grants, "Grant types", ""),
        "client_credentials",
    ),
    defaulted(
        field(
            "token_endpoint_auth_method",
            Shape::OneOf(AUTH_METHODS),
            Grants,
            "Authentication method",
            "none makes a public client.",
        ),
        "client_secret_basic",
    ),
    field(
        "token_endpoint_auth_signing_alg",
        Shape::Algorithm,
        Grants,
        "Assertion algorithm",
        "For private_key_jwt; any when empty.",
    ),
    field(
        "jwks_uri",
        Shape::WebUrl,
        Grants,
        "JWKS URL",
        "Where the client publishes its keys, for private_key_jwt.",
    ),
    field("jwks", Shape::Jwks, Grants, "JWKS", "The client's public keys as a JWK Set, instead of a URL."),
    field(
        "scope",
        Shape::Scope,
        Grants,
        "Scopes",
        "Space-separated; also the default when the client asks for none.",
    ),
    field(
        "require_pushed_authorization_requests",
        Shape::Flag,
        SignIn,
        "Require pushed requests (PAR)",
        "Authorization requests must be pushed to the PAR endpoint first (RFC 9126).",
    ),
    field(
        "require_signed_request_object",
        Shape::Flag,
        SignIn,
        "Require signed request objects",
        "Authorization requests must come as JWTs signed with the client's keys (RFC 9101).",
    ),
    field(
        "request_object_signing_alg",
        Shape::Algorithm,
        SignIn,
        "Request object algorithm",
        "Any supported one when empty.",
    ),
    field(
        "request_uris",
        Shape::WebUrls(MAX_REQUEST_URIS),
        SignIn,
        "Request object URLs",
        "https URLs (http on loopback) the client may pass as request_uri, one a line; fetched when used.",
    ),
    field("introspection_allowed", Shape::Flag, Grants, "May call introspection", ""),
    field(
        "introspection_signed_response_alg",
        Shape::Algorithm,
        Grants,
        "Introspection JWT algorithm",
        "Signs introspection answers asked for as JWTs (RFC 9701); RS256 when empty.",
    ),
    defaulted(
        field("access_token_signed_response_alg", Shape::Algorithm, Tokens, "Access-token algorithm", ""),
        "RS256",
    ),
    defaulted(
        field("id_token_signed_response_alg", Shape::Algorithm, Tokens, "ID-token algorithm", ""),
        "RS256",
    ),
    field(
        "profile",
        Shape::OneOf(crate::client_profile::PROFILES),
        Grants,
        "Profile",
        "fapi2: the FAPI 2.0 Security Profile (private_key_jwt, PAR, PKCE S256, DPoP, PS256/ES256/EdDSA, refresh tokens not rotated).",
    ),
    field(
        "dpop_bound_access_tokens",
        Shape::Flag,
        Tokens,
        "Require DPoP",
        "Access tokens only bound to the client's DPoP key (RFC 9449); a token request without a proof is refused.",
    ),
    field(
        "access_token_lifetime",
        Shape::Seconds(MAX_ACCESS_TOKEN_LIFETIME),
        Tokens,
        "Access-token lifetime (s)",
        "The server default when empty.",
    ),
    field(
        "refresh_token_idle_lifetime",
        Shape::Seconds(MAX_REFRESH_TOKEN_LIFETIME),
        Tokens,
        "Refresh token idle lifetime (s)",
        "The server default when empty.",
    ),
    field(
        "refresh_token_absolute_lifetime",
        Shape::Seconds(MAX_REFRESH_TOKEN_LIFETIME),
        Tokens,
        "Refresh token absolute lifetime (s)",
        "The server default when empty.",
    ),
    defaulted(
        field(
            "refresh_token_rotation",
            Shape::Flag,
            Tokens,
            "Rotate refresh tokens",
            "Each use gives a new refresh token (RFC 9700 §4.14.2); off, the token stays the same (FAPI 2.0).",
        ),
        "true",
    ),
    field(
        "refresh_token_reuse_interval",
        Shape::UpToSeconds(MAX_REFRESH_TOKEN_REUSE_INTERVAL),
        Tokens,
        "Refresh reuse interval (s)",
        "With rotation on, a rotated token may be presented again for this long (0–60).",
    ),
    field(
        "resources",
        Shape::Resources,
        Tokens,
        "Resources",
        "RFC 8707 resource indicators the client may ask for, one a line.",
    ),
    field(
        "default_resource",
        Shape::Resource,
        Tokens,
        "Default resource",
        "The audience when none is asked; the issuer when empty.",
    ),
    field(
        "token_exchange",
        Shape::ExchangePolicy,
        Grants,
        "Token exchange policy",
        r#"For the token-exchange grant (RFC 8693), as JSON: {"subject_clients": ["web"], "audiences": ["https://api.example/orders"], "id_token_subjects": false, "impersonation": false, "refresh_tokens": false}; admins only."#,
    ),
    field(
        "claim_mappings",
        Shape::ClaimMappings,
        Tokens,
        "Claim mappings",
        r#"A JSON list, e.g. [{"claim": "department", "from": {"attribute": "department"}, "tokens": ["id_token", "userinfo"], "scope": "hr"}]; from an attribute, a standard claim ("standard": "email") or a constant ("value"); tokens: id_token, access_token, userinfo, introspection."#,
    ),
    field(
        "allowed_cidrs",
        Shape::Networks,
        Network,
        "Allowed networks",
        "CIDRs, one a line; any address when empty.",
    ),
    field(
        "allowed_origins",
        Shape::Origins,
        Network,
        "Allowed web origins (CORS)",
        "Origins such as https://app.example, one a line; the redirect URIs' origins when empty.",
    ),
    field(
        "allowed_countries",
        Shape::Countries,
        Network,
        "Allowed countries",
        "ISO 3166 codes (DE FR); uses from elsewhere are reported.",
    ),
    field(
        "token_rate_limit",
        Shape::PerMinute,
        Network,
        "Rate limit (token requests a minute)",
        "0: unlimited; the server default when empty.",
    ),
    field("response_types", Shape::AnyOf(&["code"]), Described, "Response types", ""),
    field("initiate_login_uri", Shape::WebUrl, Described, "Login initiation URL", ""),
    field("software_id", Shape::Text(255), Described, "Software id", ""),
    field("software_version", Shape::Text(255), Described, "Software version", ""),
    field(
        "userinfo_signed_response_alg",
        Shape::Algorithm,
        Tokens,
        "UserInfo algorithm",
        "Signs UserInfo answers (application/jwt); plain JSON when empty.",
    ),
    field("require_auth_time", Shape::Flag, Described, "Require auth_time", ""),
];

/// The member `name`, if a client configuration may carry it.
pub fn client_field(name: &str) -> Option<&'static ClientField> {
    CLIENT_FIELDS.iter().find(|field| field.name == name)
}

impl ClientField {
    /// Checks `value` by this member's shape, where the shape says more than
    /// the value's type (lengths, ranges, forms of URLs, each country once);
    /// `null` is an absent member.
    pub fn check(&self, value: &Value) -> Result<(), MetadataError> {
        let invalid = |message: String| Err(MetadataError::new(self.name, message));
        match (self.shape, value) {
            (_, Value::Null) => Ok(()),
            (Shape::Text(max), Value::String(text)) if !is_short_text(text, max) => {
                invalid(format!("must be 1 to {max} characters without control characters"))
            }
            (Shape::Texts { items, .. }, Value::Array(texts)) if texts.len() > items => {
                invalid(format!("at most {items} entries"))
            }
            (Shape::Texts { length, .. }, Value::Array(texts))
                if texts.iter().any(|t| t.as_str().is_some_and(|t| !is_short_text(t, length))) =>
            {
                invalid(format!("each is 1 to {length} characters without control characters"))
            }
            (Shape::WebUrl, Value::String(uri)) => crate::client::validate_web_url(self.name, uri),
            (Shape::WebUrls(max), Value::Array(uris)) if uris.len() > max => {
                invalid(format!("at most {max} entries"))
            }
            // A fragment may tell a cache apart (OpenID Connect Registration §2 `request_uris`).
            (Shape::WebUrls(_), Value::Array(uris)) => uris
                .iter()
                .filter_map(Value::as_str)
                .try_for_each(|uri| crate::client::validate_web_url(self.name, without_fragment(uri))),
            (Shape::Seconds(max), Value::Number(n))
                if n.as_u64().is_some_and(|s| !(1..=max).contains(&s)) =>
            {
                invalid(format!("must be 1 to {max} seconds"))
            }
            (Shape::UpToSeconds(max), Value::Number(n)) if n.as_u64().is_some_and(|s| s > max) => {
                invalid(format!("must be at most {max} seconds"))
            }
            (Shape::Countries, Value::Array(codes)) => {
                if codes.len() > MAX_COUNTRIES {
                    return invalid(format!("at most {MAX_COUNTRIES} countries"));
                }
                let mut seen: Vec<&Value> = codes.iter().collect();
                seen.sort_by_key(|code| code.as_str());
                seen.dedup();
                if seen.len() != codes.len() {
                    return invalid("each country once".into());
                }
                Ok(())
            }
            (Shape::OneOf(options), Value::String(given)) if !options.contains(&given.as_str()) => {
                invalid(format!("must be one of {}", options.join(", ")))
            }
            // The rest is the value's type, read by the configuration's own types.
            _ => Ok(()),
        }
    }
}

/// `uri` without its fragment, if it has one.
pub fn without_fragment(uri: &str) -> &str {
    uri.split_once('#').map_or(uri, |(before, _)| before)
}

/// Whether `text` is 1 to `max` characters, none of them control characters.
pub fn is_short_text(text: &str, max: usize) -> bool {
    let length = text.chars().count();
    !text.trim().is_empty() && length <= max && !text.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_member_is_described_once_and_every_shown_group_has_members() {
        for (i, field) in CLIENT_FIELDS.iter().enumerate() {
            assert!(!CLIENT_FIELDS[..i].iter().any(|other| other.name == field.name), "{} twice", field.name);
        }
        for (group, _) in Group::SHOWN {
            assert!(CLIENT_FIELDS.iter().any(|f| f.group == group), "{group:?} is empty");
        }
    }

    #[test]
    fn each_shape_refuses_what_it_must() {
        let check = |name: &str, value: Value| client_field(name).unwrap().check(&value);
        assert!(check("client_name", json!("Orders")).is_ok());
        assert!(check("client_name", json!(" ")).is_err());
        assert!(check("client_name", json!("x".repeat(201))).is_err());
        assert!(check("client_name", json!("a\nb")).is_err());
        assert!(check("contacts", json!(vec!["a@example.com"; 21])).is_err());
        assert!(check("logo_uri", json!("javascript:alert(1)")).is_err());
        assert!(check("access_token_lifetime", json!(0)).is_err());
        assert!(check("access_token_lifetime", json!(MAX_ACCESS_TOKEN_LIFETIME + 1)).is_err());
        assert!(check("refresh_token_reuse_interval", json!(0)).is_ok());
        assert!(check("refresh_token_reuse_interval", json!(61)).is_err());
        assert!(check("allowed_countries", json!(["DE", "DE"])).is_err());
        assert!(check("sector_identifier_uri", json!("ftp://sector.example/uris.json")).is_err());
        assert!(check("sector_identifier_uri", json!("https://sector.example/uris.json")).is_ok());
        assert!(check("access_token_lifetime", Value::Null).is_ok(), "null is absent");
    }
}
