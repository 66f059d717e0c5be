//! The modules of the OIDF `fapi2-security-profile-final-test-plan`, for
//! `private_key_jwt` × DPoP (`plain_fapi`, `openid_connect`, unsigned
//! requests), each as the suite's Java module checks it
//! (`net.openid.conformance.fapi2spfinal`). What a module only warns about
//! is a [`Outcome::Warning`]; the TLS checks of `happy-flow` and
//! `ensure-holder-of-key-required` belong to the TLS terminator in front of
//! the server, not to it, and are left out.

use crate::fapi2::{now, remove, set, FapiClient};
use crate::relying_party::RelyingParty;
use crate::report::Outcome;
use crate::support::discovery_json;
use crate::user_agent::{Landing, UserAgent};
use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value};
use std::time::Duration;

/// The header or claims of a JWT.
type Members = serde_json::Map<String, Value>;

/// `invalid_client` or `invalid_request`, 400 or 401: how a refused client assertion is answered.
const CLIENT_REFUSED: (&[u16], &[&str]) = (&[400, 401], &["invalid_client", "invalid_request"]);
/// How a refused DPoP binding at the token endpoint is answered.
const BINDING_REFUSED: (&[u16], &[&str]) =
    (&[400], &["invalid_request", "invalid_grant", "invalid_dpop_proof"]);

/// A pushed request that must be refused at PAR with one of `errors`.
async fn refused_at_par(
    rp: &RelyingParty,
    edit: impl FnOnce(&mut Vec<(String, String)>),
    errors: &[&str],
) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let pushed = rp.fapi2_request(&client, edit);
    let answer = rp.push(&client, &pushed, &client.assertion(rp)?, None).await?;
    answer.refused(&[400], errors, "PAR")?;
    Ok(Outcome::Passed)
}

/// An assertion that must be refused at PAR.
async fn assertion_refused(
    rp: &RelyingParty,
    assertion: impl FnOnce(&FapiClient) -> Result<String>,
) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let pushed = rp.fapi2_request(&client, |_| {});
    let answer = rp.push(&client, &pushed, &assertion(&client)?, None).await?;
    answer.refused(CLIENT_REFUSED.0, CLIENT_REFUSED.1, "a refused client assertion")?;
    Ok(Outcome::Passed)
}

/// A token request for a fresh code that must be refused with one of `errors`.
async fn refused_at_token(
    rp: &RelyingParty,
    change: impl FnOnce(&FapiClient, &mut Vec<(String, String)>) -> Result<(String, Option<String>)>,
    (statuses, errors): (&[u16], &[&str]),
) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let pushed = rp.fapi2_request(&client, |_| {});
    let code = rp.fapi2_code(&client, &pushed).await?;
    let mut form = RelyingParty::code_form(&code, &pushed);
    let (assertion, proof) = change(&client, &mut form)?;
    let answer = rp
        .post_with_proof(&rp.token_url()?, &client.authenticated(&form, &assertion), proof.as_deref())
        .await?;
    answer.refused(statuses, errors, "the token request")?;
    Ok(Outcome::Passed)
}

/// The authorization endpoint's answer to `url` must be an error page, or a
/// redirect with one of `errors` (never a code).
async fn refused_at_authorize(rp: &RelyingParty, url: &url::Url, errors: &[&str]) -> Result<Outcome> {
    match rp.journey(url).await?.landing {
        Landing::ErrorPage { redirected: false, .. } => Ok(Outcome::Passed),
        Landing::Callback(params) if params.get("error").is_some_and(|e| errors.contains(&e.as_str())) => {
            ensure!(!params.contains_key("code"), "a code beside the error");
            Ok(Outcome::Passed)
        }
        other => bail!("expected an error page or one of {errors:?}, got {other:?}"),
    }
}

/// `discovery-end-point-verification`.
pub async fn discovery(rp: &RelyingParty) -> Result<Outcome> {
    let document = discovery_json(rp).await?;
    let has =
        |name: &str, value: &str| document[name].as_array().is_some_and(|v| v.iter().any(|x| x == value));
    ensure!(document["issuer"] == rp.target.issuer.as_str(), "issuer");
    ensure!(has("token_endpoint_auth_methods_supported", "private_key_jwt"), "private_key_jwt not offered");
    for list in [
        "token_endpoint_auth_signing_alg_values_supported",
        "dpop_signing_alg_values_supported",
        "id_token_signing_alg_values_supported",
    ] {
        ensure!(
            ["PS256", "ES256", "EdDSA"].iter().any(|alg| has(list, alg)),
            "{list} offers no FAPI 2.0 algorithm"
        );
    }
    ensure!(
        has("code_challenge_methods_supported", "S256") && has("response_types_supported", "code"),
        "S256 or code missing"
    );
    ensure!(document["pushed_authorization_request_endpoint"].is_string(), "no PAR endpoint");
    ensure!(document["authorization_response_iss_parameter_supported"] == true, "RFC 9207 not advertised");
    ensure!(
        document["jwks_uri"].is_string() && document["token_endpoint"].is_string(),
        "jwks_uri or token_endpoint missing"
    );
    Ok(Outcome::Passed)
}

