//! The device verification page (RFC 8628 §3.3): the user types the code
//! their device shows (or arrives with it filled in from
//! `verification_uri_complete`), then signs in and consents as for any
//! request, the consent page naming the device's code; the decision ends on
//! a page, never a redirect. Typed codes are limited per address (§5.1).

use crate::authorization::Authorization;
use crate::form::FormParams;
use crate::oauth_response::OAuthFailure;
use crate::pages::{sign_in_page, PageError};
use crate::session_cookie;
use crate::views::Chrome;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::rate_limits::{address_key, Decision, Limit};
use portcullis_app::secrets;
use portcullis_oauth::device_authorization::verification_request;
use portcullis_oauth::params::Params;
use std::time::Duration;

/// How long the page's form stays valid.
const FORM_LIFETIME: Duration = Duration::from_secs(30 * 60);

/// The form asking for the device's code.
#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage<'a> {
    chrome: Chrome<'a>,
    csrf: &'a str,
    user_code: &'a str,
    error: bool,
}

/// The form, with `user_code` filled in, a fresh CSRF token in its cookie.
fn form(flow: &Authorization, chrome: Chrome<'_>, user_code: &str, error: bool) -> HttpResponse {
    let csrf = secrets::random_token();
    let status = if error { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let mut page = sign_in_page(status, &DevicePage { chrome, csrf: &csrf, user_code, error });
    let cookie =
        session_cookie::cookie(session_cookie::DEVICE_CSRF, csrf, flow.secure_cookies, FORM_LIFETIME);
    // A cookie that cannot be added leaves a form the POST refuses, nothing worse.
    let _ = page.add_cookie(&cookie);
    page
}

/// `GET /device`: the form, the code filled in from `user_code`.
pub async fn show(req: HttpRequest, flow: web::Data<Authorization>) -> HttpResponse {
    let params = Params::parse(req.query_string().as_bytes()).unwrap_or_default();
    let typed: String = params.get("user_code").unwrap_or_default().chars().take(20).collect();
    form(&flow, flow.chrome(&req), &typed, false)
}

/// `POST /device`: a live code goes on to sign-in and consent; another
/// shows the form again, saying so.
pub async fn submit(
    req: HttpRequest,
    form_params: Result<FormParams, OAuthFailure>,
    flow: web::Data<Authorization>,
) -> Result<HttpResponse, PageError> {
    let chrome = flow.chrome(&req);
    let Ok(posted) = form_params else { return Ok(form(&flow, chrome, "", true)) };
    let cookie = req.cookie(session_cookie::DEVICE_CSRF).map(|c| c.value().to_owned()).unwrap_or_default();
    let csrf = posted.get("csrf").unwrap_or_default();
    if cookie.is_empty() || !secrets::matches_any(csrf, [secrets::hash(&cookie).as_slice()]) {
        let t = chrome.t;
        return Ok(crate::pages::notice(chrome, StatusCode::FORBIDDEN, t.form_expired_title, t.form_expired));
    }
    let typed: String = posted.get("user_code").unwrap_or_default().chars().take(20).collect();
    let source = flow.proxies.client_ip(&req);
    if let Decision::Limited { .. } =
        flow.app.rate_limit(Limit::UserCode, &address_key(source), flow.user_code_rate_limit)
    {
        return Ok(crate::pages::notice(
            chrome,
            StatusCode::TOO_MANY_REQUESTS,
            chrome.t.device.title,
            chrome.t.wait_a_minute,
        ));
    }
    let code = typed.clone();
    let Some(grant) = flow.run(move |app| app.pending_device_grant(&code)).await? else {
        return Ok(form(&flow, chrome, &typed, true));
    };
    let Some(client) = flow.clients.get(&grant.client_id).filter(|c| c.disabled_at.is_none()) else {
        return Ok(crate::pages::error_page(chrome, chrome.t.client_gone));
    };
    let request = verification_request(&grant, &client, &typed);
    let session = flow.session(&req).await?;
    flow.proceed(request, session, None, chrome.t).await
}
