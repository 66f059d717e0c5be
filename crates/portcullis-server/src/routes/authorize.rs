//! `GET` and `POST /authorize` (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2),
//! and `/authorize/resume`, where the flow continues after login.

use crate::authorization::{expired_page, Authorization};
use crate::form::FormParams;
use crate::oauth_response::OAuthFailure;
use crate::pages::PageError;
use crate::{authorization_response, pages};
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_core::authorization_request::Refusal;
use portcullis_core::OAuthError;

/// `GET /authorize`: the request in the query string.
pub async fn authorize_get(
    req: HttpRequest,
    flow: web::Data<Authorization>,
) -> Result<HttpResponse, PageError> {
    authorize(&req, FormParams::parse(req.query_string().as_bytes()), &flow).await
}

/// `POST /authorize`: the request as a form (OpenID Connect Core §3.1.2.1).
pub async fn authorize_post(
    req: HttpRequest,
    form: Result<FormParams, OAuthFailure>,
    flow: web::Data<Authorization>,
) -> Result<HttpResponse, PageError> {
    authorize(&req, form.map_err(|failure| failure.0), &flow).await
}

async fn authorize(
    req: &HttpRequest,
    params: Result<FormParams, OAuthError>,
    flow: &Authorization,
) -> Result<HttpResponse, PageError> {
    // A repeated or undecodable parameter leaves no trustworthy redirect URI.
    let chrome = flow.chrome(req);
    let params = match params {
        Ok(params) => params,
        Err(error) => return Ok(pages::protocol_error_page(chrome, &error.error_description)),
    };
    let client = match params.get("client_id") {
        Some(id) => flow.clients.find(id).await?.filter(|c| c.disabled_at.is_none()),
        None => None,
    };
    if let Some(client) = &client {
        crate::usage::attribute(req, client.id.as_str());
    }
    let request = match flow.requests.at_authorize(params.0, client.as_deref()).await? {
        Ok(request) => request,
        Err(Refusal::ErrorPage(why)) => return Ok(pages::protocol_error_page(chrome, &why)),
        Err(Refusal::Redirect { redirect_uri, error, state }) => {
            return Ok(authorization_response::error(&redirect_uri, &error, state.as_deref(), &flow.issuer))
        }
    };
    let session = flow.session(req).await?;
    flow.proceed(request, session, None, crate::locale::of(req)).await
}

/// `GET /authorize/resume?interaction=…`: back from the login page.
pub async fn resume(req: HttpRequest, flow: web::Data<Authorization>) -> Result<HttpResponse, PageError> {
    let Some(interaction) = flow.interaction_of_page(&req).await? else {
        return Ok(expired_page(flow.chrome(&req)));
    };
    let session = flow.session(&req).await?;
    flow.proceed(interaction.request.clone(), session, Some(interaction), crate::locale::of(&req)).await
}
