//! Redirect URIs: what may be registered (RFC 6749 §3.1.2, RFC 8252 §7,
//! RFC 9700 §2.1) and how a requested one is matched (RFC 9700 §4.1.3).

use std::net::IpAddr;
use url::{Host, Url};

/// A registered redirect URI: absolute, without fragment or user
/// information; `https`, `http` only to a loopback address, or a private-use
/// scheme in reverse domain order for native apps (RFC 8252 §7.1).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RedirectUri(String);

/// Why a string cannot be registered as a redirect URI.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a redirect URI: {1}")]
pub struct RedirectUriError(pub String, pub &'static str);

impl RedirectUri {
    /// Parses a redirect URI for registration.
    pub fn parse(raw: &str) -> Result<Self, RedirectUriError> {
        let refuse = |why| RedirectUriError(raw.to_owned(), why);
        let url = Url::parse(raw).map_err(|_| refuse("not an absolute URI"))?;
        if url.fragment().is_some() || raw.contains('#') {
            return Err(refuse("a fragment is not allowed (RFC 6749 §3.1.2)"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("user information is not allowed"));
        }
        match url.scheme() {
            "https" => Ok(()),
            "http" if is_loopback(&url) => Ok(()),
            "http" => Err(refuse("http is allowed only to a loopback address (RFC 9700 §2.1)")),
            scheme if scheme.contains('.') => Ok(()),
            _ => Err(refuse("use https, http to loopback, or a private-use scheme such as com.example.app (RFC 8252 §7.1)")),
        }?;
        Ok(Self(raw.to_owned()))
    }

    /// Whether `requested` names this URI: the same string exactly
    /// (RFC 9700 §4.1.3), except that for an `http` loopback IP literal the
    /// port may differ (RFC 8252 §7.3).
    pub fn matches(&self, requested: &str) -> bool {
        if self.0 == requested {
            return true;
        }
        let (Ok(registered), Ok(requested)) = (Url::parse(&self.0), Url::parse(requested)) else {
            return false;
        };
        let ip_literal = matches!(registered.host(), Some(Host::Ipv4(_) | Host::Ipv6(_)));
        registered.scheme() == "http"
            && ip_literal
            && is_loopback(&registered)
            && requested.scheme() == "http"
            && requested.host() == registered.host()
            && requested.path() == registered.path()
            && requested.query() == registered.query()
            && requested.fragment().is_none()
            && requested.username().is_empty()
            && requested.password().is_none()
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(domain)) => domain == "localhost",
        None => false,
    }
}

parsed_string!(RedirectUri);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_https_loopback_http_and_private_use_schemes() {
        for ok in [
            "https://app.example/cb",
            "https://app.example/cb?tenant=1",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/cb",
            "http://localhost:3000/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "/cb",
            "https://app.example/cb#frag",
            "https://app.example/cb#",
            "http://app.example/cb",
            "http://127.0.0.1.app.example/cb",
            "myapp:/cb",
            "javascript:alert(1)",
            "https://user:pw@app.example/cb",
        ] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matching_is_exact() {
        let uri = RedirectUri::parse("https://app.example/cb").unwrap();
        assert!(uri.matches("https://app.example/cb"));
        for near in [
            "https://app.example/cb/",
            "https://app.example/CB",
            "https://APP.example/cb",
            "https://app.example/cb?x=1",
            "https://app.example:443/cb",
            "https://app.example/cb#x",
            "https://app.example.evil/cb",
            "http://app.example/cb",
        ] {
            assert!(!uri.matches(near), "{near}");
        }
    }

    #[test]
    fn a_loopback_ip_literal_may_change_its_port_only() {
        let uri = RedirectUri::parse("http://127.0.0.1/cb").unwrap();
        assert!(uri.matches("http://127.0.0.1:51004/cb"));
        assert!(!uri.matches("http://127.0.0.1:51004/other"));
        assert!(!uri.matches("http://127.0.0.1:51004/cb?x=1"));
        assert!(!uri.matches("http://[::1]:51004/cb"));
        assert!(!uri.matches("https://127.0.0.1:51004/cb"));
        let v6 = RedirectUri::parse("http://[::1]:8080/cb").unwrap();
        assert!(v6.matches("http://[::1]:9090/cb"));
        let named = RedirectUri::parse("http://localhost:3000/cb").unwrap();
        assert!(!named.matches("http://localhost:3001/cb"), "RFC 8252 §8.3: only IP literals may vary");
    }
}
