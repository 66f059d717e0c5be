//! A strict reader of `application/x-www-form-urlencoded` request bodies:
//! [`FormParams`] for the OAuth endpoints (RFC 6749 §3.2: no repeated
//! parameter), and [`read_form_body`], the size, time and type limits every
//! form body is read with (the console's too).

use crate::oauth_response::OAuthFailure;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use portcullis_core::OAuthError;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// The largest body accepted.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// How long a client has to send a body once its head has arrived.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// The most parameters accepted.
const MAX_PARAMETERS: usize = 64;
/// Parameters that may repeat (RFC 8707 §2 allows several `resource`s).
const REPEATABLE: [&str; 1] = ["resource"];

/// The parameters of a form body, each decoded as strict UTF-8.
#[derive(Default)]
pub struct FormParams(HashMap<String, Vec<String>>);

/// Only the parameters' names: their values may be codes, verifiers,
/// refresh tokens, secrets or passwords.
impl std::fmt::Debug for FormParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.0.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_tuple("FormParams").field(&names).finish()
    }
}

impl FormParams {
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

    /// Every value of a repeatable parameter.
    pub fn all(&self, name: &str) -> &[String] {
        self.0.get(name).map(Vec::as_slice).unwrap_or_default()
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

/// Why a form's body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRefusal {
    /// It is not `application/x-www-form-urlencoded`.
    NotForm,
    /// It is larger than the limit, in bytes.
    TooLarge(usize),
    /// The connection failed while it was read.
    Unreadable,
    /// It did not arrive within [`BODY_TIMEOUT`].
    TooSlow,
}

impl std::fmt::Display for BodyRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotForm => f.write_str("the body must be application/x-www-form-urlencoded"),
            Self::TooLarge(limit) => write!(f, "the request body exceeds {limit} bytes"),
            Self::Unreadable => f.write_str("the request body could not be read"),
            Self::TooSlow => write!(f, "the request body did not arrive within {BODY_TIMEOUT:?}"),
        }
    }
}

/// Reads the `application/x-www-form-urlencoded` body of `req` (one
/// Content-Type, at most `limit` bytes, within [`BODY_TIMEOUT`]), so that a
/// slow or large body cannot hold the server for others.
pub fn read_form_body(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> impl Future<Output = Result<Vec<u8>, BodyRefusal>> + 'static {
    let mut content_types = req.headers().get_all(header::CONTENT_TYPE);
    let is_form = match (content_types.next().and_then(|v| v.to_str().ok()), content_types.next()) {
        (Some(content_type), None) => content_type
            .split(';')
            .next()
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")),
        _ => false,
    };
    let body = read_body(req, payload, limit);
    async move {
        if !is_form {
            return Err(BodyRefusal::NotForm);
        }
        body.await
    }
}

/// Reads the body of `req`, whatever its type: at most `limit` bytes (a
/// larger declared length refused before anything is read), within
/// [`BODY_TIMEOUT`].
pub fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> impl Future<Output = Result<Vec<u8>, BodyRefusal>> + 'static {
    let declared_length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    async move {
        if declared_length.is_some_and(|length| length > limit) {
            return Err(BodyRefusal::TooLarge(limit));
        }
        let read = async {
            let mut body = Vec::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| BodyRefusal::Unreadable)?;
                if body.len() + chunk.len() > limit {
                    return Err(BodyRefusal::TooLarge(limit));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body)
        };
        actix_web::rt::time::timeout(BODY_TIMEOUT, read).await.map_err(|_| BodyRefusal::TooSlow)?
    }
}

impl FromRequest for FormParams {
    type Error = OAuthFailure;
    type Future = Pin<Box<dyn Future<Output = Result<Self, OAuthFailure>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_form_body(req, payload, MAX_BODY_BYTES);
        Box::pin(async move {
            let body = body.await.map_err(|refusal| OAuthError::invalid_request(refusal.to_string()))?;
            Ok(FormParams::parse(&body)?)
        })
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn debug_shows_names_never_values() {
        let form = FormParams::parse(b"grant_type=refresh_token&refresh_token=r3fr3sh&client_secret=s3cret")
            .unwrap();
        let shown = format!("{form:?}");
        assert_eq!(shown, r#"FormParams(["client_secret", "grant_type", "refresh_token"])"#);
    }

    use super::*;

    #[test]
    fn decodes_percent_escapes_and_plus() {
        let form = FormParams::parse(b"grant_type=client_credentials&scope=a+b%20c&x=%E2%9C%93").unwrap();
        assert_eq!(form.get("grant_type"), Some("client_credentials"));
        assert_eq!(form.get("scope"), Some("a b c"));
        assert_eq!(form.get("x"), Some("\u{2713}"));
    }

    #[test]
    fn empty_values_count_as_omitted() {
        let form = FormParams::parse(b"scope=&grant_type=x&flag").unwrap();
        assert_eq!(form.get("scope"), None);
        assert_eq!(form.get("flag"), None);
        assert!(form.require("scope").unwrap_err().error_description.contains("`scope`"));
    }

    #[test]
    fn refuses_repeats_except_resource() {
        let error = FormParams::parse(b"scope=a&scope=b").unwrap_err();
        assert!(error.error_description.contains("repeated"));
        assert!(FormParams::parse(b"scope=a&scope=").is_err(), "a repeat is refused even when empty");
        let form = FormParams::parse(b"resource=https%3A%2F%2Fa&resource=https%3A%2F%2Fb").unwrap();
        assert_eq!(form.all("resource"), ["https://a", "https://b"]);
    }

    #[test]
    fn refuses_bytes_that_are_not_utf8() {
        assert!(FormParams::parse(b"scope=\xff").is_err());
        assert!(FormParams::parse(b"scope=%FF%FE").is_err());
        assert!(FormParams::parse(b"scope=%zz").is_ok(), "an invalid escape stays literal, as in browsers");
    }

    #[test]
    fn refuses_too_many_parameters() {
        let body: Vec<String> = (0..=MAX_PARAMETERS).map(|i| format!("p{i}=v")).collect();
        assert!(FormParams::parse(body.join("&").as_bytes()).is_err());
    }
}
