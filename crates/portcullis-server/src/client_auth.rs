//! Client authentication at the token endpoint and its siblings (RFC 6749
//! §2.3): `client_secret_basic`, `client_secret_post`, or none for public
//! clients. A client may use only the method it registered.

use crate::clients::{ClientRegistry, RegisteredClient};
use crate::form::FormParams;
use actix_web::http::header;
use actix_web::HttpRequest;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::Utc;
use portcullis_core::{ClientSecret, OAuthError, TokenEndpointAuthMethod};
use std::sync::Arc;

/// The authentication methods that work, as advertised in discovery.
pub const METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// Authenticates the client of a request, or answers `invalid_client`
/// (401) without saying which part was wrong.
pub fn authenticate(
    req: &HttpRequest,
    form: &FormParams,
    registry: &ClientRegistry,
) -> Result<Arc<RegisteredClient>, OAuthError> {
    let basic = basic_credentials(req)?;
    let post_secret = form.get("client_secret");
    let assertion = form.get("client_assertion").or(form.get("client_assertion_type"));
    // RFC 6749 §2.3: a client must not use more than one method in a request.
    if [basic.is_some(), post_secret.is_some(), assertion.is_some()].into_iter().filter(|used| *used).count()
        > 1
    {
        return Err(OAuthError::invalid_request(
            "more than one client authentication method was used (RFC 6749 §2.3)",
        ));
    }
    let (client_id, method, secret) = match (basic, post_secret, assertion) {
        (Some((client_id, secret)), _, _) => {
            if form.get("client_id").is_some_and(|form_id| form_id != client_id) {
                return Err(OAuthError::invalid_request(
                    "client_id differs from the one in the Authorization header",
                ));
            }
            (client_id, TokenEndpointAuthMethod::ClientSecretBasic, Some(secret))
        }
        (None, Some(secret), _) => {
            let client_id = form.get("client_id").ok_or_else(OAuthError::invalid_client)?;
            (
                client_id.to_owned(),
                TokenEndpointAuthMethod::ClientSecretPost,
                Some(ClientSecret::new(secret.to_owned())),
            )
        }
        (None, None, Some(_)) => {
            return Err(OAuthError::new(
                portcullis_core::ErrorCode::InvalidClient,
                "private_key_jwt client authentication is not supported yet",
            ))
        }
        (None, None, None) => {
            let client_id = form.get("client_id").ok_or_else(OAuthError::invalid_client)?;
            (client_id.to_owned(), TokenEndpointAuthMethod::None, None)
        }
    };
    let client = registry.get(&client_id).filter(|client| {
        client.disabled_at.is_none()
            && client.metadata.token_endpoint_auth_method == method
            && secret.as_ref().is_none_or(|secret| client.verify_secret(secret, Utc::now()))
    });
    match client {
        Some(client) => Ok(client),
        None => {
            tracing::info!(client_id = %client_id, method = method.as_str(), "client authentication failed");
            Err(OAuthError::invalid_client())
        }
    }
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
