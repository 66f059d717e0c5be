//! The `claims` request parameter (OpenID Connect Core §5.5): a client
//! asks for individual claims in the ID token or at UserInfo, beyond what
//! its scopes release. What is asked is read into [`RequestedClaims`],
//! which the code, the refresh tokens and the access token carry on:
//!
//! - standard claims (§5.1) are released where asked, when the user has
//!   them, once the user consented to them by name;
//! - a standard claim is asked for only within the scopes the client may
//!   be granted (a client of `openid` alone gets no `email` by name);
//! - `sub` with a `value` in the ID token's request asks for that user
//!   only (§5.5.1), as an `id_token_hint` does;
//! - `acr` asked as essential with values cannot be met, since this server
//!   asserts no authentication context class: the request fails, as
//!   §5.5.1.1 requires;
//! - the claims the server always puts in an ID token (`auth_time`, …) are
//!   there anyway, and anything else is ignored, as §5.5 says of members
//!   not understood.

use crate::claim_mappings::is_standard_claim;
use crate::user::CLAIMS_BY_SCOPE;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The most bytes of a `claims` parameter read.
pub const MAX_CLAIMS_PARAMETER: usize = 8 * 1024;

/// What a `claims` parameter asks for, as far as this server acts on it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedClaims {
    /// Standard claims asked for in the ID token.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_token: Vec<String>,
    /// Standard claims asked for at UserInfo.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub userinfo: Vec<String>,
    /// The user the request is for, when `sub` is asked with a `value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// Why a `claims` parameter is refused: an `invalid_request`, or an
/// authentication requirement this server cannot meet.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClaimsRequestError {
    /// Not a JSON object of the §5.5 form.
    #[error("claims: {0}")]
    Invalid(String),
    /// Essential `acr` values, which this server never asserts.
    #[error(
        "the essential acr requested cannot be met: this server asserts no authentication context class"
    )]
    UnmetAcr,
}

impl RequestedClaims {
    /// Reads a `claims` parameter (§5.5).
    pub fn parse(raw: &str) -> Result<Self, ClaimsRequestError> {
        let invalid = |why: &str| ClaimsRequestError::Invalid(why.to_owned());
        if raw.len() > MAX_CLAIMS_PARAMETER {
            return Err(invalid("the parameter is too long"));
        }
        let Ok(Value::Object(request)) = serde_json::from_str::<Value>(raw) else {
            return Err(invalid("must be a JSON object"));
        };
        let mut read = Self::default();
        let Self { id_token, userinfo, subject } = &mut read;
        for (member, into) in [("id_token", id_token), ("userinfo", userinfo)] {
            let asked = match request.get(member) {
                None | Some(Value::Null) => continue,
                Some(Value::Object(asked)) => asked,
                Some(_) => return Err(invalid(&format!("{member} must be an object"))),
            };
            // The messages never repeat a name the client sent (RFC 6749 §4.1.2.1).
            for (name, how) in asked {
                let how = match how {
                    Value::Null => &Map::new(),
                    Value::Object(how) => how,
                    _ => return Err(invalid(&format!("each claim of {member} must be null or an object"))),
                };
                let subject = (member == "id_token").then_some(&mut *subject);
                note((name, how), into, subject)?;
            }
        }
        Ok(read)
    }
}

/// Notes claim `name`, asked for as `how`, in the list `into`, or as the
/// `subject` asked for, where a `sub` value counts (the ID token's request).
fn note(
    (name, how): (&str, &Map<String, Value>),
    into: &mut Vec<String>,
    subject: Option<&mut Option<String>>,
) -> Result<(), ClaimsRequestError> {
    let invalid = |why: &str| Err(ClaimsRequestError::Invalid(why.to_owned()));
    if how.get("essential").is_some_and(|essential| !essential.is_boolean()) {
        return invalid("essential must be true or false");
    }
    if how.get("values").is_some_and(|values| !values.is_array()) {
        return invalid("values must be an array");
    }
    match (name, subject) {
        ("sub", None) => {}
        ("sub", Some(subject)) => match how.get("value") {
            None => {}
            Some(Value::String(sub)) if subject.as_ref().is_none_or(|asked| asked == sub) => {
                *subject = Some(sub.clone());
            }
            Some(_) => return invalid("the sub value must be one string"),
        },
        // §5.5.1.1: an essential acr that cannot be met fails the request.
        ("acr", _)
            if how.get("essential") == Some(&Value::Bool(true))
                && (how.contains_key("value") || how.contains_key("values")) =>
        {
            return Err(ClaimsRequestError::UnmetAcr)
        }
        (name, _) if is_standard_claim(name) && !into.iter().any(|asked| asked == name) => {
            into.push(name.to_owned());
        }
        _ => {}
    }
    Ok(())
}

