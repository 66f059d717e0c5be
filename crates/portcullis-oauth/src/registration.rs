//! Dynamic client registration (RFC 7591) and client configuration
//! management (RFC 7592) as protocol decisions: which mode admits a
//! registration and how, what the responses carry, and which of the RFCs'
//! errors each refusal is. The operations themselves (the policy, the
//! tokens, the transaction and its audit entry) are
//! [`portcullis_app::registration`]'s.

use crate::endpoints;
use crate::sector_identifiers::SectorDocuments;
use crate::software_statements::SoftwareStatements;
use crate::storage::{operation, protocol_error};
use portcullis_app::registration::{Admission, RegisteredClient};
use portcullis_app::{App, AppError};
use portcullis_core::{ErrorCode, Issuer, OAuthError};
use serde_json::{Map, Value};
use std::net::IpAddr;
use std::sync::Arc;

/// Who may register clients at `/register`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RegistrationMode {
    /// Nobody: the endpoint is not served nor advertised.
    #[default]
    Off,
    /// Holders of an initial access token an admin issued.
    Token,
    /// Anyone, under the anonymous policy; an initial access token, when
    /// presented, admits under its own policy instead.
    Open,
}

/// The registration endpoint's decisions.
pub struct Registrar {
    app: Arc<App>,
    mode: RegistrationMode,
    issuer: Issuer,
    statements: SoftwareStatements,
    sectors: Arc<SectorDocuments>,
}

impl Registrar {
    /// The registrar of `issuer` in `mode`, accepting the software
    /// statements of `statements`' issuers and checking sector identifier
    /// documents through `sectors`; open registration admits under the
    /// application's anonymous policy.
    pub fn new(
        app: Arc<App>,
        (mode, issuer): (RegistrationMode, Issuer),
        statements: SoftwareStatements,
        sectors: Arc<SectorDocuments>,
    ) -> Self {
        Self { app, mode, issuer, statements, sectors }
    }

    /// Whether registration is served at all.
    pub fn is_on(&self) -> bool {
        self.mode != RegistrationMode::Off
    }

    /// RFC 7591 §3: registers a client from `request` (its metadata as a
    /// JSON object) for the holder of `bearer`, if any; the client
    /// information response (§3.2.1) with its registration access token.
    pub async fn register(
        &self,
        bearer: Option<String>,
        address: Option<IpAddr>,
        mut request: Map<String, Value>,
    ) -> Result<Value, OAuthError> {
        if bearer.is_none() && self.mode != RegistrationMode::Open {
            // RFC 7591 §3: the endpoint is protected by an initial access token.
            return Err(OAuthError::new(
                ErrorCode::InvalidToken,
                "registration needs an initial access token",
            ));
        }
        if let Some(statement) = request.remove("software_statement") {
            // RFC 7591 §3.1.1: what the statement says takes precedence.
            request.extend(self.statements.metadata(&statement, self.app.now().timestamp())?);
        }
        self.check_sector(&request).await?;
        let registered = run(&self.app, move |app| {
            let anonymous = app.anonymous_registration_policy();
            let admission = match &bearer {
                Some(token) => Admission::Token(token),
                None => Admission::Open(&anonymous),
            };
            app.register_client(admission, address, request)
        })
        .await?;
        Ok(self.client_information(registered))
    }

    /// RFC 7592 §2.1: the client's current configuration.
    pub async fn read(
        &self,
        client_id: String,
        bearer: String,
        address: Option<IpAddr>,
    ) -> Result<Value, OAuthError> {
        let read = run(&self.app, move |app| app.registered_client(&client_id, &bearer, address)).await?;
        Ok(self.client_information(read))
    }

    /// RFC 7592 §2.2: replaces the client's configuration with `request`.
    pub async fn update(
        &self,
        client_id: String,
        bearer: String,
        address: Option<IpAddr>,
        request: Map<String, Value>,
    ) -> Result<Value, OAuthError> {
        self.check_sector(&request).await?;
        let updated =
            run(&self.app, move |app| app.update_registered_client(&client_id, &bearer, address, request))
                .await?;
        Ok(self.client_information(updated))
    }

