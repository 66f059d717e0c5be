//! The authorization request (RFC 6749 §4.1.1, OpenID Connect Core
//! §3.1.2.1): its parameters with rules of their own, and [`validate`],
//! which decides between an error page that never redirects, an error sent
//! back to the client, and a request to carry on with.

use crate::claims_request::{ClaimsRequestError, RequestedClaims};
use crate::{
    ClientId, ClientMetadata, CodeChallenge, CodeChallengeMethod, ErrorCode, GrantType, OAuthError, Scope,
    TokenEndpointAuthMethod,
};
use serde::{Deserialize, Serialize};

/// The `prompt` parameter: a set of values, where `none` stands alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    /// `none`: no user interface at all.
    pub none: bool,
    /// `login`: authenticate again, even with a session.
    pub login: bool,
    /// `consent`: ask for consent again, even if it was given before.
    pub consent: bool,
    /// `select_account`: let the user choose an account.
    pub select_account: bool,
}

/// A `prompt` value that cannot be honoured.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PromptError {
    /// OpenID Connect Core §3.1.2.1: `none` with any other value is an error.
    #[error("prompt=none cannot be combined with other values")]
    NoneWithOthers,
    /// A value OpenID Connect does not define.
    #[error("unknown prompt value `{0}`")]
    Unknown(String),
}

impl Prompt {
    /// Parses a space-separated `prompt`.
    pub fn parse(raw: &str) -> Result<Self, PromptError> {
        let mut prompt = Prompt::default();
        for value in raw.split(' ').filter(|v| !v.is_empty()) {
            match value {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                "select_account" => prompt.select_account = true,
                other => return Err(PromptError::Unknown(other.to_owned())),
            }
        }
        if prompt.none && (prompt.login || prompt.consent || prompt.select_account) {
            return Err(PromptError::NoneWithOthers);
        }
        Ok(prompt)
    }
}

/// Parses `max_age`: a non-negative number of seconds.
pub fn parse_max_age(raw: &str) -> Option<u64> {
    raw.parse().ok().filter(|_| raw.bytes().all(|b| b.is_ascii_digit()))
}

/// The longest `state` or `nonce` accepted: they are echoed back, so they are
/// bounded, yet generously (FAPI tests send long values).
pub const MAX_OPAQUE_LEN: usize = 2048;

/// Read access to the request's parameters (query or form), each present
/// at most once and never empty.
pub trait Parameters {
    /// The value of `name`, if sent.
    fn get(&self, name: &str) -> Option<&str>;
}

/// A request that may go on to authentication and consent; it is kept as
/// JSON while the user logs in and consents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    /// The client.
    pub client_id: ClientId,
    /// Where the response goes: the URI as the client sent it (it matched a
    /// registered one), or the only registered one when it sent none.
    pub redirect_uri: String,
    /// Whether the client sent `redirect_uri`, which it must then repeat at
    /// the token endpoint (RFC 6749 §4.1.3).
    pub redirect_uri_sent: bool,
    /// The scope asked for (the client's whole scope when none was).
    pub scope: Scope,
    /// Echoed back unchanged.
    pub state: Option<String>,
    /// Put into the ID token.
    pub nonce: Option<String>,
    /// The PKCE challenge.
    pub code_challenge: Option<CodeChallenge>,
    /// `prompt`.
    pub prompt: Prompt,
    /// `max_age` in seconds.
    pub max_age: Option<u64>,
    /// `login_hint`, to pre-fill the login form.
    pub login_hint: Option<String>,
    /// `id_token_hint`, checked by the server against its own keys.
    pub id_token_hint: Option<String>,
    /// The `sub` of the verified `id_token_hint`: only this user's session
    /// may answer the request (OpenID Connect Core §3.1.2.1). Set by the
    /// server once it has verified the hint.
    #[serde(default)]
    pub hinted_subject: Option<String>,
    /// `ui_locales`, space-separated BCP 47 tags in order of preference.
    pub ui_locales: Option<String>,
    /// What the `claims` parameter asks for (OpenID Connect Core §5.5).
    #[serde(default, skip_serializing_if = "RequestedClaims::is_empty")]
    pub claims: RequestedClaims,
    /// The user's claims the client's mappings share under the scope asked,
    /// by the names the client receives them: consented to by name, so a
    /// mapping added later asks again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_claims: Vec<String>,
    /// The thumbprint of the DPoP key the code will be bound to (`dpop_jkt`,
    /// RFC 9449 §10), from the request or the proof sent to the pushed
    /// authorization request endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
    /// The user code of the device grant this request verifies (RFC 8628
    /// §3.3): the user's approval ends it instead of a code, and nothing
    /// is sent to a redirect URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_user_code: Option<String>,
    /// For a pushed request (RFC 9126), what the interaction holding it
    /// keeps so that a reload of `/authorize` takes it back; stored beside
    /// the JSON, not in it.
    #[serde(skip)]
    pub pushed: Option<Pushed>,
}

