//! One scenario per module of the OpenID Foundation's
//! `oidcc-rp-initiated-logout-certification-test-plan` (RP-Initiated
//! Logout 1.0): a browser signs in with the basic client, then the RP sends
//! it to the server's `end_session_endpoint` with a hint, a post-logout
//! redirect URI and a state, or parts of them, or broken ones.

use crate::relying_party::{unchanged, RelyingParty};
use crate::report::Outcome;
use crate::support::discovery_json;
use crate::user_agent::{Landing, LoggedOut, UserAgent};
use anyhow::{ensure, Context, Result};
use openidconnect::core::CoreAuthPrompt;
use openidconnect::TokenResponse;
use url::Url;

/// A fresh browser signed in with the basic client, and its ID token.
async fn signed_in(rp: &RelyingParty) -> Result<(UserAgent, String)> {
    let agent = rp.browser()?;
    let signed_in = rp.sign_in(&agent, &rp.basic()?, &[], unchanged).await?;
    let id_token = signed_in.tokens.id_token().context("no ID token")?.to_string();
    Ok((agent, id_token))
}

/// The end-session endpoint with `params`.
async fn logout_url(rp: &RelyingParty, params: &[(&str, &str)]) -> Result<Url> {
    let document = discovery_json(rp).await?;
    let endpoint = document["end_session_endpoint"].as_str().context("no end_session_endpoint")?;
    Ok(Url::parse_with_params(endpoint, params)?)
}

/// Whether `agent`'s session still answers a `prompt=none` request.
async fn still_signed_in(rp: &RelyingParty, agent: &UserAgent) -> Result<bool> {
    let pending = rp.request(&rp.basic()?, &[], |r| r.add_prompt(CoreAuthPrompt::None));
    let journey = agent.visit(&pending.url, &rp.target.redirect_uri).await?;
    match journey.landing {
        Landing::Callback(params) if params.contains_key("code") => Ok(true),
        Landing::Callback(params) if params.get("error").map(String::as_str) == Some("login_required") => {
            Ok(false)
        }
        other => anyhow::bail!("prompt=none ended at {other:?}"),
    }
}

/// The registered post-logout redirect URI, or why the module cannot run.
fn post_logout(rp: &RelyingParty) -> Result<&str, Outcome> {
    rp.target.post_logout_redirect_uri.as_deref().ok_or(Outcome::NotApplicable(
        "the target names no post-logout redirect URI registered for the basic client",
    ))
}

/// Logs out with `params` (the hint, when `with_hint`, first): where it
/// ended, whether the user was asked to confirm, and whether the session
/// survived.
async fn log_out(
    rp: &RelyingParty,
    with_hint: bool,
    params: &[(&str, &str)],
) -> Result<(LoggedOut, bool, bool)> {
    let (agent, id_token) = signed_in(rp).await?;
    let mut all: Vec<(&str, &str)> =
        if with_hint { vec![("id_token_hint", id_token.as_str())] } else { Vec::new() };
    all.extend_from_slice(params);
    let uri = rp.target.post_logout_redirect_uri.as_deref().unwrap_or("https://rp.example/logged-out");
    let (ended, confirmed) = agent.log_out(&logout_url(rp, &all).await?, uri).await?;
    Ok((ended, confirmed, still_signed_in(rp, &agent).await?))
}

/// Runs `module` when the target has a post-logout redirect URI.
macro_rules! needs_post_logout {
    ($rp:expr) => {
        match post_logout($rp) {
            Ok(uri) => uri,
            Err(not_applicable) => return Ok(not_applicable),
        }
    };
}

/// `oidcc-rp-initiated-logout`: with a valid hint, the user is logged out
/// at once and sent to the post-logout redirect URI with the state.
pub async fn rp_initiated_logout(rp: &RelyingParty) -> Result<Outcome> {
    let uri = needs_post_logout!(rp);
    let (ended, confirmed, alive) =
        log_out(rp, true, &[("post_logout_redirect_uri", uri), ("state", "s-1")]).await?;
    ensure!(
        matches!(&ended, LoggedOut::Redirected(p) if p.get("state").map(String::as_str) == Some("s-1")),
        "{ended:?}"
    );
    ensure!(!confirmed && !alive, "asked to confirm: {confirmed}; still signed in: {alive}");
    Ok(Outcome::Passed)
}

/// A logout with a broken request: an error page, no redirect, the session kept.
async fn refused(rp: &RelyingParty, hint: Option<&str>, uri: &str) -> Result<Outcome> {
    let (agent, id_token) = signed_in(rp).await?;
    let hint = hint.map_or(id_token, str::to_owned);
    let url = logout_url(
        rp,
        &[("id_token_hint", hint.as_str()), ("post_logout_redirect_uri", uri), ("state", "s-1")],
    )
    .await?;
    let (ended, _) = agent.log_out(&url, uri).await?;
    ensure!(matches!(ended, LoggedOut::ErrorPage(_)), "{ended:?}");
    ensure!(still_signed_in(rp, &agent).await?, "a refused logout ended the session");
    Ok(Outcome::Passed)
}

