//! The Portcullis conformance suite: one scenario per module of the OpenID
//! Foundation's `oidcc-basic-certification-test-plan`,
//! `oidcc-config-certification-test-plan`,
//! `oidcc-dynamic-certification-test-plan`,
//! `oidcc-rp-initiated-logout-certification-test-plan` and
//! `fapi2-security-profile-final-test-plan` (module names in
//! `oidf-plan-modules.json`, copied from the OIDF conformance suite), plus
//! the RFC 9700 checks, run against a live server over HTTP.
//!
//! The relying party is the `openidconnect` crate, configured from the
//! server's discovery document; the user is [`user_agent::UserAgent`], a
//! browser that logs in and consents on the server's own pages.

pub mod dynamic;
pub mod fapi2;
pub mod fapi2_plan;
pub mod oidcc_basic;
pub mod oidcc_config;
pub mod oidcc_dynamic;
pub mod oidcc_logout;
pub mod relying_party;
pub mod report;
pub mod request_objects;
pub mod rp_documents;
pub mod security_bcp;
pub mod support;
pub mod target;
pub mod user_agent;

use relying_party::RelyingParty;
use report::{Entry, Outcome, Report};
use std::future::Future;
use std::pin::Pin;
pub use target::Target;

/// A scenario: it runs against the relying party and says how it went; an
/// error is a failure.
pub type Scenario =
    for<'a> fn(&'a RelyingParty) -> Pin<Box<dyn Future<Output = anyhow::Result<Outcome>> + 'a>>;

/// Turns `async fn(&RelyingParty) -> Result<Outcome>` into a [`Scenario`].
macro_rules! scenario {
    ($name:literal, $function:path) => {
        ($name, (|rp| Box::pin($function(rp))) as Scenario)
    };
}

/// The modules of the two OIDF plans, by their OIDF names, in plan order.
pub const OIDF_MODULES: [(&str, Scenario); 39] = [
    scenario!("oidcc-server", oidcc_basic::server),
    scenario!("oidcc-response-type-missing", oidcc_basic::response_type_missing),
    scenario!("oidcc-idtoken-signature", oidcc_basic::idtoken_signature),
    scenario!("oidcc-idtoken-unsigned", oidcc_basic::idtoken_unsigned),
    scenario!("oidcc-userinfo-get", oidcc_basic::userinfo_get),
    scenario!("oidcc-userinfo-post-header", oidcc_basic::userinfo_post_header),
    scenario!("oidcc-userinfo-post-body", oidcc_basic::userinfo_post_body),
    scenario!("oidcc-ensure-request-without-nonce-succeeds-for-code-flow", oidcc_basic::without_nonce),
    scenario!("oidcc-scope-profile", oidcc_basic::scope_profile),
    scenario!("oidcc-scope-email", oidcc_basic::scope_email),
    scenario!("oidcc-scope-address", oidcc_basic::scope_address),
    scenario!("oidcc-scope-phone", oidcc_basic::scope_phone),
    scenario!("oidcc-scope-all", oidcc_basic::scope_all),
    scenario!("oidcc-alternate-happy-flow", oidcc_basic::alternate_happy_flow),
    scenario!("oidcc-display-page", oidcc_basic::display_page),
    scenario!("oidcc-display-popup", oidcc_basic::display_popup),
    scenario!("oidcc-prompt-login", oidcc_basic::prompt_login),
    scenario!("oidcc-prompt-none-not-logged-in", oidcc_basic::prompt_none_not_logged_in),
    scenario!("oidcc-prompt-none-logged-in", oidcc_basic::prompt_none_logged_in),
    scenario!("oidcc-max-age-1", oidcc_basic::max_age_1),
    scenario!("oidcc-max-age-10000", oidcc_basic::max_age_10000),
    scenario!("oidcc-ensure-request-with-unknown-parameter-succeeds", oidcc_basic::unknown_parameter),
    scenario!("oidcc-id-token-hint", oidcc_basic::id_token_hint),
    scenario!("oidcc-login-hint", oidcc_basic::login_hint),
    scenario!("oidcc-ui-locales", oidcc_basic::ui_locales),
    scenario!("oidcc-claims-locales", oidcc_basic::claims_locales),
    scenario!("oidcc-ensure-request-with-acr-values-succeeds", oidcc_basic::acr_values),
    scenario!("oidcc-codereuse", oidcc_basic::codereuse),
    scenario!("oidcc-codereuse-30seconds", oidcc_basic::codereuse_30seconds),
    scenario!("oidcc-ensure-registered-redirect-uri", oidcc_basic::ensure_registered_redirect_uri),
    scenario!("oidcc-ensure-post-request-succeeds", oidcc_basic::ensure_post_request_succeeds),
    scenario!("oidcc-server-client-secret-post", oidcc_basic::server_client_secret_post),
    scenario!(
        "oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported",
        oidcc_basic::request_uri_unsigned
    ),
    scenario!(
        "oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported",
        oidcc_basic::unsigned_request_object_module
    ),
    scenario!("oidcc-claims-essential", oidcc_basic::claims_essential),
    scenario!("oidcc-ensure-request-object-with-redirect-uri", oidcc_basic::request_object_with_redirect_uri),
    scenario!("oidcc-refresh-token", oidcc_basic::refresh_token),
    scenario!("oidcc-ensure-request-with-valid-pkce-succeeds", oidcc_basic::valid_pkce),
    scenario!("oidcc-discovery-endpoint-verification", oidcc_config::discovery_endpoint_verification),
];

