//! One scenario per module of the OpenID Foundation's
//! `oidcc-dynamic-certification-test-plan`, in its `discovery,
//! private_key_jwt, dynamic_client` variant: every client is registered by
//! the relying party itself and authenticates with a client assertion
//! signed by a key it publishes at its `jwks_uri`.

use crate::dynamic::{Dynamic, DynamicSignIn, RpKey};
use crate::relying_party::{unchanged, RelyingParty};
use crate::report::Outcome;
use crate::request_objects;
use crate::support::{discovery_json, with, without, PROPAGATION};
use crate::user_agent::Landing;
use anyhow::{ensure, Context, Result};
use openidconnect::core::{CoreJwsSigningAlgorithm, CoreUserInfoClaims};
use openidconnect::{AccessToken, AccessTokenHash, CsrfToken};
use serde_json::{json, Value};

/// How long the RP waits after publishing a new key before using it.
const KEY_REFETCH: std::time::Duration = std::time::Duration::from_secs(6);

/// Registers a client with `extra` metadata and signs a fresh browser in with it.
async fn registered_sign_in(rp: &RelyingParty, extra: Value) -> Result<(Dynamic, DynamicSignIn)> {
    let dynamic = rp.register(extra).await?;
    let signed_in = rp.sign_in_dynamic(&dynamic, unchanged).await?;
    Ok((dynamic, signed_in))
}

/// The error a refused registration of `extra` answers with.
async fn registration_refused(rp: &RelyingParty, extra: Value) -> Result<String> {
    let (metadata, _, _) = rp.client_metadata(extra)?;
    let (status, answer) = rp.register_raw(&metadata).await?;
    ensure!(status == 400, "registration answered {status}, not 400: {answer}");
    Ok(answer["error"].as_str().unwrap_or_default().to_owned())
}

/// The member `name` of the JOSE header of `jwt`.
fn header_member(jwt: &str, name: &str) -> Result<Option<String>> {
    use base64::Engine;
    let header = jwt.split('.').next().context("not a JWT")?;
    let header: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header)?)?;
    Ok(header[name].as_str().map(str::to_owned))
}

/// `oidcc-server`: registration and the happy flow, UserInfo about the ID token's subject.
pub async fn server(rp: &RelyingParty) -> Result<Outcome> {
    let (dynamic, signed_in) = registered_sign_in(rp, json!({})).await?;
    let access =
        AccessToken::new(signed_in.tokens["access_token"].as_str().context("no access token")?.to_owned());
    let info: CoreUserInfoClaims = dynamic
        .client
        .user_info(access, Some(signed_in.claims.subject().clone()))?
        .request_async(&rp.http)
        .await?;
    ensure!(info.subject() == signed_in.claims.subject(), "UserInfo is about someone else");
    Ok(Outcome::Passed)
}

/// `oidcc-idtoken-rs256`: a client registered for RS256 ID tokens gets them.
pub async fn idtoken_rs256(rp: &RelyingParty) -> Result<Outcome> {
    let (_, signed_in) = registered_sign_in(rp, json!({"id_token_signed_response_alg": "RS256"})).await?;
    ensure!(*signed_in.id_token.signing_alg()? == CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, "not RS256");
    Ok(Outcome::Passed)
}

/// `rfc7518-idtoken-ps256` and `rfc8037-idtoken-eddsa` (beyond the OIDF
/// plans): a client registered for PS256 or EdDSA ID tokens gets them,
/// verified by `openidconnect` with the published key, their `at_hash`
/// computed by `openidconnect` (SHA-512 for Ed25519).
async fn idtoken_signed_with(rp: &RelyingParty, alg: CoreJwsSigningAlgorithm) -> Result<Outcome> {
    let (dynamic, signed_in) = registered_sign_in(rp, json!({"id_token_signed_response_alg": alg})).await?;
    ensure!(*signed_in.id_token.signing_alg()? == alg, "not signed with {alg:?}");
    let verifier = dynamic.client.id_token_verifier().set_allowed_algs([alg.clone()]);
    let token =
        AccessToken::new(signed_in.tokens["access_token"].as_str().context("no access token")?.into());
    let expected = AccessTokenHash::from_token(&token, &alg, signed_in.id_token.signing_key(&verifier)?)?;
    ensure!(signed_in.claims.access_token_hash() == Some(&expected), "at_hash is not the {alg:?} hash");
    Ok(Outcome::Passed)
}

