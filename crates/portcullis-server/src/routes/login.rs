//! The login page: `GET` shows the form, `POST` checks the password
//! (argon2id, throttled per account and address) and starts a session.

use crate::authorization::{expired_page, Authorization, Interaction, RESUME_PATH, SESSION_LIFETIME};
use crate::form::FormParams;
use crate::login_throttle::Attempt;
use crate::oauth_response::OAuthFailure;
use crate::pages::PageError;
use crate::pages::{escape, page};
use crate::{secrets, session_cookie};
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use portcullis_app::failures::{Failure, FailureKind};
use portcullis_app::users;
use portcullis_core::{CsrfToken, Password, Username};
use portcullis_store::users as stored_users;
use std::sync::{Arc, OnceLock};

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
    let client_name = flow
        .clients
        .get(interaction.request.client_id.as_str())
        .map(|c| c.metadata.client_name.clone())
        .unwrap_or_default();
    let error =
        error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    let body = format!(
        "<p>Sign in to continue to <strong>{client}</strong>.</p>{error}\
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

/// A hash to verify against when the user does not exist, so that an
/// unknown username costs as much time as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY
        .get_or_init(|| users::hash_password(&Password::new(secrets::random_token())).expect("argon2 hashes"))
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
    let ip = flow.proxies.client_ip(&req);
    let attempt = Arc::new(Attempt::new(username.as_str(), ip));
    let password = Password::new(form.get("password").unwrap_or_default().to_owned());
    let (name, counted) = (username.as_str().to_owned(), attempt.clone());
    // Counted first, on one connection that is given back before the password is checked.
    let reserved = flow
        .storage(move |conn| {
            let Some(reservation) = counted.reserve(conn, Utc::now())? else { return Ok(None) };
            Ok(Some((reservation, stored_users::find_by_username(conn, &name)?)))
        })
        .await?;
    // Logged under the username only when it is one: a password typed into
    // the username field must not reach the log.
    let shown = |user: Option<&stored_users::UserRecord>| {
        user.map_or_else(|| secrets::identifier_digest(username.as_str()), |u| u.username.clone())
    };
    let failed = |kind, known: Option<&str>, reason| {
        let presented = username.as_str();
        flow.failures.count(&Failure { kind, known, presented, source: ip, reason, at: Utc::now() });
    };
    let Some((reservation, user)) = reserved else {
        tracing::warn!(username = %shown(None), ip = ?ip, "login refused: too many failures");
        failed(FailureKind::LoginThrottled, None, "throttled");
        return Ok(throttled());
    };
    let phc = user.as_ref().map(|u| u.password_hash.clone());
    // argon2 runs on the blocking pool, never on an async worker, and holds no connection.
    let valid = web::block(move || match &phc {
        Some(phc) => users::verify_password(&password, phc),
        None => users::verify_password(&password, decoy_hash()),
    })
    .await
    .map_err(PageError::failed)?;
    let Some(user) = user.as_ref().filter(|u| valid && u.disabled_at.is_none()) else {
        tracing::info!(username = %shown(user.as_ref()), ip = ?ip, "login failed");
        let reason = match &user {
            None => "unknown user",
            Some(_) if !valid => "wrong password",
            Some(_) => "user disabled",
        };
        failed(FailureKind::Login, user.as_ref().map(|u| u.username.as_str()), reason);
        return Ok(form_again(&flow, &interaction, &csrf, &typed));
    };
    flow.storage(move |conn| attempt.succeeded(conn, reservation)).await?;
    // A new session, never one the browser brought (no session fixation).
    let (session, cookie_value) = flow.start_session(&user.user_id).await?;
    let (hash, sid) = (interaction.record.interaction_hash.clone(), session.session_id.clone());
    flow.storage(move |conn| portcullis_store::sessions::attach_session(conn, &hash, &sid)).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("{RESUME_PATH}?interaction={}", interaction.id.expose())))
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .cookie(session_cookie::cookie(
            session_cookie::SESSION,
            cookie_value.expose().to_owned(),
            flow.secure_cookies,
            SESSION_LIFETIME,
        ))
        .finish())
}

/// The page for an attempt refused after too many failures.
fn throttled() -> HttpResponse {
    page(
        StatusCode::TOO_MANY_REQUESTS,
        "Sign in",
        "<p class=\"error\" role=\"alert\">Too many failed attempts. Wait a few minutes and try again.</p>",
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