/// The modules of the dynamic plan (`discovery, private_key_jwt,
/// dynamic_client`), by their OIDF names, in plan order.
pub const DYNAMIC_MODULES: [(&str, Scenario); 23] = [
    scenario!("oidcc-server", oidcc_dynamic::server),
    scenario!("oidcc-idtoken-rs256", oidcc_dynamic::idtoken_rs256),
    scenario!("oidcc-idtoken-unsigned", oidcc_dynamic::idtoken_unsigned),
    scenario!("oidcc-userinfo-rs256", oidcc_dynamic::userinfo_rs256),
    scenario!("oidcc-ensure-redirect-uri-in-authorization-request", oidcc_dynamic::redirect_uri_required),
    scenario!("oidcc-redirect-uri-query-OK", oidcc_dynamic::redirect_uri_query_ok),
    scenario!("oidcc-redirect-uri-query-mismatch", oidcc_dynamic::redirect_uri_query_mismatch),
    scenario!("oidcc-redirect-uri-query-added", oidcc_dynamic::redirect_uri_query_added),
    scenario!("oidcc-redirect-uri-regfrag", oidcc_dynamic::redirect_uri_regfrag),
    scenario!("oidcc-discovery-endpoint-verification", oidcc_dynamic::discovery_endpoint_verification),
    scenario!("oidcc-registration-logo-uri", oidcc_dynamic::registration_logo_uri),
    scenario!("oidcc-registration-policy-uri", oidcc_dynamic::registration_policy_uri),
    scenario!("oidcc-registration-tos-uri", oidcc_dynamic::registration_tos_uri),
    scenario!("oidcc-registration-jwks-uri", oidcc_dynamic::registration_jwks_uri),
    scenario!("oidcc-registration-sector-uri", oidcc_dynamic::registration_sector_uri),
    scenario!("oidcc-registration-sector-bad", oidcc_dynamic::registration_sector_bad),
    scenario!("oidcc-server-rotate-keys", oidcc_dynamic::server_rotate_keys),
    scenario!("oidcc-refresh-token-rp-key-rotation", oidcc_dynamic::refresh_token_rp_key_rotation),
    scenario!("oidcc-request-uri-unsigned", oidcc_dynamic::request_uri_unsigned),
    scenario!("oidcc-request-uri-signed-rs256", oidcc_dynamic::request_uri_signed_rs256),
    scenario!(
        "oidcc-ensure-request-object-with-redirect-uri",
        oidcc_dynamic::request_object_with_redirect_uri
    ),
    scenario!("oidcc-refresh-token", oidcc_dynamic::refresh_token),
    scenario!(
        "oidcc-ensure-client-assertion-with-iss-aud-succeeds",
        oidcc_dynamic::client_assertion_with_iss_aud
    ),
];