/// `rfc7518-idtoken-ps256`.
pub async fn idtoken_ps256(rp: &RelyingParty) -> Result<Outcome> {
    idtoken_signed_with(rp, CoreJwsSigningAlgorithm::RsaSsaPssSha256).await
}

/// `rfc8037-idtoken-eddsa`.
pub async fn idtoken_eddsa(rp: &RelyingParty) -> Result<Outcome> {
    idtoken_signed_with(rp, CoreJwsSigningAlgorithm::EdDsa).await
}

/// `oidcc-idtoken-unsigned`: unsigned ID tokens are neither advertised nor registered.
pub async fn idtoken_unsigned(rp: &RelyingParty) -> Result<Outcome> {
    let document = discovery_json(rp).await?;
    let advertised = document["id_token_signing_alg_values_supported"].as_array().context("no algorithms")?;
    ensure!(!advertised.iter().any(|alg| alg == "none"), "discovery offers unsigned ID tokens");
    let error = registration_refused(rp, json!({"id_token_signed_response_alg": "none"})).await?;
    ensure!(error == "invalid_client_metadata", "error {error}");
    Ok(Outcome::NotApplicable(
        "every ID token is signed: `none` is not offered, and registering it is refused",
    ))
}

/// `oidcc-userinfo-rs256`: a client registered for signed UserInfo gets an
/// RS256 JWT that `openidconnect` verifies (signature, `iss`, `aud`).
pub async fn userinfo_rs256(rp: &RelyingParty) -> Result<Outcome> {
    let (dynamic, signed_in) =
        registered_sign_in(rp, json!({"userinfo_signed_response_alg": "RS256"})).await?;
    let token = signed_in.tokens["access_token"].as_str().context("no access token")?;
    let endpoint = rp.metadata.userinfo_endpoint().context("no userinfo_endpoint")?.url().clone();
    let response = rp.http.get(endpoint).bearer_auth(token).send().await?;
    let kind = response.headers().get("content-type").map(|v| v.to_str().unwrap_or_default().to_owned());
    ensure!(kind.as_deref() == Some("application/jwt"), "UserInfo answered {kind:?}");
    ensure!(
        header_member(&response.text().await?, "alg")?.as_deref() == Some("RS256"),
        "not signed with RS256"
    );
    let info: CoreUserInfoClaims = dynamic
        .client
        .user_info(AccessToken::new(token.to_owned()), Some(signed_in.claims.subject().clone()))?
        .require_signed_response(true)
        .request_async(&rp.http)
        .await?;
    ensure!(info.subject() == signed_in.claims.subject(), "UserInfo is about someone else");
    Ok(Outcome::Passed)
}

/// `oidcc-ensure-redirect-uri-in-authorization-request`: OpenID Connect
/// requires `redirect_uri`; without it the server shows an error.
pub async fn redirect_uri_required(rp: &RelyingParty) -> Result<Outcome> {
    let dynamic = rp.register(json!({})).await?;
    let pending = rp.request(&dynamic.client, &[], unchanged);
    let journey =
        rp.browser()?.visit(&without(&pending.url, "redirect_uri"), &rp.target.redirect_uri).await?;
    ensure!(matches!(journey.landing, Landing::ErrorPage { redirected: false, .. }), "{:?}", journey.landing);
    Ok(Outcome::Passed)
}

/// A client registered with the redirect URI `registered`, asked to send
/// the response to `requested`: where the journey ended.
async fn redirect_query(rp: &RelyingParty, registered: &str, requested: &str) -> Result<Landing> {
    let dynamic = rp.register(json!({"redirect_uris": [registered]})).await?;
    let pending = rp.request(&dynamic.client, &[], unchanged);
    let journey =
        rp.browser()?.visit(&with(&pending.url, "redirect_uri", requested), &rp.target.redirect_uri).await?;
    Ok(journey.landing)
}

/// `oidcc-redirect-uri-query-OK`: a registered query is kept, beside the code.
pub async fn redirect_uri_query_ok(rp: &RelyingParty) -> Result<Outcome> {
    let uri = format!("{}?foo=bar", rp.target.redirect_uri);
    match redirect_query(rp, &uri, &uri).await? {
        Landing::Callback(params)
            if params.get("foo").map(String::as_str) == Some("bar") && params.contains_key("code") =>
        {
            Ok(Outcome::Passed)
        }
        other => anyhow::bail!("expected the code beside foo=bar, got {other:?}"),
    }
}

