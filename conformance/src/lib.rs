//! The Portcullis conformance suite: one scenario per module of the OpenID
//! Foundation's `oidcc-basic-certification-test-plan`,
//! `oidcc-config-certification-test-plan`,
//! `oidcc-dynamic-certification-test-plan` and
//! `oidcc-rp-initiated-logout-certification-test-plan` (module names in
//! `oidf-plan-modules.json`, copied from the OIDF conformance suite), plus
//! the RFC 9700 checks, run against a live server over HTTP.
//!
//! The relying party is the `openidconnect` crate, configured from the
//! server's discovery document; the user is [`user_agent::UserAgent`], a
//! browser that logs in and consents on the server's own pages.

pub mod dynamic;
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

/// The plans, each with its modules: what [`run`] runs, in this order,
/// then the [`CHECKS`].
pub const PLANS: [(&str, &[(&str, Scenario)]); 3] = [
    ("oidcc-basic + oidcc-config", &OIDF_MODULES),
    ("oidcc-dynamic", &DYNAMIC_MODULES),
    ("oidcc-rp-initiated-logout", &LOGOUT_MODULES),
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
    }
}