/// The modules of the RP-initiated logout plan, by their OIDF names.
pub const LOGOUT_MODULES: [(&str, Scenario); 11] = [
    scenario!("oidcc-rp-initiated-logout", oidcc_logout::rp_initiated_logout),
    scenario!("oidcc-rp-initiated-logout-bad-id-token-hint", oidcc_logout::bad_id_token_hint),
    scenario!(
        "oidcc-rp-initiated-logout-bad-post-logout-redirect-uri",
        oidcc_logout::bad_post_logout_redirect_uri
    ),
    scenario!(
        "oidcc-rp-initiated-logout-discovery-endpoint-verification",
        oidcc_logout::discovery_endpoint_verification
    ),
    scenario!("oidcc-rp-initiated-logout-modified-id-token-hint", oidcc_logout::modified_id_token_hint),
    scenario!("oidcc-rp-initiated-logout-no-id-token-hint", oidcc_logout::no_id_token_hint),
    scenario!("oidcc-rp-initiated-logout-no-params", oidcc_logout::no_params),
    scenario!(
        "oidcc-rp-initiated-logout-no-post-logout-redirect-uri",
        oidcc_logout::no_post_logout_redirect_uri
    ),
    scenario!("oidcc-rp-initiated-logout-no-state", oidcc_logout::no_state),
    scenario!("oidcc-rp-initiated-logout-only-state", oidcc_logout::only_state),
    scenario!("oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri", oidcc_logout::query_added),
];

