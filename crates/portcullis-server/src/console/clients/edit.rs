//! The client form: creating a client, and changing one in two steps. The
//! form posts to a review that shows the change as a diff (checked as
//! saving would check it, nothing written); saving then writes the
//! reviewed draft, based on the version the form was opened at. A version
//! saved by someone else in between is explained and the draft reviewed
//! again against it: nothing typed is lost.

use super::super::session::{Frame, Signed};
use super::super::{refusal, see_other, signed, Posted};
use super::diff::{rebase, rows, Row};
use super::form::{configuration, shown, ShownGroup, Words};
use super::{bulk, client_path, found, WHAT};
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::views::{message, render};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::clients::{draft as draft_of, CheckedChange, ClientChange, ClientView};
use portcullis_app::{Actor, App, AppError, Permission};
use portcullis_core::ClientMetadata;
use serde_json::{json, Map, Value};

#[derive(Template)]
#[template(path = "console/client_form.html")]
struct FormPage {
    frame: Frame,
    title: String,
    action: String,
    back: String,
    groups: Vec<ShownGroup>,
    based_on: Option<i64>,
    problems: Vec<String>,
    check_uris: &'static str,
}

#[derive(Template)]
#[template(path = "console/client_review.html")]
struct ReviewPage {
    frame: Frame,
    path: String,
    rows: Vec<Row>,
    draft: String,
    based_on: i64,
    stale: Option<String>,
}

/// `metadata` as the JSON object the form and the diff read.
pub fn as_object(metadata: &ClientMetadata) -> Map<String, Value> {
    match serde_json::to_value(metadata) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// The form for `configuration`, answered with `status` and `problems`.
fn form_page(
    frame: Frame,
    client: Option<&ClientView>,
    configuration: &Map<String, Value>,
    based_on: Option<i64>,
    (status, problems): (StatusCode, Vec<String>),
) -> Result<HttpResponse, PageError> {
    let (title, action, back) = match client {
        Some(c) => {
            let path = client_path(&c.client_id);
            (format!("Edit {}", c.metadata.client_name), format!("{path}/edit"), path)
        }
        None => ("New client".to_owned(), "/console/clients/new".to_owned(), "/console/clients".to_owned()),
    };
    let check_uris = "/console/clients/redirect-uris";
    let page = FormPage {
        frame,
        title,
        action,
        back,
        groups: shown(configuration, Words::English),
        based_on,
        problems,
        check_uris,
    };
    render(status, &page)
}

/// `GET /console/clients/new`: the form with a new client's defaults.
pub async fn new(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT);
    let defaults: ClientMetadata = serde_json::from_value(json!({
        "client_name": "",
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "client_secret_basic",
        "scope": "openid",
    }))
    .map_err(PageError::failed)?;
    form_page(signed.frame("clients"), None, &as_object(&defaults), None, (StatusCode::OK, Vec::new()))
}

/// `POST /console/clients/new`: registers the client; its first secret is
/// shown once.
pub async fn create(
    req: HttpRequest,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT, form);
    let (configuration, problems) = configuration(Map::new(), &form, Words::English);
    if !problems.is_empty() {
        return form_page(
            signed.frame("clients"),
            None,
            &configuration,
            None,
            (StatusCode::BAD_REQUEST, problems),
        );
    }
    let actor = signed.actor(&req, &ctx);
    let draft = configuration.clone();
    match ctx.run(move |app| Ok(app.create_client(&actor, draft_of(draft, None)))).await? {
        Ok(created) => {
            let path = client_path(&created.client.client_id);
            match created.secret {
                Some(secret) => {
                    let shown = bulk::Shown {
                        client_id: created.client.client_id,
                        client_name: created.client.metadata.client_name,
                        secret_id: created
                            .client
                            .secrets
                            .first()
                            .map(|s| s.secret_id.clone())
                            .unwrap_or_default(),
                        secret,
                    };
                    bulk::shown_once(signed.frame("clients"), vec![shown], &path)
                }
                None => Ok(see_other(&path)),
            }
        }
        Err(error) => {
            let (status, text) = refusal(error)?;
            form_page(signed.frame("clients"), None, &configuration, None, (status, vec![text]))
        }
    }
}

