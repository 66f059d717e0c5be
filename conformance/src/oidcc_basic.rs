//! One scenario per module of the OpenID Foundation's
//! `oidcc-basic-certification-test-plan` (code flow, client_secret_basic
//! unless the module says otherwise). Each does what the module's summary
//! in `oidf-plan-modules.json` says, with `openidconnect` as the RP.

use crate::relying_party::{unchanged, AuthRequest, RelyingParty, SignedIn, TokenError, ALL_SCOPES};
use crate::report::Outcome;
use crate::request_objects;
use crate::support::{self, edit_query, eventually, without};
use crate::user_agent::Landing;
use anyhow::{bail, ensure, Context, Result};
use openidconnect::core::{CoreAuthDisplay, CoreAuthPrompt, CoreJwsSigningAlgorithm};
use openidconnect::{
    AuthenticationContextClass, LanguageTag, LoginHint, Nonce, OAuth2TokenResponse, PkceCodeVerifier,
    RedirectUrl, TokenResponse,
};
use std::borrow::Cow;
use std::time::Duration;

/// A fresh browser signing in with the basic client, the request changed by `customize`.
async fn sign_in(
    rp: &RelyingParty,
    scopes: &[&str],
    customize: impl FnOnce(AuthRequest<'_>) -> AuthRequest<'_>,
) -> Result<SignedIn> {
    let signed_in = rp.sign_in(&rp.browser()?, &rp.basic()?, scopes, customize).await?;
    ensure!(signed_in.journey.logged_in, "a fresh browser was not asked to log in");
    Ok(signed_in)
}

/// The UserInfo claims for `signed_in`, as JSON.
async fn user_info_json(rp: &RelyingParty, signed_in: &SignedIn) -> Result<serde_json::Value> {
    Ok(serde_json::to_value(rp.user_info(&rp.basic()?, signed_in).await?)?)
}

/// `oidcc-server`: the happy flow.
pub async fn server(rp: &RelyingParty) -> Result<Outcome> {
    let signed_in = sign_in(rp, &[], unchanged).await?;
    user_info_json(rp, &signed_in).await?;
    Ok(Outcome::Passed)
}

/// `oidcc-response-type-missing`: an error back to the client or an error page.
pub async fn response_type_missing(rp: &RelyingParty) -> Result<Outcome> {
    let pending = rp.request(&rp.basic()?, &[], unchanged);
    let journey =
        rp.browser()?.visit(&without(&pending.url, "response_type"), &rp.target.redirect_uri).await?;
    match &journey.landing {
        Landing::ErrorPage { redirected: false, .. } => Ok(Outcome::Passed),
        Landing::Callback(params) => {
            rp.check_iss(params)?;
            let error = journey.error()?;
            ensure!(matches!(error, "invalid_request" | "unsupported_response_type"), "error {error}");
            Ok(Outcome::Passed)
        }
        Landing::ErrorPage { .. } => bail!("an error page that also redirects"),
        Landing::Notice(_) => bail!("a page that sends nowhere"),
    }
}

/// `oidcc-idtoken-signature`: with no alg registered the ID token is RS256.
pub async fn idtoken_signature(rp: &RelyingParty) -> Result<Outcome> {
    let signed_in = sign_in(rp, &[], unchanged).await?;
    let alg = signed_in.tokens.id_token().context("no id_token")?.signing_alg()?;
    ensure!(*alg == CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, "the ID token is signed with {alg:?}");
    Ok(Outcome::Passed)
}

/// `oidcc-idtoken-unsigned`: the plan skips it unless discovery offers `none`.
pub async fn idtoken_unsigned(rp: &RelyingParty) -> Result<Outcome> {
    let offered = rp.metadata.id_token_signing_alg_values_supported();
    ensure!(!offered.contains(&CoreJwsSigningAlgorithm::None), "discovery offers unsigned ID tokens");
    Ok(Outcome::NotApplicable(
        "every ID token is signed; discovery does not offer `none`, so the plan skips this module",
    ))
}

/// `oidcc-userinfo-get`.
pub async fn userinfo_get(rp: &RelyingParty) -> Result<Outcome> {
    let signed_in = sign_in(rp, &[], unchanged).await?;
    let claims = user_info_json(rp, &signed_in).await?;
    ensure!(claims["sub"] == signed_in.claims.subject().as_str(), "userinfo is about {}", claims["sub"]);
    Ok(Outcome::Passed)
}

/// A UserInfo POST for `signed_in`, the token placed by `send`; the `sub` it returns.
async fn userinfo_post(
    rp: &RelyingParty,
    send: impl FnOnce(reqwest::RequestBuilder, &str) -> reqwest::RequestBuilder,
) -> Result<Outcome> {
    let signed_in = sign_in(rp, &[], unchanged).await?;
    let url = rp.metadata.userinfo_endpoint().context("no userinfo_endpoint")?.url().clone();
    let response = send(rp.http.post(url), signed_in.tokens.access_token().secret()).send().await?;
    ensure!(response.status() == 200, "userinfo answered {}", response.status());
    let claims: serde_json::Value = response.json().await?;
    ensure!(claims["sub"] == signed_in.claims.subject().as_str(), "userinfo is about {}", claims["sub"]);
    Ok(Outcome::Passed)
}

/// `oidcc-userinfo-post-header`.
pub async fn userinfo_post_header(rp: &RelyingParty) -> Result<Outcome> {
    userinfo_post(rp, |request, token| request.bearer_auth(token)).await
}

/// `oidcc-userinfo-post-body` (RFC 6750 §2.2).
pub async fn userinfo_post_body(rp: &RelyingParty) -> Result<Outcome> {
    userinfo_post(rp, |request, token| request.form(&[("access_token", token)])).await
}

/// `oidcc-ensure-request-without-nonce-succeeds-for-code-flow`.
pub async fn without_nonce(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.basic()?;
    let pending = rp.request(&client, &[], unchanged);
    let journey = rp.browser()?.visit(&without(&pending.url, "nonce"), &rp.target.redirect_uri).await?;
    rp.check_iss(journey.callback()?)?;
    let tokens = rp.exchange(&client, journey.code()?, pending.verifier).await?;
    let claims = rp.verify_id_token(&client, &tokens, None::<&Nonce>)?;
    ensure!(claims.nonce().is_none(), "a nonce in the ID token");
    Ok(Outcome::Passed)
}

/// The claims each scope releases that the suite's user has (OpenID Connect Core §5.4).
fn claims_of(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => &["name"],
        "email" => &["email", "email_verified"],
        "address" => &["address"],
        "phone" => &["phone_number"],
        _ => &[],
    }
}