/// `oidcc-rp-initiated-logout-bad-id-token-hint`.
pub async fn bad_id_token_hint(rp: &RelyingParty) -> Result<Outcome> {
    let uri = needs_post_logout!(rp);
    refused(rp, Some("not.an.id-token"), uri).await
}

/// `oidcc-rp-initiated-logout-bad-post-logout-redirect-uri`.
pub async fn bad_post_logout_redirect_uri(rp: &RelyingParty) -> Result<Outcome> {
    refused(rp, None, "https://unregistered.example/logged-out").await
}

/// `oidcc-rp-initiated-logout-discovery-endpoint-verification`: the config
/// checks, and an `end_session_endpoint` (RP-Initiated Logout §2.1).
pub async fn discovery_endpoint_verification(rp: &RelyingParty) -> Result<Outcome> {
    crate::oidcc_config::discovery_endpoint_verification(rp).await?;
    let document = discovery_json(rp).await?;
    let endpoint = document["end_session_endpoint"].as_str().context("no end_session_endpoint")?;
    ensure!(Url::parse(endpoint).is_ok(), "end_session_endpoint is not a URL");
    Ok(Outcome::Passed)
}

/// `oidcc-rp-initiated-logout-modified-id-token-hint`: a hint whose
/// signature does not verify is refused.
pub async fn modified_id_token_hint(rp: &RelyingParty) -> Result<Outcome> {
    let uri = needs_post_logout!(rp);
    let (_, id_token) = signed_in(rp).await?;
    let (rest, signature) = id_token.rsplit_once('.').context("not a JWT")?;
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    refused(rp, Some(&format!("{rest}.{flipped}{}", &signature[1..])), uri).await
}

/// `oidcc-rp-initiated-logout-no-id-token-hint`: without a hint the user
/// confirms, then is sent back with the state.
pub async fn no_id_token_hint(rp: &RelyingParty) -> Result<Outcome> {
    let uri = needs_post_logout!(rp);
    let client_id = rp.target.clients.basic.client_id.clone();
    let params = [("client_id", client_id.as_str()), ("post_logout_redirect_uri", uri), ("state", "s-2")];
    let (ended, confirmed, alive) = log_out(rp, false, &params).await?;
    ensure!(
        matches!(&ended, LoggedOut::Redirected(p) if p.get("state").map(String::as_str) == Some("s-2")),
        "{ended:?}"
    );
    ensure!(confirmed && !alive, "asked to confirm: {confirmed}; still signed in: {alive}");
    Ok(Outcome::Passed)
}

/// `oidcc-rp-initiated-logout-no-params`: the user confirms and is signed
/// out on the server's page.
pub async fn no_params(rp: &RelyingParty) -> Result<Outcome> {
    let (ended, confirmed, alive) = log_out(rp, false, &[]).await?;
    ensure!(matches!(ended, LoggedOut::SignedOut) && confirmed && !alive, "{ended:?}, {confirmed}, {alive}");
    Ok(Outcome::Passed)
}

/// `oidcc-rp-initiated-logout-no-post-logout-redirect-uri`: with a valid
/// hint alone the user is signed out on the server's page.
pub async fn no_post_logout_redirect_uri(rp: &RelyingParty) -> Result<Outcome> {
    let (ended, confirmed, alive) = log_out(rp, true, &[]).await?;
    ensure!(matches!(ended, LoggedOut::SignedOut) && !confirmed && !alive, "{ended:?}, {confirmed}, {alive}");
    Ok(Outcome::Passed)
}

/// `oidcc-rp-initiated-logout-no-state`: sent back without a state.
pub async fn no_state(rp: &RelyingParty) -> Result<Outcome> {
    let uri = needs_post_logout!(rp);
    let (ended, _, alive) = log_out(rp, true, &[("post_logout_redirect_uri", uri)]).await?;
    ensure!(matches!(&ended, LoggedOut::Redirected(p) if !p.contains_key("state")), "{ended:?}");
    ensure!(!alive, "still signed in");
    Ok(Outcome::Passed)
}

/// `oidcc-rp-initiated-logout-only-state`: a state without a redirect URI
/// goes nowhere; the user confirms and is signed out on the server's page.
pub async fn only_state(rp: &RelyingParty) -> Result<Outcome> {
    let (ended, confirmed, alive) = log_out(rp, false, &[("state", "s-3")]).await?;
    ensure!(matches!(ended, LoggedOut::SignedOut) && confirmed && !alive, "{ended:?}, {confirmed}, {alive}");
    Ok(Outcome::Passed)
}

/// `oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri`: a
/// query the registration lacks makes another URI, refused.
pub async fn query_added(rp: &RelyingParty) -> Result<Outcome> {
    let uri = needs_post_logout!(rp);
    refused(rp, None, &format!("{uri}?foo=bar")).await
}
