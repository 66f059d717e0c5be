//! Claim mappings: the claims of a client's own domain, configured per
//! client. Each mapping names the claim it adds, where its value comes from
//! (a custom user attribute, a standard claim under another name, or a
//! constant), the tokens it goes into (ID token, access token, UserInfo,
//! introspection) and, optionally, the scope that releases it, so a custom
//! scope (`hr`) names the claims it releases (`department`). A mapping can
//! never add a claim the protocol or OpenID Connect gives its own meaning
//! ([`is_reserved_claim`]): a mapped claim adds to a token, it never
//! stands in for what the server asserts.

use crate::client::MetadataError;
use crate::user::CLAIMS_BY_SCOPE;
use crate::user_attributes::is_reserved_claim;
use crate::{Scope, StandardClaims};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The most mappings a client carries.
pub const MAX_CLAIM_MAPPINGS: usize = 50;
/// The longest claim name (long enough for a namespaced URI claim).
pub const MAX_CLAIM_NAME: usize = 200;
/// The most bytes a constant takes as JSON.
pub const MAX_CONSTANT_BYTES: usize = 1_000;

/// A token or answer a mapped claim can go into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// The ID token (OpenID Connect Core §2), for grants with `openid`.
    IdToken,
    /// The JWT access token (RFC 9068 §2.2.2 allows further claims).
    AccessToken,
    /// The UserInfo answer (OpenID Connect Core §5.3.2).
    Userinfo,
    /// The introspection answer about the access token (RFC 7662 §2.2).
    Introspection,
}

impl TokenKind {
    /// Every kind, in the order pages show them.
    pub const ALL: [TokenKind; 4] = [Self::IdToken, Self::AccessToken, Self::Userinfo, Self::Introspection];

    /// Its name in a mapping.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::IdToken => "id_token",
            Self::AccessToken => "access_token",
            Self::Userinfo => "userinfo",
            Self::Introspection => "introspection",
        }
    }
}

/// Where a mapped claim's value comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ClaimSource {
    /// The user's value of this custom attribute; nothing when unset.
    Attribute(String),
    /// The user's standard claim of this name (OpenID Connect Core §5.1),
    /// under the mapping's name: `email` as `mail`; nothing when unset.
    Standard(String),
    /// This value, for every token (a client's own, without a user, too).
    Value(Value),
}

/// One claim a client's tokens carry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimMapping {
    /// The claim's name in the tokens.
    pub claim: String,
    /// Where its value comes from.
    pub from: ClaimSource,
    /// The tokens it goes into, each once.
    pub tokens: Vec<TokenKind>,
    /// The scope that releases it; released with any scope when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// What a user's mapped claims are read from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserClaims {
    /// The standard claims, by name.
    pub standard: Map<String, Value>,
    /// The custom attributes' values, by name.
    pub attributes: Map<String, Value>,
}

impl UserClaims {
    /// A user's claims: `standard` and the values of their `attributes`.
    pub fn new(standard: &StandardClaims, attributes: Map<String, Value>) -> Self {
        let standard = match serde_json::to_value(standard) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        Self { standard, attributes }
    }
}

/// Whether `name` is a standard claim a user holds (OpenID Connect Core
/// §5.1, without the `updated_at` the server derives).
pub fn is_standard_claim(name: &str) -> bool {
    name != "updated_at" && CLAIMS_BY_SCOPE.iter().any(|(_, claims)| claims.contains(&name))
}

impl ClaimMapping {
    /// Whether this mapping goes into `token` when `scope` is granted.
    fn applies(&self, token: TokenKind, scope: &Scope) -> bool {
        self.tokens.contains(&token) && self.scope.as_deref().is_none_or(|needed| scope.contains(needed))
    }

    /// Its value for `user` (none for a client's own token).
    fn value<'a>(&'a self, user: Option<&'a UserClaims>) -> Option<&'a Value> {
        match &self.from {
            ClaimSource::Attribute(name) => user?.attributes.get(name),
            ClaimSource::Standard(name) => user?.standard.get(name),
            ClaimSource::Value(value) => Some(value),
        }
    }

    /// Whether its value is the user's: without a user it adds nothing.
    pub fn reads_user(&self) -> bool {
        !matches!(self.from, ClaimSource::Value(_))
    }