/// Signs in with `scopes`; UserInfo must return their claims and no others'.
async fn scopes(rp: &RelyingParty, scopes: &[&str]) -> Result<Outcome> {
    let signed_in = sign_in(rp, scopes, unchanged).await?;
    let claims = user_info_json(rp, &signed_in).await?;
    for scope in ALL_SCOPES {
        for claim in claims_of(scope) {
            let asked = scopes.contains(&scope);
            ensure!(
                claims.get(claim).is_some() == asked,
                "`{claim}` {} in userinfo with scope {scopes:?}",
                if asked { "missing" } else { "released" }
            );
        }
    }
    Ok(Outcome::Passed)
}

/// `oidcc-scope-profile`.
pub async fn scope_profile(rp: &RelyingParty) -> Result<Outcome> {
    scopes(rp, &["profile"]).await
}

/// `oidcc-scope-email`.
pub async fn scope_email(rp: &RelyingParty) -> Result<Outcome> {
    scopes(rp, &["email"]).await
}

/// `oidcc-scope-address`.
pub async fn scope_address(rp: &RelyingParty) -> Result<Outcome> {
    scopes(rp, &["address"]).await
}

/// `oidcc-scope-phone`.
pub async fn scope_phone(rp: &RelyingParty) -> Result<Outcome> {
    scopes(rp, &["phone"]).await
}

/// `oidcc-scope-all`.
pub async fn scope_all(rp: &RelyingParty) -> Result<Outcome> {
    scopes(rp, &ALL_SCOPES).await
}

/// `oidcc-alternate-happy-flow`: scope values and parameters in another order (RFC 6749 §3.3).
pub async fn alternate_happy_flow(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.basic()?;
    let mut pending = rp.request(&client, &["email", "profile"], unchanged);
    pending.url = edit_query(&pending.url, |params| {
        params.reverse();
        for (_, value) in params.iter_mut().filter(|(name, _)| name == "scope") {
            *value = value.split(' ').rev().collect::<Vec<_>>().join(" ");
        }
    });
    let journey = rp.browser()?.visit(&pending.url, &rp.target.redirect_uri).await?;
    rp.finish(&client, pending, journey).await?;
    Ok(Outcome::Passed)
}

/// `oidcc-display-page`: a login page is shown and the flow completes.
pub async fn display_page(rp: &RelyingParty) -> Result<Outcome> {
    sign_in(rp, &[], |request| request.set_display(CoreAuthDisplay::Page)).await?;
    Ok(Outcome::Passed)
}

