//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): `GET` and
//! `POST /logout` end the user's session here. The logout happens at once
//! only with a valid `id_token_hint` naming the user (`sub`) and session
//! (`sid`) of this browser; otherwise the user confirms it (§2), so that a
//! third-party page cannot log them out, even with some ID token of this
//! server. The user is sent back only to a `post_logout_redirect_uri`
//! registered for the client, exactly (§3.1).

use crate::authorization::Authorization;
use crate::form::FormParams;
use crate::oauth_response::OAuthFailure;
use crate::pages::PageError;
use crate::pages::{notice, protocol_error_page, sign_in_page};
use crate::views::Chrome;
use crate::{authorization_response, secrets, session_cookie, KeyRing};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_core::{CsrfToken, OAuthError};
use portcullis_oauth::authorize::hinted_user;
use std::time::Duration;

/// `GET /logout`.
pub async fn get(
    req: HttpRequest,
    flow: web::Data<Authorization>,
    keys: web::Data<KeyRing>,
) -> Result<HttpResponse, PageError> {
    logout(&req, FormParams::parse(req.query_string().as_bytes()), false, &flow, &keys).await
}

/// `POST /logout`: a logout request sent as a form, or the user's confirmation.
pub async fn post(
    req: HttpRequest,
    form: Result<FormParams, OAuthFailure>,
    flow: web::Data<Authorization>,
    keys: web::Data<KeyRing>,
) -> Result<HttpResponse, PageError> {
    logout(&req, form.map_err(|failure| failure.0), true, &flow, &keys).await
}

async fn logout(
    req: &HttpRequest,
    params: Result<FormParams, OAuthError>,
    posted: bool,
    flow: &Authorization,
    keys: &KeyRing,
) -> Result<HttpResponse, PageError> {
    let chrome = flow.chrome(req);
    let params = match params {
        Ok(params) => params,
        Err(error) => return Ok(protocol_error_page(chrome, &error.error_description)),
    };
    let hint = match params.get("id_token_hint") {
        None => None,
        // An expired ID token is still a fine hint; a foreign one is not.
        Some(token) => match keys.current().id_token_hint(token, &flow.issuer) {
            Some(claims) => Some(claims),
            None => {
                return Ok(protocol_error_page(chrome, "The id_token_hint was not issued by this server."))
            }
        },
    };
    let client_id = match (hint.as_ref().map(|claims| claims.aud.as_str()), params.get("client_id")) {
        (Some(from_hint), Some(given)) if from_hint != given => {
            return Ok(protocol_error_page(chrome, "The client_id does not match the id_token_hint."))
        }
        (from_hint, given) => from_hint.or(given).map(str::to_owned),
    };
    let redirect = match params.get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let registered = client_id.as_deref().and_then(|id| flow.clients.get(id)).is_some_and(|client| {
                client.metadata.post_logout_redirect_uris.iter().any(|registered| registered.as_str() == uri)
            });
            if !registered {
                return Ok(protocol_error_page(
                    chrome,
                    "The post_logout_redirect_uri is not registered for this client.",
                ));
            }
            Some(uri.to_owned())
        }
    };
    let state = params.get("state");
    let confirmed = posted && confirmation_matches(req, &params);
    let session = flow.session(req).await?;
    // §2: the hint must name the End-User of this very session (through
    // its client's sector, for a pairwise client).
    let hint_names_session = hint.as_ref().is_some_and(|claims| {
        let user = hinted_user(&flow.clients, keys, claims);
        session.as_ref().is_none_or(|session| {
            user.as_deref() == Some(session.user_id.as_str())
                && claims.sid.as_ref().is_none_or(|sid| *sid == session.session_id)
        })
    });
    if !hint_names_session && !confirmed {
        return Ok(confirmation(flow, chrome, client_id.as_deref(), redirect.as_deref(), state));
    }
    if let Some(session) = session {
        flow.run(move |app| app.end_session(&session)).await?;
    }
    let mut response = match &redirect {
        Some(uri) => {
            authorization_response::redirect_to(uri, &state.map(|s| vec![("state", s)]).unwrap_or_default())
        }
        None => {
            let (title, text) = chrome.t.signed_out;
            notice(chrome, StatusCode::OK, title, text)
        }
    };
    response
        .add_cookie(&session_cookie::removal(session_cookie::SESSION, flow.secure_cookies))
        .map_err(PageError::failed)?;
    Ok(response)
}

/// Whether a posted confirmation carries the CSRF token of this browser.
fn confirmation_matches(req: &HttpRequest, params: &FormParams) -> bool {
    let posted = params.get("csrf").unwrap_or_default();
    let cookie = req.cookie(session_cookie::CSRF).map(|c| c.value().to_owned()).unwrap_or_default();
    params.get("confirm") == Some("yes")
        && !posted.is_empty()
        && secrets::matches_any(posted, [secrets::hash(&cookie).as_slice()])
}

/// The confirmation's form, carrying the request's parameters on.
#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage<'a> {
    chrome: Chrome<'a>,
    carried: Vec<(&'static str, &'a str)>,
    csrf: &'a str,
}

/// Asks the user to confirm, carrying the request on in the form.
fn confirmation(
    flow: &Authorization,
    chrome: Chrome<'_>,
    client_id: Option<&str>,
    redirect: Option<&str>,
    state: Option<&str>,
) -> HttpResponse {
    let csrf = CsrfToken::new(secrets::random_token());
    let carried = [("client_id", client_id), ("post_logout_redirect_uri", redirect), ("state", state)]
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name, value)))
        .collect();
    let page = LogoutPage { chrome, carried, csrf: csrf.expose() };
    let mut response = sign_in_page(StatusCode::OK, &page);
    let cookie = session_cookie::cookie(
        session_cookie::CSRF,
        csrf.expose().to_owned(),
        flow.secure_cookies,
        Duration::from_secs(600),
    );
    if let Err(e) = response.add_cookie(&cookie) {
        tracing::error!(error = %e, "a generated cookie could not be set");
    }
    response
}
