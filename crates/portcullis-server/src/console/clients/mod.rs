//! `/console/clients`: the clients in the console. A list with search,
//! filters, paging and bulk secret regeneration; each client's page with
//! its state and secrets; the settings form with a review of the change
//! before saving ([`edit`]); versions, their comparison and rollback
//! ([`versions`]); and the sandbox ([`sandbox`]). Every page calls the
//! operations the REST API calls, as the signed-in user (`admin:clients`).

pub mod bulk;
pub mod diff;
pub mod edit;
pub mod form;
pub mod german;
pub mod sandbox;
pub mod versions;

use super::session::Frame;
use super::{confirm_deletion, refusal, see_other, signed, Posted};
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::views::{message, render};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{TimeDelta, Utc};
use portcullis_app::clients::{ClientQuery, ClientView};
use portcullis_app::Permission;
use portcullis_core::{GrantType, TokenEndpointAuthMethod};

/// What a page says a client change needs.
pub const WHAT: &str = "Managing clients";
/// Clients a page lists.
const PAGE: usize = 50;

/// `/console/clients/{id}` with the id escaped for a path.
pub fn client_path(client_id: &str) -> String {
    format!("/console/clients/{}", urlencoding(client_id))
}

/// `value` escaped as one path segment (RFC 3986 §3.3).
pub fn urlencoding(value: &str) -> String {
    /// Everything but the unreserved characters.
    const SEGMENT: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(value, SEGMENT).to_string()
}

/// A client as the list shows it.
struct Listed {
    path: String,
    client_id: String,
    name: String,
    method: &'static str,
    uses_secret: bool,
    grants: String,
    disabled: bool,
    locked: bool,
    version: i64,
    updated_at: String,
}

#[derive(Template)]
#[template(path = "console/clients.html")]
struct ListPage {
    frame: Frame,
    search: String,
    state: String,
    grant: String,
    method: String,
    team: String,
    grants: [&'static str; GrantType::ALL.len()],
    methods: [&'static str; 4],
    clients: Vec<Listed>,
    next: Option<String>,
    most: usize,
}

/// `GET /console/clients?q=&state=enabled|disabled&grant=&method=&team=&cursor=`.
pub async fn list(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT);
    let params = Posted::query(&req);
    let (search, state) = (params.text("q"), params.text("state"));
    let (grant, method, team) = (params.text("grant"), params.text("method"), params.text("team"));
    let query = ClientQuery {
        grant_type: GrantType::named(&grant),
        auth_method: TokenEndpointAuthMethod::named(&method),
        name: (!search.is_empty()).then(|| search.clone()),
        disabled: match state.as_str() {
            "enabled" => Some(false),
            "disabled" => Some(true),
            _ => None,
        },
        after: params.get("cursor").map(str::to_owned),
        team: (!team.is_empty()).then(|| team.clone()),
        limit: PAGE,
    };
    let actor = signed.actor(&req, &ctx);
    let page = match ctx.run(move |app| Ok(app.clients(&actor, &query))).await? {
        Ok(page) => page,
        Err(refusal) => return super::refused(WHAT, refusal),
    };
    let now = ctx.app.now();
    let clients = page
        .clients
        .into_iter()
        .map(|c| Listed {
            path: client_path(&c.client_id),
            locked: c.locked_until.as_deref().is_some_and(|until| is_after(until, now)),
            name: c.metadata.client_name,
            method: c.metadata.token_endpoint_auth_method.as_str(),
            uses_secret: c.metadata.token_endpoint_auth_method.uses_secret(),
            grants: c.metadata.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(", "),
            disabled: c.disabled,
            version: c.version,
            updated_at: c.updated_at,
            client_id: c.client_id,
        })
        .collect();
    let next = page.next_cursor.map(|cursor| {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &search)
            .append_pair("state", &state)
            .append_pair("grant", &grant)
            .append_pair("method", &method)
            .append_pair("team", &team)
            .append_pair("cursor", &cursor)
            .finish()
    });
    let page = ListPage {
        frame: signed.frame("clients"),
        search,
        state,
        grant,
        method,
        team,
        grants: GrantType::ALL.map(GrantType::as_str),
        methods: TokenEndpointAuthMethod::ALL.map(TokenEndpointAuthMethod::as_str),
        clients,
        next,
        most: portcullis_app::client_secrets::MAX_REGENERATED,
    };
    render(StatusCode::OK, &page)
}

