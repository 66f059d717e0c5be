//! The device authorization grant's front (RFC 8628 §3.1 to §3.3): the
//! device authorization endpoint, which gives an authenticated client a
//! device code and a user code, and the authorization request a user's
//! typed code becomes on the verification page, so that the sign-in,
//! second-factor and consent pages decide it as they decide any other.

use crate::clients::RegisteredClient;
use crate::params::Params;
use crate::storage::protocol_operation;
use portcullis_app::device_grants::{normalize_user_code, shown, DeviceGrantView};
use portcullis_app::grants::Caller;
use portcullis_app::App;
use portcullis_core::authorization_request::{shared_claims, AuthorizationRequest, Prompt};
use portcullis_core::{ErrorCode, GrantType, Issuer, OAuthError, Scope};
use serde::Serialize;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// What the device is told (RFC 8628 §3.2).
#[derive(Debug, Serialize)]
pub struct DeviceCodes {
    /// The code it polls with.
    pub device_code: String,
    /// The code its user types.
    pub user_code: String,
    /// Where the user types it.
    pub verification_uri: String,
    /// The same, with the code filled in (for a QR code or a link).
    pub verification_uri_complete: String,
    /// Seconds both codes live.
    pub expires_in: u64,
    /// Seconds between polls.
    pub interval: u64,
}

/// The device authorization endpoint.
pub struct DeviceAuthorizations {
    app: Arc<App>,
    verification_uri: String,
    lifetime: Duration,
}

impl DeviceAuthorizations {
    /// Device codes living `lifetime`, for a server with issuer `issuer`.
    pub fn new(app: Arc<App>, issuer: &Issuer, lifetime: Duration) -> Self {
        Self { app, verification_uri: issuer.endpoint(crate::endpoints::DEVICE_VERIFICATION), lifetime }
    }

    /// RFC 8628 §3.1: the authenticated `client` asks, from `address`, for
    /// the scope of `form` (its whole scope when it names none).
    pub async fn authorize(
        &self,
        client: &RegisteredClient,
        form: &Params,
        address: Option<IpAddr>,
    ) -> Result<DeviceCodes, OAuthError> {
        if !client.metadata.allows_grant(GrantType::DeviceCode) {
            let why = "this client may not use the device authorization grant";
            return Err(OAuthError::new(ErrorCode::UnauthorizedClient, why));
        }
        let scope = match form.get("scope") {
            None => client.metadata.scope.clone(),
            Some(asked) => {
                Scope::parse(asked).map_err(|e| OAuthError::new(ErrorCode::InvalidScope, e.to_string()))?
            }
        };
        if !scope.is_subset(&client.metadata.scope) {
            let why = "the requested scope exceeds what the client may have";
            return Err(OAuthError::new(ErrorCode::InvalidScope, why));
        }
        let (caller, lifetime) =
            (Caller { client_id: client.id.as_str().to_owned(), address }, self.lifetime);
        let started = protocol_operation(&self.app, move |app| {
            app.start_device_authorization(&caller, &scope, lifetime)
        })
        .await?;
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("user_code", &started.user_code)
            .finish();
        let complete = format!("{}?{query}", self.verification_uri);
        Ok(DeviceCodes {
            device_code: started.device_code,
            user_code: started.user_code,
            verification_uri: self.verification_uri.clone(),
            verification_uri_complete: complete,
            expires_in: started.expires_in,
            interval: started.interval,
        })
    }
}

/// The authorization request the user's code `user_code` (as typed) for
/// `grant` of `client` becomes:
/// its scope, no redirect URI, and consent asked every time, so the user
/// sees which device and what it asks before anything is granted (RFC 8628
/// §5.4, remote phishing).
pub fn verification_request(
    grant: &DeviceGrantView,
    client: &RegisteredClient,
    user_code: &str,
) -> AuthorizationRequest {
    let scope = Scope::parse(&grant.scope).unwrap_or_default();
    AuthorizationRequest {
        client_id: client.id.clone(),
        redirect_uri: String::new(),
        redirect_uri_sent: false,
        shared_claims: shared_claims(&client.metadata, &scope),
        scope,
        state: None,
        nonce: None,
        code_challenge: None,
        prompt: Prompt { consent: true, ..Prompt::default() },
        max_age: None,
        login_hint: None,
        id_token_hint: None,
        hinted_subject: None,
        ui_locales: None,
        claims: Default::default(),
        dpop_jkt: None,
        device_user_code: normalize_user_code(user_code).as_deref().map(shown),
        pushed: None,
    }
}
