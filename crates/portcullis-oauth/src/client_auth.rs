//! Client authentication at the token, introspection and revocation
//! endpoints (RFC 6749 §2.3): `client_secret_basic`, `client_secret_post`,
//! `private_key_jwt` (RFC 7523), or none for public clients. A client may use
//! only the method it registered, and only from its allowed addresses.

use crate::client_lockout::AddressMemory;
use crate::clients::{ClientRegistry, RegisteredClient};
use crate::endpoints;
use crate::params::Params;
use crate::remote_jwks::RemoteJwks;
use crate::storage::{self, protocol_operation};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, Utc};
use portcullis_app::client_lockouts::LockoutPolicy;
use portcullis_app::failures::{Failure, FailureKind};
use portcullis_app::geoip::Countries;
use portcullis_app::rate_limits::{address_key, Decision, Limit};
use portcullis_app::App;
use portcullis_core::{ClientSecret, ErrorCode, Issuer, OAuthError, TokenEndpointAuthMethod};
use serde::Deserialize;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// The authentication methods of confidential clients, as advertised in
/// discovery for introspection (which public clients may not call).
pub const METHODS: [&str; 3] = ["client_secret_basic", "client_secret_post", "private_key_jwt"];
/// [`METHODS`] and `none`: a public client names itself with `client_id`
/// (RFC 7591 §2) at the token endpoint and to revoke its own tokens (RFC
/// 7009 §2.1), so discovery lists it for those two (RFC 8414 §2).
pub const METHODS_AND_NONE: [&str; 4] =
    ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];
/// Algorithms accepted for `private_key_jwt` assertions.
pub const ASSERTION_ALGS: [&str; 4] = portcullis_core::SigningAlgorithm::NAMES;
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
    remote_jwks: Arc<RemoteJwks>,
    app: Arc<App>,
    audiences: Vec<String>,
    /// The issuer: what a FAPI 2.0 client's assertions must name.
    issuer: String,
    lockout: LockoutPolicy,
    addresses: AddressMemory,
    unknown_client_rate_limit: u32,
    countries: Option<Arc<Countries>>,
}

/// What a request presents to authenticate its client, as the adapter read it.
pub struct Presented<'a> {
    /// The parameters of its body: `client_id`, `client_secret`,
    /// `client_assertion_type`, `client_assertion`.
    pub params: &'a Params,
    /// Its `Authorization` header, as sent.
    pub authorization: Option<&'a [u8]>,
    /// The caller's address, as the trusted proxies say.
    pub source: Option<IpAddr>,
}

/// A client not authenticated: the error to answer, and the registered
/// client the request named when it named one (its usage is counted).
#[derive(Debug)]
pub struct Unauthenticated {
    /// The answer.
    pub error: OAuthError,
    /// The id of the registered client presented, if any.
    pub client_id: Option<String>,
}

impl From<Unauthenticated> for OAuthError {
    fn from(refused: Unauthenticated) -> Self {
        refused.error
    }
}

impl Unauthenticated {
    fn of(client: &RegisteredClient, error: OAuthError) -> Self {
        Self { error, client_id: Some(client.id.as_str().to_owned()) }
    }
}

/// Why a request's client is not authenticated.
enum Refusal {
    /// The request is malformed: answered as it says, not counted.
    Malformed(OAuthError),
    /// The credentials are wrong: counted, and answered `invalid_client`.
    Failed {
        /// The client id presented.
        presented: String,
        /// The registered client it names, if any.
        client: Option<Arc<RegisteredClient>>,
        /// Why, in a few words (logged and audited, never shown).
        reason: &'static str,
        /// Whether a wrong secret or assertion was presented (a guess), not
        /// only an id with the wrong method or of a disabled client.
        guessed: bool,
    },
}

impl From<OAuthError> for Refusal {
    fn from(error: OAuthError) -> Self {
        Self::Malformed(error)
    }
}

