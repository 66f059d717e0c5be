//! The issuer identifier of this authorization server.

use std::fmt;
use url::Url;

/// The issuer identifier (RFC 8414 §2, OpenID Connect Discovery §3): an absolute
/// `https` (or, for development, `http`) URL with no query and no fragment.
///
/// The configured string is kept byte for byte: OpenID Connect Discovery §4.3
/// requires the `issuer` a client sees to be identical to the one it expects, so
/// no normalisation (such as adding or removing a trailing slash) is applied.
#[derive(Clone, PartialEq, Eq)]
pub struct Issuer {
    raw: String,
    url: Url,
}

/// Why a string is not a valid issuer identifier.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IssuerError {
    /// The string does not parse as an absolute URL.
    #[error("issuer `{0}` is not an absolute URL: {1}")]
    NotAUrl(String, String),
    /// The scheme is neither `https` nor `http`.
    #[error("issuer `{0}` must use the https scheme (http is accepted for development)")]
    Scheme(String),
    /// RFC 8414 §2: the issuer has no query or fragment components.
    #[error("issuer `{0}` must not contain a query or fragment (RFC 8414 §2)")]
    QueryOrFragment(String),
    /// The URL has user information, which an issuer never carries.
    #[error("issuer `{0}` must not contain user information")]
    UserInfo(String),
}

impl Issuer {
    /// Parses and validates an issuer identifier.
    pub fn parse(raw: &str) -> Result<Self, IssuerError> {
        let url = Url::parse(raw).map_err(|e| IssuerError::NotAUrl(raw.to_owned(), e.to_string()))?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
            return Err(IssuerError::Scheme(raw.to_owned()));
        }
        if url.query().is_some() || url.fragment().is_some() || raw.contains(['?', '#']) {
            return Err(IssuerError::QueryOrFragment(raw.to_owned()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(IssuerError::UserInfo(raw.to_owned()));
        }
        Ok(Self { raw: raw.to_owned(), url })
    }

    /// The issuer exactly as configured.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Whether the issuer uses `https`, as OpenID Connect Discovery §3 requires
    /// of a production deployment.
    pub fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }

    /// The absolute URL of an endpoint served under this issuer, e.g.
    /// `endpoint("/jwks")`. A trailing slash of the issuer is not doubled.
    pub fn endpoint(&self, path: &str) -> String {
        debug_assert!(path.starts_with('/'));
        format!("{}{}", self.raw.trim_end_matches('/'), path)
    }
}

impl fmt::Display for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Issuer({:?})", self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_configured_string_byte_for_byte() {
        for raw in ["https://id.example.com", "https://id.example.com/", "https://ID.example.com/tenant/a"] {
            assert_eq!(Issuer::parse(raw).unwrap().as_str(), raw);
        }
    }

    #[test]
    fn joins_endpoints_without_doubling_slashes() {
        assert_eq!(Issuer::parse("https://a.example/").unwrap().endpoint("/jwks"), "https://a.example/jwks");
        assert_eq!(
            Issuer::parse("https://a.example/t1").unwrap().endpoint("/jwks"),
            "https://a.example/t1/jwks"
        );
    }

    #[test]
    fn refuses_query_fragment_userinfo_and_other_schemes() {
        assert!(matches!(Issuer::parse("https://a.example?x=1"), Err(IssuerError::QueryOrFragment(_))));
        assert!(matches!(Issuer::parse("https://a.example/?"), Err(IssuerError::QueryOrFragment(_))));
        assert!(matches!(Issuer::parse("https://a.example#f"), Err(IssuerError::QueryOrFragment(_))));
        assert!(matches!(Issuer::parse("https://u:p@a.example"), Err(IssuerError::UserInfo(_))));
        assert!(matches!(Issuer::parse("ftp://a.example"), Err(IssuerError::Scheme(_))));
        assert!(matches!(Issuer::parse("a.example"), Err(IssuerError::NotAUrl(..))));
        assert!(matches!(Issuer::parse(""), Err(IssuerError::NotAUrl(..))));
    }

    #[test]
    fn knows_whether_it_is_https() {
        assert!(Issuer::parse("https://a.example").unwrap().is_https());
        assert!(!Issuer::parse("http://localhost:8080").unwrap().is_https());
    }
}
