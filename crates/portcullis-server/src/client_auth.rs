//! Client authentication at the token, introspection and revocation
//! endpoints (RFC 6749 §2.3): `client_secret_basic`, `client_secret_post`,
//! `private_key_jwt` (RFC 7523), or none for public clients. A client may use
//! only the method it registered, and only from its allowed addresses.

use crate::audit;
use crate::client_address::{self, TrustedProxies};
use crate::clients::{ClientRegistry, RegisteredClient};
use crate::config::{Lockout, LockoutAction};
use crate::endpoints;
use crate::form::FormParams;
use crate::remote_jwks::RemoteJwks;
use actix_web::http::header;
use actix_web::{web, HttpRequest};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_core::{ClientSecret, ErrorCode, Issuer, OAuthError, TokenEndpointAuthMethod};
use portcullis_store::{assertions, lockouts, Database};
use serde::Deserialize;
use std::sync::Arc;

/// The authentication methods that work, as advertised in discovery.
pub const METHODS: [&str; 3] = ["client_secret_basic", "client_secret_post", "private_key_jwt"];
/// Algorithms accepted for `private_key_jwt` assertions.
pub const ASSERTION_ALGS: [&str; 2] = ["RS256", "ES256"];
/// RFC 7523 §2.2.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Clock skew tolerated on assertion times, in seconds.
const LEEWAY: i64 = 30;
/// The longest an assertion may still be valid for, in seconds: a longer one
/// would have to be remembered longer to refuse its replay.
const MAX_ASSERTION_LIFETIME: i64 = 600;

/// Authenticates clients.
pub struct ClientAuthenticator {
    clients: Arc<ClientRegistry>,
    remote_jwks: RemoteJwks,
    db: Database,
    audiences: Vec<String>,
    proxies: TrustedProxies,
    lockout: Lockout,
}

impl ClientAuthenticator {
    /// An authenticator for a server with issuer `issuer`. Assertions must
    /// name the issuer or one of the endpoints that authenticate clients.
    pub fn new(
        clients: Arc<ClientRegistry>,
        db: Database,
        issuer: &Issuer,
        proxies: TrustedProxies,
        lockout: Lockout,
    ) -> Self {
        let audiences =
            [endpoints::TOKEN, endpoints::INTROSPECT, endpoints::REVOKE].map(|path| issuer.endpoint(path));
        let audiences = std::iter::once(issuer.as_str().to_owned()).chain(audiences).collect();
        Self { clients, remote_jwks: RemoteJwks::default(), db, audiences, proxies, lockout }
    }

    /// The registered clients.
    pub fn clients(&self) -> &ClientRegistry {
        &self.clients
    }

    /// Authenticates the client of a request, or answers `invalid_client`
    /// (401) without saying which part was wrong; then checks its address.
    pub async fn authenticate(
        &self,
        req: &HttpRequest,
        form: &FormParams,
    ) -> Result<Arc<RegisteredClient>, OAuthError> {
        let client = match self.identify(req, form).await {
            Ok(client) => client,
            Err(error) => {
                if error.error == ErrorCode::InvalidClient {
                    self.record_failure(req, form).await;
                }
                return Err(error);
            }
        };
        // A locked client is refused even with the right credentials until
        // the cooldown ends; only a caller who has them learns why.
        if let Some(until) = client.locked_until.filter(|until| *until > Utc::now()) {
            return Err(OAuthError::new(
                ErrorCode::InvalidClient,
                format!(
                    "the client is locked after repeated failed authentications until {}",
                    until.to_rfc3339()
                ),
            ));
        }
        if client.failed_attempts > 0 {
            self.reset_failures(client.id.as_str()).await;
        }
        client_address::ensure_allowed(&client, self.proxies.client_ip(req))?;
        Ok(client)
    }

    async fn reset_failures(&self, client_id: &str) {
        let (db, clients, id) = (self.db.clone(), self.clients.clone(), client_id.to_owned());
        let reset = web::block(move || -> anyhow::Result<()> {
            lockouts::reset(&mut *db.get()?, &id)?;
            clients.refresh(&db, &id)
        })
        .await;
        if let Err(e) = reset.map_err(anyhow::Error::from).and_then(|r| r) {
            tracing::warn!(error = %e, "the failed-authentication count could not be reset");
        }
    }

