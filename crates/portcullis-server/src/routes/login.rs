//! The login page: `GET` shows the form, `POST` checks the password
//! (argon2id, throttled per account and address) and starts a session.

use crate::authorization::{expired_page, Authorization, RESUME_PATH};
use crate::form::FormParams;
use crate::oauth_response::OAuthFailure;
use crate::pages::PageError;
use crate::pages::{sign_in_page, ClientCard};
use crate::session_cookie;
use crate::views::Chrome;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::rate_limits::{address_key, Decision, Limit};
use portcullis_app::sessions::{Interaction, SignIn, SESSION_LIFETIME};
use portcullis_core::{CsrfToken, Password, Username};

/// `GET /login?interaction=…`.
pub async fn show(req: HttpRequest, flow: web::Data<Authorization>) -> Result<HttpResponse, PageError> {
    let chrome = flow.chrome(&req);
    let Some(interaction) = flow.interaction_of_page(&req).await? else { return Ok(expired_page(chrome)) };
    let Some(csrf) = req.cookie(session_cookie::CSRF).map(|c| CsrfToken::new(c.value().to_owned())) else {
        return Ok(crate::pages::error_page(chrome, chrome.t.cookies_needed));
    };
    let hint = interaction.request.login_hint.clone().unwrap_or_default();
    Ok(form(&flow, chrome, &interaction, &csrf, &hint, None))
}

/// The login form.
#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    chrome: Chrome<'a>,
    card: ClientCard,
    interaction: &'a str,
    csrf: &'a str,
    username: &'a str,
    error: Option<&'a str>,
}

fn form(
    flow: &Authorization,
    chrome: Chrome<'_>,
    interaction: &Interaction,
    csrf: &CsrfToken,
    username: &str,
    error: Option<&str>,
) -> HttpResponse {
    let client = flow.clients.get(interaction.request.client_id.as_str());
    let card = ClientCard::of(
        chrome.t,
        client.as_deref().map(|c| (c.id.as_str(), &c.metadata)),
        flow.clients.names_document(interaction.request.client_id.as_str()),
    );
    let status = if error.is_none() { StatusCode::OK } else { StatusCode::UNAUTHORIZED };
    let page = LoginPage {
        chrome,
        card,
        interaction: interaction.id.expose(),
        csrf: csrf.expose(),
        username,
        error,
    };
    sign_in_page(status, &page)
}

/// `POST /login`.
pub async fn submit(
    req: HttpRequest,
    form: Result<FormParams, OAuthFailure>,
    flow: web::Data<Authorization>,
) -> Result<HttpResponse, PageError> {
    let (form, interaction) = match flow.posted_interaction(&req, form).await? {
        Ok(posted) => posted,
        Err(page) => return Ok(page),
    };
    let chrome = flow.chrome(&req);
    let csrf = CsrfToken::new(form.get("csrf").unwrap_or_default().to_owned());
    let typed = form.get("username").unwrap_or_default().to_owned();
    let Ok(username) = Username::parse(&typed) else {
        return Ok(form_again(&flow, chrome, &interaction, &csrf, &typed));
    };
    let source = flow.proxies.client_ip(&req);
    if let Decision::Limited { retry_after } =
        flow.app.rate_limit(Limit::Login, &address_key(source), flow.login_rate_limit)
    {
        return Ok(throttled(chrome, retry_after));
    }
    let password = Password::new(form.get("password").unwrap_or_default().to_owned());
    let device = req.cookie(session_cookie::DEVICE).map(|c| c.value().to_owned());
    // Counted first, on a connection given back before the password is checked.
    let begun = flow.run(move |app| app.begin_sign_in(username, source, device.as_deref())).await?;
    let attempt = match begun {
        Ok(attempt) => attempt,
        Err(refused) => return Ok(throttled(chrome, refused.retry_after)),
    };
    // argon2 runs on the blocking pool, never on an async worker, and holds no connection.
    let (attempt, verified) = web::block(move || {
        let verified = attempt.verify(&password);
        (attempt, verified)
    })
    .await
    .map_err(PageError::failed)?;
    let (interaction, signed_in) = flow
        .run(move |app| {
            let signed_in = app.finish_sign_in(attempt, verified, &interaction)?;
            Ok((interaction, signed_in))
        })
        .await?;
    let (token, device) = match signed_in {
        SignIn::SignedIn { token, device, .. } => (token, device),
        SignIn::Failed => return Ok(form_again(&flow, chrome, &interaction, &csrf, &typed)),
    };
    let mut signed_in = HttpResponse::SeeOther();
    if let Some(device) = device {
        signed_in.cookie(session_cookie::device(device, flow.secure_cookies));
    }
    Ok(signed_in
        .insert_header((header::LOCATION, format!("{RESUME_PATH}?interaction={}", interaction.id.expose())))
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .cookie(session_cookie::cookie(
            session_cookie::SESSION,
            token.expose().to_owned(),
            flow.secure_cookies,
            SESSION_LIFETIME,
        ))
        .finish())
}

/// The page for an attempt refused after too many failures or attempts,
/// with when to try again (RFC 6585 §4).
fn throttled(chrome: Chrome<'_>, retry_after: u64) -> HttpResponse {
    let mut refused = crate::pages::notice(
        chrome,
        StatusCode::TOO_MANY_REQUESTS,
        chrome.t.sign_in,
        chrome.t.too_many_attempts,
    );
    refused.headers_mut().insert(header::RETRY_AFTER, retry_after.into());
    refused
}

/// The form again after a failed login, which says the same whatever
/// failed: nothing tells an unknown user from a wrong password.
fn form_again(
    flow: &Authorization,
    chrome: Chrome<'_>,
    interaction: &Interaction,
    csrf: &CsrfToken,
    username: &str,
) -> HttpResponse {
    form(flow, chrome, interaction, csrf, username, Some(chrome.t.wrong_password))
}