/// A redirect URI that is not the registered one ends on an error page.
async fn refused_redirect(rp: &RelyingParty, registered: &str, requested: &str) -> Result<Outcome> {
    let landing = redirect_query(rp, registered, requested).await?;
    ensure!(matches!(landing, Landing::ErrorPage { redirected: false, .. }), "{landing:?}");
    Ok(Outcome::Passed)
}

/// `oidcc-redirect-uri-query-mismatch`: another query value is another URI.
pub async fn redirect_uri_query_mismatch(rp: &RelyingParty) -> Result<Outcome> {
    let base = &rp.target.redirect_uri;
    refused_redirect(rp, &format!("{base}?foo=bar"), &format!("{base}?foo=zot")).await
}

/// `oidcc-redirect-uri-query-added`: a query the registration lacks is another URI.
pub async fn redirect_uri_query_added(rp: &RelyingParty) -> Result<Outcome> {
    let base = &rp.target.redirect_uri;
    refused_redirect(rp, base, &format!("{base}?foo=bar")).await
}

/// `oidcc-redirect-uri-regfrag`: a redirect URI with a fragment is not
/// registered (RFC 6749 §3.1.2).
pub async fn redirect_uri_regfrag(rp: &RelyingParty) -> Result<Outcome> {
    let uri = format!("{}#fragment", rp.target.redirect_uri);
    let error = registration_refused(rp, json!({"redirect_uris": [uri]})).await?;
    ensure!(error == "invalid_redirect_uri", "error {error}");
    Ok(Outcome::Passed)
}

/// `oidcc-discovery-endpoint-verification`, for a dynamic OP: the config
/// plan's checks, and a registration endpoint (Discovery §3).
pub async fn discovery_endpoint_verification(rp: &RelyingParty) -> Result<Outcome> {
    crate::oidcc_config::discovery_endpoint_verification(rp).await?;
    let document = discovery_json(rp).await?;
    ensure!(document["registration_endpoint"].is_string(), "no registration_endpoint");
    Ok(Outcome::Passed)
}

/// The login page a fresh browser is shown for `dynamic`, as HTML with
/// its slashes unescaped.
async fn login_page(rp: &RelyingParty, dynamic: &Dynamic) -> Result<String> {
    let pending = rp.request(&dynamic.client, &[], unchanged);
    let page = rp.browser()?.first_page(&pending.url).await?;
    Ok(page.replace("&#x2f;", "/").replace("&#47;", "/"))
}

/// A client registered with `member` set to `uri` is shown with it on the
/// login page, and signs in.
async fn registered_link(rp: &RelyingParty, member: &str, uri: &str) -> Result<Outcome> {
    let dynamic = rp.register(json!({ member: uri })).await?;
    ensure!(dynamic.info[member] == uri, "{member} was not kept: {}", dynamic.info);
    let page = login_page(rp, &dynamic).await?;
    ensure!(page.contains(uri), "the login page does not show the {member}");
    rp.sign_in_dynamic(&dynamic, unchanged).await?;
    Ok(Outcome::Passed)
}

/// `oidcc-registration-logo-uri`.
pub async fn registration_logo_uri(rp: &RelyingParty) -> Result<Outcome> {
    registered_link(rp, "logo_uri", "https://rp.example/logo.png").await
}

/// `oidcc-registration-policy-uri`.
pub async fn registration_policy_uri(rp: &RelyingParty) -> Result<Outcome> {
    registered_link(rp, "policy_uri", "https://rp.example/privacy").await
}

/// `oidcc-registration-tos-uri`.
pub async fn registration_tos_uri(rp: &RelyingParty) -> Result<Outcome> {
    registered_link(rp, "tos_uri", "https://rp.example/terms").await
}

/// `oidcc-registration-jwks-uri`: the keys are fetched from the `jwks_uri`
/// the client registered (every dynamic client here does so).
pub async fn registration_jwks_uri(rp: &RelyingParty) -> Result<Outcome> {
    let (dynamic, _) = registered_sign_in(rp, json!({})).await?;
    ensure!(dynamic.info["jwks_uri"].is_string() && dynamic.info["jwks"].is_null(), "{}", dynamic.info);
    Ok(Outcome::Passed)
}