    /// Checks the mapping alone; `scopes` is what its client may be granted.
    fn validate(&self, scopes: &Scope) -> Result<(), MetadataError> {
        let invalid = |message: String| Err(MetadataError::new("claim_mappings", message));
        let claim = self.claim.as_str();
        if !crate::client_fields::is_short_text(claim, MAX_CLAIM_NAME) || claim.contains(char::is_whitespace)
        {
            return invalid(format!(
                "a claim name is 1 to {MAX_CLAIM_NAME} characters without spaces or control characters"
            ));
        }
        if is_reserved_claim(claim) {
            return invalid(format!(
                "`{claim}` is a claim the protocol or OpenID Connect defines; it cannot be mapped"
            ));
        }
        if self.tokens.is_empty() {
            return invalid(format!("`{claim}`: name the tokens it goes into"));
        }
        if self.tokens.iter().enumerate().any(|(i, token)| self.tokens[..i].contains(token)) {
            return invalid(format!("`{claim}`: each token once"));
        }
        match &self.from {
            ClaimSource::Attribute(name) if !crate::client_fields::is_short_text(name, 64) => {
                invalid(format!("`{claim}`: the attribute's name is 1 to 64 characters"))
            }
            ClaimSource::Standard(name) if !is_standard_claim(name) => {
                invalid(format!("`{claim}`: `{name}` is not a standard claim (OpenID Connect Core §5.1)"))
            }
            ClaimSource::Value(value) if value.is_null() || value.to_string().len() > MAX_CONSTANT_BYTES => {
                invalid(format!(
                    "`{claim}`: a constant is a JSON value of at most {MAX_CONSTANT_BYTES} bytes"
                ))
            }
            _ => match self.scope.as_deref() {
                Some(scope) if !scopes.contains(scope) => invalid(format!(
                    "`{claim}`: the client cannot be granted `{scope}`, so the claim would never be released"
                )),
                _ => Ok(()),
            },
        }
    }
}

/// Checks a client's mappings: each alone, at most
/// [`MAX_CLAIM_MAPPINGS`], each claim named once.
pub fn validate(mappings: &[ClaimMapping], scopes: &Scope) -> Result<(), MetadataError> {
    if mappings.len() > MAX_CLAIM_MAPPINGS {
        return Err(MetadataError::new("claim_mappings", format!("at most {MAX_CLAIM_MAPPINGS} mappings")));
    }
    for (i, mapping) in mappings.iter().enumerate() {
        mapping.validate(scopes)?;
        if mappings[..i].iter().any(|other| other.claim == mapping.claim) {
            return Err(MetadataError::new("claim_mappings", format!("`{}` is mapped twice", mapping.claim)));
        }
    }
    Ok(())
}

/// What `mappings` release into `token` when `scope` is granted, for
/// `user` (none for a client's own token, which gets only constants): each
/// claim's name and value, borrowed. A claim with no value for the user is
/// left out.
pub fn released<'a>(
    mappings: &'a [ClaimMapping],
    token: TokenKind,
    scope: &Scope,
    user: Option<&'a UserClaims>,
) -> Vec<(&'a str, &'a Value)> {
    mappings
        .iter()
        .filter(|mapping| mapping.applies(token, scope))
        .filter_map(|mapping| Some((mapping.claim.as_str(), mapping.value(user)?)))
        .collect()
}

/// Adds to `claims` what [`released`] names; a claim `claims` holds
/// already keeps its value.
pub fn release(
    mappings: &[ClaimMapping],
    token: TokenKind,
    scope: &Scope,
    user: Option<&UserClaims>,
    claims: &mut Map<String, Value>,
) {
    for (name, value) in released(mappings, token, scope, user) {
        claims.entry(name).or_insert_with(|| value.clone());
    }
}