/// `happy-flow`: two clients, the second binding its code with `dpop_jkt` only.
pub async fn happy_flow(rp: &RelyingParty) -> Result<Outcome> {
    for jkt_only in [false, true] {
        let client = rp.register_fapi2().await?;
        let jkt = client.dpop.jkt();
        let pushed = rp.fapi2_request(&client, |params| {
            if jkt_only {
                set(params, "dpop_jkt", &jkt);
            }
        });
        let request_uri = if jkt_only {
            let answer = rp.push(&client, &pushed, &client.assertion(rp)?, None).await?;
            ensure!(answer.status == 201, "PAR with dpop_jkt answered {} {}", answer.status, answer.body);
            answer.body["request_uri"].as_str().context("no request_uri")?.to_owned()
        } else {
            rp.push_ok(&client, &pushed).await?
        };
        let journey =
            rp.journey(&rp.by_reference(&client.client_id, &request_uri, Some(&pushed), &[])?).await?;
        rp.check_iss(journey.callback()?)?;
        let code = journey.code()?;
        ensure!(code.len() >= 22, "a code of fewer than 128 bits");
        let (tokens, claims) = rp.fapi2_tokens(&client, &code, &pushed).await?;
        let access = tokens["access_token"].as_str().context("no access token")?;
        let proof = client.dpop.proof("GET", &rp.userinfo_url()?, Some(access))?;
        ensure!(
            rp.userinfo_with("DPoP", access, &[&proof]).await? == 200,
            "UserInfo refused the bound token"
        );
        ensure!(!claims.subject().is_empty(), "no subject");
    }
    Ok(Outcome::Passed)
}

/// `user-rejects-authentication`: a denied consent comes back as `access_denied` with the state.
pub async fn user_rejects(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let pushed = rp.fapi2_request(&client, |_| {});
    let request_uri = rp.push_ok(&client, &pushed).await?;
    let agent = UserAgent::declining(&rp.target.user)?;
    let journey = agent
        .visit(
            &rp.by_reference(&client.client_id, &request_uri, Some(&pushed), &[])?,
            &rp.target.redirect_uri,
        )
        .await?;
    ensure!(journey.error()? == "access_denied", "not access_denied");
    ensure!(journey.callback()?.get("state").map(String::as_str) == pushed.param("state"), "no state");
    Ok(Outcome::Passed)
}

/// A sign-in with the request changed by `edit` succeeds.
async fn succeeds(rp: &RelyingParty, edit: impl FnOnce(&mut Vec<(String, String)>)) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    rp.fapi2_sign_in(&client, edit).await?;
    Ok(Outcome::Passed)
}

/// `ensure-authorization-request-without-state-success`.
pub async fn without_state(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let pushed = rp.fapi2_request(&client, |params| remove(params, "state"));
    let request_uri = rp.push_ok(&client, &pushed).await?;
    let journey = rp.journey(&rp.by_reference(&client.client_id, &request_uri, Some(&pushed), &[])?).await?;
    ensure!(!journey.callback()?.contains_key("state"), "a state nobody sent");
    rp.fapi2_tokens(&client, &journey.code()?, &pushed).await?;
    Ok(Outcome::Passed)
}

/// `ensure-authorization-request-without-nonce-success`.
pub async fn without_nonce(rp: &RelyingParty) -> Result<Outcome> {
    succeeds(rp, |params| remove(params, "nonce")).await
}

/// `ensure-authorization-request-with-64-char-nonce-success` (§5.3.2.2 item 14).
pub async fn nonce_64(rp: &RelyingParty) -> Result<Outcome> {
    succeeds(rp, |params| set(params, "nonce", &"n".repeat(64))).await
}

/// `ensure-other-scope-order-succeeds`.
pub async fn other_scope_order(rp: &RelyingParty) -> Result<Outcome> {
    succeeds(rp, |params| set(params, "scope", "profile openid")).await
}

/// `test-claims-parameter-identity-claims`: a claim asked for in `claims` is in the ID token.
pub async fn claims_parameter(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let asked = json!({"id_token": {"name": {"essential": true}}}).to_string();
    let (_, claims) = rp.fapi2_sign_in(&client, |params| set(params, "claims", &asked)).await?;
    ensure!(claims.name().is_some(), "the name asked for is not in the ID token");
    Ok(Outcome::Passed)
}

/// The tokens of a fresh sign-in and the client.
async fn signed_in(rp: &RelyingParty) -> Result<(FapiClient, String, Value)> {
    let client = rp.register_fapi2().await?;
    let (tokens, _) = rp.fapi2_sign_in(&client, |_| {}).await?;
    let access = tokens["access_token"].as_str().context("no access token")?.to_owned();
    Ok((client, access, tokens))
}

/// `access-token-type-header-case-sensitivity`: the scheme is case-insensitive (RFC 9110 §11.1).
pub async fn scheme_case(rp: &RelyingParty) -> Result<Outcome> {
    let (client, access, _) = signed_in(rp).await?;
    for scheme in ["dpop", "DPOP", "dPoP"] {
        let proof = client.dpop.proof("GET", &rp.userinfo_url()?, Some(&access))?;
        ensure!(rp.userinfo_with(scheme, &access, &[&proof]).await? == 200, "{scheme} refused");
    }
    Ok(Outcome::Passed)
}

