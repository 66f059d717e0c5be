//! `/login/second-factor`: the step the console asks of every sign-in after
//! the password. A user without a second factor enrols here (a QR code and
//! the key for an authenticator app; the first code confirms it and shows
//! the recovery codes once); an enrolled user types a code or a recovery
//! code. Only users with admin roles get this far: the page is the
//! console's, and a user without a role is told so, not enrolled.

use crate::authorization::{expired_page, Authorization, RESUME_PATH};
use crate::form::FormParams;
use crate::oauth_response::OAuthFailure;
use crate::pages::notice;
use crate::pages::PageError;
use crate::routes::consent::logged_in;
use crate::session_cookie;
use crate::views::{render, Chrome};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::device_cookies::Proof;
use portcullis_app::rate_limits::{address_key, Decision, Limit};
use portcullis_app::second_factor::{FactorState, Verdict};
use portcullis_app::sessions::{Interaction, Session};
use portcullis_core::CsrfToken;
use qrcode::render::svg;
use qrcode::QrCode;

/// An enrolment as the page shows it.
struct EnrolmentView {
    key: String,
    uri: String,
    qr_svg: String,
}

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage<'a> {
    chrome: Chrome<'a>,
    enrolment: Option<EnrolmentView>,
    error: Option<&'a str>,
    interaction: &'a str,
    csrf: &'a str,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage<'a> {
    chrome: Chrome<'a>,
    codes: Vec<String>,
    resume: String,
}

/// The name authenticator apps show for this server: the brand and the issuer's host.
fn issuer_name(flow: &Authorization) -> String {
    let host = url::Url::parse(flow.issuer.as_str()).ok().and_then(|u| u.host_str().map(str::to_owned));
    format!("{} {}", flow.branding.name, host.unwrap_or_default())
}

/// `GET /login/second-factor?interaction=…`.
pub async fn show(req: HttpRequest, flow: web::Data<Authorization>) -> Result<HttpResponse, PageError> {
    let chrome = flow.chrome(&req);
    let Some(interaction) = flow.interaction_of_page(&req).await? else { return Ok(expired_page(chrome)) };
    let (Some(session), Some(csrf)) = (
        logged_in(&req, &flow, &interaction).await?,
        req.cookie(session_cookie::CSRF).map(|c| CsrfToken::new(c.value().to_owned())),
    ) else {
        return Ok(expired_page(chrome));
    };
    form(&flow, chrome, &interaction, &session, &csrf, None, StatusCode::OK).await
}

async fn form(
    flow: &Authorization,
    chrome: Chrome<'_>,
    interaction: &Interaction,
    session: &Session,
    csrf: &CsrfToken,
    error: Option<&str>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let (user_id, issuer) = (session.user_id.clone(), issuer_name(flow));
    let enrolment = flow
        .run(move |app| {
            if app.console_permissions(&user_id)?.is_empty() {
                return Ok(Err(()));
            }
            match app.second_factor_state(&user_id)? {
                FactorState::Enrolled => Ok(Ok(None)),
                FactorState::None | FactorState::Pending => {
                    Ok(Ok(Some(app.start_enrolment(&user_id, &issuer)?)))
                }
            }
        })
        .await?;
    let Ok(enrolment) = enrolment else {
        return Ok(notice(chrome, StatusCode::FORBIDDEN, chrome.t.no_role.0, chrome.t.no_role.1));
    };
    let enrolment = match enrolment {
        Some(enrolment) => {
            let qr = QrCode::new(enrolment.uri.expose().as_bytes()).map_err(PageError::failed)?;
            let svg = qr.render::<svg::Color>().min_dimensions(192, 192).build();
            let qr_svg = svg.split_once("?>").map_or(svg.as_str(), |(_, rest)| rest).to_owned();
            let key = enrolment
                .key
                .expose()
                .as_bytes()
                .chunks(4)
                .map(String::from_utf8_lossy)
                .collect::<Vec<_>>()
                .join(" ");
            Some(EnrolmentView { key, uri: enrolment.uri.expose().to_owned(), qr_svg })
        }
        None => None,
    };
    let page = SecondFactorPage {
        chrome,
        enrolment,
        error,
        interaction: interaction.id.expose(),
        csrf: csrf.expose(),
    };
    render(status, &page)
}

/// `POST /login/second-factor`.
pub async fn submit(
    req: HttpRequest,
    form_params: Result<FormParams, OAuthFailure>,
    flow: web::Data<Authorization>,
) -> Result<HttpResponse, PageError> {
    let (params, interaction) = match flow.posted_interaction(&req, form_params).await? {
        Ok(posted) => posted,
        Err(page) => return Ok(page),
    };
    let chrome = flow.chrome(&req);
    let t = chrome.t;
    let Some(session) = logged_in(&req, &flow, &interaction).await? else { return Ok(expired_page(chrome)) };
    // Codes are guessed from many addresses at most as fast as passwords.
    let source = flow.proxies.client_ip(&req);
    if let Decision::Limited { retry_after } =
        flow.app.rate_limit(Limit::Login, &address_key(source), flow.login_rate_limit)
    {
        return Ok(too_many(
            notice(chrome, StatusCode::TOO_MANY_REQUESTS, t.two_step, t.wait_a_minute),
            retry_after,
        ));
    }
    let csrf = CsrfToken::new(params.get("csrf").unwrap_or_default().to_owned());
    let code = params.get("code").unwrap_or_default().to_owned();
    let user_id = session.user_id.clone();
    let device = req.cookie(session_cookie::DEVICE).map(|c| c.value().to_owned());
    let (session, verdict, device) = flow
        .run(move |app| {
            let verdict = app.verify_second_factor(&user_id, &code, source, device.as_deref())?;
            let passed =
                matches!(verdict, Verdict::Accepted | Verdict::Enrolled(_) | Verdict::Recovered { .. });
            if !passed {
                return Ok((session, verdict, None));
            }
            app.record_second_factor(&session)?;
            let device = app.remember_device(device.as_deref(), &user_id, Proof::SecondFactor)?;
            Ok((session, verdict, device))
        })
        .await?;
    let remembered = device.map(|value| session_cookie::device(value, flow.secure_cookies));
    let resume = format!("{RESUME_PATH}?interaction={}", interaction.id.expose());
    match verdict {
        Verdict::Accepted | Verdict::Recovered { .. } => {
            let mut passed = HttpResponse::SeeOther();
            if let Some(cookie) = remembered {
                passed.cookie(cookie);
            }
            Ok(passed
                .insert_header((header::LOCATION, resume))
                .insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
                .finish())
        }
        Verdict::Enrolled(codes) => {
            let codes = codes.iter().map(|c| c.expose().to_owned()).collect();
            let mut page = render(StatusCode::OK, &RecoveryCodesPage { chrome, codes, resume })?;
            if let Some(cookie) = remembered {
                page.add_cookie(&cookie).map_err(PageError::failed)?;
            }
            Ok(page)
        }
        Verdict::Refused => {
            form(&flow, chrome, &interaction, &session, &csrf, Some(t.wrong_code), StatusCode::UNAUTHORIZED)
                .await
        }
        Verdict::Throttled { retry_after } => Ok(too_many(
            notice(chrome, StatusCode::TOO_MANY_REQUESTS, t.two_step, t.too_many_codes),
            retry_after,
        )),
    }
}

/// `page` telling when to try again (RFC 6585 §4).
fn too_many(mut page: HttpResponse, retry_after: u64) -> HttpResponse {
    page.headers_mut().insert(header::RETRY_AFTER, retry_after.into());
    page
}