/// The modules of the FAPI 2.0 Security Profile plan (`private_key_jwt` ×
/// DPoP, `plain_fapi`, `openid_connect`), by their OIDF names, in plan order.
pub const FAPI2_MODULES: [(&str, Scenario); 56] = [
    scenario!("fapi2-security-profile-final-discovery-end-point-verification", fapi2_plan::discovery),
    scenario!("fapi2-security-profile-final-happy-flow", fapi2_plan::happy_flow),
    scenario!("fapi2-security-profile-final-user-rejects-authentication", fapi2_plan::user_rejects),
    scenario!("fapi2-security-profile-final-ensure-authorization-request-without-state-success", fapi2_plan::without_state),
    scenario!("fapi2-security-profile-final-ensure-authorization-request-without-nonce-success", fapi2_plan::without_nonce),
    scenario!("fapi2-security-profile-final-ensure-authorization-request-with-64-char-nonce-success", fapi2_plan::nonce_64),
    scenario!("fapi2-security-profile-final-ensure-other-scope-order-succeeds", fapi2_plan::other_scope_order),
    scenario!("fapi2-security-profile-final-test-claims-parameter-identity-claims", fapi2_plan::claims_parameter),
    scenario!("fapi2-security-profile-final-access-token-type-header-case-sensitivity", fapi2_plan::scheme_case),
    scenario!("fapi2-security-profile-final-check-dpop-proof-nbf-exp", fapi2_plan::proof_nbf_exp),
    scenario!("fapi2-security-profile-final-ensure-dpopproof-with-iat-10seconds-before-succeeds", fapi2_plan::proof_iat_before),
    scenario!("fapi2-security-profile-final-ensure-dpopproof-with-iat-10seconds-after-succeeds", fapi2_plan::proof_iat_after),
    scenario!("fapi2-security-profile-final-ensure-mismatched-dpop-jkt-fails", fapi2_plan::mismatched_jkt_at_par),
    scenario!("fapi2-security-profile-final-ensure-token-endpoint-fails-with-mismatched-dpop-proof-jkt", fapi2_plan::other_proof_key_at_token),
    scenario!("fapi2-security-profile-final-ensure-token-endpoint-fails-with-mismatched-dpop-jkt", fapi2_plan::other_jkt_at_token),
    scenario!("fapi2-security-profile-final-ensure-dpopproof-at-par-endpoint-binding-success", fapi2_plan::proof_at_par_binds),
    scenario!("fapi2-security-profile-final-ensure-dpop-auth-code-binding-success", fapi2_plan::jkt_and_proof_bind),
    scenario!("fapi2-security-profile-final-ensure-different-nonce-inside-and-outside-request-object", fapi2_plan::different_nonce_outside),
    scenario!("fapi2-security-profile-final-ensure-different-state-inside-and-outside-request-object", fapi2_plan::different_state_outside),
    scenario!("fapi2-security-profile-final-ensure-authorization-request-with-long-nonce", fapi2_plan::long_nonce),
    scenario!("fapi2-security-profile-final-ensure-authorization-request-with-long-state", fapi2_plan::long_state),
    scenario!("fapi2-security-profile-final-state-only-outside-request-object-not-used", fapi2_plan::state_only_outside),
    scenario!("fapi2-security-profile-final-ensure-request-object-without-redirect-uri-fails", fapi2_plan::without_redirect_uri),
    scenario!("fapi2-security-profile-final-plain-fapi-tolerate-unregistered-redirect-uri", fapi2_plan::unregistered_redirect_uri),
    scenario!("fapi2-security-profile-final-ensure-unsigned-authorization-request-without-using-par-fails", fapi2_plan::without_par),
    scenario!("fapi2-security-profile-final-ensure-redirect-uri-in-authorization-request", fapi2_plan::redirect_uri_required),
    scenario!("fapi2-security-profile-final-ensure-response-type-code-idtoken-fails", fapi2_plan::response_type_code_id_token),
    scenario!("fapi2-security-profile-final-ensure-response-type-token-fails", fapi2_plan::response_type_token),
    scenario!("fapi2-security-profile-final-ensure-client-id-in-token-endpoint", fapi2_plan::client_id_at_token),
    scenario!("fapi2-security-profile-final-ensure-holder-of-key-required", fapi2_plan::holder_of_key_required),
    scenario!("fapi2-security-profile-final-ensure-authorization-code-is-bound-to-client", fapi2_plan::code_bound_to_client),
    scenario!("fapi2-security-profile-final-attempt-reuse-authorization-code-after-one-second", fapi2_plan::code_reuse),
    scenario!("fapi2-security-profile-final-ensure-token-endpoint-fails-with-expired-auth-code", fapi2_plan::code_expired),
    scenario!("fapi2-security-profile-final-ensure-signed-client-assertion-with-RS256-fails", fapi2_plan::rs256_assertion),
    scenario!("fapi2-security-profile-final-ensure-client-assertion-in-token-endpoint", fapi2_plan::assertion_required),
    scenario!("fapi2-security-profile-final-ensure-client-assertion-with-exp-is-5-minutes-in-past-fails", fapi2_plan::assertion_expired),
    scenario!("fapi2-security-profile-final-ensure-client-assertion-with-wrong-aud-fails", fapi2_plan::assertion_wrong_aud),
    scenario!("fapi2-security-profile-final-ensure-client-assertion-with-no-sub-fails", fapi2_plan::assertion_without_sub),
    scenario!("fapi2-security-profile-final-dpop-negative-tests", fapi2_plan::dpop_negative),
    scenario!("fapi2-security-profile-final-refresh-token", fapi2_plan::refresh_token),
    scenario!("fapi2-security-profile-final-par-ensure-reused-request-uri-prior-to-auth-completion-succeeds", fapi2_plan::request_uri_loaded_twice),
    scenario!("fapi2-security-profile-final-par-attempt-reuse-request_uri", fapi2_plan::request_uri_reused),
    scenario!("fapi2-security-profile-final-par-attempt-to-use-expired-request_uri", fapi2_plan::request_uri_expired),
    scenario!("fapi2-security-profile-final-par-ensure-jwt-client-assertions-nbf-8-seconds-in-the-future-is-accepted", fapi2_plan::assertion_8_seconds_ahead),
    scenario!("fapi2-security-profile-final-par-ensure-jwt-client-assertions-nbf-over-60-seconds-in-the-future-fails", fapi2_plan::assertion_62_seconds_ahead),
    scenario!("fapi2-security-profile-final-par-attempt-to-use-request_uri-for-different-client", fapi2_plan::request_uri_of_another_client),
    scenario!("fapi2-security-profile-final-par-authorization-request-containing-request_uri-form-param", fapi2_plan::request_uri_pushed),
    scenario!("fapi2-security-profile-final-par-attempt-invalid-http-method", fapi2_plan::par_put),
    scenario!("fapi2-security-profile-final-par-ensure-pkce-required", fapi2_plan::pkce_required),
    scenario!("fapi2-security-profile-final-ensure-pkce-code-verifier-required", fapi2_plan::verifier_required),
    scenario!("fapi2-security-profile-final-incorrect-pkce-code-verifier-rejected", fapi2_plan::wrong_verifier),
    scenario!("fapi2-security-profile-final-par-plain-pkce-rejected", fapi2_plan::plain_pkce),
    scenario!("fapi2-security-profile-final-par-without-duplicate-parameters", fapi2_plan::without_duplicates),
    scenario!("fapi2-security-profile-final-par-test-array-as-audience-fails", fapi2_plan::aud_array),
    scenario!("fapi2-security-profile-final-par-test-par-endpoint-url-as-audience-fails", fapi2_plan::aud_par_endpoint),
    scenario!("fapi2-security-profile-final-par-test-token-endpoint-url-as-audience-fails", fapi2_plan::aud_token_endpoint),
];