/// A sign-in whose every proof (PAR, token, UserInfo) is changed by `edit`, which must succeed.
async fn proofs_accepted(rp: &RelyingParty, edit: impl Fn(&mut Members) + Copy) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let pushed = rp.fapi2_request(&client, |_| {});
    let proof = client.dpop.proof_with("POST", &rp.par_endpoint().await?, None, |_, claims| edit(claims))?;
    let answer = rp.push(&client, &pushed, &client.assertion(rp)?, Some(&proof)).await?;
    ensure!(answer.status == 201, "PAR refused the proof: {}", answer.body);
    let request_uri = answer.body["request_uri"].as_str().context("no request_uri")?;
    let journey = rp.journey(&rp.by_reference(&client.client_id, request_uri, Some(&pushed), &[])?).await?;
    let form =
        client.authenticated(&RelyingParty::code_form(&journey.code()?, &pushed), &client.assertion(rp)?);
    let proof = client.dpop.proof_with("POST", &rp.token_url()?, None, |_, claims| edit(claims))?;
    let answer = rp.post_with_proof(&rp.token_url()?, &form, Some(&proof)).await?;
    ensure!(answer.status == 200, "the token endpoint refused the proof: {}", answer.body);
    let access = answer.body["access_token"].as_str().context("no access token")?;
    let proof = client.dpop.proof_with("GET", &rp.userinfo_url()?, Some(access), |_, claims| edit(claims))?;
    ensure!(rp.userinfo_with("DPoP", access, &[&proof]).await? == 200, "UserInfo refused the proof");
    Ok(Outcome::Passed)
}

/// `check-dpop-proof-nbf-exp`: proofs carrying `nbf` and `exp` are accepted.
pub async fn proof_nbf_exp(rp: &RelyingParty) -> Result<Outcome> {
    proofs_accepted(rp, |claims| {
        claims.insert("nbf".into(), now().into());
        claims.insert("exp".into(), (now() + 300).into());
    })
    .await
}

/// `ensure-dpopproof-with-iat-10seconds-before-succeeds`.
pub async fn proof_iat_before(rp: &RelyingParty) -> Result<Outcome> {
    proofs_accepted(rp, |claims| drop(claims.insert("iat".into(), (now() - 10).into()))).await
}

/// `ensure-dpopproof-with-iat-10seconds-after-succeeds` (§5.3.2.1 item 13; the suite sends 8 s).
pub async fn proof_iat_after(rp: &RelyingParty) -> Result<Outcome> {
    proofs_accepted(rp, |claims| drop(claims.insert("iat".into(), (now() + 8).into()))).await
}

/// `ensure-mismatched-dpop-jkt-fails`: `dpop_jkt` and the proof at PAR name different keys.
pub async fn mismatched_jkt_at_par(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let other = crate::fapi2::DpopKey::generate()?.jkt();
    let pushed = rp.fapi2_request(&client, |params| set(params, "dpop_jkt", &other));
    let proof = client.dpop.proof("POST", &rp.par_endpoint().await?, None)?;
    let answer = rp.push(&client, &pushed, &client.assertion(rp)?, Some(&proof)).await?;
    answer.refused(&[400], &["invalid_request", "invalid_dpop_proof"], "PAR")?;
    Ok(Outcome::Passed)
}

/// The token request of a code pushed with `client`'s key (by proof or, when
/// `by_jkt`, by `dpop_jkt`), proven with another key: refused.
async fn other_key_at_token(rp: &RelyingParty, by_jkt: bool) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let jkt = client.dpop.jkt();
    let pushed = rp.fapi2_request(&client, |params| {
        if by_jkt {
            set(params, "dpop_jkt", &jkt);
        }
    });
    let code = rp.fapi2_code(&client, &pushed).await?;
    let other = crate::fapi2::DpopKey::generate()?;
    let proof = other.proof("POST", &rp.token_url()?, None)?;
    let form = client.authenticated(&RelyingParty::code_form(&code, &pushed), &client.assertion(rp)?);
    let answer = rp.post_with_proof(&rp.token_url()?, &form, Some(&proof)).await?;
    answer.refused(BINDING_REFUSED.0, BINDING_REFUSED.1, "another key at the token endpoint")?;
    Ok(Outcome::Passed)
}

/// `ensure-token-endpoint-fails-with-mismatched-dpop-proof-jkt`.
pub async fn other_proof_key_at_token(rp: &RelyingParty) -> Result<Outcome> {
    other_key_at_token(rp, false).await
}

/// `ensure-token-endpoint-fails-with-mismatched-dpop-jkt`.
pub async fn other_jkt_at_token(rp: &RelyingParty) -> Result<Outcome> {
    other_key_at_token(rp, true).await
}

/// `ensure-dpopproof-at-par-endpoint-binding-success`.
pub async fn proof_at_par_binds(rp: &RelyingParty) -> Result<Outcome> {
    succeeds(rp, |_| {}).await
}