    /// Counts a failure of a registered client; at the threshold, locks or
    /// disables it, with an audit entry.
    async fn count_failure(&self, client_id: &str, source: Option<std::net::IpAddr>) {
        if self.clients.get(client_id).is_none() {
            return;
        }
        let policy = lockouts::Policy {
            threshold: i64::from(self.lockout.threshold),
            cooldown: TimeDelta::minutes(1),
            max_cooldown: TimeDelta::days(1),
        };
        let (db, clients, id, action) =
            (self.db.clone(), self.clients.clone(), client_id.to_owned(), self.lockout.action);
        let counted = web::block(move || -> anyhow::Result<()> {
            let mut conn = db.get()?;
            if let lockouts::Failure::Locked { until, lockouts } = lockouts::record_failure(&mut conn, &id, &policy, Utc::now())? {
                let disable = action == LockoutAction::Disable;
                if disable {
                    portcullis_store::clients::set_disabled(&mut conn, &id, true)?;
                    lockouts::clear(&mut conn, &id)?;
                }
                let event = audit::Event {
                    actor: "system".to_owned(),
                    action: "client.lockout".to_owned(),
                    target: id.clone(),
                    source,
                    outcome: audit::Outcome::Success,
                    details: serde_json::json!({ "until": until.to_rfc3339(), "lockouts": lockouts, "disabled": disable }),
                };
                audit::append(&mut conn, &event)?;
                tracing::warn!(client_id = %id, until = %until, disabled = disable, "client locked out after repeated failed authentications");
            }
            clients.refresh(&db, &id)
        })
        .await;
        if let Err(e) = counted.map_err(anyhow::Error::from).and_then(|r| r) {
            tracing::warn!(error = %e, "a failed authentication could not be counted");
        }
    }

    /// The caller's address, as the trusted proxies say.
    pub fn client_ip(&self, req: &HttpRequest) -> Option<std::net::IpAddr> {
        self.proxies.client_ip(req)
    }

    /// Records a failed client authentication in the audit log, under the
    /// client id the caller presented (never the secret it sent).
    async fn record_failure(&self, req: &HttpRequest, form: &FormParams) {
        let presented = match basic_credentials(req) {
            Ok(Some((client_id, _))) => Some(client_id),
            _ => form
                .get("client_id")
                .map(str::to_owned)
                .or_else(|| form.get("client_assertion").and_then(unverified_subject)),
        };
        // Bounded: whatever the caller sent is stored.
        let presented: String = presented.unwrap_or_default().chars().take(255).collect();
        let event = audit::Event {
            actor: presented.clone(),
            action: "client.authentication".to_owned(),
            target: presented,
            source: self.proxies.client_ip(req),
            outcome: audit::Outcome::Failure,
            details: serde_json::json!({ "path": req.path() }),
        };
        let presented = event.actor.clone();
        audit::record(&self.db, event).await;
        self.count_failure(&presented, self.proxies.client_ip(req)).await;
    }

    async fn identify(
        &self,
        req: &HttpRequest,
        form: &FormParams,
    ) -> Result<Arc<RegisteredClient>, OAuthError> {
        let basic = basic_credentials(req)?;
        let post_secret = form.get("client_secret");
        let assertion = form.get("client_assertion").or(form.get("client_assertion_type"));
        // RFC 6749 §2.3: a client must not use more than one method in a request.
        if [basic.is_some(), post_secret.is_some(), assertion.is_some()]
            .into_iter()
            .filter(|used| *used)
            .count()
            > 1
        {
            return Err(OAuthError::invalid_request(
                "more than one client authentication method was used (RFC 6749 §2.3)",
            ));
        }
        match (basic, post_secret, assertion) {
            (Some((client_id, secret)), _, _) => {
                if form.get("client_id").is_some_and(|form_id| form_id != client_id) {
                    return Err(OAuthError::invalid_request(
                        "client_id differs from the one in the Authorization header",
                    ));
                }
                self.by_secret(&client_id, TokenEndpointAuthMethod::ClientSecretBasic, Some(secret))
            }
            (None, Some(secret), _) => {
                let client_id = form.get("client_id").ok_or_else(OAuthError::invalid_client)?;
                let secret = ClientSecret::new(secret.to_owned());
                self.by_secret(client_id, TokenEndpointAuthMethod::ClientSecretPost, Some(secret))
            }
            (None, None, Some(_)) => self.by_assertion(form).await,
            (None, None, None) => {
                let client_id = form.get("client_id").ok_or_else(OAuthError::invalid_client)?;
                self.by_secret(client_id, TokenEndpointAuthMethod::None, None)
            }
        }
    }