    /// OpenID Connect Registration §2: a `sector_identifier_uri` must list
    /// every redirect URI the request registers.
    async fn check_sector(&self, request: &Map<String, Value>) -> Result<(), OAuthError> {
        let Some(Value::String(uri)) = request.get("sector_identifier_uri") else { return Ok(()) };
        let redirect_uris = request.get("redirect_uris").and_then(Value::as_array);
        let redirect_uris = redirect_uris.into_iter().flatten().filter_map(Value::as_str);
        self.sectors.check(uri, redirect_uris).await.map_err(|why| {
            OAuthError::new(ErrorCode::InvalidClientMetadata, format!("sector_identifier_uri: {why}"))
        })
    }

    /// RFC 7592 §2.3: deletes the client; its tokens stop working.
    pub async fn delete(
        &self,
        client_id: String,
        bearer: String,
        address: Option<IpAddr>,
    ) -> Result<(), OAuthError> {
        run(&self.app, move |app| app.delete_registered_client(&client_id, &bearer, address)).await
    }

    /// The client information response (RFC 7591 §3.2.1, RFC 7592 §3): the
    /// registered metadata with the server's members.
    fn client_information(&self, registered: RegisteredClient) -> Value {
        let RegisteredClient { client, secret, registration_token, issued_at } = registered;
        let mut body = match serde_json::to_value(&client.metadata) {
            Ok(Value::Object(members)) => members,
            _ => Map::new(),
        };
        let uri = format!(
            "{}{}/{}",
            self.issuer.as_str().trim_end_matches('/'),
            endpoints::REGISTER,
            client.client_id
        );
        body.insert("client_id".into(), client.client_id.into());
        body.insert("client_id_issued_at".into(), issued_at.timestamp().into());
        if let Some(secret) = secret {
            body.insert("client_secret".into(), secret.expose().into());
        }
        if client.metadata.token_endpoint_auth_method.uses_secret() {
            // RFC 7591 §3.2.1: 0, the secret does not expire.
            body.insert("client_secret_expires_at".into(), 0.into());
        }
        body.insert("registration_access_token".into(), registration_token.expose().into());
        body.insert("registration_client_uri".into(), uri.into());
        Value::Object(body)
    }
}

/// Runs a registration operation; a refusal is the RFCs' error.
async fn run<T: Send + 'static>(
    app: &Arc<App>,
    work: impl FnOnce(&App) -> Result<T, AppError> + Send + 'static,
) -> Result<T, OAuthError> {
    match operation(app, work).await {
        Ok(done) => done.map_err(refusal),
        Err(failure) => Err(failure.into_oauth()),
    }
}

/// A refused registration as RFC 7591 §3.2.2 and RFC 7592 §2 answer it.
fn refusal(error: AppError) -> OAuthError {
    match error {
        AppError::InvalidMetadata { field, message } => {
            let redirect =
                field.starts_with("redirect_uris") || field.starts_with("post_logout_redirect_uris");
            let code =
                if redirect { ErrorCode::InvalidRedirectUri } else { ErrorCode::InvalidClientMetadata };
            let description = if field.is_empty() { message } else { format!("{field}: {message}") };
            OAuthError::new(code, description)
        }
        AppError::Invalid(description) => OAuthError::invalid_request(description),
        // RFC 7592 §2.1: an unknown client or a bad token is 401 alike.
        AppError::Unauthenticated(description) | AppError::NotFound(description) => {
            OAuthError::new(ErrorCode::InvalidToken, description)
        }
        // RFC 7592 §2.3: the server may refuse a client deleting itself (the last admin).
        AppError::Conflict(description) => OAuthError::new(ErrorCode::AccessDenied, description),
        other => protocol_error(other),
    }
}
