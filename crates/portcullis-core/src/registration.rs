//! What a client that registers itself may be (RFC 7591 §3.2.1: the server
//! "MAY reject or replace any of the client's requested metadata values").
//! A [`RegistrationPolicy`] rides with each initial access token and with
//! the anonymous registration of `--registration open`; it is copied to the
//! client's registration access token and checked again on every update
//! (RFC 7592 §2.2), so a client can never update itself past what admitted
//! it.
//!
//! A policy that restricts nothing ([`RegistrationPolicy::is_unrestricted`])
//! admits what an admin could register. Any other also refuses what only an
//! admin sets ([`ADMIN_ONLY`]) and the admin scopes it does not list: a
//! party that registers itself cannot skip consent, lift its rate limit,
//! read other clients' tokens, weaken or turn off PKCE, map users' claims
//! into its tokens beyond what scopes release, or administer the server.

use crate::client::{MetadataError, TokenEndpointAuthMethod};
use crate::client_fields::client_field;
use crate::user::CLAIMS_BY_SCOPE;
use crate::{ClientMetadata, GrantType};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Members only an admin may set (`require_pkce`: to false) under a policy
/// that restricts anything.
pub const ADMIN_ONLY: [&str; 7] = [
    "skip_consent",
    "token_rate_limit",
    "introspection_allowed",
    "pkce_plain_allowed",
    "require_pkce",
    "claim_mappings",
    "token_exchange",
];

/// The most entries a policy's lists hold.
pub const MAX_POLICY_ENTRIES: usize = 50;

/// Bounds on what a client registering itself may be. Absent members do not
/// restrict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationPolicy {
    /// The grant types it may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<GrantType>>,
    /// How it may authenticate at the token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods: Option<Vec<TokenEndpointAuthMethod>>,
    /// The scope tokens it may hold; also its scope when it names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Patterns each redirect URI must match ([`uri_matches`]):
    /// `https://*.example.com/*`, `http://127.0.0.1:*/*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri_patterns: Option<Vec<String>>,
    /// The longest access-token lifetime, seconds; also its lifetime when it
    /// names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_access_token_lifetime: Option<u64>,
    /// The longest refresh-token family lifetime, seconds; also its lifetime
    /// when it names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_refresh_token_lifetime: Option<u64>,
}

impl RegistrationPolicy {
    /// The policy of `--registration open`: public clients (or
    /// `private_key_jwt`) of the code flow with PKCE, redirecting to https
    /// or to loopback, holding only OpenID Connect scopes and the API scopes
    /// this server is configured with, their tokens living at most an hour
    /// and their refresh families 30 days. What MCP clients and other
    /// agents need, and nothing that would let them act without a user.
    pub fn anonymous(api_scopes: &[String]) -> Self {
        let scopes = std::iter::once("openid")
            .chain(CLAIMS_BY_SCOPE.iter().map(|(scope, _)| *scope))
            .map(str::to_owned)
            .chain(api_scopes.iter().cloned())
            .collect();
        let loopback = ["127.0.0.1", "localhost", "[::1]"]
            .iter()
            .flat_map(|host| [format!("http://{host}:*/*"), format!("http://{host}/*")]);
        let https = ["https://**/*", "https://**:*/*"].map(str::to_owned);
        Self {
            grant_types: Some(vec![GrantType::AuthorizationCode, GrantType::RefreshToken]),
            token_endpoint_auth_methods: Some(vec![
                TokenEndpointAuthMethod::None,
                TokenEndpointAuthMethod::PrivateKeyJwt,
            ]),
            scopes: Some(scopes),
            redirect_uri_patterns: Some(https.into_iter().chain(loopback).collect()),
            max_access_token_lifetime: Some(3_600),
            max_refresh_token_lifetime: Some(30 * 24 * 3_600),
        }
    }

    /// Whether the policy restricts nothing: it admits what an admin could register.
    pub fn is_unrestricted(&self) -> bool {
        *self == Self::default()
    }