/// `ensure-dpop-auth-code-binding-success`: `dpop_jkt` and a proof of that key.
pub async fn jkt_and_proof_bind(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let jkt = client.dpop.jkt();
    let pushed = rp.fapi2_request(&client, |params| set(params, "dpop_jkt", &jkt));
    let code = rp.fapi2_code(&client, &pushed).await?;
    rp.fapi2_tokens(&client, &code, &pushed).await?;
    Ok(Outcome::Passed)
}

/// Sent at `/authorize` beside the `request_uri`, `name` = `outside` must
/// not replace what was pushed.
async fn pushed_wins(rp: &RelyingParty, name: &str) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let pushed = rp.fapi2_request(&client, |_| {});
    let request_uri = rp.push_ok(&client, &pushed).await?;
    let journey = rp
        .journey(&rp.by_reference(
            &client.client_id,
            &request_uri,
            Some(&pushed),
            &[(name, "outside-value")],
        )?)
        .await?;
    let params = journey.callback()?;
    if params.get("error").is_some_and(|e| e == "invalid_request") {
        return Ok(Outcome::Passed);
    }
    ensure!(
        params.get("state").map(String::as_str) == pushed.param("state"),
        "the state is not the pushed one"
    );
    // The ID token's nonce must be the pushed one: fapi2_tokens verifies it.
    rp.fapi2_tokens(&client, &journey.code()?, &pushed).await?;
    Ok(Outcome::Passed)
}

/// `ensure-different-nonce-inside-and-outside-request-object`.
pub async fn different_nonce_outside(rp: &RelyingParty) -> Result<Outcome> {
    pushed_wins(rp, "nonce").await
}

/// `ensure-different-state-inside-and-outside-request-object`.
pub async fn different_state_outside(rp: &RelyingParty) -> Result<Outcome> {
    pushed_wins(rp, "state").await
}

/// A long value of `name` comes back intact, or is refused with `invalid_request`.
async fn long_value(rp: &RelyingParty, name: &str) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let long = "a".repeat(384);
    let pushed = rp.fapi2_request(&client, |params| set(params, name, &long));
    let answer = rp
        .push(
            &client,
            &pushed,
            &client.assertion(rp)?,
            Some(&client.dpop.proof("POST", &rp.par_endpoint().await?, None)?),
        )
        .await?;
    if answer.status == 400 && answer.body["error"] == "invalid_request" {
        return Ok(Outcome::Passed);
    }
    ensure!(answer.status == 201, "PAR answered {} {}", answer.status, answer.body);
    let request_uri = answer.body["request_uri"].as_str().context("no request_uri")?;
    let journey = rp.journey(&rp.by_reference(&client.client_id, request_uri, Some(&pushed), &[])?).await?;
    if name == "state" {
        ensure!(journey.callback()?.get("state") == Some(&long), "the state came back changed");
    }
    rp.fapi2_tokens(&client, &journey.code()?, &pushed).await?;
    Ok(Outcome::Passed)
}

/// `ensure-authorization-request-with-long-nonce`.
pub async fn long_nonce(rp: &RelyingParty) -> Result<Outcome> {
    long_value(rp, "nonce").await
}

/// `ensure-authorization-request-with-long-state`.
pub async fn long_state(rp: &RelyingParty) -> Result<Outcome> {
    long_value(rp, "state").await
}

/// `state-only-outside-request-object-not-used`.
pub async fn state_only_outside(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let pushed = rp.fapi2_request(&client, |params| remove(params, "state"));
    let request_uri = rp.push_ok(&client, &pushed).await?;
    let journey = rp
        .journey(&rp.by_reference(&client.client_id, &request_uri, Some(&pushed), &[("state", "outside")])?)
        .await?;
    ensure!(!journey.callback()?.contains_key("state"), "the state from outside was used");
    Ok(Outcome::Passed)
}

/// `ensure-request-object-without-redirect-uri-fails` (§5.3.2.2 item 6).
pub async fn without_redirect_uri(rp: &RelyingParty) -> Result<Outcome> {
    refused_at_par(
        rp,
        |params| remove(params, "redirect_uri"),
        &["invalid_request", "invalid_request_object"],
    )
    .await
}

/// `plain-fapi-tolerate-unregistered-redirect-uri`: refused at PAR, never sent to the registered one.
pub async fn unregistered_redirect_uri(rp: &RelyingParty) -> Result<Outcome> {
    refused_at_par(
        rp,
        |params| set(params, "redirect_uri", "https://unregistered.example/cb"),
        &["invalid_request", "invalid_request_object"],
    )
    .await
}

/// `ensure-unsigned-authorization-request-without-using-par-fails` (§5.3.2.2 item 3).
pub async fn without_par(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let pushed = rp.fapi2_request(&client, |_| {});
    refused_at_authorize(rp, &pushed.pending.url, &["invalid_request"]).await
}

/// `ensure-redirect-uri-in-authorization-request`.
pub async fn redirect_uri_required(rp: &RelyingParty) -> Result<Outcome> {
    refused_at_par(rp, |params| remove(params, "redirect_uri"), &["invalid_request"]).await
}