/// `GET /console/clients/{client_id}/edit`: the form, filled.
pub async fn edit(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT);
    let current = match found(&req, &ctx, &signed, path.into_inner(), "Client").await? {
        Ok(client) => client,
        Err(page) => return Ok(page),
    };
    let configuration = as_object(&current.metadata);
    let version = Some(current.version);
    form_page(signed.frame("clients"), Some(&current), &configuration, version, (StatusCode::OK, Vec::new()))
}

/// `POST /console/clients/{client_id}/edit`: `step=review` from the form,
/// `step=edit` back to the form with the draft, `step=save` to write it.
pub async fn submit(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT, form);
    let current = match found(&req, &ctx, &signed, path.into_inner(), "Client").await? {
        Ok(client) => client,
        Err(page) => return Ok(page),
    };
    // The version the form showed: never the current one by default, or a
    // change made meanwhile would be overwritten unseen.
    let Some(based_on) = form.get("based_on").and_then(|v| v.parse::<i64>().ok()) else {
        return message(
            StatusCode::BAD_REQUEST,
            "Edit client",
            "The form does not say which version it showed.",
        );
    };
    let frame = signed.frame("clients");
    let draft = match form.get("draft") {
        Some(draft) => match serde_json::from_str::<Map<String, Value>>(draft) {
            Ok(draft) => draft,
            Err(_) => return message(StatusCode::BAD_REQUEST, "Edit client", "The draft could not be read."),
        },
        None => {
            let (draft, problems) = configuration(as_object(&current.metadata), &form, Words::English);
            if !problems.is_empty() {
                return form_page(
                    frame,
                    Some(&current),
                    &draft,
                    Some(based_on),
                    (StatusCode::BAD_REQUEST, problems),
                );
            }
            draft
        }
    };
    match form.get("step") {
        Some("edit") => {
            form_page(frame, Some(&current), &draft, Some(based_on), (StatusCode::OK, Vec::new()))
        }
        Some("save") => save(&req, &ctx, &signed, current, draft, based_on).await,
        _ => review(&req, &ctx, &signed, current, draft, based_on).await,
    }
}

/// A draft reviewed against its client's current version.
pub struct Reviewed {
    /// The draft as saving takes it: rebased on the current version.
    pub draft: Map<String, Value>,
    /// What saving it would write, and the scopes it would leave waiting.
    pub checked: CheckedChange,
    /// The labels of the members both the draft and a version saved since
    /// its form was opened change, differently.
    pub overlaps: Vec<String>,
}

/// `draft` (made from version `based_on`) checked as saving it over
/// `current` would be, nothing written. When someone saved since
/// `based_on`, the draft's changes are applied to their version instead,
/// and the members both changed are named in `words`.
pub fn reviewed(
    (app, actor): (&App, &Actor),
    current: &ClientView,
    draft: Map<String, Value>,
    based_on: i64,
    words: Words,
) -> Result<Reviewed, AppError> {
    let client_id = current.client_id.as_str();
    let (draft, overlaps) = if based_on != current.version {
        let base = app.client_version(actor, client_id, based_on)?.metadata;
        let base = base.as_ref().map(as_object).unwrap_or_default();
        rebase([&base, &draft, &as_object(&current.metadata)], words)
    } else {
        (draft, Vec::new())
    };
    let checked = app.check_client_change(actor, client_id, draft_of(draft.clone(), Some(client_id)))?;
    Ok(Reviewed { draft, checked, overlaps })
}