    /// Checks the policy itself: lists not empty nor too long, patterns and
    /// lifetimes that can ever be met.
    pub fn validate(&self) -> Result<(), MetadataError> {
        let lists = [
            ("grant_types", self.grant_types.as_ref().map(Vec::len)),
            ("token_endpoint_auth_methods", self.token_endpoint_auth_methods.as_ref().map(Vec::len)),
            ("scopes", self.scopes.as_ref().map(Vec::len)),
            ("redirect_uri_patterns", self.redirect_uri_patterns.as_ref().map(Vec::len)),
        ];
        for (name, len) in lists {
            match len {
                Some(0) => return Err(MetadataError::new(name, "must name at least one, or be left out")),
                Some(n) if n > MAX_POLICY_ENTRIES => {
                    return Err(MetadataError::new(name, format!("at most {MAX_POLICY_ENTRIES} entries")))
                }
                _ => {}
            }
        }
        let texts = self.scopes.iter().flatten().chain(self.redirect_uri_patterns.iter().flatten());
        if let Some(bad) =
            texts.into_iter().find(|t| t.is_empty() || t.len() > 500 || t.contains(char::is_whitespace))
        {
            return Err(MetadataError::new(
                "policy",
                format!("`{bad}` must be 1 to 500 characters without spaces"),
            ));
        }
        let lifetimes = [
            ("max_access_token_lifetime", self.max_access_token_lifetime, "access_token_lifetime"),
            (
                "max_refresh_token_lifetime",
                self.max_refresh_token_lifetime,
                "refresh_token_absolute_lifetime",
            ),
        ];
        for (name, max, member) in lifetimes {
            if let (Some(max), Some(field)) = (max, client_field(member)) {
                field.check(&Value::from(max)).map_err(|e| MetadataError::new(name, e.message))?;
            }
        }
        Ok(())
    }

    /// Fills in what a registration request left out (a `null` member is
    /// left out), as the client's profile, RFC 7591 §2 and this policy say: a name (the host of
    /// its first redirect URI), the code grant, `client_secret_basic` (or
    /// the policy's first method when it does not allow that), the policy's
    /// scopes and lifetimes.
    pub fn fill_defaults(&self, request: &mut Map<String, Value>) {
        request.retain(|_, value| !value.is_null());
        // A profile's own defaults come first: fapi2 means private_key_jwt, not a secret.
        crate::client_profile::fill_defaults(request);
        let named_for = request
            .get("redirect_uris")
            .and_then(|uris| uris.get(0))
            .and_then(Value::as_str)
            .and_then(|uri| url::Url::parse(uri).ok())
            .and_then(|uri| uri.host_str().map(str::to_owned));
        request
            .entry("client_name")
            .or_insert_with(|| named_for.unwrap_or_else(|| "Unnamed client".into()).into());
        // RFC 7591 §2: grant_types defaults to authorization_code; where the
        // policy does not allow it, to the policy's first (§3.2.1: the server
        // may replace a requested value).
        let grant = match &self.grant_types {
            Some(allowed) if !allowed.contains(&GrantType::AuthorizationCode) => {
                allowed.first().copied().unwrap_or(GrantType::AuthorizationCode)
            }
            _ => GrantType::AuthorizationCode,
        };
        request.entry("grant_types").or_insert_with(|| Value::from(vec![grant.as_str()]));
        let method = match &self.token_endpoint_auth_methods {
            Some(allowed) if !allowed.contains(&TokenEndpointAuthMethod::ClientSecretBasic) => {
                allowed.first().copied().unwrap_or_default()
            }
            _ => TokenEndpointAuthMethod::ClientSecretBasic,
        };
        request.entry("token_endpoint_auth_method").or_insert_with(|| method.as_str().into());
        if let Some(scopes) = &self.scopes {
            request.entry("scope").or_insert_with(|| scopes.join(" ").into());
        }
        if let Some(max) = self.max_access_token_lifetime {
            request.entry("access_token_lifetime").or_insert_with(|| max.into());
        }
        let refreshes = request
            .get("grant_types")
            .and_then(Value::as_array)
            .is_some_and(|grants| grants.iter().any(|g| g == GrantType::RefreshToken.as_str()));
        if let Some(max) = self.max_refresh_token_lifetime.filter(|_| refreshes) {
            request.entry("refresh_token_absolute_lifetime").or_insert_with(|| max.into());
            request.entry("refresh_token_idle_lifetime").or_insert_with(|| max.into());
        }
    }

    /// What a party asked to be, as a configuration to parse: only the
    /// members a client configuration may carry (RFC 7591 §2: a server
    /// ignores those it does not understand), with [`fill_defaults`](Self::fill_defaults).
    pub fn requested(&self, request: Map<String, Value>) -> Map<String, Value> {
        let mut known: Map<String, Value> =
            request.into_iter().filter(|(name, _)| client_field(name).is_some()).collect();
        self.fill_defaults(&mut known);
        known
    }

    /// Checks a valid configuration against the policy; a refusal names the
    /// member (RFC 7591 §3.2.2).
    pub fn admits(&self, metadata: &ClientMetadata) -> Result<(), MetadataError> {
        match self.outside(metadata, !self.is_unrestricted()).into_iter().next() {
            Some(outside) => Err(outside.refusal),
            None => Ok(()),
        }
    }