impl ClientAuthenticator {
    /// An authenticator for a server with issuer `issuer`. Assertions must
    /// name the issuer or one of the endpoints that authenticate clients.
    /// Failures and lockouts are recorded through `app`; uses from outside a
    /// client's `allowed_countries` are reported when `countries` is known.
    /// Keys at a client's `jwks_uri` are fetched from public addresses only
    /// until [`ClientAuthenticator::fetching_through`] says otherwise.
    pub fn new(
        clients: Arc<ClientRegistry>,
        app: Arc<App>,
        issuer: &Issuer,
        lockout: LockoutPolicy,
        unknown_client_rate_limit: u32,
        countries: Option<Arc<Countries>>,
    ) -> Self {
        let audiences = [
            endpoints::TOKEN,
            endpoints::INTROSPECT,
            endpoints::REVOKE,
            endpoints::PUSHED_AUTHORIZATION_REQUEST,
        ]
        .map(|path| issuer.endpoint(path));
        let audiences = std::iter::once(issuer.as_str().to_owned()).chain(audiences).collect();
        let issuer = issuer.as_str().to_owned();
        let addresses = AddressMemory::default();
        Self {
            clients,
            remote_jwks: Arc::new(RemoteJwks::new(Arc::default())),
            app,
            audiences,
            issuer,
            lockout,
            addresses,
            unknown_client_rate_limit,
            countries,
        }
    }

    /// This authenticator fetching clients' keys through `outbound`, the
    /// server's one guarded client.
    pub fn fetching_through(self, outbound: Arc<portcullis_outbound::Outbound>) -> Self {
        Self { remote_jwks: Arc::new(RemoteJwks::new(outbound)), ..self }
    }

    /// The clients' keys this authenticator verifies with, for whatever
    /// else a client signs (request objects).
    pub fn client_keys(&self) -> Arc<RemoteJwks> {
        self.remote_jwks.clone()
    }

    /// The registered clients.
    pub fn clients(&self) -> &ClientRegistry {
        &self.clients
    }

    /// Authenticates the client of a request, or answers `invalid_client`
    /// (401) without saying which part was wrong; then checks its address.
    pub async fn authenticate(
        &self,
        presented: &Presented<'_>,
    ) -> Result<Arc<RegisteredClient>, Unauthenticated> {
        let source = presented.source;
        let address = counted_as(source);
        let client = match self.identify(presented, address).await {
            Ok(client) => client,
            Err(Refusal::Malformed(error)) => return Err(Unauthenticated { error, client_id: None }),
            Err(Refusal::Failed { presented, client, reason, guessed }) => {
                let client_id = client.as_ref().map(|client| client.id.as_str().to_owned());
                self.record_failure(&presented, client, reason, source, guessed).await;
                return Err(Unauthenticated { error: OAuthError::invalid_client(), client_id });
            }
        };
        // A locked client is refused even with the right credentials until the
        // cooldown ends; only a caller who has them learns why. (A locked
        // address was refused in `registered`, before anything was checked.)
        if let Some(until) = client.locked_until.filter(|until| *until > self.app.now()) {
            let error = OAuthError::new(
                ErrorCode::InvalidClient,
                format!(
                    "the client is locked after repeated failed authentications until {}",
                    until.to_rfc3339()
                ),
            );
            return Err(Unauthenticated::of(&client, error));
        }
        if let Some(counted) = self.addresses.succeeded(client.id.as_str(), address) {
            self.forget_address_failures(client.id.as_str(), counted).await;
        }
        if client.failed_attempts > 0 {
            self.reset_failures(client.id.as_str()).await;
        }
        if let Err(refused) = ensure_allowed_from(&client, source) {
            // Counted (not as a guess) for the `outside_cidrs` alert rule.
            let id = client.id.as_str().to_owned();
            let refused = Unauthenticated::of(&client, refused);
            self.record_failure(&id, Some(client), portcullis_app::alerts::OUTSIDE_CIDRS, source, false)
                .await;
            return Err(refused);
        }
        self.note_country(&client, source);
        Ok(client)
    }

    /// Reports a use of `client` from a country outside its
    /// `allowed_countries` (summarised for `outside_countries` alert rules).
    /// Not refused: country databases are wrong often enough that an admin
    /// should decide, or a rule's action.
    fn note_country(&self, client: &RegisteredClient, source: Option<IpAddr>) {
        let allowed = &client.metadata.allowed_countries;
        if allowed.is_empty() {
            return;
        }
        let (Some(countries), Some(ip)) = (&self.countries, source) else { return };
        let Some(country) = countries.country(ip).filter(|country| !allowed.contains(country)) else {
            return;
        };
        let id = client.id.as_str();
        tracing::info!(client_id = %id, ip = %ip, country = %country, "client used from outside its countries");
        self.app.failures().count(&Failure {
            kind: FailureKind::OutsideCountries,
            known: Some(id),
            presented: id,
            source,
            reason: country.code(),
            at: self.app.now(),
        });
    }

