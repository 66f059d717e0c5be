//! Custom user attributes: the claims of an installation's own domain
//! (a department, an employee number, the teams a user is in), defined by
//! an admin as a schema of named, typed attributes, and set per user within
//! it. A name can never be a claim the protocol or OpenID Connect gives its
//! own meaning (`sub`, `email`, `acr`, …): an attribute adds to a token, it
//! never stands in for what the server asserts.

use crate::user::CLAIMS_BY_SCOPE;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The most attributes a schema holds.
pub const MAX_ATTRIBUTES: usize = 100;
/// The longest text an attribute holds (each text of a list too).
pub const MAX_TEXT: usize = 1_000;
/// The most texts a list holds.
pub const MAX_LIST: usize = 100;
/// The most bytes a user's values take as JSON, all together.
pub const MAX_VALUES_BYTES: usize = 64 * 1024;
/// The longest description.
pub const MAX_DESCRIPTION: usize = 200;

/// Claims of JWTs, OAuth and OpenID Connect that the server alone asserts
/// (RFC 7519 §4.1, RFC 9068 §2.2, RFC 8693 §4, RFC 7800, RFC 7662 §2.2,
/// OpenID Connect Core §2, §5.1 and §5.6.2), and the claims of its own
/// tokens (`grant_id`, `userinfo_claims`): no attribute may be named after
/// one, nor any claim mapped to one.
pub const PROTOCOL_CLAIMS: [&str; 30] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "cnf",
    "act",
    "may_act",
    "scope",
    "client_id",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "sid",
    "at_hash",
    "c_hash",
    "s_hash",
    "updated_at",
    "typ",
    "active",
    "token_type",
    "username",
    "_claim_names",
    "_claim_sources",
    "grant_id",
    "userinfo_claims",
];

/// What an attribute's values are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    /// Text of at most [`MAX_TEXT`] characters.
    String,
    /// A JSON number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A list of at most [`MAX_LIST`] texts.
    Strings,
}

impl AttributeType {
    /// Its name in the schema.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Strings => "strings",
        }
    }

    /// Every type, as forms offer them.
    pub const ALL: [AttributeType; 4] = [Self::String, Self::Number, Self::Boolean, Self::Strings];

    /// The type named `name`.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The type named `name`, or an error naming the four.
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::named(name).ok_or_else(|| format!("`{name}` is no type: string, number, boolean or strings"))
    }
}

/// One attribute of the schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeDefinition {
    /// Its name, the claim it may become: `a`–`z`, `0`–`9` and `_`,
    /// starting with a letter, at most 64 characters.
    pub name: String,
    /// What its values are.
    #[serde(rename = "type")]
    pub kind: AttributeType,
    /// What it means, for admins.
    #[serde(default)]
    pub description: String,
}

/// Why an attribute or a value is refused: the attribute and the reason.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{name}: {message}")]
pub struct AttributeError {
    /// The attribute.
    pub name: String,
    /// What is wrong.
    pub message: String,
}

fn refused(name: &str, message: impl Into<String>) -> AttributeError {
    AttributeError { name: name.to_owned(), message: message.into() }
}

/// Every claim OpenID Connect or the protocol gives its own meaning: the
/// [`PROTOCOL_CLAIMS`] and the standard claims of OpenID Connect Core §5.1.
pub fn reserved_claims() -> impl Iterator<Item = &'static str> {
    PROTOCOL_CLAIMS.into_iter().chain(CLAIMS_BY_SCOPE.iter().flat_map(|(_, claims)| claims.iter().copied()))
}

/// Whether `name` is a claim OpenID Connect or the protocol gives its own meaning.
pub fn is_reserved_claim(name: &str) -> bool {
    reserved_claims().any(|reserved| reserved == name)
}

impl AttributeDefinition {
    /// Checks the definition itself: its name's form, that it names no
    /// reserved claim, and its description's length.
    pub fn validate(&self) -> Result<(), AttributeError> {
        let name = self.name.as_str();
        let well_formed = (1..=64).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !well_formed {
            return Err(refused(
                name,
                "a name is a-z, 0-9 and _, starting with a letter, at most 64 characters",
            ));
        }
        if is_reserved_claim(name) {
            return Err(refused(
                name,
                "a claim the protocol or OpenID Connect defines cannot be an attribute",
            ));
        }
        if self.description.chars().count() > MAX_DESCRIPTION || self.description.contains(char::is_control) {
            return Err(refused(
                name,
                format!("the description is at most {MAX_DESCRIPTION} characters without control characters"),
            ));
        }
        Ok(())
    }