    /// Everything `metadata` sets that the policy does not allow, each
    /// value of a list on its own; with `delegated`, also what only an
    /// admin sets ([`ADMIN_ONLY`]) and the admin scopes the policy does not
    /// list, whatever else it restricts.
    pub fn outside(&self, metadata: &ClientMetadata, delegated: bool) -> Vec<Outside> {
        let mut found = Vec::new();
        let mut refuse = |member: &'static str, value: String, refusal: MetadataError| {
            found.push(Outside { member, value, refusal });
        };
        if delegated {
            let set = [
                metadata.skip_consent,
                metadata.token_rate_limit.is_some(),
                metadata.introspection_allowed,
                metadata.pkce_plain_allowed,
                !metadata.require_pkce,
                !metadata.claim_mappings.is_empty(),
                metadata.token_exchange.is_some(),
            ];
            let as_json = serde_json::to_value(metadata).unwrap_or_default();
            for (name, _) in ADMIN_ONLY.iter().zip(set).filter(|(_, set)| *set) {
                // The value itself, so that one an admin set is kept only unchanged.
                let value = as_json.get(*name).map(Value::to_string).unwrap_or_default();
                refuse(name, value, MetadataError::new(*name, "only an admin may set this"));
            }
            let listed = |scope: &str| self.scopes.iter().flatten().any(|allowed| allowed == scope);
            for scope in metadata.scope.iter().filter(|s| is_admin_scope(s) && !listed(s)) {
                refuse("scope", scope.to_owned(), refused("scope", scope));
            }
        }
        if let Some(allowed) = &self.grant_types {
            for grant in metadata.grant_types.iter().filter(|g| !allowed.contains(g)) {
                refuse("grant_types", grant.as_str().to_owned(), refused("grant_types", grant.as_str()));
            }
        }
        if let Some(allowed) = &self.token_endpoint_auth_methods {
            let method = metadata.token_endpoint_auth_method;
            if !allowed.contains(&method) {
                let refusal = refused("token_endpoint_auth_method", method.as_str());
                refuse("token_endpoint_auth_method", method.as_str().to_owned(), refusal);
            }
        }
        if let Some(allowed) = &self.scopes {
            for scope in metadata.scope.iter().filter(|s| !allowed.iter().any(|a| a == s)) {
                if !(delegated && is_admin_scope(scope)) {
                    refuse("scope", scope.to_owned(), refused("scope", scope));
                }
            }
        }
        if let Some(patterns) = &self.redirect_uri_patterns {
            let uris = metadata.redirect_uris.iter().map(|u| ("redirect_uris", u));
            let after_logout =
                metadata.post_logout_redirect_uris.iter().map(|u| ("post_logout_redirect_uris", u));
            for (member, uri) in uris.chain(after_logout) {
                if !patterns.iter().any(|pattern| uri_matches(pattern, uri.as_str())) {
                    refuse(member, uri.as_str().to_owned(), refused(member, uri.as_str()));
                }
            }
        }
        let lifetimes = [
            ("access_token_lifetime", metadata.access_token_lifetime, self.max_access_token_lifetime),
            (
                "refresh_token_absolute_lifetime",
                metadata.refresh_token_absolute_lifetime,
                self.max_refresh_token_lifetime,
            ),
            (
                "refresh_token_idle_lifetime",
                metadata.refresh_token_idle_lifetime,
                self.max_refresh_token_lifetime,
            ),
        ];
        for (member, value, max) in lifetimes {
            if let (Some(value), Some(max)) = (value, max) {
                if value > max {
                    let refusal =
                        MetadataError::new(member, format!("at most {max} seconds under the policy"));
                    refuse(member, value.to_string(), refusal);
                }
            }
        }
        found
    }
}

/// One thing a configuration sets that a policy does not allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outside {
    /// The member.
    pub member: &'static str,
    /// The value outside, one of a list's on its own; empty for a member
    /// that may not be set at all.
    pub value: String,
    /// The refusal, naming the member.
    pub refusal: MetadataError,
}

fn refused(member: &str, value: &str) -> MetadataError {
    MetadataError::new(member, format!("`{value}` is not allowed by the policy"))
}

/// Whether the admin API's scopes name `scope` (`admin`, `admin:…`).
fn is_admin_scope(scope: &str) -> bool {
    scope == "admin" || scope.starts_with("admin:")
}