/// `oidcc-display-popup`.
pub async fn display_popup(rp: &RelyingParty) -> Result<Outcome> {
    sign_in(rp, &[], |request| request.set_display(CoreAuthDisplay::Popup)).await?;
    Ok(Outcome::Passed)
}

/// Signs in, then again in the same browser after `pause` with the second
/// request changed by `second`.
async fn twice(
    rp: &RelyingParty,
    first: impl FnOnce(AuthRequest<'_>) -> AuthRequest<'_>,
    pause: Duration,
    second: impl FnOnce(AuthRequest<'_>) -> AuthRequest<'_>,
) -> Result<(SignedIn, SignedIn)> {
    let (agent, client) = (rp.browser()?, rp.basic()?);
    let earlier = rp.sign_in(&agent, &client, &[], first).await?;
    tokio::time::sleep(pause).await;
    let later = rp.sign_in(&agent, &client, &[], second).await?;
    ensure!(earlier.claims.subject() == later.claims.subject(), "sub changed between the two sign-ins");
    Ok((earlier, later))
}

/// The `auth_time` of `signed_in`, which this suite requires in every ID token.
fn auth_time(signed_in: &SignedIn) -> Result<i64> {
    Ok(signed_in.claims.auth_time().context("no auth_time in the ID token")?.timestamp())
}

/// `oidcc-prompt-login`: the second request must log the user in again.
pub async fn prompt_login(rp: &RelyingParty) -> Result<Outcome> {
    let (earlier, later) =
        twice(rp, unchanged, Duration::from_secs(1), |r| r.add_prompt(CoreAuthPrompt::Login)).await?;
    ensure!(later.journey.logged_in, "prompt=login did not show the login page");
    ensure!(auth_time(&later)? > auth_time(&earlier)?, "auth_time did not move on");
    Ok(Outcome::Passed)
}

/// `oidcc-prompt-none-not-logged-in`: `login_required` back to the client (§3.1.2.6).
pub async fn prompt_none_not_logged_in(rp: &RelyingParty) -> Result<Outcome> {
    let pending = rp.request(&rp.basic()?, &[], |r| r.add_prompt(CoreAuthPrompt::None));
    let journey = rp.browser()?.visit(&pending.url, &rp.target.redirect_uri).await?;
    rp.check_iss(journey.callback()?)?;
    ensure!(journey.error()? == "login_required", "error {}", journey.error()?);
    ensure!(journey.callback()?.get("state") == Some(pending.state.secret()), "state not returned");
    Ok(Outcome::Passed)
}

/// Checks that the second sign-in of `pair` needed no page and kept `auth_time`.
fn silent(pair: &(SignedIn, SignedIn)) -> Result<Outcome> {
    let (earlier, later) = pair;
    ensure!(!later.journey.logged_in && !later.journey.consented, "the user was asked again");
    ensure!(auth_time(later)? == auth_time(earlier)?, "auth_time changed without a new login");
    Ok(Outcome::Passed)
}

/// `oidcc-prompt-none-logged-in`.
pub async fn prompt_none_logged_in(rp: &RelyingParty) -> Result<Outcome> {
    silent(&twice(rp, unchanged, Duration::ZERO, |r| r.add_prompt(CoreAuthPrompt::None)).await?)
}

/// `oidcc-max-age-1`: a login older than a second must be repeated.
pub async fn max_age_1(rp: &RelyingParty) -> Result<Outcome> {
    let (earlier, later) =
        twice(rp, unchanged, Duration::from_secs(2), |r| r.set_max_age(Duration::from_secs(1))).await?;
    ensure!(later.journey.logged_in, "max_age=1 did not show the login page");
    ensure!(auth_time(&later)? > auth_time(&earlier)?, "auth_time did not move on");
    Ok(Outcome::Passed)
}

/// `oidcc-max-age-10000`: a recent login is reused.
pub async fn max_age_10000(rp: &RelyingParty) -> Result<Outcome> {
    silent(
        &twice(
            rp,
            |r| r.set_max_age(Duration::from_secs(15000)),
            Duration::ZERO,
            |r| r.set_max_age(Duration::from_secs(10000)),
        )
        .await?,
    )
}

/// `oidcc-ensure-request-with-unknown-parameter-succeeds` (RFC 6749 §3.1).
pub async fn unknown_parameter(rp: &RelyingParty) -> Result<Outcome> {
    sign_in(rp, &[], |r| r.add_extra_param("extra", "foobar")).await?;
    Ok(Outcome::Passed)
}

/// `oidcc-id-token-hint`: prompt=none with the first ID token as hint.
pub async fn id_token_hint(rp: &RelyingParty) -> Result<Outcome> {
    let (agent, client) = (rp.browser()?, rp.basic()?);
    let earlier = rp.sign_in(&agent, &client, &[], unchanged).await?;
    let hint = earlier.tokens.id_token().context("no id_token")?.to_string();
    let later = rp
        .sign_in(&agent, &client, &[], |r| {
            r.add_prompt(CoreAuthPrompt::None).add_extra_param("id_token_hint", hint)
        })
        .await?;
    ensure!(earlier.claims.subject() == later.claims.subject(), "sub changed");
    silent(&(earlier, later))
}

/// `oidcc-login-hint`.
pub async fn login_hint(rp: &RelyingParty) -> Result<Outcome> {
    let host = url::Url::parse(&rp.target.issuer)?.host_str().unwrap_or("localhost").to_owned();
    sign_in(rp, &[], |r| r.set_login_hint(LoginHint::new(format!("buffy@{host}")))).await?;
    Ok(Outcome::Passed)
}

/// `oidcc-ui-locales`.
pub async fn ui_locales(rp: &RelyingParty) -> Result<Outcome> {
    sign_in(rp, &[], |r| r.add_ui_locale(LanguageTag::new("se".into()))).await?;
    Ok(Outcome::Passed)
}

/// `oidcc-claims-locales` (OpenID Connect Core §5.2).
pub async fn claims_locales(rp: &RelyingParty) -> Result<Outcome> {
    sign_in(rp, &[], |r| r.add_extra_param("claims_locales", "se")).await?;
    Ok(Outcome::Passed)
}

/// `oidcc-ensure-request-with-acr-values-succeeds`.
pub async fn acr_values(rp: &RelyingParty) -> Result<Outcome> {
    let values: Vec<String> = match rp.metadata.acr_values_supported() {
        Some(values) => values.iter().map(|v| v.as_str().to_owned()).collect(),
        None => vec!["1".into(), "2".into()],
    };
    let asked = values.clone();
    let signed_in = sign_in(rp, &[], move |mut r| {
        for value in asked {
            r = r.add_auth_context_value(AuthenticationContextClass::new(value));
        }
        r
    })
    .await?;
    match signed_in.claims.auth_context_ref() {
        Some(acr) if !values.iter().any(|v| v == acr.as_str()) => {
            bail!("acr {} was not asked for", acr.as_str())
        }
        _ => Ok(Outcome::Passed),
    }
}

/// Exchanges `code` again; it must be refused with `invalid_grant`.
async fn replay(rp: &RelyingParty, code: String, verifier: String) -> Result<()> {
    let replayed = rp.exchange(&rp.basic()?, code, PkceCodeVerifier::new(verifier)).await;
    support::invalid_grant(replayed, "a replayed code")
}

/// `oidcc-codereuse`.
pub async fn codereuse(rp: &RelyingParty) -> Result<Outcome> {
    let (code, verifier, _) = rp.sign_in_keeping_code().await?;
    replay(rp, code, verifier).await?;
    Ok(Outcome::Passed)
}

/// `oidcc-codereuse-30seconds`: refused, and the first access token revoked
/// (RFC 6749 §4.1.2). The plan only warns about the revocation; this server
/// promises it, so here it fails.
pub async fn codereuse_30seconds(rp: &RelyingParty) -> Result<Outcome> {
    let (code, verifier, signed_in) = rp.sign_in_keeping_code().await?;
    tokio::time::sleep(Duration::from_secs(rp.target.code_reuse_delay_secs)).await;
    replay(rp, code, verifier).await?;
    let access = signed_in.tokens.access_token().secret();
    eventually("the first access token is revoked", || async {
        Ok(support::userinfo_status(rp, access).await? == 401)
    })
    .await?;
    Ok(Outcome::Passed)
}

/// `oidcc-ensure-registered-redirect-uri`: an error page, never a redirect.
pub async fn ensure_registered_redirect_uri(rp: &RelyingParty) -> Result<Outcome> {
    let unregistered = RedirectUrl::new("https://unregistered.example/callback".into())?;
    let pending = rp.request(&rp.basic()?, &[], |r| r.set_redirect_uri(Cow::Owned(unregistered)));
    let journey = rp.browser()?.visit(&pending.url, "https://unregistered.example/callback").await?;
    match journey.landing {
        Landing::ErrorPage { status, redirected: false } if status == 400 => Ok(Outcome::Passed),
        other => bail!("an unregistered redirect URI led to {other:?}"),
    }
}

/// `oidcc-ensure-post-request-succeeds`: the request as a form POST.
pub async fn ensure_post_request_succeeds(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.basic()?;
    let pending = rp.request(&client, &[], unchanged);
    let form: Vec<(String, String)> = pending.url.query_pairs().into_owned().collect();
    let mut endpoint = pending.url.clone();
    endpoint.set_query(None);
    let agent = rp.browser()?;
    let journey = agent.submit(&endpoint, &form, &rp.target.redirect_uri).await?;
    rp.finish(&client, pending, journey).await?;
    Ok(Outcome::Passed)
}

/// `oidcc-server-client-secret-post`.
pub async fn server_client_secret_post(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.post_client(&rp.target.clients.post)?;
    let signed_in = rp.sign_in(&rp.browser()?, &client, &[], unchanged).await?;
    rp.user_info(&client, &signed_in).await?;
    Ok(Outcome::Passed)
}

/// `oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported`:
/// skipped by the suite (see [`request_objects`]).
pub async fn request_uri_unsigned(rp: &RelyingParty) -> Result<Outcome> {
    request_objects::unsigned_skipped(rp, &rp.basic()?, &rp.target.clients.basic.client_id).await
}

/// `oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported`
/// (§3.1.2.6): skipped by the suite (see [`request_objects`]).
pub async fn unsigned_request_object_module(rp: &RelyingParty) -> Result<Outcome> {
    request_objects::unsigned_skipped(rp, &rp.basic()?, &rp.target.clients.basic.client_id).await
}

/// `oidcc-claims-essential` (OpenID Connect Core §5.5): `name`, asked for as
/// essential at UserInfo, is returned with the scope `openid` alone.
pub async fn claims_essential(rp: &RelyingParty) -> Result<Outcome> {
    let claims = r#"{"userinfo":{"name":{"essential":true}}}"#;
    let signed_in = sign_in(rp, &[], |r| r.add_extra_param("claims", claims)).await?;
    let released = user_info_json(rp, &signed_in).await?;
    ensure!(released.get("name").is_some(), "no name at UserInfo: {released}");
    Ok(Outcome::Passed)
}

/// `oidcc-ensure-request-object-with-redirect-uri`: the suite sends its
/// object unsigned, so skips it (see [`request_objects`]).
pub async fn request_object_with_redirect_uri(rp: &RelyingParty) -> Result<Outcome> {
    request_objects::unsigned_skipped(rp, &rp.basic()?, &rp.target.clients.basic.client_id).await
}

/// `oidcc-refresh-token`: the refresh token works, rotates, and is bound to its client.
pub async fn refresh_token(rp: &RelyingParty) -> Result<Outcome> {
    let signed_in = sign_in(rp, &[], unchanged).await?;
    let refresh =
        signed_in.tokens.refresh_token().context("no refresh_token for a client that may refresh")?;
    let other = rp.client(&rp.target.clients.second)?;
    match other.exchange_refresh_token(refresh)?.request_async(&rp.http).await.map_err(TokenError::from) {
        Err(TokenError::OAuth(error)) if error == "invalid_grant" => {}
        Err(error) => bail!("another client's refresh: {error}"),
        Ok(_) => bail!("another client refreshed this client's token"),
    }
    let client = rp.basic()?;
    let refreshed =
        client.exchange_refresh_token(refresh)?.request_async(&rp.http).await.map_err(TokenError::from)?;
    let rotated = refreshed.refresh_token().context("no new refresh token")?;
    ensure!(rotated.secret() != refresh.secret(), "the refresh token was not rotated");
    if let Some(id_token) = refreshed.id_token() {
        // OpenID Connect Core §12.2: same sub, the original auth_time.
        let claims = id_token.claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))?;
        ensure!(claims.subject() == signed_in.claims.subject(), "another sub after refresh");
        ensure!(claims.auth_time() == signed_in.claims.auth_time(), "another auth_time after refresh");
    }
    Ok(Outcome::Passed)
}

/// `oidcc-ensure-request-with-valid-pkce-succeeds` (RFC 7636).
pub async fn valid_pkce(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.basic()?;
    let pending = rp.request(&client, &[], unchanged);
    let sent: Vec<_> =
        pending.url.query_pairs().filter(|(name, _)| name.starts_with("code_challenge")).collect();
    ensure!(
        sent.len() == 2 && sent.iter().any(|(_, value)| value == "S256"),
        "not an S256 request: {sent:?}"
    );
    let journey = rp.browser()?.visit(&pending.url, &rp.target.redirect_uri).await?;
    rp.finish(&client, pending, journey).await?;
    Ok(Outcome::Passed)
}