/// `ensure-response-type-code-idtoken-fails`.
pub async fn response_type_code_id_token(rp: &RelyingParty) -> Result<Outcome> {
    refused_at_par(
        rp,
        |params| set(params, "response_type", "code id_token"),
        &["invalid_request", "unsupported_response_type"],
    )
    .await
}

/// `ensure-response-type-token-fails`.
pub async fn response_type_token(rp: &RelyingParty) -> Result<Outcome> {
    refused_at_par(
        rp,
        |params| set(params, "response_type", "token"),
        &["invalid_request", "unsupported_response_type"],
    )
    .await
}

/// `ensure-client-id-in-token-endpoint`: a second client's id and assertion,
/// signed with the first's key, on the first's code.
pub async fn client_id_at_token(rp: &RelyingParty) -> Result<Outcome> {
    let second = rp.register_fapi2().await?;
    refused_at_token(
        rp,
        |first, form| {
            form.push(("client_id".into(), second.client_id.clone()));
            let forged = first.assertion_with(rp.target.issuer.clone().into(), 0, |claims| {
                claims.insert("iss".into(), second.client_id.clone().into());
                claims.insert("sub".into(), second.client_id.clone().into());
            })?;
            Ok((forged, Some(first.dpop.proof("POST", &rp.token_url()?, None)?)))
        },
        (&[400, 401], &["invalid_client", "invalid_grant"]),
    )
    .await
}

/// `ensure-holder-of-key-required`: no proof, no token (§5.3.2.1 item 4).
pub async fn holder_of_key_required(rp: &RelyingParty) -> Result<Outcome> {
    refused_at_token(rp, |client, _| Ok((client.assertion(rp)?, None)), (&[400, 401], BINDING_REFUSED.1))
        .await
}

/// `ensure-authorization-code-is-bound-to-client`.
pub async fn code_bound_to_client(rp: &RelyingParty) -> Result<Outcome> {
    let (first, second) = (rp.register_fapi2().await?, rp.register_fapi2().await?);
    let pushed = rp.fapi2_request(&first, |_| {});
    let code = rp.fapi2_code(&first, &pushed).await?;
    let form = second.authenticated(&RelyingParty::code_form(&code, &pushed), &second.assertion(rp)?);
    let proof = second.dpop.proof("POST", &rp.token_url()?, None)?;
    rp.post_with_proof(&rp.token_url()?, &form, Some(&proof)).await?.refused(
        &[400],
        &["invalid_grant"],
        "another client's code",
    )?;
    Ok(Outcome::Passed)
}

/// Exchanges a code, waits `wait`, and exchanges it again: refused.
async fn code_again_after(rp: &RelyingParty, first_exchange: bool, wait: Duration) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let pushed = rp.fapi2_request(&client, |_| {});
    let code = rp.fapi2_code(&client, &pushed).await?;
    if first_exchange {
        rp.fapi2_tokens(&client, &code, &pushed).await?;
    }
    tokio::time::sleep(wait).await;
    let form = client.authenticated(&RelyingParty::code_form(&code, &pushed), &client.assertion(rp)?);
    let proof = client.dpop.proof("POST", &rp.token_url()?, None)?;
    rp.post_with_proof(&rp.token_url()?, &form, Some(&proof)).await?.refused(
        &[400],
        &["invalid_grant"],
        "the code again",
    )?;
    Ok(Outcome::Passed)
}

/// `attempt-reuse-authorization-code-after-one-second`.
pub async fn code_reuse(rp: &RelyingParty) -> Result<Outcome> {
    code_again_after(rp, true, Duration::from_secs(1)).await
}

/// `ensure-token-endpoint-fails-with-expired-auth-code` (§5.3.2.1 item 11: 60 s at most).
pub async fn code_expired(rp: &RelyingParty) -> Result<Outcome> {
    code_again_after(rp, false, Duration::from_secs(62)).await
}

/// `ensure-signed-client-assertion-with-RS256-fails` (§5.4.1).
pub async fn rs256_assertion(rp: &RelyingParty) -> Result<Outcome> {
    refused_at_token(
        rp,
        |client, _| {
            let Value::Object(claims) = json!({"iss": client.client_id, "sub": client.client_id, "aud": rp.target.issuer,
                "iat": now(), "exp": now() + 60, "jti": format!("rs256-{}", now())}) else { unreachable!() };
            Ok((client.sign(claims, "RS256")?, Some(client.dpop.proof("POST", &rp.token_url()?, None)?)))
        },
        CLIENT_REFUSED,
    )
    .await
}

/// `ensure-client-assertion-in-token-endpoint`: no assertion at all.
pub async fn assertion_required(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let pushed = rp.fapi2_request(&client, |_| {});
    let code = rp.fapi2_code(&client, &pushed).await?;
    let mut form = RelyingParty::code_form(&code, &pushed);
    form.push(("client_id".into(), client.client_id.clone()));
    let proof = client.dpop.proof("POST", &rp.token_url()?, None)?;
    rp.post_with_proof(&rp.token_url()?, &form, Some(&proof)).await?.refused(
        CLIENT_REFUSED.0,
        CLIENT_REFUSED.1,
        "no assertion",
    )?;
    Ok(Outcome::Passed)
}

