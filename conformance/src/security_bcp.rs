//! The RFC 9700 (OAuth 2.0 Security Best Current Practice) checks the
//! OpenID Foundation plans do not make, or make only as warnings.

use crate::relying_party::{unchanged, RelyingParty, TokenError};
use crate::report::Outcome;
use crate::support::{discovery_json, eventually, invalid_grant, userinfo_status, with, without};
use crate::user_agent::{Landing, UserAgent};
use anyhow::{bail, ensure, Context, Result};
use openidconnect::core::CoreAuthPrompt;
use openidconnect::{OAuth2TokenResponse, PkceCodeVerifier};
use url::Url;

/// Expects `journey` to end on an error page with no redirect.
async fn error_page(agent: &UserAgent, url: &Url, what: &str) -> Result<()> {
    match agent.visit(url, "https://never.example/").await?.landing {
        Landing::ErrorPage { status, redirected: false } if status == 400 => Ok(()),
        other => bail!("{what}: {other:?} instead of a 400 error page"),
    }
}

/// §4.1.3: redirect URIs are compared exactly; every near miss gets an error page.
pub async fn exact_redirect_uri_matching(rp: &RelyingParty) -> Result<Outcome> {
    let registered = Url::parse(&rp.target.redirect_uri)?;
    let mut near_misses = vec![
        format!("{registered}/"),
        format!("{registered}x"),
        format!("{registered}?extra=1"),
        format!("{registered}#fragment"),
        registered.as_str().to_uppercase(),
    ];
    if registered.scheme() == "https" {
        near_misses.push(registered.as_str().replacen("https://", "http://", 1));
    }
    let pending = rp.request(&rp.basic()?, &[], unchanged);
    let agent = rp.browser()?;
    for uri in near_misses {
        error_page(&agent, &with(&pending.url, "redirect_uri", &uri), &uri).await?;
    }
    Ok(Outcome::Passed)
}

/// §4.11: no open redirector, at /authorize or at logout.
pub async fn no_open_redirect(rp: &RelyingParty) -> Result<Outcome> {
    let agent = rp.browser()?;
    let pending = rp.request(&rp.basic()?, &[], unchanged);
    let unknown_client =
        with(&with(&pending.url, "client_id", "no-such-client"), "redirect_uri", "https://evil.example/");
    error_page(&agent, &unknown_client, "an unknown client").await?;
    let no_client = with(&without(&pending.url, "client_id"), "redirect_uri", "https://evil.example/");
    error_page(&agent, &no_client, "no client_id").await?;
    let document = discovery_json(rp).await?;
    let end_session = document["end_session_endpoint"].as_str().context("no end_session_endpoint")?;
    let logout = Url::parse_with_params(
        end_session,
        [
            ("client_id", rp.target.clients.basic.client_id.as_str()),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ],
    )?;
    error_page(&agent, &logout, "logout to an unregistered URI").await?;
    Ok(Outcome::Passed)
}

/// §2.1.1, §4.8: PKCE is required, `plain` refused, and the verifier checked.
pub async fn pkce_required(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.basic()?;
    let agent = rp.browser()?;
    for (what, url) in [
        ("no code_challenge", without(&rp.request(&client, &[], unchanged).url, "code_challenge")),
        (
            "a plain challenge",
            with(&rp.request(&client, &[], unchanged).url, "code_challenge_method", "plain"),
        ),
    ] {
        let journey = agent.visit(&url, &rp.target.redirect_uri).await?;
        rp.check_iss(journey.callback()?)?;
        ensure!(journey.error()? == "invalid_request", "{what}: {}", journey.error()?);
    }
    let pending = rp.request(&client, &[], unchanged);
    let journey = agent.visit(&pending.url, &rp.target.redirect_uri).await?;
    let wrong =
        PkceCodeVerifier::new("a-verifier-that-is-long-enough-but-not-the-right-one-0123456789".into());
    invalid_grant(rp.exchange(&client, journey.code()?, wrong).await, "a wrong code_verifier")?;
    Ok(Outcome::Passed)
}

