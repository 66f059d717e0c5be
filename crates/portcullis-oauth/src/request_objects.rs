//! Request objects (RFC 9101, OpenID Connect Core §6): an authorization
//! request sent as a JWT the client signed, by value (`request`) or by
//! reference (`request_uri`, fetched only from a location the client
//! registered in `request_uris`, through the guarded outbound client).
//! The object's members are the request: RFC 9101 §6.3 has the server use
//! only them, whatever the query string says besides `client_id`.

use crate::clients::RegisteredClient;
use crate::params::Params;
use crate::remote_jwks::RemoteJwks;
use chrono::{DateTime, Utc};
use portcullis_core::client_fields::without_fragment;
use portcullis_core::{ErrorCode, Issuer, OAuthError};
use portcullis_jose::numeric_date;
use portcullis_outbound::{LongerBody, Outbound, OutboundRequest};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;

/// The media type (and `typ`) of request objects (RFC 9101 §4, §10.8).
pub const MEDIA_TYPE: &str = "oauth-authz-req+jwt";
/// The algorithms request objects may be signed with, as advertised.
pub const ALGORITHMS: [&str; 4] = portcullis_core::SigningAlgorithm::NAMES;
/// The members of the JWT itself, not parameters of the request.
const JWT_CLAIMS: [&str; 6] = ["iss", "aud", "exp", "nbf", "iat", "jti"];
/// The most members a request object may have (as many as a request's parameters).
const MAX_MEMBERS: usize = 64;
/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY: i64 = 30;
/// The longest a FAPI 2.0 client's request object may be valid (`exp - nbf`).
const MAX_FAPI2_LIFETIME: i64 = 3600;
/// The largest request object fetched.
const MAX_BYTES: usize = 64 * 1024;
/// How long a fetch may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Reads request objects, verifying them with their client's keys.
pub struct RequestObjects {
    keys: Arc<RemoteJwks>,
    outbound: Arc<Outbound>,
    issuer: Issuer,
}

fn invalid_object(why: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidRequestObject, why)
}

impl RequestObjects {
    /// Request objects of the server `issuer`, verified with `keys` and
    /// fetched through `outbound`.
    pub fn new(keys: Arc<RemoteJwks>, outbound: Arc<Outbound>, issuer: Issuer) -> Self {
        Self { keys, outbound, issuer }
    }

    /// The request object `client` published at `uri`, one of its
    /// registered `request_uris` (fragments only tell caches apart, OpenID
    /// Connect Core §6.2, and are compared on neither side);
    /// `invalid_request_uri` otherwise.
    pub async fn fetch(&self, client: &RegisteredClient, uri: &str) -> Result<String, OAuthError> {
        let refused = |why: String| OAuthError::new(ErrorCode::InvalidRequestUri, why);
        let location = without_fragment(uri);
        // RFC 9101 §10.4.1: never a location the client did not register.
        if !client.metadata.request_uris.iter().any(|registered| without_fragment(registered) == location) {
            return Err(refused("the request_uri is not one of the client's request_uris".into()));
        }
        let request = OutboundRequest {
            method: portcullis_outbound::Method::GET,
            url: location,
            headers: vec![("accept", format!("application/{MEDIA_TYPE}, application/jwt"))],
            body: None,
            timeout: TIMEOUT,
            max_body: MAX_BYTES,
            longer_body: LongerBody::Refused,
        };
        let response = self.outbound.send(request).await.map_err(|e| {
            tracing::warn!(request_uri = %location, error = %e, "cannot fetch a request object");
            refused("the request_uri could not be fetched".into())
        })?;
        if !(200..300).contains(&response.status) {
            return Err(refused(format!("the request_uri answered {}", response.status)));
        }
        String::from_utf8(response.body.to_vec())
            .map(|text| text.trim().to_owned())
            .map_err(|_| refused("the request_uri's content is not a JWT".into()))
    }

    /// The parameters of `client`'s request object `jwt` at `now`:
    /// `invalid_request_object` unless one of its keys signed it with the
    /// algorithm it registered, it is meant for this server, and it is live.
    pub async fn unpack(
        &self,
        client: &RegisteredClient,
        jwt: &str,
        now: DateTime<Utc>,
    ) -> Result<Params, OAuthError> {
        let header = josekit::jwt::decode_header(jwt)
            .map_err(|_| invalid_object("the request object is not a JWT"))?;
        // RFC 9101 §10.8: another kind of JWT is never taken for a request object.
        if let Some(typ) = header.claim("typ").and_then(Value::as_str) {
            // RFC 7515 §4.1.9: the `application/` prefix may be left out, or not.
            let typ = typ.strip_prefix("application/").unwrap_or(typ);
            if !typ.eq_ignore_ascii_case(MEDIA_TYPE) && !typ.eq_ignore_ascii_case("JWT") {
                return Err(invalid_object(format!("a request object's typ is {MEDIA_TYPE}, not {typ}")));
            }
        }
        // OpenID Connect Registration §2: the client may pin the algorithm.
        let alg = header.claim("alg").and_then(Value::as_str).unwrap_or_default();
        if let Some(registered) = client.metadata.request_object_signing_alg {
            if alg != registered.as_str() {
                return Err(invalid_object(format!(
                    "the client signs its request objects with {registered}"
                )));
            }
        }
        if alg.parse().is_ok_and(|alg| !client.metadata.admits_signature(alg)) {
            return Err(invalid_object("FAPI 2.0 refuses request objects signed with RS256 (§5.4.1)"));
        }
        let Some(payload) = self.keys.verify_client(client, jwt).await else {
            return Err(invalid_object("the request object is not signed by one of the client's keys"));
        };
        let claims = payload.claims_set();
        self.check(client, claims, now.timestamp())?;
        if claims.len() > MAX_MEMBERS {
            return Err(invalid_object("the request object has too many members"));
        }
        claims
            .iter()
            .filter(|(name, _)| !JWT_CLAIMS.contains(&name.as_str()))
            .map(|(name, value)| parameter(name, value))
            .collect::<Result<Vec<_>, _>>()
            .map(|pairs| pairs.into_iter().flatten().collect())
    }

