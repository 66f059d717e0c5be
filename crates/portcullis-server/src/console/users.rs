//! `/console/users`: the users in the console. A list with search and
//! paging; creating a user (a generated password shown once); each user's
//! page: claims (edited as the JSON of OpenID Connect Core §5.1) and custom
//! attributes (as JSON, checked against the schema of
//! `/console/user-attributes`), a new password, disable and enable,
//! resetting the second factor after a confirmation, and granting or
//! withdrawing admin roles. Over the REST API's operations, as the
//! signed-in user (`admin:users`).

use super::clients::urlencoding;
use super::session::{Frame, Signed};
use super::{refusal, refused, see_other, signed, Confirm, Posted, ShownOnce};
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::views::{message, render};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::second_factor::FactorState;
use portcullis_app::users::{UserQuery, UserView};
use portcullis_app::{AppError, Permission};
use portcullis_core::user_attributes::AttributeDefinition;
use portcullis_core::{Password, StandardClaims, Username};

/// What a page says users need.
const WHAT: &str = "Managing users";
/// Users a page lists.
const PAGE: usize = 50;

/// `/console/users/{id}`.
fn user_path(user_id: &str) -> String {
    format!("/console/users/{}", urlencoding(user_id))
}

/// A user as the list shows it.
struct Listed {
    path: String,
    username: String,
    name: String,
    email: String,
    disabled: bool,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct ListPage {
    frame: Frame,
    search: String,
    users: Vec<Listed>,
    next: Option<String>,
}

/// `GET /console/users?q=&cursor=`.
pub async fn list(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Users, WHAT);
    let params = Posted::query(&req);
    let search = params.text("q");
    let query = UserQuery {
        username: (!search.is_empty()).then(|| search.clone()),
        after: params.get("cursor").map(str::to_owned),
        limit: PAGE,
    };
    let actor = signed.actor(&req, &ctx);
    let page = ctx.run(move |app| app.users(&actor, &query)).await?;
    let users = page
        .users
        .into_iter()
        .map(|u| Listed {
            path: user_path(&u.user_id),
            name: u.claims.name.clone().unwrap_or_default(),
            email: u.claims.email.clone().unwrap_or_default(),
            disabled: u.disabled,
            username: u.username,
        })
        .collect();
    let next = page.next_cursor.map(|cursor| {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &search)
            .append_pair("cursor", &cursor)
            .finish()
    });
    render(StatusCode::OK, &ListPage { frame: signed.frame("users"), search, users, next })
}

#[derive(Template)]
#[template(path = "console/user_new.html")]
struct NewPage {
    frame: Frame,
    username: String,
    name: String,
    email: String,
    error: Option<String>,
}

/// `GET /console/users/new`.
pub async fn new(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Users, WHAT);
    let page = NewPage {
        frame: signed.frame("users"),
        username: String::new(),
        name: String::new(),
        email: String::new(),
        error: None,
    };
    render(StatusCode::OK, &page)
}

/// `POST /console/users/new` with `username`, `password` (empty: one is
/// generated and shown once), `name`, `email`.
pub async fn create(
    req: HttpRequest,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Users, WHAT, form);
    let (username, name, email) = (form.text("username"), form.text("name"), form.text("email"));
    let password = form.get("password").filter(|p| !p.is_empty()).map(|p| Password::new(p.to_owned()));
    let claims = StandardClaims {
        name: (!name.is_empty()).then(|| name.clone()),
        email: (!email.is_empty()).then(|| email.clone()),
        ..StandardClaims::default()
    };
    let actor = signed.actor(&req, &ctx);
    let created = ctx
        .run(move |app| {
            Ok(Username::parse(&username)
                .map_err(|e| AppError::Invalid(format!("username: {e}")))
                .and_then(|username| app.create_user(&actor, &username, password, &claims)))
        })
        .await?;
    match created {
        Ok(created) => {
            let path = user_path(&created.user.user_id);
            match created.generated_password {
                Some(password) => {
                    let username = &created.user.username;
                    let page = ShownOnce {
                        frame: signed.frame("users"),
                        title: &format!("{username}'s password"),
                        warning: &format!(
                            "Give it to {username} now: this page is the only time it is shown."
                        ),
                        value: password.expose(),
                        path: &path,
                    };
                    render(StatusCode::OK, &page)
                }
                None => Ok(see_other(&path)),
            }
        }
        Err(error) => {
            let (status, text) = refusal(error)?;
            let page = NewPage {
                frame: signed.frame("users"),
                username: form.text("username"),
                name,
                email,
                error: Some(text),
            };
            render(status, &page)
        }
    }
}

/// An admin role as the user's page shows it.
struct Role {
    name: &'static str,
    scope: &'static str,
    held: bool,
}

#[derive(Template)]
#[template(path = "console/user.html")]
struct UserPage {
    frame: Frame,
    path: String,
    user: UserView,
    claims: String,
    attributes: String,
    schema: Vec<AttributeDefinition>,
    roles: Vec<Role>,
    second_factor: &'static str,
    error: Option<String>,
}

