//! What a client that registers itself may be (RFC 7591 §3.2.1: the server
//! "MAY reject or replace any of the client's requested metadata values").
//! A [`RegistrationPolicy`] rides with each initial access token and with
//! the anonymous registration of `--registration open`; it is copied to the
//! client's registration access token and checked again on every update
//! (RFC 7592 §2.2), so a client can never update itself past what admitted
//! it.
//!
//! A policy that restricts nothing ([`RegistrationPolicy::is_unrestricted`])
//! admits what an admin could register. Any other also refuses the members
//! only an admin sets ([`ADMIN_ONLY`]): a party that registers itself cannot
//! skip consent, lift its rate limit, read other clients' tokens or weaken
//! PKCE.

use crate::client::{MetadataError, TokenEndpointAuthMethod};
use crate::client_fields::client_field;
use crate::user::CLAIMS_BY_SCOPE;
use crate::{ClientMetadata, GrantType};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Members only an admin may set under a policy that restricts anything.
pub const ADMIN_ONLY: [&str; 4] =
    ["skip_consent", "token_rate_limit", "introspection_allowed", "pkce_plain_allowed"];

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
    /// Patterns each redirect URI must match, `*` standing for any run of
    /// characters (`https://*.example.com/*`, `http://127.0.0.1:*`).
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
            .flat_map(|host| [format!("http://{host}:*"), format!("http://{host}/*")]);
        Self {
            grant_types: Some(vec![GrantType::AuthorizationCode, GrantType::RefreshToken]),
            token_endpoint_auth_methods: Some(vec![
                TokenEndpointAuthMethod::None,
                TokenEndpointAuthMethod::PrivateKeyJwt,
            ]),
            scopes: Some(scopes),
            redirect_uri_patterns: Some(std::iter::once("https://*".to_owned()).chain(loopback).collect()),
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

    /// Fills in what a registration request left out, as RFC 7591 §2 and
    /// this policy say: the code grant, `client_secret_basic` (or the
    /// policy's first method when it does not allow that), the policy's
    /// scopes and lifetimes.
    pub fn fill_defaults(&self, request: &mut Map<String, Value>) {
        // RFC 7591 §2: grant_types defaults to authorization_code.
        request.entry("grant_types").or_insert_with(|| Value::from(vec!["authorization_code"]));
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
        }
    }

    /// Checks a valid configuration against the policy; a refusal names the
    /// member (RFC 7591 §3.2.2).
    pub fn admits(&self, metadata: &ClientMetadata) -> Result<(), MetadataError> {
        if !self.is_unrestricted() {
            let members = serde_json::to_value(metadata).unwrap_or_default();
            let set = |name: &&&str| {
                members.get(**name).is_some_and(|v| !(v.is_null() || *v == Value::Bool(false)))
            };
            if let Some(name) = ADMIN_ONLY.iter().find(set) {
                return Err(MetadataError::new(*name, "only an admin may set this"));
            }
        }
        if let Some(allowed) = &self.grant_types {
            if let Some(grant) = metadata.grant_types.iter().find(|g| !allowed.contains(g)) {
                return Err(refused("grant_types", grant.as_str()));
            }
        }
        if let Some(allowed) = &self.token_endpoint_auth_methods {
            let method = metadata.token_endpoint_auth_method;
            if !allowed.contains(&method) {
                return Err(refused("token_endpoint_auth_method", method.as_str()));
            }
        }
        if let Some(allowed) = &self.scopes {
            if let Some(scope) = metadata.scope.iter().find(|s| !allowed.iter().any(|a| a == s)) {
                return Err(refused("scope", scope));
            }
        }
        if let Some(patterns) = &self.redirect_uri_patterns {
            let uris = metadata.redirect_uris.iter().map(|u| ("redirect_uris", u));
            let after_logout =
                metadata.post_logout_redirect_uris.iter().map(|u| ("post_logout_redirect_uris", u));
            for (member, uri) in uris.chain(after_logout) {
                if !patterns.iter().any(|pattern| glob_matches(pattern, uri.as_str())) {
                    return Err(refused(member, uri.as_str()));
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
                    return Err(MetadataError::new(
                        member,
                        format!("at most {max} seconds under this registration's policy"),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn refused(member: &str, value: &str) -> MetadataError {
    MetadataError::new(member, format!("`{value}` is not allowed by this registration's policy"))
}

/// Whether `text` matches `pattern`, where `*` stands for any run of
/// characters (none included) and everything else for itself.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else { return false };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else { return rest.is_empty() };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
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
    fn globs_match_whole_texts() {
        assert!(glob_matches("https://*", "https://app.example/cb"));
        assert!(glob_matches("http://127.0.0.1:*", "http://127.0.0.1:4711/cb"));
        assert!(!glob_matches("http://localhost:*", "http://localhost.evil.example/cb"));
        assert!(glob_matches("https://*.example.com/*", "https://a.example.com/x"));
        assert!(!glob_matches("https://*.example.com/*", "https://a.example.org/x"));
        assert!(glob_matches("exact", "exact") && !glob_matches("exact", "exactly"));
        assert!(glob_matches("a*b*b", "abb") && !glob_matches("a*bb", "ab"));
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
                json!({"client_name": "a", "redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "client_secret_post"}),
                "token_endpoint_auth_method",
            ),
        ];
        for (body, member) in refusals {
            assert_eq!(policy.admits(&request(body, &policy)).unwrap_err().field, member);
        }
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
