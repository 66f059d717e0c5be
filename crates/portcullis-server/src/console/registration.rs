//! `/console/registration`: the initial access tokens of dynamic client
//! registration (RFC 7591): listed with their policy, state and uses;
//! issued (the value shown once, the policy given as JSON, prefilled with
//! the open-registration policy); revoked after a confirmation. Over the
//! REST API's operations, as the signed-in user (`admin:clients`).

use super::session::Frame;
use super::{refusal, see_other, signed, Confirm, Posted};
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::views::render;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::registration::{InitialAccessTokenRequest, InitialAccessTokenView};
use portcullis_app::{AppError, Permission};
use portcullis_core::RegistrationPolicy;

/// What a page says registration needs.
const WHAT: &str = "Managing dynamic registration";
/// Where the page is.
const PATH: &str = "/console/registration";

#[derive(Template)]
#[template(path = "console/registration.html")]
struct RegistrationPage {
    frame: Frame,
    tokens: Vec<InitialAccessTokenView>,
    description: String,
    policy: String,
    expires_in_days: String,
    max_uses: String,
    issued: Option<(String, String)>,
    error: Option<String>,
}

/// The page: `form` as sent (or the blank form), the token just `issued`
/// (its id and value), or `error` from a refused action.
async fn page(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    form: Option<&Posted>,
    issued: Option<(String, String)>,
    error: Option<(StatusCode, String)>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT);
    let actor = signed.actor(req, ctx);
    let tokens = ctx.run(move |app| app.initial_access_tokens(&actor)).await?;
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, e)| (s, Some(e)));
    let open_policy =
        serde_json::to_string_pretty(&ctx.app.anonymous_registration_policy()).unwrap_or_default();
    let sent = |name: &str| form.map(|f| f.text(name)).unwrap_or_default();
    let page = RegistrationPage {
        frame: signed.frame("registration"),
        tokens,
        description: sent("description"),
        policy: form.map_or(open_policy, |f| f.text("policy")),
        expires_in_days: form.map_or_else(|| "30".to_owned(), |f| f.text("expires_in_days")),
        max_uses: sent("max_uses"),
        issued,
        error,
    };
    render(status, &page)
}

/// `GET /console/registration`.
pub async fn show(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    page(&req, &ctx, None, None, None).await
}

/// The form as an [`InitialAccessTokenRequest`], or what is wrong with it.
fn request(form: &Posted, now: chrono::DateTime<chrono::Utc>) -> Result<InitialAccessTokenRequest, AppError> {
    let number = |name: &str| -> Result<Option<i64>, AppError> {
        let text = form.text(name);
        if text.is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|_| AppError::Invalid(format!("{name}: a whole number")))
    };
    let policy = match form.text("policy") {
        text if text.is_empty() => RegistrationPolicy::default(),
        text => serde_json::from_str(&text).map_err(|e| AppError::Invalid(format!("policy: {e}")))?,
    };
    let expires_at = match number("expires_in_days")? {
        Some(days) if (1..=3650).contains(&days) => {
            Some(portcullis_app::time(now + chrono::TimeDelta::days(days)))
        }
        Some(_) => return Err(AppError::Invalid("expires_in_days: 1 to 3650".into())),
        None => None,
    };
    Ok(InitialAccessTokenRequest {
        description: form.text("description"),
        policy,
        expires_at,
        max_uses: number("max_uses")?,
    })
}

/// `POST /console/registration`: issues a token and shows its value once.
pub async fn issue(
    req: HttpRequest,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT, form);
    let actor = signed.actor(&req, &ctx);
    let now = ctx.app.now();
    let done = match request(&form, now) {
        Ok(request) => ctx.run(move |app| Ok(app.issue_initial_access_token(&actor, request))).await?,
        Err(error) => Err(error),
    };
    match done {
        Ok(issued) => {
            let shown = (issued.token.token_id.clone(), issued.value.expose().to_owned());
            page(&req, &ctx, None, Some(shown), None).await
        }
        Err(error) => page(&req, &ctx, Some(&form), None, Some(refusal(error)?)).await,
    }
}

/// `GET /console/registration/{token_id}/revoke`: the confirmation.
pub async fn confirm(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT);
    let action = format!("{PATH}/{}/revoke", super::clients::urlencoding(&path));
    let text = format!(
        "Initial access token {path} admits no more registrations. The clients it admitted stay; delete them on their pages."
    );
    let page = Confirm {
        frame: signed.frame("registration"),
        title: "Revoke the initial access token",
        text: &text,
        action: &action,
        button: "Revoke",
        back: PATH,
    };
    render(StatusCode::OK, &page)
}

/// `POST /console/registration/{token_id}/revoke`.
pub async fn revoke(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT, form);
    let actor = signed.actor(&req, &ctx);
    let token_id = path.into_inner();
    match ctx.run(move |app| Ok(app.revoke_initial_access_token(&actor, &token_id))).await? {
        Ok(()) => Ok(see_other(PATH)),
        Err(error) => page(&req, &ctx, None, None, Some(refusal(error)?)).await,
    }
}

/// Mounts the pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(PATH).route(web::get().to(show)).route(web::post().to(issue))).service(
        web::resource(format!("{PATH}/{{token_id}}/revoke"))
            .route(web::get().to(confirm))
            .route(web::post().to(revoke)),
    );
}