    /// The enabled client `client_id` registered for `method`.
    fn registered(&self, client_id: &str, method: TokenEndpointAuthMethod) -> Option<Arc<RegisteredClient>> {
        self.clients.get(client_id).filter(|client| {
            client.disabled_at.is_none() && client.metadata.token_endpoint_auth_method == method
        })
    }

    fn by_secret(
        &self,
        client_id: &str,
        method: TokenEndpointAuthMethod,
        secret: Option<ClientSecret>,
    ) -> Result<Arc<RegisteredClient>, OAuthError> {
        self.registered(client_id, method)
            .filter(|client| secret.as_ref().is_none_or(|secret| client.verify_secret(secret, Utc::now())))
            .ok_or_else(|| failed(client_id, method, "unknown client, wrong method or wrong secret"))
    }

    /// RFC 7523 §2.2 and §3.
    async fn by_assertion(&self, form: &FormParams) -> Result<Arc<RegisteredClient>, OAuthError> {
        if form.get("client_assertion_type") != Some(JWT_BEARER) {
            return Err(OAuthError::invalid_request(format!("client_assertion_type must be {JWT_BEARER}")));
        }
        let assertion = form.require("client_assertion")?;
        let method = TokenEndpointAuthMethod::PrivateKeyJwt;
        let client_id = form.get("client_id").map(str::to_owned).or_else(|| unverified_subject(assertion));
        let client_id = client_id.ok_or_else(OAuthError::invalid_client)?;
        let client = self
            .registered(&client_id, method)
            .ok_or_else(|| failed(&client_id, method, "unknown client or wrong method"))?;
        let payload = match (&client.assertion_keys, &client.metadata.jwks_uri) {
            (Some(keys), _) => keys.verify(assertion),
            (None, Some(uri)) => self.remote_jwks.verify(uri, assertion).await,
            (None, None) => None,
        };
        let payload =
            payload.ok_or_else(|| failed(&client_id, method, "assertion signature does not verify"))?;
        let claims: AssertionClaims =
            serde_json::from_value(serde_json::Value::Object(payload.claims_set().clone()))
                .map_err(|_| failed(&client_id, method, "assertion lacks iss, sub, aud, exp or jti"))?;
        let expires_at = claims
            .check(&client_id, &self.audiences, Utc::now())
            .map_err(|why| failed(&client_id, method, why))?;
        let (db, id, jti) = (self.db.clone(), client_id.clone(), claims.jti);
        let fresh = web::block(move || assertions::record_jti(&mut *db.get()?, &id, &jti, expires_at))
            .await
            .map_err(|e| {
                OAuthError::new(ErrorCode::ServerError, format!("assertion check did not run: {e}"))
            })?
            .map_err(|e| {
                tracing::error!(error = %e, "recording an assertion jti failed");
                OAuthError::new(ErrorCode::ServerError, "the assertion could not be checked; try again")
            })?;
        if !fresh {
            return Err(failed(&client_id, method, "assertion replayed"));
        }
        Ok(client)
    }
}

fn failed(client_id: &str, method: TokenEndpointAuthMethod, why: &str) -> OAuthError {
    // Debug formatting escapes whatever the caller put in the id.
    tracing::info!(client_id = ?client_id, method = method.as_str(), reason = why, "client authentication failed");
    OAuthError::invalid_client()
}

/// The claims RFC 7523 §3 requires of a client assertion.
#[derive(Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    #[serde(deserialize_with = "one_or_many")]
    aud: Vec<String>,
    exp: i64,
    nbf: Option<i64>,
    iat: Option<i64>,
    jti: String,
}

