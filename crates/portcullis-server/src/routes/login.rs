//! The login page: `GET` shows the form, `POST` checks the password
//! (argon2id, throttled per account and address) and starts a session.

use crate::authorization::{expired_page, Authorization, RESUME_PATH};
use crate::form::FormParams;
use crate::oauth_response::OAuthFailure;
use crate::pages::PageError;
use crate::pages::{escape, page};
use crate::session_cookie;
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::rate_limits::{address_key, Decision, Limit};
use portcullis_app::sessions::{Interaction, SignIn, SESSION_LIFETIME};
use portcullis_core::{CsrfToken, Password, Username};

/// What a failed login says, whatever failed: nothing tells an unknown user
/// from a wrong password.
const FAILED: &str = "The username or password is incorrect.";

/// `GET /login?interaction=…`.
pub async fn show(req: HttpRequest, flow: web::Data<Authorization>) -> Result<HttpResponse, PageError> {
    let Some(interaction) = flow.interaction_of_page(&req).await? else { return Ok(expired_page()) };
    let Some(csrf) = req.cookie(session_cookie::CSRF).map(|c| CsrfToken::new(c.value().to_owned())) else {
        return Ok(crate::pages::error_page("Cookies must be enabled to sign in."));
    };
    let hint = interaction.request.login_hint.clone().unwrap_or_default();
    Ok(form(&flow, &interaction, &csrf, &hint, None))
}

fn form(
    flow: &Authorization,
    interaction: &Interaction,
    csrf: &CsrfToken,
    username: &str,
    error: Option<&str>,
) -> HttpResponse {
    let client = flow.clients.get(interaction.request.client_id.as_str());
    let presented = client.as_deref().map(|c| crate::pages::client_card(&c.metadata)).unwrap_or_default();
    let client_name = client.map(|c| c.metadata.client_name.clone()).unwrap_or_default();
    let error =
        error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    let body = format!(
        "{presented}<p>Sign in to continue to <strong>{client}</strong>.</p>{error}\
         <form method=\"post\" action=\"/login\">\
         <input type=\"hidden\" name=\"interaction\" value=\"{interaction}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"username\">Username</label>\
         <input id=\"username\" name=\"username\" autocomplete=\"username\" value=\"{username}\" required>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>",
        client = escape(&client_name),
        interaction = escape(interaction.id.expose()),
        csrf = escape(csrf.expose()),
        username = escape(username),
    );
    let status = if error.is_empty() { StatusCode::OK } else { StatusCode::UNAUTHORIZED };
    page(status, "Sign in", &body)
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
    let csrf = CsrfToken::new(form.get("csrf").unwrap_or_default().to_owned());
    let typed = form.get("username").unwrap_or_default().to_owned();
    let Ok(username) = Username::parse(&typed) else {
        return Ok(form_again(&flow, &interaction, &csrf, &typed));
    };
    let source = flow.proxies.client_ip(&req);
    if let Decision::Limited { retry_after } =
        flow.app.rate_limit(Limit::Login, &address_key(source), flow.login_rate_limit)
    {
        let mut refused = throttled();
        refused.headers_mut().insert(header::RETRY_AFTER, retry_after.into());
        return Ok(refused);
    }
    let password = Password::new(form.get("password").unwrap_or_default().to_owned());
    // Counted first, on a connection given back before the password is checked.
    let Some(attempt) = flow.run(move |app| app.begin_sign_in(username, source)).await? else {
        return Ok(throttled());
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
    let token = match signed_in {
        SignIn::SignedIn { token, .. } => token,
        SignIn::Failed => return Ok(form_again(&flow, &interaction, &csrf, &typed)),
    };
    Ok(HttpResponse::SeeOther()
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

/// The page for an attempt refused after too many failures or attempts.
fn throttled() -> HttpResponse {
    page(
        StatusCode::TOO_MANY_REQUESTS,
        "Sign in",
        "<p class=\"error\" role=\"alert\">Too many attempts. Wait a few minutes and try again.</p>",
    )
}

fn form_again(
    flow: &Authorization,
    interaction: &Interaction,
    csrf: &CsrfToken,
    username: &str,
) -> HttpResponse {
    form(flow, interaction, csrf, username, Some(FAILED))
}