/// §4.8.2: a `code_verifier` for a code issued without a challenge is refused.
pub async fn pkce_downgrade(rp: &RelyingParty) -> Result<Outcome> {
    let Some(credentials) = &rp.target.clients.without_pkce else {
        return Ok(Outcome::Warning("skipped: the target names no client without required PKCE".into()));
    };
    let client = rp.client(credentials)?;
    let pending = rp.request(&client, &[], unchanged);
    let url = without(&without(&pending.url, "code_challenge"), "code_challenge_method");
    let journey = rp.browser()?.visit(&url, &rp.target.redirect_uri).await?;
    invalid_grant(
        rp.exchange(&client, journey.code()?, pending.verifier).await,
        "a verifier with no challenge",
    )?;
    Ok(Outcome::Passed)
}

/// §4.5 and RFC 6749 §4.1.2: a replayed code revokes what it was exchanged for.
pub async fn code_replay_revokes_tokens(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.basic()?;
    let (code, verifier, signed_in) = rp.sign_in_keeping_code().await?;
    let replayed = rp.exchange(&client, code, PkceCodeVerifier::new(verifier)).await;
    invalid_grant(replayed, "a replayed code")?;
    let access = signed_in.tokens.access_token().secret();
    eventually("the access token is revoked", || async { Ok(userinfo_status(rp, access).await? == 401) })
        .await?;
    let refresh = signed_in.tokens.refresh_token().context("no refresh token")?;
    let refreshed = client.exchange_refresh_token(refresh)?.request_async(&rp.http).await;
    invalid_grant(refreshed.map_err(TokenError::from), "the refresh token of a replayed code")?;
    Ok(Outcome::Passed)
}

/// §4.5.3: a code is bound to the client it was issued to.
pub async fn code_bound_to_client(rp: &RelyingParty) -> Result<Outcome> {
    let pending = rp.request(&rp.basic()?, &[], unchanged);
    let journey = rp.browser()?.visit(&pending.url, &rp.target.redirect_uri).await?;
    let other = rp.client(&rp.target.clients.second)?;
    invalid_grant(rp.exchange(&other, journey.code()?, pending.verifier).await, "another client's code")?;
    Ok(Outcome::Passed)
}

/// §4.14.2: replaying a rotated refresh token revokes the whole family.
pub async fn refresh_reuse_revokes_family(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.basic()?;
    let signed_in = rp.sign_in(&rp.browser()?, &client, &[], unchanged).await?;
    let first = signed_in.tokens.refresh_token().context("no refresh token")?;
    let rotated =
        client.exchange_refresh_token(first)?.request_async(&rp.http).await.map_err(TokenError::from)?;
    let second = rotated.refresh_token().context("no rotated refresh token")?.clone();
    let reused = client.exchange_refresh_token(first)?.request_async(&rp.http).await;
    invalid_grant(reused.map_err(TokenError::from), "a rotated refresh token replayed")?;
    let after = client.exchange_refresh_token(&second)?.request_async(&rp.http).await;
    invalid_grant(after.map_err(TokenError::from), "the family's newest refresh token after a replay")?;
    let access = rotated.access_token().secret();
    eventually("the family's access token is revoked", || async {
        Ok(userinfo_status(rp, access).await? == 401)
    })
    .await?;
    Ok(Outcome::Passed)
}

/// RFC 9207 and §4.4.2: `iss` in every authorization response, errors included.
pub async fn iss_in_every_authorization_response(rp: &RelyingParty) -> Result<Outcome> {
    let document = discovery_json(rp).await?;
    ensure!(
        document["authorization_response_iss_parameter_supported"] == true,
        "RFC 9207 §3 metadata missing"
    );
    let client = rp.basic()?;
    let agent = rp.browser()?;
    let none = rp.request(&client, &[], |r| r.add_prompt(CoreAuthPrompt::None)).url;
    let wide = with(&rp.request(&client, &[], unchanged).url, "scope", "openid not-a-scope");
    let token = with(&rp.request(&client, &[], unchanged).url, "response_type", "token");
    for (what, url) in
        [("login_required", none), ("invalid_scope", wide), ("unsupported_response_type", token)]
    {
        let journey = agent.visit(&url, &rp.target.redirect_uri).await?;
        rp.check_iss(journey.callback()?).with_context(|| format!("the {what} response"))?;
        ensure!(journey.error()? == what, "expected {what}, got {}", journey.error()?);
    }
    // And a success: `finish` checks `iss` too.
    let signed_in = rp.sign_in(&agent, &client, &[], unchanged).await?;
    rp.check_iss(signed_in.journey.callback()?)?;
    Ok(Outcome::Passed)
}