    /// Checks `value` against the attribute's type.
    pub fn check(&self, value: &Value) -> Result<(), AttributeError> {
        let text_ok = |text: &str| text.chars().count() <= MAX_TEXT && !text.contains(char::is_control);
        let fits = match (self.kind, value) {
            (AttributeType::String, Value::String(text)) => text_ok(text),
            (AttributeType::Number, Value::Number(_)) | (AttributeType::Boolean, Value::Bool(_)) => true,
            (AttributeType::Strings, Value::Array(items)) => {
                items.len() <= MAX_LIST && items.iter().all(|item| item.as_str().is_some_and(text_ok))
            }
            _ => false,
        };
        if fits {
            return Ok(());
        }
        let expected = match self.kind {
            AttributeType::String => format!("text of at most {MAX_TEXT} characters"),
            AttributeType::Number => "a number".to_owned(),
            AttributeType::Boolean => "true or false".to_owned(),
            AttributeType::Strings => {
                format!("a list of at most {MAX_LIST} texts of at most {MAX_TEXT} characters")
            }
        };
        Err(refused(&self.name, format!("must be {expected}")))
    }
}

/// Checks a user's `values` against `schema`: each names a defined
/// attribute and fits its type, and all together take at most
/// [`MAX_VALUES_BYTES`] as JSON.
pub fn check_values(
    schema: &[AttributeDefinition],
    values: &Map<String, Value>,
) -> Result<(), AttributeError> {
    let size = serde_json::to_vec(values).map_or(usize::MAX, |json| json.len());
    if size > MAX_VALUES_BYTES {
        return Err(refused("attributes", format!("all together at most {MAX_VALUES_BYTES} bytes of JSON")));
    }
    for (name, value) in values {
        let definition = schema
            .iter()
            .find(|definition| definition.name == *name)
            .ok_or_else(|| refused(name, "no such attribute is defined"))?;
        definition.check(value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attribute(name: &str, kind: AttributeType) -> AttributeDefinition {
        AttributeDefinition { name: name.into(), kind, description: String::new() }
    }

    #[test]
    fn names_are_plain_and_never_a_claim_the_server_asserts() {
        assert!(attribute("department", AttributeType::String).validate().is_ok());
        assert!(attribute("cost_center_2", AttributeType::Number).validate().is_ok());
        for bad in ["", "Department", "2fa", "dept-name", "dé", &"x".repeat(65)] {
            assert!(attribute(bad, AttributeType::String).validate().is_err(), "{bad}");
        }
        for reserved in
            ["sub", "email", "acr", "cnf", "act", "client_id", "scope", "name", "address", "updated_at"]
        {
            let error = attribute(reserved, AttributeType::String).validate().unwrap_err();
            assert!(error.message.contains("cannot be an attribute"), "{reserved}");
        }
    }

    #[test]
    fn values_fit_their_types_and_name_defined_attributes() {
        let schema = [
            attribute("department", AttributeType::String),
            attribute("level", AttributeType::Number),
            attribute("contractor", AttributeType::Boolean),
            attribute("teams", AttributeType::Strings),
        ];
        let Value::Object(good) =
            json!({"department": "Sales", "level": 3, "contractor": false, "teams": ["a", "b"]})
        else {
            unreachable!()
        };
        check_values(&schema, &good).unwrap();
        for (bad, name) in [
            (json!({"department": 3}), "department"),
            (json!({"level": "3"}), "level"),
            (json!({"contractor": "yes"}), "contractor"),
            (json!({"teams": ["a", 1]}), "teams"),
            (json!({"teams": vec!["t"; MAX_LIST + 1]}), "teams"),
            (json!({"department": "x".repeat(MAX_TEXT + 1)}), "department"),
            (json!({"favourite_colour": "blue"}), "favourite_colour"),
        ] {
            let Value::Object(values) = bad else { unreachable!() };
            assert_eq!(check_values(&schema, &values).unwrap_err().name, name);
        }
        let many: Vec<AttributeDefinition> =
            (0..80).map(|i| attribute(&format!("t{i}"), AttributeType::String)).collect();
        let huge: Map<String, Value> =
            many.iter().map(|a| (a.name.clone(), json!("x".repeat(MAX_TEXT)))).collect();
        assert_eq!(check_values(&many, &huge).unwrap_err().name, "attributes", "all together bounded");
        assert_eq!(
            AttributeType::parse("date").unwrap_err(),
            "`date` is no type: string, number, boolean or strings"
        );
    }
}