/// Whether any of `mappings` reads the user's claims into one of `tokens`:
/// whether a grant must read the user before it mints them.
pub fn reads_user(mappings: &[ClaimMapping], tokens: &[TokenKind]) -> bool {
    mappings.iter().any(|m| m.reads_user() && m.tokens.iter().any(|token| tokens.contains(token)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mappings(json: Value) -> Vec<ClaimMapping> {
        serde_json::from_value(json).unwrap()
    }

    fn scope(s: &str) -> Scope {
        Scope::parse(s).unwrap()
    }

    fn alice() -> UserClaims {
        let standard: StandardClaims =
            serde_json::from_value(json!({"email": "alice@example.com", "name": "Alice"})).unwrap();
        let attributes = json!({"department": "Research", "groups": ["a", "b"]});
        UserClaims::new(&standard, attributes.as_object().unwrap().clone())
    }

    #[test]
    fn each_token_gets_what_is_mapped_into_it_under_its_scope() {
        let mapped = mappings(json!([
            {"claim": "department", "from": {"attribute": "department"}, "tokens": ["id_token", "userinfo"], "scope": "hr"},
            {"claim": "mail", "from": {"standard": "email"}, "tokens": ["access_token", "introspection"]},
            {"claim": "tenant", "from": {"value": {"id": 7}}, "tokens": ["access_token"]},
            {"claim": "cost_centre", "from": {"attribute": "cost_centre"}, "tokens": ["id_token"]},
        ]));
        let released = |token, granted: &str, user: Option<&UserClaims>| {
            let mut claims = Map::new();
            release(&mapped, token, &scope(granted), user, &mut claims);
            Value::Object(claims)
        };
        let alice = alice();
        assert_eq!(
            released(TokenKind::IdToken, "openid hr", Some(&alice)),
            json!({"department": "Research"})
        );
        assert_eq!(released(TokenKind::IdToken, "openid", Some(&alice)), json!({}), "hr releases it");
        assert_eq!(
            released(TokenKind::Userinfo, "openid hr", Some(&alice)),
            json!({"department": "Research"})
        );
        assert_eq!(
            released(TokenKind::AccessToken, "read", Some(&alice)),
            json!({"mail": "alice@example.com", "tenant": {"id": 7}})
        );
        assert_eq!(
            released(TokenKind::Introspection, "", Some(&alice)),
            json!({"mail": "alice@example.com"})
        );
        assert_eq!(
            released(TokenKind::AccessToken, "read", None),
            json!({"tenant": {"id": 7}}),
            "a client's own"
        );
        assert!(reads_user(&mapped, &[TokenKind::IdToken]));
        assert!(!reads_user(&mapped[2..3], &[TokenKind::AccessToken]), "a constant needs no user");
        assert!(!reads_user(&mapped[..1], &[TokenKind::AccessToken]));
    }

    #[test]
    fn refuses_reserved_claims_and_what_could_never_be_released() {
        let check = |json: Value| validate(&mappings(json), &scope("openid hr"));
        let one = |claim: &str, from: Value| json!([{"claim": claim, "from": from, "tokens": ["id_token"]}]);
        assert!(check(one("https://example.com/roles", json!({"attribute": "roles"}))).is_ok());
        for reserved in
            ["sub", "iss", "aud", "exp", "cnf", "act", "scope", "client_id", "acr", "email", "name"]
        {
            let refused = check(one(reserved, json!({"value": 1}))).unwrap_err();
            assert!(refused.message.contains("cannot be mapped"), "{reserved}: {refused}");
        }
        for bad in [
            one("a b", json!({"value": 1})),
            one("", json!({"value": 1})),
            one("x", json!({"standard": "department"})),
            one("x", json!({"standard": "updated_at"})),
            one("x", json!({"value": "y".repeat(MAX_CONSTANT_BYTES)})),
            one("x", json!({"attribute": ""})),
            json!([{"claim": "x", "from": {"value": 1}, "tokens": []}]),
            json!([{"claim": "x", "from": {"value": 1}, "tokens": ["userinfo", "userinfo"]}]),
            json!([{"claim": "x", "from": {"value": 1}, "tokens": ["userinfo"], "scope": "payroll"}]),
            json!([{"claim": "x", "from": {"value": 1}, "tokens": ["userinfo"]},
                   {"claim": "x", "from": {"value": 2}, "tokens": ["id_token"]}]),
        ] {
            assert!(check(bad.clone()).is_err(), "{bad}");
        }
        let many: Vec<Value> = (0..=MAX_CLAIM_MAPPINGS)
            .map(|i| json!({"claim": format!("c{i}"), "from": {"value": i}, "tokens": ["id_token"]}))
            .collect();
        assert!(check(Value::Array(many)).is_err());
        let two_sources =
            json!([{"claim": "x", "from": {"value": 1, "attribute": "y"}, "tokens": ["id_token"]}]);
        assert!(serde_json::from_value::<Vec<ClaimMapping>>(two_sources).is_err(), "one source");
    }
}
