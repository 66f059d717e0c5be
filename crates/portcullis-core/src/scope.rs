//! OAuth scopes (RFC 6749 §3.3).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeSet;
use std::fmt;

/// A set of scope tokens. Order and repetition carry no meaning (RFC 6749
/// §3.3), so the set is kept sorted and displays space-separated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Scope(BTreeSet<String>);

/// A scope string that is not a space-separated list of scope tokens.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("scope token `{0}` has a character outside %x21 / %x23-5B / %x5D-7E (RFC 6749 §3.3)")]
pub struct ScopeError(pub String);

impl Scope {
    /// Parses a space-delimited scope string. RFC 6749 §3.3 separates tokens
    /// by single spaces; runs of spaces are tolerated, nothing else is.
    pub fn parse(raw: &str) -> Result<Self, ScopeError> {
        raw.split(' ')
            .filter(|token| !token.is_empty())
            .map(|token| {
                // scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
                let valid = token.bytes().all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E));
                if valid {
                    Ok(token.to_owned())
                } else {
                    Err(ScopeError(token.to_owned()))
                }
            })
            .collect::<Result<_, _>>()
            .map(Scope)
    }

    /// Whether the set holds no token.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every token of `self` is in `other`.
    pub fn is_subset(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Whether `token` is in the set.
    pub fn contains(&self, token: &str) -> bool {
        self.0.contains(token)
    }

    /// The tokens in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The set without `tokens`.
    pub fn without(&self, tokens: &[String]) -> Self {
        Self(self.0.iter().filter(|token| !tokens.contains(token)).cloned().collect())
    }

    /// The set with `tokens` too (each a scope token already).
    pub fn with(&self, tokens: &[String]) -> Self {
        Self(self.0.iter().chain(tokens).cloned().collect())
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for token in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(token)?;
            first = false;
        }
        Ok(())
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Scope::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_repetition_do_not_matter() {
        let a = Scope::parse("write read read").unwrap();
        assert_eq!(a, Scope::parse("read  write").unwrap());
        assert_eq!(a.to_string(), "read write");
        assert_eq!(Scope::parse("").unwrap(), Scope::default());
    }

    #[test]
    fn refuses_characters_outside_the_grammar() {
        for bad in ["a\"b", "a\\b", "caf\u{e9}", "a\tb", "a\nb"] {
            assert!(Scope::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Scope::parse("urn:x:read api/v1!#$").is_ok());
    }

    #[test]
    fn subsets() {
        let all = Scope::parse("a b c").unwrap();
        assert!(Scope::parse("a c").unwrap().is_subset(&all));
        assert!(Scope::default().is_subset(&all));
        assert!(!Scope::parse("a d").unwrap().is_subset(&all));
        assert_eq!(all.without(&["b".into(), "x".into()]), Scope::parse("a c").unwrap());
        assert_eq!(Scope::parse("a").unwrap().with(&["c".into(), "a".into()]).to_string(), "a c");
    }

    #[test]
    fn serialises_as_a_space_separated_string() {
        let scope: Scope = serde_json::from_str(r#""b a""#).unwrap();
        assert_eq!(serde_json::to_string(&scope).unwrap(), r#""a b""#);
        assert!(serde_json::from_str::<Scope>(r#""a\"b""#).is_err());
    }
}