/// An assertion changed by `edit` at the token endpoint: refused.
async fn bad_assertion_at_token(rp: &RelyingParty, edit: impl FnOnce(&mut Members)) -> Result<Outcome> {
    refused_at_token(
        rp,
        |client, _| {
            Ok((
                client.assertion_with(rp.target.issuer.clone().into(), 0, edit)?,
                Some(client.dpop.proof("POST", &rp.token_url()?, None)?),
            ))
        },
        CLIENT_REFUSED,
    )
    .await
}

/// `ensure-client-assertion-with-exp-is-5-minutes-in-past-fails`.
pub async fn assertion_expired(rp: &RelyingParty) -> Result<Outcome> {
    bad_assertion_at_token(rp, |claims| drop(claims.insert("exp".into(), (now() - 300).into()))).await
}

/// `ensure-client-assertion-with-wrong-aud-fails`.
pub async fn assertion_wrong_aud(rp: &RelyingParty) -> Result<Outcome> {
    bad_assertion_at_token(rp, |claims| drop(claims.insert("aud".into(), "https://other.example".into())))
        .await
}

/// `ensure-client-assertion-with-no-sub-fails`.
pub async fn assertion_without_sub(rp: &RelyingParty) -> Result<Outcome> {
    bad_assertion_at_token(rp, |claims| drop(claims.remove("sub"))).await
}

/// `dpop-negative-tests`: proofs UserInfo must refuse, and variants it must take.
pub async fn dpop_negative(rp: &RelyingParty) -> Result<Outcome> {
    let (client, access, _) = signed_in(rp).await?;
    let url = rp.userinfo_url()?;
    let key = &client.dpop;
    let good = || key.proof("GET", &url, Some(&access));
    let edited = |edit: &dyn Fn(&mut Members, &mut Members)| {
        key.proof_with("GET", &url, Some(&access), |header, claims| edit(header, claims))
    };
    let stranger = crate::fapi2::DpopKey::generate()?;
    let private = key.private_jwk()?;
    let mut bad: Vec<(&str, Vec<String>)> = vec![
        ("two proofs", vec![good()?, good()?]),
        ("not a JWT", vec!["not-a-jwt".into()]),
        ("no typ", vec![edited(&|h, _| drop(h.insert("typ".into(), Value::Null)))?]),
        ("typ JWT", vec![edited(&|h, _| drop(h.insert("typ".into(), "JWT".into())))?]),
        ("no jwk", vec![edited(&|h, _| drop(h.insert("jwk".into(), Value::Null)))?]),
        ("a private jwk", vec![edited(&|h, _| drop(h.insert("jwk".into(), private.clone())))?]),
        ("no jti", vec![edited(&|_, c| drop(c.insert("jti".into(), Value::Null)))?]),
        ("no htm", vec![edited(&|_, c| drop(c.insert("htm".into(), Value::Null)))?]),
        ("no htu", vec![edited(&|_, c| drop(c.insert("htu".into(), Value::Null)))?]),
        ("no iat", vec![edited(&|_, c| drop(c.insert("iat".into(), Value::Null)))?]),
        ("no ath", vec![edited(&|_, c| drop(c.insert("ath".into(), Value::Null)))?]),
        ("wrong htm", vec![edited(&|_, c| drop(c.insert("htm".into(), "POST".into())))?]),
        (
            "wrong htu",
            vec![edited(&|_, c| drop(c.insert("htu".into(), "https://other.example/userinfo".into())))?],
        ),
        ("iat an hour ago", vec![edited(&|_, c| drop(c.insert("iat".into(), (now() - 3600).into())))?]),
        ("iat in an hour", vec![edited(&|_, c| drop(c.insert("iat".into(), (now() + 3600).into())))?]),
        (
            "wrong ath",
            vec![edited(&|_, c| drop(c.insert("ath".into(), crate::fapi2::ath("another token").into())))?],
        ),
        ("another key", vec![stranger.proof("GET", &url, Some(&access))?]),
        ("no proof", vec![]),
    ];
    let mut tampered = good()?;
    tampered.push('A');
    bad.push(("a bad signature", vec![tampered]));
    let unsigned = {
        let proof = good()?;
        let mut parts = proof.split('.');
        let (_, claims) = (parts.next(), parts.next().context("a payload")?);
        use base64::Engine;
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(json!({"typ": "dpop+jwt", "alg": "none", "jwk": key.public_jwk()}).to_string());
        format!("{header}.{claims}.")
    };
    bad.push(("alg none", vec![unsigned]));
    for (why, proofs) in &bad {
        let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
        let status = rp.userinfo_with("DPoP", &access, &proofs).await?;
        ensure!(matches!(status, 400 | 401), "{why}: UserInfo answered {status}");
    }
    ensure!(matches!(rp.userinfo_with("Bearer", &access, &[]).await?, 400 | 401), "a bound token as Bearer");
    let with_query = key.proof("GET", &format!("{url}?x=1#f"), Some(&access))?;
    let extra = edited(&|h, c| {
        h.insert("x-extra".into(), "header".into());
        c.insert("x-extra".into(), "claim".into());
    })?;
    for (what, proof) in [("an htu with query and fragment", with_query), ("extra members", extra)] {
        ensure!(rp.userinfo_with("DPoP", &access, &[&proof]).await? == 200, "{what} refused");
    }
    Ok(Outcome::Passed)
}

