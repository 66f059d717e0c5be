//! The parameters of an OAuth request, read strictly from a form body or a
//! query string: each name once (RFC 6749 §3.2), except those a
//! specification lets repeat, each value strict UTF-8. The HTTP adapters
//! read the bytes; every decision of the engine reads these.

use portcullis_core::authorization_request::Parameters;
use portcullis_core::OAuthError;
use std::collections::HashMap;

/// The most parameters accepted.
const MAX_PARAMETERS: usize = 64;
/// Parameters that may repeat (RFC 8707 §2 allows several `resource`s).
const REPEATABLE: [&str; 1] = ["resource"];

/// The parameters of a form body, each decoded as strict UTF-8.
#[derive(Default)]
pub struct Params(HashMap<String, Vec<String>>);

/// Only the parameters' names: their values may be codes, verifiers,
/// refresh tokens, secrets or passwords.
impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.0.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_tuple("Params").field(&names).finish()
    }
}

/// The authorization request reads its parameters from either place.
impl Parameters for Params {
    fn get(&self, name: &str) -> Option<&str> {
        Params::get(self, name)
    }
}

impl Params {
    /// Parses a form body. RFC 6749 §3.2: a parameter must not be repeated,
    /// and one sent without a value counts as omitted.
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let body = std::str::from_utf8(body)
            .map_err(|_| OAuthError::invalid_request("the request body is not UTF-8"))?;
        let mut params: HashMap<String, Vec<String>> = HashMap::new();
        for pair in body.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (name, value) = (decode(name)?, decode(value)?);
            let values = params.entry(name.clone()).or_default();
            if !values.is_empty() && !REPEATABLE.contains(&name.as_str()) {
                return Err(OAuthError::invalid_request(format!(
                    "parameter `{name}` is repeated (RFC 6749 §3.2)"
                )));
            }
            if !value.is_empty() {
                values.push(value);
            }
            if params.len() > MAX_PARAMETERS {
                return Err(OAuthError::invalid_request("too many parameters"));
            }
        }
        params.retain(|_, values| !values.is_empty());
        Ok(Self(params))
    }

    /// The value of a parameter that may appear once.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|values| values.first()).map(String::as_str)
    }

    /// The value of a required parameter, or `invalid_request` naming it.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| OAuthError::invalid_request(format!("parameter `{name}` is missing")))
    }

    /// Sets `name` to `value` alone, replacing what was sent.
    pub fn set(&mut self, name: &str, value: String) {
        self.0.insert(name.to_owned(), vec![value]);
    }

    /// Every value of a repeatable parameter.
    pub fn all(&self, name: &str) -> &[String] {
        self.0.get(name).map(Vec::as_slice).unwrap_or_default()
    }
}

/// Parameters from name-value pairs already decoded (a request object's
/// members); a repeated name keeps every value, empty values count as omitted.
impl FromIterator<(String, String)> for Params {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        let mut params: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in pairs.into_iter().filter(|(_, value)| !value.is_empty()) {
            params.entry(name).or_default().push(value);
        }
        Self(params)
    }
}

/// Percent-decodes one name or value (with `+` as space), refusing bytes
/// that do not form UTF-8.
fn decode(raw: &str) -> Result<String, OAuthError> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| OAuthError::invalid_request("a parameter is not UTF-8 once decoded"))
}

#[cfg(test)]
mod tests {

    #[test]
    fn debug_shows_names_never_values() {
        let form =
            Params::parse(b"grant_type=refresh_token&refresh_token=r3fr3sh&client_secret=s3cret").unwrap();
        let shown = format!("{form:?}");
        assert_eq!(shown, r#"Params(["client_secret", "grant_type", "refresh_token"])"#);
    }

    use super::*;

    #[test]
    fn decodes_percent_escapes_and_plus() {
        let form = Params::parse(b"grant_type=client_credentials&scope=a+b%20c&x=%E2%9C%93").unwrap();
        assert_eq!(form.get("grant_type"), Some("client_credentials"));
        assert_eq!(form.get("scope"), Some("a b c"));
        assert_eq!(form.get("x"), Some("\u{2713}"));
    }

    #[test]
    fn empty_values_count_as_omitted() {
        let form = Params::parse(b"scope=&grant_type=x&flag").unwrap();
        assert_eq!(form.get("scope"), None);
        assert_eq!(form.get("flag"), None);
        assert!(form.require("scope").unwrap_err().error_description.contains("`scope`"));
    }

    #[test]
    fn refuses_repeats_except_resource() {
        let error = Params::parse(b"scope=a&scope=b").unwrap_err();
        assert!(error.error_description.contains("repeated"));
        assert!(Params::parse(b"scope=a&scope=").is_err(), "a repeat is refused even when empty");
        let form = Params::parse(b"resource=https%3A%2F%2Fa&resource=https%3A%2F%2Fb").unwrap();
        assert_eq!(form.all("resource"), ["https://a", "https://b"]);
    }

    #[test]
    fn refuses_bytes_that_are_not_utf8() {
        assert!(Params::parse(b"scope=\xff").is_err());
        assert!(Params::parse(b"scope=%FF%FE").is_err());
        assert!(Params::parse(b"scope=%zz").is_ok(), "an invalid escape stays literal, as in browsers");
    }

    #[test]
    fn refuses_too_many_parameters() {
        let body: Vec<String> = (0..=MAX_PARAMETERS).map(|i| format!("p{i}=v")).collect();
        assert!(Params::parse(body.join("&").as_bytes()).is_err());
    }
}