/// The review of `draft` (made from version `based_on`) against `current`
/// ([`reviewed`]).
async fn review(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    signed: &Signed,
    current: ClientView,
    draft: Map<String, Value>,
    based_on: i64,
) -> Result<HttpResponse, PageError> {
    let actor = signed.actor(req, ctx);
    let (shown, checked) = (current.clone(), draft.clone());
    let stale = based_on != current.version;
    let checked =
        ctx.run(move |app| Ok(reviewed((app, &actor), &shown, checked, based_on, Words::English))).await?;
    let Reviewed { checked: CheckedChange { metadata, .. }, overlaps, .. } = match checked {
        Ok(checked) => checked,
        Err(error) => {
            let (status, text) = refusal(error)?;
            return form_page(
                signed.frame("clients"),
                Some(&current),
                &draft,
                Some(based_on),
                (status, vec![text]),
            );
        }
    };
    let stale = stale.then(|| {
        let mut text = format!(
            "Someone saved version {} of this client after you opened the form at version {based_on}. \
             Your changes are applied to their version below; nothing was saved yet.",
            current.version
        );
        if !overlaps.is_empty() {
            text += &format!(
                " You both changed {}: yours would replace theirs. Compare the versions before you save.",
                overlaps.join(", ")
            );
        }
        text
    });
    let new = as_object(&metadata);
    let page = ReviewPage {
        frame: signed.frame("clients"),
        path: client_path(&current.client_id),
        rows: rows(&as_object(&current.metadata), &new, true, Words::English),
        draft: Value::Object(new).to_string(),
        based_on: current.version,
        stale,
    };
    render(if page.stale.is_some() { StatusCode::CONFLICT } else { StatusCode::OK }, &page)
}

/// Writes the reviewed `draft` as the version after `based_on`.
async fn save(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    signed: &Signed,
    current: ClientView,
    draft: Map<String, Value>,
    based_on: i64,
) -> Result<HttpResponse, PageError> {
    match write(ctx, signed.actor(req, ctx), &current, draft.clone(), based_on).await? {
        Written::Saved(client) => Ok(see_other(&client_path(&client.client_id))),
        Written::Stale => review(req, ctx, signed, current, draft, based_on).await,
        Written::Refused(error) => {
            let (status, text) = refusal(error)?;
            form_page(signed.frame("clients"), Some(&current), &draft, Some(based_on), (status, vec![text]))
        }
    }
}

/// How writing a reviewed draft went.
pub enum Written {
    /// Saved: the client as it now is.
    Saved(Box<ClientView>),
    /// Someone else saved since the version the draft was based on: the
    /// draft is to be reviewed again against theirs.
    Stale,
    /// Refused, and why.
    Refused(AppError),
}

/// Writes the reviewed `draft` of `current`, made from version `based_on`,
/// as `actor`: the version after it.
pub async fn write(
    ctx: &ConsoleContext,
    actor: Actor,
    current: &ClientView,
    draft: Map<String, Value>,
    based_on: i64,
) -> Result<Written, PageError> {
    let client_id = current.client_id.clone();
    let saved = ctx
        .run(move |app| {
            let change = ClientChange::Replace(draft_of(draft, Some(&client_id)));
            Ok(app.update_client(&actor, &client_id, Some(based_on), change))
        })
        .await?;
    Ok(match saved {
        Ok(client) => Written::Saved(Box::new(client)),
        Err(AppError::Conflict(_)) if based_on != current.version => Written::Stale,
        Err(error) => Written::Refused(error),
    })
}

/// `GET /console/clients/redirect-uris?application_type=&uris=`: each
/// line's problem as saving would report it, for the form's script to
/// show as the admin types: `{"problems": ["line 2: …"]}`.
pub async fn check_redirect_uris(
    req: HttpRequest,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT);
    let params = Posted::query(&req);
    let application_type = params.text("application_type");
    let lines: Vec<String> =
        params.get("uris").unwrap_or_default().lines().take(100).map(str::to_owned).collect();
    let actor = signed.actor(&req, &ctx);
    let problems = ctx
        .run(move |app| {
            let mut problems = Vec::new();
            for (n, line) in lines.iter().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let mut probe = json!({
                    "client_name": "check",
                    "grant_types": ["authorization_code"],
                    "token_endpoint_auth_method": "none",
                    "redirect_uris": [line.trim()],
                });
                if !application_type.is_empty() {
                    probe["application_type"] = Value::String(application_type.clone());
                }
                let Value::Object(probe) = probe else { continue };
                match app.check_client_draft(&actor, draft_of(probe, None)) {
                    Err(AppError::InvalidMetadata { field, message })
                        if field.starts_with("redirect_uris") =>
                    {
                        problems.push(format!("line {}: {message}", n + 1));
                    }
                    Err(error @ AppError::Forbidden(_)) => return Err(error),
                    _ => {}
                }
            }
            Ok(problems)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(actix_web::http::header::CacheControl(vec![
            actix_web::http::header::CacheDirective::NoStore,
        ]))
        .json(json!({ "problems": problems })))
}
