//! `/console/user-attributes`: the custom user attribute schema in the
//! console: each attribute's name, type and description listed; defining
//! one (refused input kept); removing one, with its value from every user,
//! after a confirmation. Each user's values are set on the user's page. Over
//! the REST API's operations, as the signed-in user (`admin:users`).

use super::session::Frame;
use super::{refusal, see_other, signed, Confirm, Posted};
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::views::render;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::{AppError, Permission};
use portcullis_core::user_attributes::{AttributeDefinition, AttributeType};

/// What a page says the schema needs.
const WHAT: &str = "Managing users";
/// Where the page is.
const PATH: &str = "/console/user-attributes";

#[derive(Template)]
#[template(path = "console/user_attributes.html")]
struct SchemaPage {
    frame: Frame,
    attributes: Vec<AttributeDefinition>,
    types: [AttributeType; 4],
    name: String,
    kind: String,
    description: String,
    error: Option<String>,
}

/// The page, with the form as sent and `error` from a refused action.
async fn page(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    form: Option<&Posted>,
    error: Option<(StatusCode, String)>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Users, WHAT);
    let actor = signed.actor(req, ctx);
    let attributes = ctx.run(move |app| app.user_attributes(&actor)).await?;
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, e)| (s, Some(e)));
    let sent = |name: &str| form.map(|f| f.text(name)).unwrap_or_default();
    let page = SchemaPage {
        frame: signed.frame("users"),
        attributes,
        types: AttributeType::ALL,
        name: sent("name"),
        kind: sent("type"),
        description: sent("description"),
        error,
    };
    render(status, &page)
}

/// `GET /console/user-attributes`.
pub async fn show(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    page(&req, &ctx, None, None).await
}

/// `POST /console/user-attributes` with `name`, `type`, `description`.
pub async fn define(
    req: HttpRequest,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Users, WHAT, form);
    let actor = signed.actor(&req, &ctx);
    let definition = AttributeType::named(&form.text("type"))
        .map(|kind| AttributeDefinition {
            name: form.text("name"),
            kind,
            description: form.text("description"),
        })
        .ok_or_else(|| AppError::Invalid("type: string, number, boolean or strings".into()));
    let done = match definition {
        Ok(definition) => ctx.run(move |app| Ok(app.define_user_attribute(&actor, definition))).await?,
        Err(error) => Err(error),
    };
    match done {
        Ok(_) => Ok(see_other(PATH)),
        Err(error) => page(&req, &ctx, Some(&form), Some(refusal(error)?)).await,
    }
}

/// `GET /console/user-attributes/{name}/remove`: the confirmation.
pub async fn confirm(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Users, WHAT);
    let action = format!("{PATH}/{}/remove", super::clients::urlencoding(&path));
    let text = format!("Attribute {path} leaves the schema, and its value leaves every user that holds one. This cannot be undone.");
    let page = Confirm {
        frame: signed.frame("users"),
        title: "Remove the attribute",
        text: &text,
        action: &action,
        button: "Remove",
        back: PATH,
    };
    render(StatusCode::OK, &page)
}

/// `POST /console/user-attributes/{name}/remove`.
pub async fn remove(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Users, WHAT, form);
    let actor = signed.actor(&req, &ctx);
    let name = path.into_inner();
    match ctx.run(move |app| Ok(app.remove_user_attribute(&actor, &name))).await? {
        Ok(_) => Ok(see_other(PATH)),
        Err(error) => page(&req, &ctx, None, Some(refusal(error)?)).await,
    }
}

/// Mounts the pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource(PATH).route(web::get().to(show)).route(web::post().to(define))).service(
        web::resource(format!("{PATH}/{{name}}/remove"))
            .route(web::get().to(confirm))
            .route(web::post().to(remove)),
    );
}