/// `refresh-token`: refreshes with the same token (not rotated, §5.3.2.1
/// item 9), and refuses one without authentication, without a proof, or
/// from another client.
pub async fn refresh_token(rp: &RelyingParty) -> Result<Outcome> {
    let (client, _, tokens) = signed_in(rp).await?;
    let refresh = tokens["refresh_token"].as_str().context("no refresh token")?.to_owned();
    let form =
        vec![("grant_type".to_owned(), "refresh_token".to_owned()), ("refresh_token".to_owned(), refresh)];
    let token_url = rp.token_url()?;
    for round in 0..2 {
        let proof = client.dpop.proof("POST", &token_url, None)?;
        let answer = rp
            .post_with_proof(&token_url, &client.authenticated(&form, &client.assertion(rp)?), Some(&proof))
            .await?;
        ensure!(answer.status == 200, "refresh {round}: {} {}", answer.status, answer.body);
        ensure!(
            answer.body.get("refresh_token").is_none_or(|t| t == &tokens["refresh_token"]),
            "the refresh token was rotated"
        );
    }
    let proof = client.dpop.proof("POST", &token_url, None)?;
    let mut unauthenticated = form.clone();
    unauthenticated.push(("client_id".into(), client.client_id.clone()));
    rp.post_with_proof(&token_url, &unauthenticated, Some(&proof)).await?.refused(
        &[400, 401],
        &["invalid_client", "invalid_grant", "invalid_request"],
        "no authentication",
    )?;
    rp.post_with_proof(&token_url, &client.authenticated(&form, &client.assertion(rp)?), None)
        .await?
        .refused(BINDING_REFUSED.0, BINDING_REFUSED.1, "no proof")?;
    let other = rp.register_fapi2().await?;
    let proof = other.dpop.proof("POST", &token_url, None)?;
    let answer = rp
        .post_with_proof(&token_url, &other.authenticated(&form, &other.assertion(rp)?), Some(&proof))
        .await?;
    ensure!(answer.status >= 400, "another client refreshed: {}", answer.body);
    Ok(Outcome::Passed)
}

/// `par-ensure-reused-request-uri-prior-to-auth-completion-succeeds`: the
/// page loaded before signing in, then again in another browser (the
/// suite's runners each have their own), where signing in gets a code. The
/// suite warns when the second load fails (FAPI 2.0 §5.3.2.2 note 3).
pub async fn request_uri_loaded_twice(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let pushed = rp.fapi2_request(&client, |_| {});
    let request_uri = rp.push_ok(&client, &pushed).await?;
    let url = rp.by_reference(&client.client_id, &request_uri, Some(&pushed), &[])?;
    rp.browser()?.first_page(&url).await?;
    match rp.journey(&url).await?.landing {
        Landing::Callback(params) if params.contains_key("code") => Ok(Outcome::Passed),
        other => Ok(Outcome::Warning(format!(
            "a second load of the request_uri before signing in led to {other:?}"
        ))),
    }
}

/// `par-attempt-reuse-request_uri`: after a completed flow.
pub async fn request_uri_reused(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let pushed = rp.fapi2_request(&client, |_| {});
    let request_uri = rp.push_ok(&client, &pushed).await?;
    let url = rp.by_reference(&client.client_id, &request_uri, Some(&pushed), &[])?;
    rp.journey(&url).await?.code()?;
    refused_at_authorize(rp, &url, &["invalid_request_uri", "invalid_request"]).await
}

/// `par-attempt-to-use-expired-request_uri`: after `expires_in`.
pub async fn request_uri_expired(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let pushed = rp.fapi2_request(&client, |_| {});
    let proof = client.dpop.proof("POST", &rp.par_endpoint().await?, None)?;
    let answer = rp.push(&client, &pushed, &client.assertion(rp)?, Some(&proof)).await?;
    let expires_in = answer.body["expires_in"].as_u64().context("no expires_in")?;
    ensure!(expires_in <= 1800, "the suite skips a request_uri living over 30 minutes");
    tokio::time::sleep(Duration::from_secs(expires_in + 1)).await;
    let request_uri = answer.body["request_uri"].as_str().context("no request_uri")?;
    refused_at_authorize(
        rp,
        &rp.by_reference(&client.client_id, request_uri, Some(&pushed), &[])?,
        &["invalid_request_uri"],
    )
    .await
}

/// An assertion at PAR with `iat` and `nbf` `ahead` seconds from now.
async fn assertion_ahead(rp: &RelyingParty, ahead: i64) -> Result<crate::fapi2::Answer> {
    let client = rp.register_fapi2().await?;
    let pushed = rp.fapi2_request(&client, |_| {});
    rp.push(&client, &pushed, &client.assertion_with(rp.target.issuer.clone().into(), ahead, |_| {})?, None)
        .await
}