/// `oidcc-registration-sector-uri`: a sector identifier document listing
/// the redirect URI admits the client, whose pairwise subject is its own.
pub async fn registration_sector_uri(rp: &RelyingParty) -> Result<Outcome> {
    let sector = rp.documents.publish("/sector.json", &json!([rp.target.redirect_uri]));
    let extra = json!({"sector_identifier_uri": sector, "subject_type": "pairwise"});
    let (_, pairwise) = registered_sign_in(rp, extra).await?;
    let (_, public) = registered_sign_in(rp, json!({})).await?;
    ensure!(pairwise.claims.subject() != public.claims.subject(), "the pairwise subject is the public one");
    Ok(Outcome::Passed)
}

/// `oidcc-registration-sector-bad`: a sector identifier document that
/// does not list the redirect URI fails the registration.
pub async fn registration_sector_bad(rp: &RelyingParty) -> Result<Outcome> {
    let sector = rp.documents.publish("/sector-bad.json", &json!(["https://elsewhere.example/callback"]));
    let error = registration_refused(rp, json!({"sector_identifier_uri": sector})).await?;
    ensure!(error == "invalid_client_metadata", "error {error}");
    Ok(Outcome::Passed)
}

/// `oidcc-server-rotate-keys`: after the server rotates its signing key, a
/// new ID token is signed with the new key, which the rediscovered JWKS holds.
pub async fn server_rotate_keys(rp: &RelyingParty) -> Result<Outcome> {
    let Some(admin) = &rp.target.admin else {
        return Ok(Outcome::NotApplicable("the target names no admin client to rotate the keys with"));
    };
    let (dynamic, before) = registered_sign_in(rp, json!({})).await?;
    let old_kid = header_member(&before.id_token.to_string(), "kid")?;
    let token_endpoint = rp.metadata.token_endpoint().context("no token_endpoint")?.url().clone();
    let admin_token: Value = rp
        .http
        .post(token_endpoint)
        .basic_auth(&admin.client_id, Some(&admin.client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "admin:keys")])
        .send()
        .await?
        .json()
        .await?;
    let admin_token = admin_token["access_token"].as_str().context("no admin token")?;
    let rotate = format!("{}/admin/v1/keys/rotate", rp.target.issuer.trim_end_matches('/'));
    let rotated = rp.http.post(rotate).bearer_auth(admin_token).json(&json!({"alg": "RS256"})).send().await?;
    ensure!(rotated.status() == 200, "rotation answered {}", rotated.status());
    // The server promises a key change everywhere within a second; the RP
    // rediscovers, and the new key must be published and sign.
    tokio::time::sleep(PROPAGATION).await;
    let fresh = rp.rediscover().await?;
    let redirect = rp.target.redirect_uri.clone();
    let dynamic = Dynamic { client: fresh.client_for(&dynamic.client_id, &redirect)?, ..dynamic };
    let signed_in = fresh.sign_in_dynamic(&dynamic, unchanged).await?;
    let new_kid = header_member(&signed_in.id_token.to_string(), "kid")?;
    ensure!(new_kid != old_kid, "the ID token is still signed with the old key");
    Ok(Outcome::Passed)
}

/// `oidcc-refresh-token-rp-key-rotation`: the RP replaces its key at its
/// `jwks_uri`; a refresh authenticated with the new key succeeds.
pub async fn refresh_token_rp_key_rotation(rp: &RelyingParty) -> Result<Outcome> {
    let (mut dynamic, signed_in) = registered_sign_in(rp, json!({})).await?;
    let refresh = signed_in.tokens["refresh_token"].as_str().context("no refresh token")?;
    dynamic.key = RpKey::generate()?;
    rp.documents.publish(&dynamic.jwks_path, &dynamic.key.jwks());
    // A server fetches a client's keys again when a signature names a key
    // it does not know, though not every moment (Portcullis: every 5 s).
    tokio::time::sleep(KEY_REFETCH).await;
    let (status, tokens) = rp
        .token_request(&dynamic, &[("grant_type", "refresh_token"), ("refresh_token", refresh)], None)
        .await?;
    ensure!(status == 200, "the refresh with the new key answered {status}: {tokens}");
    let (_, claims) = rp.verify_dynamic(&dynamic, &tokens, None)?;
    ensure!(claims.subject() == signed_in.claims.subject(), "the refreshed ID token is about someone else");
    Ok(Outcome::Passed)
}

