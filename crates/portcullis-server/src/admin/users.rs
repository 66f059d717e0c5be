//! `/admin/v1/users`: creating, listing, reading and changing end users,
//! disabling them (which ends their sessions and refresh families), and
//! setting their passwords; each over one operation of
//! [`portcullis_app::users`]. Password hashes are never shown.

use crate::admin::auth::Caller;
use crate::admin::body::json_object;
use crate::admin::error::AdminError;
use crate::admin::{json_ok, number_param, operation, query};
use crate::oauth_response::no_store;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::users::UserQuery;
use portcullis_app::App;
use portcullis_core::{Password, StandardClaims, Username};
use serde_json::{Map, Value};

/// The most users one page lists.
const MAX_PAGE: i64 = 200;

/// Takes the members of `body` a request may carry; refuses any other.
fn only(body: &Map<String, Value>, allowed: &[&str]) -> Result<(), AdminError> {
    match body.keys().find(|name| !allowed.contains(&name.as_str())) {
        Some(extra) => Err(AdminError::bad_request(format!("unknown member `{extra}`"))),
        None => Ok(()),
    }
}

fn claims_of(body: &Map<String, Value>) -> Result<StandardClaims, AdminError> {
    match body.get("claims") {
        None => Ok(StandardClaims::default()),
        Some(claims) => serde_json::from_value(claims.clone())
            .map_err(|e| AdminError::bad_request(format!("invalid claims: {e}"))),
    }
}

fn password_of(body: &Map<String, Value>) -> Result<Option<Password>, AdminError> {
    match body.get("password") {
        None => Ok(None),
        Some(Value::String(password)) => Ok(Some(Password::new(password.clone()))),
        Some(_) => Err(AdminError::bad_request("password must be a string")),
    }
}

/// `POST /admin/v1/users` with `{"username", "password"?, "claims"?}`:
/// 201; a password generated for a request without one is shown this once.
pub async fn create(
    Caller(actor): Caller,
    req: HttpRequest,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let body = json_object(&req, payload).await?;
    only(&body, &["username", "password", "claims"])?;
    let username = body
        .get("username")
        .and_then(Value::as_str)
        .ok_or_else(|| AdminError::bad_request("username is required"))?;
    let username =
        Username::parse(username).map_err(|e| AdminError::bad_request(format!("invalid username: {e}")))?;
    let (claims, password) = (claims_of(&body)?, password_of(&body)?);
    let created = operation(&app, move |app| app.create_user(&actor, &username, password, &claims)).await?;
    let mut body = serde_json::to_value(&created.user).map_err(AdminError::unavailable)?;
    if let Some(generated) = &created.generated_password {
        body["password"] = generated.expose().into();
    }
    let mut response = HttpResponse::Created();
    no_store(&mut response);
    Ok(response
        .insert_header((header::LOCATION, format!("/admin/v1/users/{}", created.user.user_id)))
        .json(body))
}

/// `GET /admin/v1/users?username=…&limit=…&cursor=…`: users by username.
pub async fn list(
    Caller(actor): Caller,
    req: HttpRequest,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let query = query(&req)?;
    let query = UserQuery {
        limit: number_param(&query, "limit", 50, 1..=MAX_PAGE)? as usize,
        username: query.get("username").map(str::to_owned),
        after: query.get("cursor").map(str::to_owned),
    };
    Ok(json_ok(operation(&app, move |app| app.users(&actor, &query)).await?))
}

/// `GET /admin/v1/users/{user_id}`.
pub async fn get(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    Ok(json_ok(operation(&app, move |app| app.user(&actor, &path)).await?))
}

/// `PATCH /admin/v1/users/{user_id}` with `{"claims": {…}}`: replaces the claims.
pub async fn update(
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let body = json_object(&req, payload).await?;
    only(&body, &["claims"])?;
    let claims = claims_of(&body)?;
    Ok(json_ok(operation(&app, move |app| app.set_user_claims(&actor, &path, &claims)).await?))
}

/// `PUT /admin/v1/users/{user_id}/password` with `{"password": …}`: 204.
pub async fn set_password(
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let body = json_object(&req, payload).await?;
    only(&body, &["password"])?;
    let password = password_of(&body)?.ok_or_else(|| AdminError::bad_request("password is required"))?;
    operation(&app, move |app| app.set_user_password(&actor, &path, &password)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /admin/v1/users/{user_id}/disable`: the user's sessions end and its
/// refresh families (with their access tokens) are revoked everywhere.
pub async fn disable(
    admin: Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    set_disabled(admin, path.into_inner(), app, true).await
}

/// `POST /admin/v1/users/{user_id}/enable`.
pub async fn enable(
    admin: Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    set_disabled(admin, path.into_inner(), app, false).await
}

async fn set_disabled(
    Caller(actor): Caller,
    user_id: String,
    app: web::Data<App>,
    disabled: bool,
) -> Result<HttpResponse, AdminError> {
    Ok(json_ok(operation(&app, move |app| app.set_user_disabled(&actor, &user_id, disabled)).await?))
}

/// `PUT /admin/v1/users/{user_id}/attributes` with `{"attributes": {…}}`:
/// replaces the user's custom attribute values, each checked against the schema.
pub async fn set_attributes(
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let body = json_object(&req, payload).await?;
    only(&body, &["attributes"])?;
    let values = match body.get("attributes") {
        Some(Value::Object(values)) => values.clone(),
        _ => return Err(AdminError::bad_request("attributes must be an object of attribute values")),
    };
    Ok(json_ok(operation(&app, move |app| app.set_user_attributes(&actor, &path, values)).await?))
}
