//! `POST /device_authorization` (RFC 8628 §3.1): a device's client, authenticated
//! as at the token endpoint (a public client by its `client_id`), gets a
//! device code to poll with and a user code for its user.

use crate::client_authentication::HttpClientAuthenticator;
use crate::form::FormParams;
use crate::oauth_response::{no_store, OAuthFailure};
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::App;
use portcullis_oauth::device_authorization::DeviceAuthorizations;
use portcullis_oauth::grants::TokenSettings;

/// `POST /device_authorization`.
pub async fn authorize(
    req: HttpRequest,
    form: FormParams,
    auth: web::Data<HttpClientAuthenticator>,
    devices: web::Data<DeviceAuthorizations>,
    (settings, app): (web::Data<TokenSettings>, web::Data<App>),
) -> Result<HttpResponse, OAuthFailure> {
    let client = auth.authenticate(&req, &form).await?;
    // Counted as token requests: each one writes a grant.
    auth.within_rate_limit(&req, &client, settings.token_rate_limit, &app)?;
    let codes = devices.authorize(&client, &form, auth.client_ip(&req)).await?;
    // §3.2: 200 with the codes, never cached.
    let mut ok = HttpResponse::Ok();
    no_store(&mut ok);
    Ok(ok.json(codes))
}
