//! Request objects as the OIDF suite sends them (OpenID Connect Core §6,
//! RFC 9101): the authorization request copied into the object, and only
//! `response_type`, `client_id`, `scope` and `redirect_uri` repeated in the
//! URL. The suite skips every module that sends unsigned (`alg: none`)
//! objects when discovery's `request_object_signing_alg_values_supported`
//! lists no `none` (`AbstractOIDCCServerTest.skipTestIfNoneUnsupported`);
//! those modules are mirrored as that skip, after checking that an unsigned
//! object really is refused, with an error page and never a redirect.

use crate::relying_party::{AppClient, Pending, RelyingParty};
use crate::report::Outcome;
use crate::support::{discovery_json, unsigned_request_object};
use crate::user_agent::Landing;
use anyhow::{bail, ensure, Result};
use serde_json::{Map, Value};
use url::Url;

/// The parameters the suite repeats in the URL beside the object.
const REQUIRED_DUPLICATES: [&str; 4] = ["response_type", "client_id", "scope", "redirect_uri"];

/// The members of a request object carrying `pending`'s request, with
/// `iss` the client and `aud` the issuer (as the suite signs them).
pub fn object_of(rp: &RelyingParty, pending: &Pending, client_id: &str) -> Map<String, Value> {
    let mut members: Map<String, Value> = pending
        .url
        .query_pairs()
        .map(|(name, value)| (name.into_owned(), Value::String(value.into_owned())))
        .collect();
    members.insert("iss".into(), Value::String(client_id.to_owned()));
    members.insert("aud".into(), Value::String(rp.target.issuer.clone()));
    members
}

/// `pending`'s URL reduced to the required duplicates, with `name` = `value`.
pub fn by_object(pending: &Pending, name: &str, value: &str) -> Url {
    let mut url = pending.url.clone();
    let kept: Vec<(String, String)> = pending
        .url
        .query_pairs()
        .filter(|(n, _)| REQUIRED_DUPLICATES.contains(&n.as_ref()))
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(&kept).append_pair(name, value);
    url
}

/// A module the suite skips since unsigned objects are not offered: checks
/// discovery says so and an unsigned object from `client` is refused with
/// an error page.
pub async fn unsigned_skipped(rp: &RelyingParty, client: &AppClient, client_id: &str) -> Result<Outcome> {
    let document = discovery_json(rp).await?;
    let algs =
        document["request_object_signing_alg_values_supported"].as_array().cloned().unwrap_or_default();
    ensure!(!algs.is_empty(), "discovery lists no request_object_signing_alg_values_supported");
    ensure!(!algs.contains(&Value::from("none")), "discovery offers unsigned request objects");
    let pending = rp.request(client, &[], crate::relying_party::unchanged);
    let object = unsigned_request_object(&Value::Object(object_of(rp, &pending, client_id)));
    let journey =
        rp.browser()?.visit(&by_object(&pending, "request", &object), &rp.target.redirect_uri).await?;
    match journey.landing {
        Landing::ErrorPage { status, redirected: false } if status == 400 => Ok(Outcome::NotApplicable(
            "skipped by the suite: request_object_signing_alg_values_supported lists no `none`; an unsigned object gets an error page",
        )),
        other => bail!("an unsigned request object led to {other:?}"),
    }
}