/// Whether the RFC 3339 time `at` is after `now`.
pub fn is_after(at: &str, now: chrono::DateTime<Utc>) -> bool {
    chrono::DateTime::parse_from_rfc3339(at).is_ok_and(|at| at > now)
}

#[derive(Template)]
#[template(path = "console/client.html")]
struct ClientPage {
    frame: Frame,
    path: String,
    client: ClientView,
    locked: bool,
    uses_secret: bool,
    reserved: bool,
    error: Option<String>,
}

/// The client `client_id` for `signed`, or the page titled `title` saying
/// why not.
pub async fn found(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    signed: &super::session::Signed,
    client_id: String,
    title: &str,
) -> Result<Result<ClientView, HttpResponse>, PageError> {
    let actor = signed.actor(req, ctx);
    match ctx.run(move |app| Ok(app.client(&actor, &client_id))).await? {
        Ok(client) => Ok(Ok(client)),
        Err(error) => Ok(Err(super::refused(title, error)?)),
    }
}

/// The page of `client_id`, with `error` from a refused action.
async fn client_page(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    client_id: String,
    error: Option<(StatusCode, String)>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT);
    let client = match found(req, ctx, &signed, client_id, "Client").await? {
        Ok(client) => client,
        Err(page) => return Ok(page),
    };
    let now = ctx.app.now();
    let (status, error) = match error {
        Some((status, text)) => (status, Some(text)),
        None => (StatusCode::OK, None),
    };
    let page = ClientPage {
        frame: signed.frame("clients"),
        path: client_path(&client.client_id),
        locked: client.locked_until.as_deref().is_some_and(|until| is_after(until, now)),
        uses_secret: client.metadata.token_endpoint_auth_method.uses_secret(),
        reserved: client.client_id == portcullis_app::console::CONSOLE_CLIENT_ID,
        client,
        error,
    };
    render(status, &page)
}

/// `GET /console/clients/{client_id}`.
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    client_page(&req, &ctx, path.into_inner(), None).await
}

/// `POST /console/clients/{client_id}/state` with `action=disable|enable`.
pub async fn set_state(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT, form);
    let client_id = path.into_inner();
    let disabled = match form.get("action") {
        Some("disable") => true,
        Some("enable") => false,
        _ => return message(StatusCode::BAD_REQUEST, "Client", "The action is disable or enable."),
    };
    let actor = signed.actor(&req, &ctx);
    let id = client_id.clone();
    let done = ctx.run(move |app| Ok(app.set_client_disabled(&actor, &id, disabled))).await?;
    after(&req, &ctx, client_id, done.map(drop)).await
}

/// Back to the client's page after an action, or the page with why it was refused.
async fn after(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    client_id: String,
    done: Result<(), portcullis_app::AppError>,
) -> Result<HttpResponse, PageError> {
    match done {
        Ok(()) => Ok(see_other(&client_path(&client_id))),
        Err(error) => client_page(req, ctx, client_id, Some(refusal(error)?)).await,
    }
}

/// `GET /console/clients/{client_id}/delete`: asks before deleting.
pub async fn confirm_delete(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT);
    let client_id = path.into_inner();
    let text = format!(
        "Delete client {client_id}? Its tokens stop working at once and it cannot sign anyone in again. This cannot be undone."
    );
    confirm_deletion(signed.frame("clients"), "Delete client", &text, &client_path(&client_id))
}