impl RequestedClaims {
    /// The request with only the standard claims that `scopes` (what the
    /// client may be granted) can release: asking by name never reaches
    /// past them.
    pub fn within(mut self, scopes: &crate::Scope) -> Self {
        let released = |name: &String| {
            CLAIMS_BY_SCOPE
                .iter()
                .any(|(scope, claims)| scopes.contains(scope) && claims.contains(&name.as_str()))
        };
        self.id_token.retain(released);
        self.userinfo.retain(released);
        self
    }

    /// Whether it asks for nothing this server acts on.
    pub fn is_empty(&self) -> bool {
        self.id_token.is_empty() && self.userinfo.is_empty() && self.subject.is_none()
    }

    /// Every standard claim asked for, each once: what the user consents to
    /// by name.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.id_token.iter().chain(&self.userinfo).map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// The user's `standard` claims among `asked`, those the user has, borrowed.
pub fn released<'a>(
    asked: &'a [String],
    standard: &'a Map<String, Value>,
) -> impl Iterator<Item = (&'a str, &'a Value)> {
    asked.iter().filter_map(|name| Some((name.as_str(), standard.get(name)?)))
}

/// Adds to `claims` what [`released`] names; a claim already there keeps
/// its value.
pub fn release(asked: &[String], standard: &Map<String, Value>, claims: &mut Map<String, Value>) {
    for (name, value) in released(asked, standard) {
        claims.entry(name).or_insert_with(|| value.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(json: Value) -> Result<RequestedClaims, ClaimsRequestError> {
        RequestedClaims::parse(&json.to_string())
    }

    #[test]
    fn reads_the_standard_claims_asked_where_they_are_asked() {
        let read = parse(json!({
            "userinfo": {"email": {"essential": true}, "email_verified": null, "department": null, "nickname": {"values": ["a"]}},
            "id_token": {"name": null, "auth_time": {"essential": true}, "sub": {"value": "u1"}, "acr": {"values": ["x"]}},
            "other": {"ignored": true}
        }))
        .unwrap();
        assert_eq!(read.userinfo, ["email", "email_verified", "nickname"], "an unknown claim is ignored");
        assert_eq!(read.id_token, ["name"], "auth_time is always there; acr, not essential, is ignored");
        assert_eq!(read.subject.as_deref(), Some("u1"));
        assert_eq!(read.names(), ["email", "email_verified", "name", "nickname"]);
        let within = read.clone().within(&crate::Scope::parse("openid email").unwrap());
        assert_eq!(
            (within.id_token.len(), within.userinfo),
            (0, vec!["email".to_owned(), "email_verified".into()])
        );
        let at_userinfo = parse(json!({"userinfo": {"sub": {"value": "u2"}}})).unwrap();
        assert_eq!(at_userinfo.subject, None, "only the ID token's sub names the user (§5.5.1)");
        assert!(parse(json!({})).unwrap().is_empty());
        assert!(parse(json!({"userinfo": null})).unwrap().is_empty());
    }

    #[test]
    fn refuses_what_is_not_of_the_form_and_an_essential_acr() {
        for bad in [
            json!([]),
            json!({"userinfo": []}),
            json!({"userinfo": {"email": true}}),
            json!({"userinfo": {"email": {"essential": "yes"}}}),
            json!({"id_token": {"email": {"values": "x"}}}),
            json!({"id_token": {"sub": {"value": 1}}}),
            json!({"id_token": {"sub": {"value": ["a", "b"]}}}),
        ] {
            assert!(matches!(parse(bad.clone()), Err(ClaimsRequestError::Invalid(_))), "{bad}");
        }
        assert!(RequestedClaims::parse("{").is_err());
        assert!(RequestedClaims::parse(&format!("\"{}\"", "x".repeat(MAX_CLAIMS_PARAMETER))).is_err());
        let acr =
            json!({"id_token": {"acr": {"essential": true, "values": ["urn:mace:incommon:iap:silver"]}}});
        assert_eq!(parse(acr), Err(ClaimsRequestError::UnmetAcr));
    }

    #[test]
    fn releases_what_the_user_has_and_keeps_what_is_there() {
        let standard = json!({"email": "a@example.com", "name": "Alice"}).as_object().unwrap().clone();
        let mut claims = json!({"name": "kept"}).as_object().unwrap().clone();
        release(&["email".into(), "name".into(), "phone_number".into()], &standard, &mut claims);
        assert_eq!(Value::Object(claims), json!({"email": "a@example.com", "name": "kept"}));
    }
}