/// The plans, each with its modules: what [`run`] runs, in this order,
/// then the [`CHECKS`].
pub const PLANS: [(&str, &[(&str, Scenario)]); 4] = [
    ("oidcc-basic + oidcc-config", &OIDF_MODULES),
    ("oidcc-dynamic", &DYNAMIC_MODULES),
    ("oidcc-rp-initiated-logout", &LOGOUT_MODULES),
    ("fapi2-security-profile-final", &FAPI2_MODULES),
];

/// The RFC 9700 checks.
pub const SECURITY_CHECKS: [(&str, Scenario); 8] = [
    scenario!("rfc9700-exact-redirect-uri-matching", security_bcp::exact_redirect_uri_matching),
    scenario!("rfc9700-no-open-redirect", security_bcp::no_open_redirect),
    scenario!("rfc9700-pkce-required-s256-only", security_bcp::pkce_required),
    scenario!("rfc9700-pkce-downgrade", security_bcp::pkce_downgrade),
    scenario!("rfc9700-code-replay-revokes-tokens", security_bcp::code_replay_revokes_tokens),
    scenario!("rfc9700-code-bound-to-client", security_bcp::code_bound_to_client),
    scenario!("rfc9700-refresh-reuse-revokes-family", security_bcp::refresh_reuse_revokes_family),
    scenario!(
        "rfc9700-iss-in-every-authorization-response",
        security_bcp::iss_in_every_authorization_response
    ),
];

/// The signing algorithms beyond RS256 that no OIDF plan of these covers.
pub const ALGORITHM_CHECKS: [(&str, Scenario); 2] = [
    scenario!("rfc7518-idtoken-ps256", oidcc_dynamic::idtoken_ps256),
    scenario!("rfc8037-idtoken-eddsa", oidcc_dynamic::idtoken_eddsa),
];

/// The checks beyond the OIDF plans, each group under its name.
pub const CHECKS: [(&str, &[(&str, Scenario)]); 2] =
    [("rfc9700", &SECURITY_CHECKS), ("jwa", &ALGORITHM_CHECKS)];

/// Runs every scenario against `target`, one after another (several
/// depend on time passing), and reports each. Discovery is read again
/// before each (a module may rotate the server's keys). Fails only if the
/// server's discovery document cannot be read, since nothing else can run then.
pub async fn run(target: &Target) -> anyhow::Result<Report> {
    let mut rp = RelyingParty::discover(target).await?;
    let mut report = Report::default();
    let groups = PLANS.iter().chain(CHECKS.iter());
    for (plan, (name, scenario)) in groups.flat_map(|(plan, modules)| modules.iter().map(move |m| (*plan, m)))
    {
        rp = rp.rediscover().await?;
        let outcome = scenario(&rp).await.unwrap_or_else(|e| Outcome::Failed(format!("{e:#}")));
        report.entries.push(Entry { plan, name, outcome });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each table names exactly the modules of its plans, in plan order.
    #[test]
    fn every_module_of_every_plan_has_a_scenario() {
        let plans: serde_json::Value =
            serde_json::from_str(include_str!("../oidf-plan-modules.json")).expect("the plan file parses");
        let names = |of: &[&str]| -> Vec<String> {
            of.iter()
                .flat_map(|plan| plans[plan].as_array().expect("a plan").iter())
                .map(|module| module["testName"].as_str().expect("a name").to_owned())
                .collect()
        };
        let table = |modules: &[(&str, Scenario)]| -> Vec<String> {
            modules.iter().map(|(name, _)| (*name).to_owned()).collect()
        };
        let basic = ["oidcc-basic-certification-test-plan", "oidcc-config-certification-test-plan"];
        assert_eq!(table(&OIDF_MODULES), names(&basic));
        assert_eq!(table(&DYNAMIC_MODULES), names(&["oidcc-dynamic-certification-test-plan"]));
        assert_eq!(table(&LOGOUT_MODULES), names(&["oidcc-rp-initiated-logout-certification-test-plan"]));
        assert_eq!(table(&FAPI2_MODULES), names(&["fapi2-security-profile-final-test-plan"]));
    }
}