/// Where a pushed request (RFC 9126) is found again while its user signs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pushed {
    /// The SHA-256 of its client and `request_uri`.
    pub hash: Vec<u8>,
    /// When its `request_uri` expires, seconds since the epoch: no reload
    /// takes it back after.
    pub expires_at: i64,
}

impl AuthorizationRequest {
    /// Whether this is an OpenID Connect request (`openid` in the scope).
    pub fn is_openid(&self) -> bool {
        self.scope.contains("openid")
    }

    /// The only user who may answer the request: the one its verified
    /// `id_token_hint` names (§3.1.2.1), else the `sub` its `claims`
    /// parameter asks for (§5.5.1).
    pub fn required_subject(&self) -> Option<&str> {
        self.hinted_subject.as_deref().or(self.claims.subject.as_deref())
    }
}

/// Why a request is refused, and so how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The client or the redirect URI cannot be trusted: show an error page
    /// and never redirect (RFC 6749 §4.1.2.1, RFC 9700 §4.11).
    ErrorPage(String),
    /// Send the error back to the client's redirect URI (RFC 6749 §4.1.2.1).
    Redirect {
        /// The verified redirect URI.
        redirect_uri: String,
        /// The error.
        error: OAuthError,
        /// The request's `state`, echoed back.
        state: Option<String>,
    },
}

/// The user's claims the client's mappings share under `scope`, by the
/// names the client receives them (consented to by name).
pub fn shared_claims(metadata: &ClientMetadata, scope: &Scope) -> Vec<String> {
    metadata
        .claim_mappings
        .iter()
        .filter(|mapping| mapping.reads_user() && mapping.scope.as_deref().is_none_or(|s| scope.contains(s)))
        .map(|mapping| mapping.claim.clone())
        .collect()
}