/// A form's JSON as it was typed: the field (`claims` or `attributes`) and its text.
type Typed = Option<(&'static str, String)>;

/// The page of `user_id`, with `error` from a refused action and the JSON
/// as it was typed, when it was refused.
async fn user_page(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    signed: &Signed,
    user_id: String,
    error: Option<((StatusCode, String), Typed)>,
) -> Result<HttpResponse, PageError> {
    let actor = signed.actor(req, ctx);
    let found = ctx
        .run(move |app| {
            Ok((|| {
                let user = app.user(&actor, &user_id)?;
                let roles = app.admin_roles(&actor, &user_id)?;
                let factor = app.user_second_factor(&actor, &user_id)?;
                let schema = app.user_attributes(&actor)?;
                Ok::<_, AppError>((user, roles, factor, schema))
            })())
        })
        .await?;
    let (user, held, factor, schema) = match found {
        Ok(found) => found,
        Err(error) => return refused("User", error),
    };
    let (status, error, typed) = match error {
        Some(((status, text), typed)) => (status, Some(text), typed),
        None => (StatusCode::OK, None, None),
    };
    let typed_as =
        |field: &str| typed.as_ref().filter(|(typed, _)| *typed == field).map(|(_, text)| text.clone());
    let claims =
        typed_as("claims").unwrap_or_else(|| serde_json::to_string_pretty(&user.claims).unwrap_or_default());
    let attributes = typed_as("attributes")
        .unwrap_or_else(|| serde_json::to_string_pretty(&user.attributes).unwrap_or_default());
    let roles = Permission::ALL
        .iter()
        .map(|p| Role {
            name: p.scope().trim_start_matches("admin:"),
            scope: p.scope(),
            held: held.contains(p),
        })
        .collect();
    let second_factor = match factor {
        FactorState::Enrolled => "enrolled",
        FactorState::Pending => "enrolment started",
        FactorState::None => "not enrolled",
    };
    let page = UserPage {
        frame: signed.frame("users"),
        path: user_path(&user.user_id),
        user,
        claims,
        attributes,
        schema,
        roles,
        second_factor,
        error,
    };
    render(status, &page)
}

/// `GET /console/users/{user_id}`.
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Users, WHAT);
    user_page(&req, &ctx, &signed, path.into_inner(), None).await
}

/// `POST /console/users/{user_id}/{action}`: `claims` (with `claims`, a
/// JSON object), `attributes` (with `attributes`, a JSON object),
/// `password` (with `password`), `disable`, `enable`,
/// `second-factor-reset`, `grant` or `withdraw` (with `role`).
pub async fn act(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Users, WHAT, form);
    let (user_id, action) = path.into_inner();
    let actor = signed.actor(&req, &ctx);
    let typed: Typed = ["claims", "attributes"]
        .into_iter()
        .find(|field| *field == action)
        .and_then(|field| form.get(field).map(|text| (field, text.to_owned())));
    let (id, text) = (user_id.clone(), typed.clone().map(|(_, text)| text).unwrap_or_default());
    let (password, role) = (form.get("password").unwrap_or_default().to_owned(), form.text("role"));
    let done = ctx
        .run(move |app| {
            let role = || {
                Permission::ALL
                    .into_iter()
                    .find(|p| p.scope().trim_start_matches("admin:") == role)
                    .ok_or_else(|| AppError::Invalid(format!("there is no admin role `{role}`")))
            };
            Ok((|| match action.as_str() {
                "claims" => {
                    let claims: StandardClaims = serde_json::from_str(&text)
                        .map_err(|e| AppError::Invalid(format!("the claims are not valid: {e}")))?;
                    app.set_user_claims(&actor, &id, &claims).map(drop)
                }
                "attributes" => {
                    let values = portcullis_app::user_attributes::parse_values(&text)?;
                    app.set_user_attributes(&actor, &id, values).map(drop)
                }
                "password" => app.set_user_password(&actor, &id, &Password::new(password)),
                "disable" => app.set_user_disabled(&actor, &id, true).map(drop),
                "enable" => app.set_user_disabled(&actor, &id, false).map(drop),
                "second-factor-reset" => app.reset_second_factor(&actor, &id),
                "grant" => app.set_admin_role(&actor, &id, role()?, true).map(drop),
                "withdraw" => app.set_admin_role(&actor, &id, role()?, false).map(drop),
                _ => Err(AppError::NotFound("there is no such user action".into())),
            })())
        })
        .await?;
    match done {
        Ok(()) => Ok(see_other(&user_path(&user_id))),
        Err(error) => user_page(&req, &ctx, &signed, user_id, Some((refusal(error)?, typed))).await,
    }
}

/// `GET /console/users/{user_id}/second-factor-reset`: asks first (the
/// one action with a confirmation).
pub async fn confirm(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Users, WHAT);
    let (user_id, action) = path.into_inner();
    if action != "second-factor-reset" {
        return message(StatusCode::NOT_FOUND, "User", "There is no such page.");
    }
    let back = user_path(&user_id);
    let action = format!("{back}/second-factor-reset");
    let page = Confirm {
        frame: signed.frame("users"),
        title: "Reset the second factor",
        text: "The user's authenticator and recovery codes stop working, and their sessions end. They enrol again at their next sign-in.",
        action: &action,
        button: "Reset",
        back: &back,
    };
    render(StatusCode::OK, &page)
}

/// Mounts the user pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/console/users").route(web::get().to(list)))
        .service(web::resource("/console/users/new").route(web::get().to(new)).route(web::post().to(create)))
        .service(web::resource("/console/users/{user_id}").route(web::get().to(show)))
        .service(
            web::resource("/console/users/{user_id}/{action}")
                .route(web::get().to(confirm))
                .route(web::post().to(act)),
        );
}
