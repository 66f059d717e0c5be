//! `POST /token` (RFC 6749 §3.2): authenticates the client, then hands the
//! request to the module of its grant type.

use crate::client_auth::ClientAuthenticator;
use crate::form::FormParams;
use crate::grants::{authorization_code, client_credentials, refresh_token, TokenSettings};
use crate::mirror::RevocationList;
use crate::oauth_response::{no_store, OAuthFailure};
use crate::KeyRing;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_core::{ErrorCode, OAuthError};
use portcullis_store::Database;

/// Grant types this server issues tokens for, in the order advertised.
pub const GRANT_TYPES: [&str; 3] = ["authorization_code", "client_credentials", "refresh_token"];

/// `POST /token`.
pub async fn token(
    req: HttpRequest,
    form: FormParams,
    auth: web::Data<ClientAuthenticator>,
    settings: web::Data<TokenSettings>,
    keys: web::Data<KeyRing>,
    db: web::Data<Database>,
    revocations: web::Data<RevocationList>,
) -> Result<HttpResponse, OAuthFailure> {
    let grant_type = form.require("grant_type")?;
    let client = auth.authenticate(&req, &form).await?;
    let response = match grant_type {
        "client_credentials" => client_credentials::issue(&client, &form, &settings, &keys)?,
        "authorization_code" => {
            authorization_code::issue(&client, &form, &settings, &keys, &db, &revocations).await?
        }
        "refresh_token" => refresh_token::issue(&client, &form, &settings, &keys, &db, &revocations).await?,
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