impl AssertionClaims {
    /// Checks the claims of `client_id`'s assertion at `now`, returning when
    /// it expires.
    fn check(
        &self,
        client_id: &str,
        audiences: &[String],
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, &'static str> {
        let now = now.timestamp();
        if self.iss != client_id || self.sub != client_id {
            return Err("iss and sub must both be the client_id");
        }
        if !self.aud.iter().any(|aud| audiences.contains(aud)) {
            return Err("aud names neither the issuer nor this endpoint");
        }
        if self.exp <= now - LEEWAY {
            return Err("assertion expired");
        }
        if self.exp > now + MAX_ASSERTION_LIFETIME + LEEWAY {
            return Err("assertion valid for too long");
        }
        if self.nbf.is_some_and(|nbf| nbf > now + LEEWAY) || self.iat.is_some_and(|iat| iat > now + LEEWAY) {
            return Err("assertion not valid yet");
        }
        if self.jti.is_empty() {
            return Err("assertion has no jti");
        }
        DateTime::from_timestamp(self.exp + LEEWAY, 0).ok_or("exp out of range")
    }
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

/// The `sub` of a JWT, read without verifying it, only to find whose keys
/// must verify it.
fn unverified_subject(jwt: &str) -> Option<String> {
    let payload = URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1)?).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    claims.get("sub")?.as_str().map(str::to_owned)
}

/// The `client_id` and secret of an `Authorization: Basic` header, each
/// form-urlencoded before base64 as RFC 6749 §2.3.1 requires.
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, ClientSecret)>, OAuthError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let value = value.to_str().map_err(|_| OAuthError::invalid_client())?;
    let Some((scheme, encoded)) = value.split_once(' ') else { return Ok(None) };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| OAuthError::invalid_client())?;
    let decoded = String::from_utf8(decoded).map_err(|_| OAuthError::invalid_client())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(OAuthError::invalid_client)?;
    let unescape = |part: &str| {
        percent_encoding::percent_decode_str(&part.replace('+', " "))
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| OAuthError::invalid_client())
    };
    let id = unescape(id)?;
    if id.is_empty() {
        return Err(OAuthError::invalid_client());
    }
    Ok(Some((id, ClientSecret::new(unescape(secret)?))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(aud: &str, exp_in: i64) -> AssertionClaims {
        let now = Utc::now().timestamp();
        AssertionClaims {
            iss: "c1".into(),
            sub: "c1".into(),
            aud: vec![aud.into()],
            exp: now + exp_in,
            nbf: None,
            iat: Some(now),
            jti: "j".into(),
        }
    }

    #[test]
    fn assertion_claims_follow_rfc_7523_section_3() {
        let audiences = vec!["https://as.example".to_owned(), "https://as.example/token".to_owned()];
        let now = Utc::now();
        assert!(claims("https://as.example/token", 60).check("c1", &audiences, now).is_ok());
        assert!(claims("https://as.example", 60).check("c1", &audiences, now).is_ok());
        assert!(
            claims("https://as.example", 60).check("c2", &audiences, now).is_err(),
            "iss/sub of another client"
        );
        assert!(claims("https://rp.example", 60).check("c1", &audiences, now).is_err(), "foreign aud");
        assert!(claims("https://as.example", -60).check("c1", &audiences, now).is_err(), "expired");
        assert!(claims("https://as.example", 3600).check("c1", &audiences, now).is_err(), "too long-lived");
        let mut future = claims("https://as.example", 60);
        future.nbf = Some(now.timestamp() + 120);
        assert!(future.check("c1", &audiences, now).is_err(), "not yet valid");
        let mut no_jti = claims("https://as.example", 60);
        no_jti.jti.clear();
        assert!(no_jti.check("c1", &audiences, now).is_err());
    }

    #[test]
    fn aud_may_be_a_string_or_an_array() {
        let one: AssertionClaims =
            serde_json::from_str(r#"{"iss":"a","sub":"a","aud":"x","exp":1,"jti":"j"}"#).unwrap();
        assert_eq!(one.aud, ["x"]);
        let many: AssertionClaims =
            serde_json::from_str(r#"{"iss":"a","sub":"a","aud":["x","y"],"exp":1,"jti":"j"}"#).unwrap();
        assert_eq!(many.aud, ["x", "y"]);
        assert!(
            serde_json::from_str::<AssertionClaims>(r#"{"iss":"a","sub":"a","aud":"x","jti":"j"}"#).is_err(),
            "exp is required"
        );
    }
}