    /// Notes whether an authenticated client's token request was
    /// `malformed` in what the client alone decides (its grant type), for
    /// `malformed_requests` rules: a malformed request of a confidential
    /// client extends its run, which a rule may end by disabling it; any
    /// other request ends the run.
    pub async fn answered(&self, client: &RegisteredClient, malformed: bool) {
        let public = client.metadata.token_endpoint_auth_method == TokenEndpointAuthMethod::None;
        if !malformed || public {
            return self.app.note_well_formed(client.id.as_str());
        }
        let id = client.id.as_str().to_owned();
        let not_judged = "a malformed request could not be judged by the rules";
        self.on_the_side(not_judged, move |app| app.note_malformed(&id)).await;
    }

    /// Runs `work`, a side effect of authenticating a client, off the async
    /// workers: its failure is logged as `failed`, never answered.
    async fn on_the_side<T: Send + 'static>(
        &self,
        failed: &'static str,
        work: impl FnOnce(&App) -> Result<T, portcullis_app::AppError> + Send + 'static,
    ) {
        if let Err(e) = storage::flattened(storage::operation(&self.app, work).await) {
            tracing::warn!(error = %e, "{failed}");
        }
    }

    async fn reset_failures(&self, client_id: &str) {
        let (clients, id) = (self.clients.clone(), client_id.to_owned());
        self.on_the_side("the failed-authentication count could not be reset", move |app| {
            app.reset_client_failures(&id)?;
            clients.reload(app, &id)
        })
        .await;
    }

    /// Records a failed client authentication: logged and summarised for
    /// the audit log under the id presented (a digest of it when it names no
    /// client; never the secret sent), and, when it was a `guessed` (wrong)
    /// secret or assertion of a client that has one, counted towards a lockout.
    async fn record_failure(
        &self,
        presented: &str,
        client: Option<Arc<RegisteredClient>>,
        reason: &'static str,
        source: Option<IpAddr>,
        guessed: bool,
    ) {
        let now = self.app.now();
        let client_id = client.as_ref().map(|c| c.id.as_str());
        let shown = client_id.map_or_else(|| self.app.identifier_digest(presented), str::to_owned);
        tracing::info!(client_id = %shown, ip = ?source, reason, "client authentication failed");
        self.app.failures().count(&Failure {
            kind: FailureKind::Client,
            known: client_id,
            presented,
            source,
            reason,
            at: now,
        });
        // A public client presents nothing to guess, so it is never counted.
        let Some(client) = client.filter(|_| guessed) else { return };
        let id = client.id.as_str();
        let address = counted_as(source);
        if self.addresses.is_known(id, address) {
            return self.count_client_failure(id, source).await;
        }
        let counted = address_key(Some(address));
        self.addresses.failed(id, &counted);
        // Counted where every instance counts; a lockout reaches every
        // instance's mirror of the client (this one's at once).
        let policy = self.lockout;
        let id = id.to_owned();
        self.on_the_side("a failed authentication could not be counted against its address", move |app| {
            app.count_address_failure(&id, (&counted, source), &policy)
        })
        .await;
    }

    /// Forgets the failures of `client_id` counted from `address`, which it
    /// just authenticated from.
    async fn forget_address_failures(&self, client_id: &str, address: String) {
        let id = client_id.to_owned();
        let not_forgotten = "the failed authentications of an address could not be forgotten";
        self.on_the_side(not_forgotten, move |app| app.clear_address_failures(&id, &address)).await;
    }

    /// Counts a failure against the client as a whole (from an address it
    /// authenticated from before); at the threshold, locks or disables it,
    /// with an audit entry.
    async fn count_client_failure(&self, client_id: &str, source: Option<IpAddr>) {
        let policy = self.lockout;
        let (clients, id) = (self.clients.clone(), client_id.to_owned());
        self.on_the_side("a failed authentication could not be counted", move |app| {
            app.count_client_failure(&id, source, &policy)?;
            clients.reload(app, &id)
        })
        .await;
    }

    async fn identify(
        &self,
        presented: &Presented<'_>,
        address: IpAddr,
    ) -> Result<Arc<RegisteredClient>, Refusal> {
        let form = presented.params;
        let basic = basic_credentials(presented.authorization)?;
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
            )
            .into());
        }
        match (basic, post_secret, assertion) {
            (Some((client_id, secret)), _, _) => {
                if form.get("client_id").is_some_and(|form_id| form_id != client_id) {
                    return Err(OAuthError::invalid_request(
                        "client_id differs from the one in the Authorization header",
                    )
                    .into());
                }
                self.by_secret(&client_id, TokenEndpointAuthMethod::ClientSecretBasic, Some(secret), address)
                    .await
            }
            (None, Some(secret), _) => {
                let client_id = form.get("client_id").ok_or_else(OAuthError::invalid_client)?;
                let secret = ClientSecret::new(secret.to_owned());
                self.by_secret(client_id, TokenEndpointAuthMethod::ClientSecretPost, Some(secret), address)
                    .await
            }
            (None, None, Some(_)) => self.by_assertion(form, address).await,
            (None, None, None) => {
                let client_id = form.get("client_id").ok_or_else(OAuthError::invalid_client)?;
                self.by_secret(client_id, TokenEndpointAuthMethod::None, None, address).await
            }
        }
    }

    /// The enabled client `client_id` registered for `method`, unless
    /// `address` is locked out of it.
    async fn registered(
        &self,
        client_id: &str,
        method: TokenEndpointAuthMethod,
        address: IpAddr,
    ) -> Result<Arc<RegisteredClient>, Refusal> {
        let failed = |client, reason| Refusal::Failed {
            presented: client_id.to_owned(),
            client,
            reason,
            guessed: false,
        };
        // An id this instance does not know costs a database lookup: limited
        // per address before it is made.
        if self.clients.get(client_id).is_none() {
            let key = address_key(Some(address));
            if let Decision::Limited { retry_after } =
                self.app.rate_limit(Limit::UnknownClient, &key, self.unknown_client_rate_limit)
            {
                let description = "too many requests naming unknown clients from this address";
                return Err(Refusal::Malformed(OAuthError::slow_down(description, retry_after)));
            }
        }
        match self.clients.find(client_id).await.map_err(OAuthError::from)? {
            None => Err(failed(None, "unknown client")),
            Some(client) if client.disabled_at.is_some() => Err(failed(Some(client), "client disabled")),
            Some(client) if client.metadata.token_endpoint_auth_method != method => {
                Err(failed(Some(client), "wrong authentication method"))
            }
            // Refused before anything it sent is checked: guessing from a locked
            // address is useless. Not the client's own callers: a lockout of
            // their /64 by a neighbour must not shut them out.
            Some(client)
                if client.address_locked_until(address, self.app.now()).is_some()
                    && !self.addresses.is_known(client_id, address) =>
            {
                Err(failed(Some(client), "address locked out"))
            }
            Some(client) => Ok(client),
        }
    }

    async fn by_secret(
        &self,
        client_id: &str,
        method: TokenEndpointAuthMethod,
        secret: Option<ClientSecret>,
        address: IpAddr,
    ) -> Result<Arc<RegisteredClient>, Refusal> {
        let client = self.registered(client_id, method, address).await?;
        if secret.as_ref().is_some_and(|secret| !client.verify_secret(secret, self.app.now())) {
            return Err(Refusal::Failed {
                presented: client_id.to_owned(),
                client: Some(client),
                reason: "wrong secret",
                guessed: true,
            });
        }
        Ok(client)
    }

    /// RFC 7523 §2.2 and §3.
    async fn by_assertion(&self, form: &Params, address: IpAddr) -> Result<Arc<RegisteredClient>, Refusal> {
        if form.get("client_assertion_type") != Some(JWT_BEARER) {
            return Err(
                OAuthError::invalid_request(format!("client_assertion_type must be {JWT_BEARER}")).into()
            );
        }
        let assertion = form.require("client_assertion")?;
        let method = TokenEndpointAuthMethod::PrivateKeyJwt;
        let client_id = form.get("client_id").map(str::to_owned).or_else(|| unverified_subject(assertion));
        let client_id = client_id.ok_or_else(OAuthError::invalid_client)?;
        let client = self.registered(&client_id, method, address).await?;
        let failed = |reason| Refusal::Failed {
            presented: client_id.clone(),
            client: Some(client.clone()),
            reason,
            guessed: true,
        };
        let payload = self.remote_jwks.verify_client(&client, assertion).await;
        let payload = payload.ok_or_else(|| failed("assertion signature does not verify"))?;
        // OpenID Connect Registration §2: the client may pin its assertions' algorithm.
        let alg = header_alg(assertion).and_then(|alg| alg.parse().ok());
        if let Some(registered) = client.metadata.token_endpoint_auth_signing_alg {
            if alg != Some(registered) {
                return Err(failed("assertion signed with another algorithm than registered"));
            }
        }
        if alg.is_some_and(|alg| !client.metadata.admits_signature(alg)) {
            // The client's own key signed it: a misconfiguration, not a guess.
            return Err(Refusal::Failed {
                presented: client_id.clone(),
                client: Some(client.clone()),
                reason: "assertion signed with RS256, which FAPI 2.0 refuses (section 5.4.1)",
                guessed: false,
            });
        }
        let claims: AssertionClaims =
            serde_json::from_value(serde_json::Value::Object(payload.claims_set().clone()))
                .map_err(|_| failed("assertion lacks iss, sub, aud, exp or jti"))?;
        let audiences = match client.metadata.is_fapi2() {
            // FAPI 2.0 §5.3.2.1 item 8: the issuer, as a string, and nothing else.
            true => Audiences::IssuerOnly(&self.issuer),
            false => Audiences::Any(&self.audiences),
        };
        let expires_at = claims.check(&client_id, audiences, self.app.now()).map_err(failed)?;
        let (id, jti) = (client_id.clone(), claims.jti);
        let fresh =
            protocol_operation(&self.app, move |app| app.record_assertion(&id, &jti, expires_at)).await?;
        if !fresh {
            return Err(failed("assertion replayed"));
        }
        Ok(client)
    }
}

