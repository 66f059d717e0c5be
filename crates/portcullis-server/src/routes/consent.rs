//! The consent page: `GET` shows the client's name and the scopes in
//! words; `POST` approves (remembered per user, client and scope) or denies.

use crate::authorization::{expired_page, Authorization};
use crate::form::FormParams;
use crate::oauth_response::OAuthFailure;
use crate::pages::PageError;
use crate::pages::{sign_in_page, ClientCard};
use crate::session_cookie;
use crate::views::Chrome;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::sessions::{Interaction, Session};
use portcullis_core::authorization_request::AuthorizationRequest;
use portcullis_core::{CsrfToken, ErrorCode};
use portcullis_oauth::clients::RegisteredClient;

/// The session the interaction was logged into, when the browser holds it.
pub(crate) async fn logged_in(
    req: &HttpRequest,
    flow: &Authorization,
    interaction: &Interaction,
) -> Result<Option<Session>, PageError> {
    let session = flow.session(req).await?;
    Ok(session.filter(|s| interaction.is_logged_in_with(s)))
}

/// `GET /consent?interaction=…`.
pub async fn show(req: HttpRequest, flow: web::Data<Authorization>) -> Result<HttpResponse, PageError> {
    let chrome = flow.chrome(&req);
    let t = chrome.t;
    let Some(interaction) = flow.interaction_of_page(&req).await? else { return Ok(expired_page(chrome)) };
    let (Some(_), Some(csrf)) = (
        logged_in(&req, &flow, &interaction).await?,
        req.cookie(session_cookie::CSRF).map(|c| CsrfToken::new(c.value().to_owned())),
    ) else {
        return Ok(expired_page(chrome));
    };
    let client = flow.clients.get(interaction.request.client_id.as_str());
    let page = ConsentPage {
        chrome,
        card: ClientCard::of(
            t,
            client.as_deref().map(|c| (c.id.as_str(), &c.metadata)),
            flow.clients.names_document(interaction.request.client_id.as_str()),
        ),
        scopes: interaction
            .request
            .scope
            .iter()
            .map(|scope| (t.scope_in_words(scope), shared(client.as_deref(), Some(scope))))
            .collect(),
        also_shared: also_shared(client.as_deref(), &interaction.request),
        device: interaction.request.device_user_code.as_deref(),
        interaction: interaction.id.expose(),
        csrf: csrf.expose(),
    };
    Ok(sign_in_page(StatusCode::OK, &page))
}

/// The user's claims `client`'s mappings share when `scope` is granted
/// (with any scope, for `None`), named as the client receives them.
fn shared(client: Option<&RegisteredClient>, scope: Option<&str>) -> String {
    let mappings = client.map(|client| client.metadata.claim_mappings.as_slice()).unwrap_or_default();
    let names: Vec<&str> = mappings
        .iter()
        .filter(|mapping| mapping.reads_user() && mapping.scope.as_deref() == scope)
        .map(|mapping| mapping.claim.as_str())
        .collect();
    names.join(", ")
}

/// The user's claims shared whatever the scope: asked for by name with the
/// `claims` parameter (OpenID Connect Core §5.5), and mapped with no scope.
fn also_shared(client: Option<&RegisteredClient>, request: &AuthorizationRequest) -> String {
    let mapped = shared(client, None);
    let asked = request.claims.names().join(", ");
    [asked, mapped].into_iter().filter(|names| !names.is_empty()).collect::<Vec<_>>().join(", ")
}

/// The consent form: the client and the scopes it asks for, in words, each
/// with the user's claims the client's mappings share under it, and those
/// they share under any scope.
#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    chrome: Chrome<'a>,
    card: ClientCard,
    scopes: Vec<(String, String)>,
    also_shared: String,
    /// The user code of the device this consent approves (RFC 8628 §5.4).
    device: Option<&'a str>,
    interaction: &'a str,
    csrf: &'a str,
}

/// `POST /consent`.
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
    let Some(session) = logged_in(&req, &flow, &interaction).await? else { return Ok(expired_page(chrome)) };
    let address = flow.proxies.client_ip(&req);
    match form.get("decision") {
        // RFC 8628 §3.3: a device's grant is decided here, and nothing is redirected.
        Some(decision @ ("approve" | "deny")) if interaction.request.device_user_code.is_some() => {
            let request = interaction.request.clone();
            flow.decide_device(
                request,
                session,
                Some(interaction),
                (decision == "approve", address),
                chrome.t,
            )
            .await
        }
        Some("approve") => {
            let request = interaction.request.clone();
            let (request, session) = flow
                .run(move |app| {
                    // Remembered with what was granted before.
                    app.remember_consent(&session, &request)?;
                    Ok((request, session))
                })
                .await?;
            flow.issue_code(request, session, Some(interaction), chrome.t).await
        }
        Some("deny") => {
            let request = interaction.request.clone();
            flow.run(move |app| app.finish_interaction(&interaction)).await?;
            Ok(flow.refuse(&request, ErrorCode::AccessDenied, "the user denied access"))
        }
        _ => Ok(crate::pages::error_page(chrome, chrome.t.consent_incomplete)),
    }
}
