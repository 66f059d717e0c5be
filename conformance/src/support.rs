//! Small helpers the scenarios share: rewriting a request URL, unsigned
//! request objects, raw calls where `openidconnect` has no API, waiting for
//! a change to reach the server's other instances.

use crate::relying_party::{RelyingParty, TokenError};
use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::future::Future;
use std::time::Duration;
use url::Url;

/// How long a revocation may take to apply everywhere (the server promises
/// one second; twice that is allowed for a loaded machine).
pub const PROPAGATION: Duration = Duration::from_secs(2);

/// `url` with its query rebuilt by `edit` from its parameters, in order.
pub fn edit_query(url: &Url, edit: impl FnOnce(&mut Vec<(String, String)>)) -> Url {
    let mut params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    edit(&mut params);
    let mut edited = url.clone();
    edited.query_pairs_mut().clear().extend_pairs(&params);
    edited
}

/// `url` without the parameter `name`.
pub fn without(url: &Url, name: &str) -> Url {
    edit_query(url, |params| params.retain(|(n, _)| n != name))
}

/// `url` with `name` set to `value` (replacing any value it had).
pub fn with(url: &Url, name: &str, value: &str) -> Url {
    edit_query(url, |params| {
        params.retain(|(n, _)| n != name);
        params.push((name.to_owned(), value.to_owned()));
    })
}

/// An unsigned request object (`alg: none`, OpenID Connect Core §6.1)
/// carrying `claims`.
pub fn unsigned_request_object(claims: &serde_json::Value) -> String {
    let encode = |json: &serde_json::Value| URL_SAFE_NO_PAD.encode(json.to_string());
    format!("{}.{}.", encode(&serde_json::json!({"alg": "none"})), encode(claims))
}

/// The status of a UserInfo GET with `access_token`.
pub async fn userinfo_status(rp: &RelyingParty, access_token: &str) -> Result<u16> {
    let url = rp.metadata.userinfo_endpoint().context("no userinfo_endpoint")?;
    Ok(rp.http.get(url.url().clone()).bearer_auth(access_token).send().await?.status().as_u16())
}

/// Waits until `check` holds, for at most [`PROPAGATION`]; `what` names it
/// in the error.
pub async fn eventually<F, Fut>(what: &str, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool>>,
{
    let deadline = tokio::time::Instant::now() + PROPAGATION;
    loop {
        if check().await? {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            bail!("{what}: still not so after {PROPAGATION:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Expects an OAuth `invalid_grant` from a token request; `what` names it in the error.
pub fn invalid_grant<T>(result: Result<T, TokenError>, what: &str) -> Result<()> {
    match result {
        Err(TokenError::OAuth(error)) if error == "invalid_grant" => Ok(()),
        Err(other) => bail!("{what}: {other}"),
        Ok(_) => bail!("{what}: accepted"),
    }
}

/// The raw discovery document, for the members `openidconnect` does not model.
pub async fn discovery_json(rp: &RelyingParty) -> Result<serde_json::Value> {
    let url = format!("{}/.well-known/openid-configuration", rp.target.issuer.trim_end_matches('/'));
    Ok(rp.http.get(url).send().await?.error_for_status()?.json().await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parameter_is_replaced_and_the_others_keep_their_order() {
        let url = Url::parse("https://op.example/authorize?a=1&b=2&c=3").unwrap();
        assert_eq!(with(&url, "b", "x y").as_str(), "https://op.example/authorize?a=1&c=3&b=x+y");
        assert_eq!(without(&url, "a").as_str(), "https://op.example/authorize?b=2&c=3");
    }

    #[test]
    fn an_unsigned_request_object_has_an_empty_signature() {
        let object = unsigned_request_object(&serde_json::json!({"scope": "openid"}));
        assert_eq!(object, "eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9.");
    }
}