/// Refuses a client restricted to `allowed_cidrs` when it calls from elsewhere.
fn ensure_allowed_from(client: &RegisteredClient, ip: Option<IpAddr>) -> Result<(), OAuthError> {
    let cidrs = &client.metadata.allowed_cidrs;
    if cidrs.is_empty() || ip.is_some_and(|ip| cidrs.iter().any(|net| net.contains(&ip))) {
        return Ok(());
    }
    tracing::info!(client_id = %client.id, ip = ?ip, "request from an address the client may not use");
    Err(OAuthError::new(ErrorCode::AccessDenied, "this client may not be used from this address"))
}

/// The address failures are counted under: the caller's, or one shared by
/// every caller whose address is not known.
fn counted_as(source: Option<IpAddr>) -> IpAddr {
    source.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// The claims RFC 7523 §3 requires of a client assertion.
#[derive(Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    aud: Audience,
    #[serde(deserialize_with = "portcullis_jose::numeric_date::required")]
    exp: i64,
    #[serde(default, deserialize_with = "portcullis_jose::numeric_date::optional")]
    nbf: Option<i64>,
    #[serde(default, deserialize_with = "portcullis_jose::numeric_date::optional")]
    iat: Option<i64>,
    jti: String,
}

/// An assertion's `aud`: one value or a list (RFC 7519 §4.1.3).
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The audiences an assertion may name.
#[derive(Clone, Copy)]
enum Audiences<'a> {
    /// The issuer or an endpoint that authenticates clients, in a string or a list.
    Any(&'a [String]),
    /// Only the issuer, as a string.
    IssuerOnly(&'a str),
}

impl Audience {
    fn admitted(&self, audiences: Audiences<'_>) -> bool {
        match (self, audiences) {
            (Audience::One(aud), Audiences::IssuerOnly(issuer)) => aud == issuer,
            (Audience::Many(_), Audiences::IssuerOnly(_)) => false,
            (Audience::One(aud), Audiences::Any(any)) => any.contains(aud),
            (Audience::Many(auds), Audiences::Any(any)) => auds.iter().any(|aud| any.contains(aud)),
        }
    }
}

impl AssertionClaims {
    /// Checks the claims of `client_id`'s assertion at `now`, returning when
    /// it expires.
    fn check(
        &self,
        client_id: &str,
        audiences: Audiences<'_>,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, &'static str> {
        let now = now.timestamp();
        if self.iss != client_id || self.sub != client_id {
            return Err("iss and sub must both be the client_id");
        }
        if !self.aud.admitted(audiences) {
            return Err(match audiences {
                Audiences::Any(_) => "aud names neither the issuer nor this endpoint",
                Audiences::IssuerOnly(_) => "aud is not the issuer as a string (FAPI 2.0 §5.3.2.1)",
            });
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

/// The `sub` of a JWT, read without verifying it, only to find whose keys
/// must verify it.
fn unverified_subject(jwt: &str) -> Option<String> {
    let payload = URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1)?).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    claims.get("sub")?.as_str().map(str::to_owned)
}

/// The `alg` of a JWS header; read after its signature verified, it is authentic.
fn header_alg(jwt: &str) -> Option<String> {
    let header = URL_SAFE_NO_PAD.decode(jwt.split('.').next()?).ok()?;
    let header: serde_json::Value = serde_json::from_slice(&header).ok()?;
    header.get("alg")?.as_str().map(str::to_owned)
}

/// The `client_id` and secret of an `Authorization: Basic` header, each
/// form-urlencoded before base64 as RFC 6749 §2.3.1 requires.
fn basic_credentials(header: Option<&[u8]>) -> Result<Option<(String, ClientSecret)>, OAuthError> {
    let Some(value) = header else { return Ok(None) };
    let value = crate::access_tokens::header_text(value).ok_or_else(OAuthError::invalid_client)?;
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
            aud: Audience::One(aud.into()),
            exp: now + exp_in,
            nbf: None,
            iat: Some(now),
            jti: "j".into(),
        }
    }

    #[test]
    fn assertion_claims_follow_rfc_7523_section_3() {
        let audiences = vec!["https://as.example".to_owned(), "https://as.example/token".to_owned()];
        let audiences = Audiences::Any(&audiences);
        let now = Utc::now();
        assert!(claims("https://as.example/token", 60).check("c1", audiences, now).is_ok());
        assert!(claims("https://as.example", 60).check("c1", audiences, now).is_ok());
        assert!(
            claims("https://as.example", 60).check("c2", audiences, now).is_err(),
            "iss/sub of another client"
        );
        assert!(claims("https://rp.example", 60).check("c1", audiences, now).is_err(), "foreign aud");
        assert!(claims("https://as.example", -60).check("c1", audiences, now).is_err(), "expired");
        assert!(claims("https://as.example", 3600).check("c1", audiences, now).is_err(), "too long-lived");
        let mut future = claims("https://as.example", 60);
        future.nbf = Some(now.timestamp() + 120);
        assert!(future.check("c1", audiences, now).is_err(), "not yet valid");
        let mut no_jti = claims("https://as.example", 60);
        no_jti.jti.clear();
        assert!(no_jti.check("c1", audiences, now).is_err());
    }

    /// FAPI 2.0 §5.3.2.1 items 8 and 13, as the OIDF suite tries them.
    #[test]
    fn a_fapi2_assertion_names_the_issuer_as_a_string_and_may_be_a_little_ahead() {
        let issuer = Audiences::IssuerOnly("https://as.example");
        let now = Utc::now();
        assert!(claims("https://as.example", 60).check("c1", issuer, now).is_ok());
        for refused in [
            claims("https://as.example/token", 60),
            claims("https://as.example/par", 60),
            AssertionClaims { aud: Audience::Many(vec!["https://as.example".into()]), ..claims("", 60) },
        ] {
            assert!(refused.check("c1", issuer, now).is_err());
        }
        let ahead = |seconds: i64| AssertionClaims {
            nbf: Some(now.timestamp() + seconds),
            iat: Some(now.timestamp() + seconds),
            ..claims("https://as.example", 120)
        };
        assert!(ahead(8).check("c1", issuer, now).is_ok(), "8 s ahead is accepted");
        assert!(ahead(62).check("c1", issuer, now).is_err(), "62 s ahead is refused");
    }

    #[test]
    fn aud_may_be_a_string_or_an_array() {
        let one: AssertionClaims =
            serde_json::from_str(r#"{"iss":"a","sub":"a","aud":"x","exp":1,"jti":"j"}"#).unwrap();
        assert!(matches!(one.aud, Audience::One(ref aud) if aud == "x"));
        let many: AssertionClaims =
            serde_json::from_str(r#"{"iss":"a","sub":"a","aud":["x","y"],"exp":1,"jti":"j"}"#).unwrap();
        assert!(matches!(many.aud, Audience::Many(ref auds) if auds == &["x", "y"]));
        assert!(
            serde_json::from_str::<AssertionClaims>(r#"{"iss":"a","sub":"a","aud":"x","jti":"j"}"#).is_err(),
            "exp is required"
        );
        let fractional: AssertionClaims =
            serde_json::from_str(r#"{"iss":"a","sub":"a","aud":"x","exp":1.5,"iat":0.25,"jti":"j"}"#)
                .unwrap();
        assert_eq!(
            (fractional.exp, fractional.iat),
            (1, Some(0)),
            "NumericDate may have a fraction (RFC 7519 §2)"
        );
    }
}