/// `POST /console/clients/{client_id}/delete`.
pub async fn delete(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT, form);
    let client_id = path.into_inner();
    let actor = signed.actor(&req, &ctx);
    let id = client_id.clone();
    match ctx.run(move |app| Ok(app.delete_client(&actor, &id))).await? {
        Ok(()) => Ok(see_other("/console/clients")),
        Err(error) => client_page(&req, &ctx, client_id, Some(refusal(error)?)).await,
    }
}

/// `POST /console/clients/{client_id}/secrets` with `expires_in_days`
/// (empty: never): a new secret, shown once.
pub async fn add_secret(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT, form);
    let client_id = path.into_inner();
    let days = form.text("expires_in_days");
    let expires_at = match days.as_str() {
        "" => None,
        days => match days.parse::<i64>().ok().filter(|d| (1..=3650).contains(d)) {
            Some(days) => Some(ctx.app.now() + TimeDelta::days(days)),
            None => {
                let why =
                    (StatusCode::BAD_REQUEST, "The expiry is a number of days from 1 to 3650.".to_owned());
                return client_page(&req, &ctx, client_id, Some(why)).await;
            }
        },
    };
    let actor = signed.actor(&req, &ctx);
    let id = client_id.clone();
    match ctx.run(move |app| Ok(app.add_client_secret(&actor, &id, expires_at))).await? {
        Ok(added) => {
            let shown = bulk::Shown {
                client_id: client_id.clone(),
                client_name: String::new(),
                secret_id: added.secret_id,
                secret: added.secret,
            };
            bulk::shown_once(signed.frame("clients"), vec![shown], &client_path(&client_id))
        }
        Err(error) => client_page(&req, &ctx, client_id, Some(refusal(error)?)).await,
    }
}

/// `POST /console/clients/{client_id}/secrets/{secret_id}/revoke`.
pub async fn revoke_secret(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT, form);
    let (client_id, secret_id) = path.into_inner();
    let actor = signed.actor(&req, &ctx);
    let id = client_id.clone();
    let done = ctx.run(move |app| Ok(app.revoke_client_secret(&actor, &id, &secret_id))).await?;
    after(&req, &ctx, client_id, done).await
}

/// Mounts the client pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/console/clients").route(web::get().to(list)))
        .service(
            web::resource("/console/clients/new")
                .route(web::get().to(edit::new))
                .route(web::post().to(edit::create)),
        )
        .service(web::resource("/console/clients/regenerate").route(web::post().to(bulk::regenerate)))
        .service(
            web::resource("/console/clients/redirect-uris").route(web::get().to(edit::check_redirect_uris)),
        )
        .service(web::resource("/console/clients/{client_id}").route(web::get().to(show)))
        .service(
            web::resource("/console/clients/{client_id}/edit")
                .route(web::get().to(edit::edit))
                .route(web::post().to(edit::submit)),
        )
        .service(web::resource("/console/clients/{client_id}/state").route(web::post().to(set_state)))
        .service(
            web::resource("/console/clients/{client_id}/delete")
                .route(web::get().to(confirm_delete))
                .route(web::post().to(delete)),
        )
        .service(web::resource("/console/clients/{client_id}/secrets").route(web::post().to(add_secret)))
        .service(
            web::resource("/console/clients/{client_id}/secrets/{secret_id}/revoke")
                .route(web::post().to(revoke_secret)),
        )
        .service(web::resource("/console/clients/{client_id}/versions").route(web::get().to(versions::show)))
        .service(
            web::resource("/console/clients/{client_id}/versions/{version}/rollback")
                .route(web::get().to(versions::confirm_rollback))
                .route(web::post().to(versions::roll_back)),
        )
        .service(
            web::resource("/console/clients/{client_id}/sandbox")
                .route(web::get().to(sandbox::show))
                .route(web::post().to(sandbox::try_request)),
        );
}