/// `par-ensure-jwt-client-assertions-nbf-8-seconds-in-the-future-is-accepted`.
pub async fn assertion_8_seconds_ahead(rp: &RelyingParty) -> Result<Outcome> {
    let answer = assertion_ahead(rp, 8).await?;
    ensure!(answer.status == 201, "PAR answered {} {}", answer.status, answer.body);
    Ok(Outcome::Passed)
}

/// `par-ensure-jwt-client-assertions-nbf-over-60-seconds-in-the-future-fails`.
pub async fn assertion_62_seconds_ahead(rp: &RelyingParty) -> Result<Outcome> {
    assertion_ahead(rp, 62).await?.refused(CLIENT_REFUSED.0, CLIENT_REFUSED.1, "62 s ahead")?;
    Ok(Outcome::Passed)
}

/// `par-attempt-to-use-request_uri-for-different-client`.
pub async fn request_uri_of_another_client(rp: &RelyingParty) -> Result<Outcome> {
    let (first, second) = (rp.register_fapi2().await?, rp.register_fapi2().await?);
    let pushed = rp.fapi2_request(&first, |_| {});
    let request_uri = rp.push_ok(&first, &pushed).await?;
    let url = rp.by_reference(&second.client_id, &request_uri, None, &[])?;
    refused_at_authorize(rp, &url, &["invalid_request", "invalid_request_object", "invalid_request_uri"])
        .await
}

/// `par-authorization-request-containing-request_uri-form-param`.
pub async fn request_uri_pushed(rp: &RelyingParty) -> Result<Outcome> {
    refused_at_par(
        rp,
        |params| set(params, "request_uri", "urn:example:request"),
        &["invalid_request", "invalid_request_object", "request_uri_not_supported"],
    )
    .await
}

/// `par-attempt-invalid-http-method`: `PUT` is refused.
pub async fn par_put(rp: &RelyingParty) -> Result<Outcome> {
    let status = rp.http.put(rp.par_endpoint().await?).form(&[("client_id", "x")]).send().await?.status();
    ensure!(status.is_client_error() || status.is_server_error(), "PUT answered {status}");
    Ok(Outcome::Passed)
}

/// `par-ensure-pkce-required`.
pub async fn pkce_required(rp: &RelyingParty) -> Result<Outcome> {
    refused_at_par(
        rp,
        |params| {
            remove(params, "code_challenge");
            remove(params, "code_challenge_method");
        },
        &["invalid_request"],
    )
    .await
}

/// `ensure-pkce-code-verifier-required`.
pub async fn verifier_required(rp: &RelyingParty) -> Result<Outcome> {
    refused_at_token(
        rp,
        |client, form| {
            form.retain(|(name, _)| name != "code_verifier");
            Ok((client.assertion(rp)?, Some(client.dpop.proof("POST", &rp.token_url()?, None)?)))
        },
        (&[400], &["invalid_grant", "invalid_request"]),
    )
    .await
}

/// `incorrect-pkce-code-verifier-rejected`.
pub async fn wrong_verifier(rp: &RelyingParty) -> Result<Outcome> {
    refused_at_token(
        rp,
        |client, form| {
            set(form, "code_verifier", &"w".repeat(43));
            Ok((client.assertion(rp)?, Some(client.dpop.proof("POST", &rp.token_url()?, None)?)))
        },
        (&[400], &["invalid_grant"]),
    )
    .await
}

/// `par-plain-pkce-rejected`.
pub async fn plain_pkce(rp: &RelyingParty) -> Result<Outcome> {
    refused_at_par(
        rp,
        |params| {
            set(params, "code_challenge", &"p".repeat(43));
            set(params, "code_challenge_method", "plain");
        },
        &["invalid_request"],
    )
    .await
}

/// `par-without-duplicate-parameters`: `client_id` and `request_uri` alone.
pub async fn without_duplicates(rp: &RelyingParty) -> Result<Outcome> {
    let client = rp.register_fapi2().await?;
    let pushed = rp.fapi2_request(&client, |_| {});
    let request_uri = rp.push_ok(&client, &pushed).await?;
    let journey = rp.journey(&rp.by_reference(&client.client_id, &request_uri, None, &[])?).await?;
    rp.fapi2_tokens(&client, &journey.code()?, &pushed).await?;
    Ok(Outcome::Passed)
}

/// `par-test-array-as-audience-fails` (§5.3.2.1 item 8).
pub async fn aud_array(rp: &RelyingParty) -> Result<Outcome> {
    assertion_refused(rp, |client| {
        client.assertion_with(json!([rp.target.issuer, "https://other.example"]), 0, |_| {})
    })
    .await
}

/// `par-test-par-endpoint-url-as-audience-fails`.
pub async fn aud_par_endpoint(rp: &RelyingParty) -> Result<Outcome> {
    let par = rp.par_endpoint().await?;
    assertion_refused(rp, |client| client.assertion_with(par.into(), 0, |_| {})).await
}

/// `par-test-token-endpoint-url-as-audience-fails`.
pub async fn aud_token_endpoint(rp: &RelyingParty) -> Result<Outcome> {
    assertion_refused(rp, |client| client.assertion_with(rp.token_url()?.into(), 0, |_| {})).await
}
