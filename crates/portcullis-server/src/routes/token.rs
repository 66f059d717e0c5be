//! `POST /token` (RFC 6749 §3.2): authenticates the client, then hands the
//! request to the module of its grant type.

use crate::client_auth::ClientAuthenticator;
use crate::form::FormParams;
use crate::grants::{client_credentials, TokenSettings};
use crate::oauth_response::{no_store, OAuthFailure};
use crate::KeyRing;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_core::{ErrorCode, OAuthError};

/// Grant types this server issues tokens for, in the order advertised.
pub const GRANT_TYPES: [&str; 1] = ["client_credentials"];

/// `POST /token`.
pub async fn token(
    req: HttpRequest,
    form: FormParams,
    auth: web::Data<ClientAuthenticator>,
    settings: web::Data<TokenSettings>,
    keys: web::Data<KeyRing>,
) -> Result<HttpResponse, OAuthFailure> {
    let grant_type = form.require("grant_type")?;
    let client = auth.authenticate(&req, &form).await?;
    let response = match grant_type {
        "client_credentials" => client_credentials::issue(&client, &form, &settings, &keys)?,
        other => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                format!("grant_type `{other}` is not supported"),
            )
            .into())
        }
    };
    let mut ok = HttpResponse::Ok();
    no_store(&mut ok);
    Ok(ok.json(response))
}