/// `oidcc-request-uri-unsigned`: skipped by the suite (see [`request_objects`]).
pub async fn request_uri_unsigned(rp: &RelyingParty) -> Result<Outcome> {
    let dynamic = rp.register(json!({})).await?;
    request_objects::unsigned_skipped(rp, &dynamic.client, &dynamic.client_id).await
}

/// `oidcc-request-uri-signed-rs256` (OpenID Connect Core §6.2): a client
/// registered with `request_object_signing_alg: RS256` and a `request_uris`
/// entry with a fragment passes its request by reference, an RS256 object
/// with no `kid`, `typ`, `exp` or `jti` (`aud` the issuer, `iss` the
/// client), served by the RP; the URL repeats only the required parameters.
pub async fn request_uri_signed_rs256(rp: &RelyingParty) -> Result<Outcome> {
    let path = format!("/requesturi/{}", CsrfToken::new_random().secret());
    let location = format!("{}#{}", rp.documents.url(&path), CsrfToken::new_random().secret());
    let extra = json!({"request_object_signing_alg": "RS256", "request_uris": [location]});
    let dynamic = rp.register(extra).await?;
    let pending = rp.request(&dynamic.client, &[], unchanged);
    let object =
        dynamic.key.sign_without_kid(request_objects::object_of(rp, &pending, &dynamic.client_id))?;
    rp.documents.publish_jwt(&path, &object);
    let url = request_objects::by_object(&pending, "request_uri", &location);
    let signed_in = rp.finish_dynamic(&dynamic, &pending, &url).await?;
    ensure!(rp.documents.fetched(&path) >= 1, "the request object was never fetched");
    ensure!(signed_in.claims.nonce().is_some(), "the nonce from the object is missing in the ID token");
    Ok(Outcome::Passed)
}

/// `oidcc-ensure-request-object-with-redirect-uri`: the suite sends its
/// object unsigned, so skips it (see [`request_objects`]).
pub async fn request_object_with_redirect_uri(rp: &RelyingParty) -> Result<Outcome> {
    let dynamic = rp.register(json!({})).await?;
    request_objects::unsigned_skipped(rp, &dynamic.client, &dynamic.client_id).await
}

/// `oidcc-refresh-token`: a refresh authenticated with a client assertion
/// returns new tokens and an ID token about the same user.
pub async fn refresh_token(rp: &RelyingParty) -> Result<Outcome> {
    let (dynamic, signed_in) = registered_sign_in(rp, json!({})).await?;
    let refresh = signed_in.tokens["refresh_token"].as_str().context("no refresh token")?;
    let (status, tokens) = rp
        .token_request(&dynamic, &[("grant_type", "refresh_token"), ("refresh_token", refresh)], None)
        .await?;
    ensure!(status == 200, "the refresh answered {status}: {tokens}");
    ensure!(tokens["refresh_token"].as_str() != Some(refresh), "the refresh token was not rotated");
    let (_, claims) = rp.verify_dynamic(&dynamic, &tokens, None)?;
    ensure!(claims.subject() == signed_in.claims.subject(), "the refreshed ID token is about someone else");
    Ok(Outcome::Passed)
}

/// `oidcc-ensure-client-assertion-with-iss-aud-succeeds`: an assertion
/// whose `aud` is the issuer (OpenID Connect Core §9) is accepted.
pub async fn client_assertion_with_iss_aud(rp: &RelyingParty) -> Result<Outcome> {
    let dynamic = rp.register(json!({})).await?;
    let pending = rp.request(&dynamic.client, &[], unchanged);
    let journey = rp.browser()?.visit(&pending.url, &rp.target.redirect_uri).await?;
    let code = journey.code()?;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", rp.target.redirect_uri.as_str()),
        ("code_verifier", pending.verifier.secret().as_str()),
    ];
    let (status, tokens) = rp.token_request(&dynamic, &form, Some(&rp.target.issuer)).await?;
    ensure!(status == 200, "an assertion for the issuer answered {status}: {tokens}");
    rp.verify_dynamic(&dynamic, &tokens, Some(&pending.nonce))?;
    Ok(Outcome::Passed)
}