/// Whether the URI `uri` matches `pattern`. Each is split at the end of its
/// authority (`scheme://host:port`). In the authority, `*` stands for a run
/// of characters within one label (no `.`, `/`, `?`, `#` or `@`), so
/// `https://*.example.com/*` never matches `https://evil.example/.example.com/`,
/// and `**` for any host name (dots too). In the rest, `*` stands for any
/// run of characters. Everything else stands for itself.
pub fn uri_matches(pattern: &str, uri: &str) -> bool {
    let (pattern_authority, pattern_rest) = split_authority(pattern);
    let (authority, rest) = split_authority(uri);
    glob(pattern_authority.as_bytes(), authority.as_bytes(), (b"./?#@", b"/?#@"))
        && glob(pattern_rest.as_bytes(), rest.as_bytes(), (b"", b""))
}

/// `uri` as its scheme and authority, and the rest (path, query).
fn split_authority(uri: &str) -> (&str, &str) {
    let start = uri.find("://").map_or(0, |at| at + 3);
    let end = uri[start..].find(['/', '?', '#']).map_or(uri.len(), |at| start + at);
    uri.split_at(end)
}

/// Whether `text` matches `pattern`, where `*` stands for any run of bytes
/// none of which is in the first of `stops`, and `**` in the second.
fn glob(pattern: &[u8], text: &[u8], stops: (&[u8], &[u8])) -> bool {
    let (run_stops, rest) = match pattern {
        [b'*', b'*', rest @ ..] => (stops.1, rest),
        [b'*', rest @ ..] => (stops.0, rest),
        [first, rest @ ..] => return text.first() == Some(first) && glob(rest, &text[1..], stops),
        [] => return text.is_empty(),
    };
    // The run is at most as long as the text allows before a stop byte.
    let run = text.iter().position(|b| run_stops.contains(b)).unwrap_or(text.len());
    (0..=run).any(|taken| glob(rest, &text[taken..], stops))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn metadata(value: Value) -> ClientMetadata {
        let Value::Object(map) = value else { unreachable!() };
        ClientMetadata::parse(map).unwrap()
    }

    fn request(value: Value, policy: &RegistrationPolicy) -> ClientMetadata {
        let Value::Object(mut map) = value else { unreachable!() };
        policy.fill_defaults(&mut map);
        ClientMetadata::parse(map).unwrap()
    }

    #[test]
    fn patterns_match_whole_uris_and_stars_stay_within_a_host_label() {
        assert!(uri_matches("https://**/*", "https://app.example/cb"));
        assert!(!uri_matches("https://**/*", "https://user@app.example/cb"));
        assert!(!uri_matches("https://*/*", "https://app.example/cb"), "one label");
        assert!(uri_matches("http://127.0.0.1:*/*", "http://127.0.0.1:4711/cb"));
        assert!(!uri_matches("http://localhost:*/*", "http://localhost.evil.example/cb"));
        assert!(uri_matches("https://*.example.com/*", "https://a.example.com/x"));
        assert!(!uri_matches("https://*.example.com/*", "https://a.example.org/x"));
        assert!(!uri_matches("https://*.example.com/*", "https://evil.example/.example.com/x"));
        assert!(!uri_matches("https://*.example.com/*", "https://evil.example?.example.com/x"));
        assert!(!uri_matches("https://*.example.com/*", "https://user@a.example.com/x"));
        assert!(!uri_matches("https://*.example.com/*", "https://a.b.example.com/x"), "one label");
        assert!(uri_matches("https://app.example/cb", "https://app.example/cb"));
        assert!(!uri_matches("https://app.example/cb", "https://app.example/cb2"));
        assert!(uri_matches("https://app.example/*/cb", "https://app.example/a/b/cb"));
    }

    #[test]
    fn the_anonymous_policy_admits_an_mcp_client_and_nothing_more() {
        let policy = RegistrationPolicy::anonymous(&["mcp:tools".into()]);
        policy.validate().unwrap();
        let client = request(
            json!({"client_name": "agent", "redirect_uris": ["http://127.0.0.1:33418/callback"],
                   "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"]}),
            &policy,
        );
        policy.admits(&client).unwrap();
        assert_eq!(client.scope.to_string(), "address email mcp:tools openid phone profile");
        assert_eq!(
            (client.access_token_lifetime, client.refresh_token_absolute_lifetime),
            (Some(3600), Some(2_592_000))
        );

        // Left out, the method is the policy's first: none, not client_secret_basic.
        let defaulted =
            request(json!({"client_name": "a", "redirect_uris": ["https://a.example/cb"]}), &policy);
        assert_eq!(defaulted.token_endpoint_auth_method, TokenEndpointAuthMethod::None);

        let refusals = [
            (
                json!({"client_name": "a", "grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt",
                    "jwks_uri": "https://a.example/jwks"}),
                "grant_types",
            ),
            (
                json!({"client_name": "a", "redirect_uris": ["https://a.example/cb"], "scope": "openid admin"}),
                "scope",
            ),
            (
                json!({"client_name": "a", "application_type": "native", "redirect_uris": ["com.example.app:/cb"]}),
                "redirect_uris",
            ),
            (
                json!({"client_name": "a", "redirect_uris": ["https://a.example/cb"], "skip_consent": true}),
                "skip_consent",
            ),
            (
                json!({"client_name": "a", "redirect_uris": ["https://a.example/cb"], "access_token_lifetime": 7200}),
                "access_token_lifetime",
            ),
            (
                json!({"client_name": "a", "redirect_uris": ["https://a.example/cb"], "claim_mappings":
                    [{"claim": "tenant", "from": {"value": "acme"}, "tokens": ["id_token"]}]}),
                "claim_mappings",
            ),
            (
                json!({"client_name": "a", "redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "client_secret_post"}),
                "token_endpoint_auth_method",
            ),
        ];
        for (body, member) in refusals {
            assert_eq!(policy.admits(&request(body, &policy)).unwrap_err().field, member);
        }
    }

    #[test]
    fn a_restricted_policy_keeps_admin_scopes_pkce_and_its_lifetimes() {
        let only_redirects = RegistrationPolicy {
            redirect_uri_patterns: Some(vec!["https://app.example/*".into()]),
            max_refresh_token_lifetime: Some(3600),
            ..Default::default()
        };
        let service = request(
            json!({"client_name": "x", "grant_types": ["client_credentials"], "scope": "admin:keys"}),
            &only_redirects,
        );
        assert_eq!(only_redirects.admits(&service).unwrap_err().field, "scope", "not listed, not admitted");
        let listed = RegistrationPolicy { scopes: Some(vec!["admin:keys".into()]), ..only_redirects.clone() };
        listed
            .admits(&request(
                json!({"client_name": "x", "grant_types": ["client_credentials"], "scope": "admin:keys"}),
                &listed,
            ))
            .unwrap();
        let no_pkce = request(
            json!({"client_name": "x", "redirect_uris": ["https://app.example/cb"], "require_pkce": false}),
            &only_redirects,
        );
        assert_eq!(only_redirects.admits(&no_pkce).unwrap_err().field, "require_pkce");
        // A null is a member left out: the policy's lifetime applies, not the server's default.
        let nulls = request(
            json!({"redirect_uris": ["https://app.example/cb"], "grant_types": ["authorization_code", "refresh_token"],
                                   "refresh_token_absolute_lifetime": null, "refresh_token_idle_lifetime": null, "client_name": null}),
            &only_redirects,
        );
        assert_eq!(
            (nulls.refresh_token_absolute_lifetime, nulls.refresh_token_idle_lifetime),
            (Some(3600), Some(3600))
        );
        assert_eq!(nulls.client_name, "app.example", "named after its redirect URI's host");
        only_redirects.admits(&nulls).unwrap();
    }

    #[test]
    fn no_policy_admits_what_an_admin_could_register() {
        let policy = RegistrationPolicy::default();
        let client = metadata(json!({"client_name": "svc", "scope": "admin", "skip_consent": true}));
        policy.admits(&client).unwrap();
        let Value::Object(mut map) = json!({"client_name": "web", "redirect_uris": ["https://a.example/cb"]})
        else {
            unreachable!()
        };
        policy.fill_defaults(&mut map);
        assert_eq!(map["grant_types"], json!(["authorization_code"]));
        assert_eq!(map["token_endpoint_auth_method"], "client_secret_basic");
        let services = RegistrationPolicy { grant_types: Some(vec![GrantType::ClientCredentials]), ..policy };
        let mut unnamed = Map::new();
        services.fill_defaults(&mut unnamed);
        assert_eq!(
            unnamed["grant_types"],
            json!(["client_credentials"]),
            "a policy's grant, where the default is not one"
        );
    }

    #[test]
    fn policies_are_checked_themselves() {
        let empty = RegistrationPolicy { scopes: Some(vec![]), ..Default::default() };
        assert_eq!(empty.validate().unwrap_err().field, "scopes");
        let long = RegistrationPolicy { max_access_token_lifetime: Some(10_000_000), ..Default::default() };
        assert_eq!(long.validate().unwrap_err().field, "max_access_token_lifetime");
        let unknown = serde_json::from_value::<RegistrationPolicy>(json!({"grant_type": []}));
        assert!(unknown.is_err());
    }
}