    /// RFC 9101 §4 and §6.3: whose, for whom and when.
    fn check(
        &self,
        client: &RegisteredClient,
        claims: &Map<String, Value>,
        now: i64,
    ) -> Result<(), OAuthError> {
        let id = client.id.as_str();
        if claims.get("client_id").is_some_and(|given| given.as_str() != Some(id)) {
            return Err(invalid_object("the request object's client_id is not the request's"));
        }
        if claims.get("iss").is_some_and(|iss| iss.as_str() != Some(id)) {
            return Err(invalid_object("the request object's iss must be the client_id"));
        }
        let for_us = |aud: &Value| aud.as_str() == Some(self.issuer.as_str());
        match claims.get("aud") {
            None => {}
            Some(Value::Array(auds)) if auds.iter().any(for_us) => {}
            Some(aud) if for_us(aud) => {}
            Some(_) => return Err(invalid_object("the request object's aud is not this server's issuer")),
        }
        let time = |name: &str| match claims.get(name) {
            None => Ok(None),
            Some(value) => numeric_date::seconds(value)
                .map(Some)
                .ok_or_else(|| invalid_object(format!("{name} is not a NumericDate"))),
        };
        if time("exp")?.is_some_and(|exp| exp <= now - LEEWAY) {
            return Err(invalid_object("the request object has expired"));
        }
        if time("nbf")?.is_some_and(|nbf| nbf > now + LEEWAY) {
            return Err(invalid_object("the request object is not valid yet"));
        }
        // FAPI 2.0 Message Signing (signed requests), as node-oidc-provider and the OIDF suite have it:
        // a FAPI client's object says for whom and for how long, at most an hour.
        if client.metadata.is_fapi2() {
            let (Some(exp), Some(nbf), Some(_)) = (time("exp")?, time("nbf")?, claims.get("aud")) else {
                return Err(invalid_object("a FAPI 2.0 request object needs exp, nbf and aud"));
            };
            if exp - nbf > MAX_FAPI2_LIFETIME {
                return Err(invalid_object("a FAPI 2.0 request object lives at most an hour (exp - nbf)"));
            }
        }
        // §6.3: an object naming another object would be a request inside a request.
        if claims.contains_key("request") || claims.contains_key("request_uri") {
            return Err(invalid_object("a request object cannot carry request or request_uri"));
        }
        Ok(())
    }
}

/// One member of a request object as the parameters it stands for: a
/// string as it is, a number or a boolean written out, an object (`claims`,
/// OpenID Connect Core §6.1) as its JSON, and `resource` alone as a list
/// of strings too (repeated values, RFC 8707 §2).
fn parameter(name: &str, value: &Value) -> Result<Vec<(String, String)>, OAuthError> {
    let one = |value: String| Ok(vec![(name.to_owned(), value)]);
    match value {
        Value::String(text) => one(text.clone()),
        Value::Number(_) | Value::Bool(_) => one(value.to_string()),
        Value::Object(_) => one(value.to_string()),
        Value::Null => Ok(Vec::new()),
        // RFC 8707 §2: only `resource` may have several values.
        Value::Array(items) if name == "resource" => items
            .iter()
            .map(|item| match item {
                Value::String(text) => Ok((name.to_owned(), text.clone())),
                _ => Err(invalid_object("`resource` must be a string or a list of strings")),
            })
            .collect(),
        Value::Array(_) => Err(invalid_object(format!("`{name}` must be a single value"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_core::authorization_request::Parameters;
    use serde_json::json;

    fn params(members: Value) -> Result<Params, OAuthError> {
        let Value::Object(members) = members else { unreachable!() };
        members
            .iter()
            .map(|(name, value)| parameter(name, value))
            .collect::<Result<Vec<_>, _>>()
            .map(|pairs| pairs.into_iter().flatten().collect())
    }

    #[test]
    fn members_become_parameters() {
        let read = params(json!({
            "scope": "openid", "max_age": 300, "claims": {"userinfo": {"email": null}},
            "resource": ["https://a.example", "https://b.example"], "nonce": null
        }))
        .unwrap();
        assert_eq!(Parameters::get(&read, "scope"), Some("openid"));
        assert_eq!(Parameters::get(&read, "max_age"), Some("300"));
        assert_eq!(Parameters::get(&read, "claims"), Some(r#"{"userinfo":{"email":null}}"#));
        assert_eq!(read.all("resource"), ["https://a.example", "https://b.example"]);
        assert_eq!(Parameters::get(&read, "nonce"), None);
        assert!(params(json!({"resource": [1]})).is_err());
        assert!(
            params(json!({"scope": ["openid", "email"]})).is_err(),
            "one value, or the rest would be lost"
        );
    }
}
