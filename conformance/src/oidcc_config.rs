//! The `oidcc-config-certification-test-plan`: the discovery document holds
//! what OpenID Connect Discovery 1.0 §3 requires, and the JWKS it names
//! publishes only public signing keys.

use crate::relying_party::RelyingParty;
use crate::report::Outcome;
use crate::support::discovery_json;
use anyhow::{ensure, Context, Result};
use serde_json::Value;

/// The members Discovery §3 marks REQUIRED.
const REQUIRED: [&str; 6] = [
    "issuer",
    "authorization_endpoint",
    "jwks_uri",
    "response_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
];

/// Private key members that must never be published (RFC 7518 §6.2.2, §6.3.2).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

fn strings<'a>(document: &'a Value, member: &str) -> Vec<&'a str> {
    document[member]
        .as_array()
        .map(|values| values.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// `oidcc-discovery-endpoint-verification`.
pub async fn discovery_endpoint_verification(rp: &RelyingParty) -> Result<Outcome> {
    let document = discovery_json(rp).await?;
    for member in REQUIRED {
        ensure!(!document[member].is_null(), "`{member}` is missing");
    }
    // §4.3: exactly the issuer the document was fetched for.
    ensure!(document["issuer"] == rp.target.issuer.as_str(), "issuer {} differs", document["issuer"]);
    // §3: a dynamic OP's endpoints; token and userinfo for the code flow.
    for endpoint in ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"] {
        let url = document[endpoint].as_str().with_context(|| format!("`{endpoint}` is missing"))?;
        let https_issuer = rp.target.issuer.starts_with("https://");
        ensure!(!https_issuer || url.starts_with("https://"), "`{endpoint}` is not https");
    }
    ensure!(
        strings(&document, "response_types_supported").contains(&"code"),
        "`code` is not a response type"
    );
    ensure!(
        strings(&document, "subject_types_supported").iter().all(|t| ["public", "pairwise"].contains(t)),
        "unknown subject types"
    );
    let algs = strings(&document, "id_token_signing_alg_values_supported");
    ensure!(algs.contains(&"RS256"), "RS256 is not offered (§3 requires it)");
    ensure!(
        strings(&document, "scopes_supported").contains(&"openid"),
        "`openid` is not in scopes_supported"
    );
    ensure!(strings(&document, "claims_supported").contains(&"sub"), "`sub` is not in claims_supported");
    let grants = strings(&document, "grant_types_supported");
    ensure!(grants.is_empty() || grants.contains(&"authorization_code"), "the code grant is not listed");
    for method in strings(&document, "token_endpoint_auth_methods_supported") {
        let known =
            ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"];
        ensure!(known.contains(&method), "unknown token endpoint auth method {method}");
    }
    let jwks: Value =
        rp.http.get(document["jwks_uri"].as_str().unwrap_or_default()).send().await?.json().await?;
    let keys = jwks["keys"].as_array().context("the JWKS has no keys array")?;
    ensure!(!keys.is_empty(), "the JWKS is empty");
    for key in keys {
        ensure!(key["kid"].is_string(), "a key without kid");
        ensure!(
            PRIVATE_MEMBERS.iter().all(|member| key.get(member).is_none()),
            "a private key member is published"
        );
    }
    Ok(Outcome::Passed)
}