/// Validates an authorization request from `client`, which is `None` when
/// `client_id` names no enabled client.
pub fn validate(
    params: &impl Parameters,
    client: Option<(&ClientId, &ClientMetadata)>,
) -> Result<AuthorizationRequest, Refusal> {
    let page = |why: &str| Refusal::ErrorPage(why.to_owned());
    let Some(client_id) = params.get("client_id") else { return Err(page("The request has no client_id.")) };
    let Some((client_id, metadata)) = client.filter(|(id, _)| id.as_str() == client_id) else {
        return Err(page("The client_id names no client of this server."));
    };
    let scope_param = params.get("scope");
    let asks_openid = scope_param.is_some_and(|scope| scope.split(' ').any(|token| token == "openid"));
    let (redirect_uri, redirect_uri_sent) = match params.get("redirect_uri") {
        Some(requested) if metadata.redirect_uris.iter().any(|registered| registered.matches(requested)) => {
            (requested.to_owned(), true)
        }
        Some(_) => return Err(page("The redirect_uri is not registered for this client.")),
        // OpenID Connect Core §3.1.2.1 requires it, FAPI 2.0 §5.3.2.2 too; OAuth only when several are registered.
        None if asks_openid || metadata.is_fapi2() => return Err(page("The request has no redirect_uri.")),
        None => match metadata.redirect_uris.as_slice() {
            [only] => (only.as_str().to_owned(), false),
            _ => return Err(page("The request has no redirect_uri, and the client has not exactly one.")),
        },
    };
    let state = params.get("state").filter(|state| state.len() <= MAX_OPAQUE_LEN).map(str::to_owned);
    let refuse = |code: ErrorCode, description: &str| Refusal::Redirect {
        redirect_uri: redirect_uri.clone(),
        error: OAuthError::new(code, description),
        state: state.clone(),
    };
    let invalid = |description: &str| refuse(ErrorCode::InvalidRequest, description);

    if params.get("state").is_some_and(|state| state.len() > MAX_OPAQUE_LEN) {
        return Err(invalid("state is too long"));
    }
    // Request objects and pushed requests are read before (RFC 9101 §6.3, RFC 9126 §4).
    if params.get("request").is_some() || params.get("request_uri").is_some() {
        return Err(invalid("request and request_uri are read before the request is validated"));
    }
    match params.get("response_type") {
        None => return Err(invalid("response_type is missing")),
        Some("code") => {}
        Some(_) => {
            return Err(refuse(ErrorCode::UnsupportedResponseType, "only response_type=code is supported"))
        }
    }
    if params.get("response_mode").is_some_and(|mode| mode != "query") {
        return Err(invalid("only response_mode=query is supported"));
    }
    if !metadata.allows_grant(GrantType::AuthorizationCode) {
        return Err(refuse(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code flow",
        ));
    }
    let scope = match scope_param {
        None => metadata.scope.clone(),
        Some(raw) => Scope::parse(raw).map_err(|e| refuse(ErrorCode::InvalidScope, &e.to_string()))?,
    };
    if !scope.is_subset(&metadata.scope) {
        return Err(refuse(ErrorCode::InvalidScope, "the requested scope exceeds what the client may have"));
    }
    let code_challenge = match (params.get("code_challenge"), params.get("code_challenge_method")) {
        (None, Some(_)) => return Err(invalid("code_challenge_method without code_challenge")),
        (None, None)
            if metadata.require_pkce
                || metadata.token_endpoint_auth_method == TokenEndpointAuthMethod::None =>
        {
            return Err(invalid("code_challenge is required (PKCE, RFC 7636)"));
        }
        (None, None) => None,
        (Some(challenge), method) => {
            let challenge = CodeChallenge::parse(challenge, method).map_err(|e| invalid(&e.to_string()))?;
            if challenge.method == CodeChallengeMethod::Plain && !metadata.pkce_plain_allowed {
                return Err(invalid("code_challenge_method must be S256"));
            }
            Some(challenge)
        }
    };
    let prompt = params
        .get("prompt")
        .map(Prompt::parse)
        .transpose()
        .map_err(|e| invalid(&e.to_string()))?
        .unwrap_or_default();
    let max_age = match params.get("max_age") {
        None => None,
        Some(raw) => {
            Some(parse_max_age(raw).ok_or_else(|| invalid("max_age must be a non-negative integer"))?)
        }
    };
    let nonce = params.get("nonce");
    if nonce.is_some_and(|nonce| nonce.len() > MAX_OPAQUE_LEN) {
        return Err(invalid("nonce is too long"));
    }
    let claims = match params.get("claims") {
        None => RequestedClaims::default(),
        Some(raw) => RequestedClaims::parse(raw)
            .map_err(|e| match e {
                ClaimsRequestError::Invalid(_) => invalid(&e.to_string()),
                // §5.5.1.1: an essential claim that cannot be met fails the authentication.
                ClaimsRequestError::UnmetAcr => refuse(ErrorCode::AccessDenied, &e.to_string()),
            })?
            .within(&metadata.scope),
    };
    let shared_claims = shared_claims(metadata, &scope);
    // RFC 9449 §10: a JWK thumbprint, SHA-256 in base64url.
    let dpop_jkt = params.get("dpop_jkt");
    if dpop_jkt.is_some_and(|jkt| {
        jkt.len() != 43 || !jkt.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        return Err(invalid("dpop_jkt is not a JWK SHA-256 thumbprint"));
    }
    let owned = |name: &str| params.get(name).map(str::to_owned);
    Ok(AuthorizationRequest {
        client_id: client_id.clone(),
        redirect_uri,
        redirect_uri_sent,
        scope,
        state,
        nonce: nonce.map(str::to_owned),
        code_challenge,
        prompt,
        max_age,
        login_hint: owned("login_hint"),
        id_token_hint: owned("id_token_hint"),
        hinted_subject: None,
        ui_locales: owned("ui_locales"),
        claims,
        shared_claims,
        dpop_jkt: dpop_jkt.map(str::to_owned),
        device_user_code: None,
        pushed: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    impl Parameters for HashMap<&str, &str> {
        fn get(&self, name: &str) -> Option<&str> {
            HashMap::get(self, name).copied()
        }
    }

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn client(extra: serde_json::Value) -> (ClientId, ClientMetadata) {
        let mut json = serde_json::json!({
            "client_name": "app", "grant_types": ["authorization_code"], "scope": "openid profile email",
            "redirect_uris": ["https://app.example/cb", "http://127.0.0.1/cb"]
        });
        json.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let metadata: ClientMetadata = serde_json::from_value(json).unwrap();
        metadata.validate().unwrap();
        (ClientId::parse("app").unwrap(), metadata)
    }

    fn request<'a>(extra: &[(&'a str, &'a str)]) -> HashMap<&'a str, &'a str> {
        let mut params: HashMap<&str, &str> = [
            ("client_id", "app"),
            ("response_type", "code"),
            ("redirect_uri", "https://app.example/cb"),
            ("scope", "openid profile"),
            ("state", "s1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]
        .into();
        for (name, value) in extra {
            if value.is_empty() {
                params.remove(name);
            } else {
                params.insert(name, value);
            }
        }
        params
    }

    fn check(extra: &[(&str, &str)]) -> Result<AuthorizationRequest, Refusal> {
        let (id, metadata) = client(serde_json::json!({}));
        validate(&request(extra), Some((&id, &metadata)))
    }

    fn redirected_error(extra: &[(&str, &str)]) -> ErrorCode {
        match check(extra) {
            Err(Refusal::Redirect { error, redirect_uri, state }) => {
                assert_eq!(redirect_uri, request(extra)["redirect_uri"]);
                assert_eq!(state.as_deref(), request(extra).get("state").copied());
                error.error
            }
            other => panic!("{extra:?}: expected an error redirect, got {other:?}"),
        }
    }

    #[test]
    fn the_claims_parameter_is_read_and_an_unmet_essential_acr_refused() {
        let asked = r#"{"userinfo": {"email": {"essential": true}}, "id_token": {"sub": {"value": "u1"}}}"#;
        let request = check(&[("claims", asked)]).unwrap();
        assert_eq!(request.claims.userinfo, ["email"]);
        assert_eq!(request.required_subject(), Some("u1"));
        assert_eq!(redirected_error(&[("claims", "[1]")]), ErrorCode::InvalidRequest);
        let acr = r#"{"id_token": {"acr": {"essential": true, "values": ["urn:x"]}}}"#;
        assert_eq!(redirected_error(&[("claims", acr)]), ErrorCode::AccessDenied);
    }

    #[test]
    fn a_valid_request_carries_everything_on() {
        let request = check(&[
            ("nonce", "n1"),
            ("prompt", "login"),
            ("max_age", "0"),
            ("login_hint", "alice"),
            ("extra", "ignored"),
        ])
        .unwrap();
        assert_eq!(request.redirect_uri, "https://app.example/cb");
        assert!(request.redirect_uri_sent && request.is_openid() && request.prompt.login);
        assert_eq!(request.scope.to_string(), "openid profile");
        assert_eq!(
            (request.state.as_deref(), request.nonce.as_deref(), request.max_age),
            (Some("s1"), Some("n1"), Some(0))
        );
        assert_eq!(request.code_challenge.unwrap().method, CodeChallengeMethod::S256);
        assert_eq!(request.login_hint.as_deref(), Some("alice"));
    }

    #[test]
    fn an_untrusted_client_or_redirect_uri_gets_an_error_page() {
        let (id, metadata) = client(serde_json::json!({}));
        for (params, client) in [
            (request(&[("client_id", "")]), Some((&id, &metadata))),
            (request(&[("client_id", "other")]), Some((&id, &metadata))),
            (request(&[]), None),
            (request(&[("redirect_uri", "https://evil.example/cb")]), Some((&id, &metadata))),
            (request(&[("redirect_uri", "https://app.example/cb/../evil")]), Some((&id, &metadata))),
            (request(&[("redirect_uri", "")]), Some((&id, &metadata))),
        ] {
            assert!(matches!(validate(&params, client), Err(Refusal::ErrorPage(_))), "{params:?}");
        }
    }

    #[test]
    fn redirect_uri_may_be_left_out_only_by_an_oauth_client_with_one() {
        let (id, one) =
            client(serde_json::json!({"redirect_uris": ["https://app.example/cb"], "scope": "read"}));
        let plain_oauth = request(&[("redirect_uri", ""), ("scope", "read")]);
        let accepted = validate(&plain_oauth, Some((&id, &one))).unwrap();
        assert_eq!(
            (accepted.redirect_uri.as_str(), accepted.redirect_uri_sent),
            ("https://app.example/cb", false)
        );
        let (id, oidc) = client(serde_json::json!({"redirect_uris": ["https://app.example/cb"]}));
        assert!(matches!(
            validate(&request(&[("redirect_uri", "")]), Some((&id, &oidc))),
            Err(Refusal::ErrorPage(_))
        ));
    }

    #[test]
    fn a_request_survives_being_kept_as_json() {
        let request = check(&[("nonce", "n1"), ("prompt", "consent"), ("max_age", "60")]).unwrap();
        let kept = serde_json::to_string(&request).unwrap();
        assert_eq!(serde_json::from_str::<AuthorizationRequest>(&kept).unwrap(), request);
    }

    #[test]
    fn a_loopback_redirect_may_use_any_port() {
        assert!(check(&[("redirect_uri", "http://127.0.0.1:49152/cb")]).is_ok());
    }

    #[test]
    fn every_other_error_goes_back_to_the_client() {
        for (extra, code) in [
            (vec![("response_type", "")], ErrorCode::InvalidRequest),
            (vec![("response_type", "token")], ErrorCode::UnsupportedResponseType),
            (vec![("response_type", "code id_token")], ErrorCode::UnsupportedResponseType),
            (vec![("response_mode", "fragment")], ErrorCode::InvalidRequest),
            (vec![("scope", "openid admin")], ErrorCode::InvalidScope),
            (vec![("scope", "openid \"x\"")], ErrorCode::InvalidScope),
            (vec![("code_challenge", ""), ("code_challenge_method", "")], ErrorCode::InvalidRequest),
            (vec![("code_challenge", "")], ErrorCode::InvalidRequest),
            (vec![("code_challenge_method", "plain")], ErrorCode::InvalidRequest),
            (vec![("code_challenge_method", "S512")], ErrorCode::InvalidRequest),
            (vec![("code_challenge", "short")], ErrorCode::InvalidRequest),
            (vec![("prompt", "none login")], ErrorCode::InvalidRequest),
            (vec![("max_age", "-1")], ErrorCode::InvalidRequest),
            (vec![("request", "eyJhbGciOiJub25lIn0.e30.")], ErrorCode::InvalidRequest),
            (vec![("request_uri", "https://app.example/r")], ErrorCode::InvalidRequest),
        ] {
            assert_eq!(redirected_error(&extra), code, "{extra:?}");
        }
        let long = "n".repeat(MAX_OPAQUE_LEN + 1);
        assert_eq!(redirected_error(&[("nonce", &long)]), ErrorCode::InvalidRequest);
    }

    #[test]
    fn pkce_follows_the_client_configuration() {
        let (id, optional) = client(serde_json::json!({"require_pkce": false}));
        let without = request(&[("code_challenge", ""), ("code_challenge_method", "")]);
        assert!(validate(&without, Some((&id, &optional))).unwrap().code_challenge.is_none());
        let (id, plain) = client(serde_json::json!({"pkce_plain_allowed": true}));
        let plain_request =
            request(&[("code_challenge", &CHALLENGE[..43]), ("code_challenge_method", "plain")]);
        assert_eq!(
            validate(&plain_request, Some((&id, &plain))).unwrap().code_challenge.unwrap().method,
            CodeChallengeMethod::Plain
        );
    }

    #[test]
    fn a_client_without_the_grant_is_refused_at_its_redirect_uri() {
        let (id, metadata) =
            client(serde_json::json!({"grant_types": ["client_credentials"], "require_pkce": true}));
        match validate(&request(&[]), Some((&id, &metadata))) {
            Err(Refusal::Redirect { error, .. }) => assert_eq!(error.error, ErrorCode::UnauthorizedClient),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn prompt_is_a_set_with_none_alone() {
        assert_eq!(Prompt::parse("").unwrap(), Prompt::default());
        let both = Prompt::parse("consent login").unwrap();
        assert!(both.login && both.consent && !both.none);
        assert!(Prompt::parse("none").unwrap().none);
        assert_eq!(Prompt::parse("none login"), Err(PromptError::NoneWithOthers));
        assert_eq!(Prompt::parse("login create"), Err(PromptError::Unknown("create".into())));
    }

    #[test]
    fn max_age_is_a_non_negative_integer() {
        assert_eq!(parse_max_age("0"), Some(0));
        assert_eq!(parse_max_age("10000"), Some(10000));
        for bad in ["", "-1", "+5", "1.5", " 5", "ten", "99999999999999999999999"] {
            assert_eq!(parse_max_age(bad), None, "{bad}");
        }
    }
}
