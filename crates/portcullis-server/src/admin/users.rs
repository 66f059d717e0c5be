//! `/admin/v1/users`: creating, listing, reading and changing end users,
//! disabling them (which ends their sessions and refresh families), and
//! setting their passwords. Password hashes are never shown.

use crate::admin::auth::{Admin, AdminScope};
use crate::admin::body::json_object;
use crate::admin::error::AdminError;
use crate::admin::{blocking, json_ok, number_param, query, time};
use crate::oauth_response::no_store;
use crate::secrets;
use crate::users::{self, UserError};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_core::{Password, StandardClaims, Username};
use portcullis_store::users::{self as stored, UserRecord};
use portcullis_store::Database;
use serde::Serialize;
use serde_json::{Map, Value};

/// The most users one page lists.
const MAX_PAGE: i64 = 200;

/// A user as the API shows it.
#[derive(Serialize)]
struct UserView {
    user_id: String,
    username: String,
    disabled: bool,
    created_at: String,
    updated_at: String,
    claims: Value,
}

fn view(user: UserRecord) -> UserView {
    UserView {
        claims: serde_json::from_str(&user.claims).unwrap_or(Value::Object(Map::new())),
        user_id: user.user_id,
        username: user.username,
        disabled: user.disabled_at.is_some(),
        created_at: time(user.created_at),
        updated_at: time(user.updated_at),
    }
}

impl From<UserError> for AdminError {
    fn from(error: UserError) -> Self {
        match &error {
            UserError::NotFound(_) => Self::not_found(error.to_string()),
            UserError::Taken(_) => Self::conflict(error.to_string()),
            UserError::Invalid(_) => Self::bad_request(error.to_string()),
            UserError::Storage(cause) => Self::unavailable(cause),
        }
    }
}

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

async fn load(db: &web::Data<Database>, user_id: &str) -> Result<UserView, AdminError> {
    let (db, id) = (db.clone(), user_id.to_owned());
    let user = blocking(move || {
        stored::find(&mut *db.get().map_err(AdminError::unavailable)?, &id).map_err(AdminError::unavailable)
    })
    .await?;
    Ok(view(user.ok_or_else(|| AdminError::not_found(format!("there is no user {user_id}")))?))
}

/// `POST /admin/v1/users` with `{"username", "password"?, "claims"?}`:
/// 201; a password generated for a request without one is shown this once.
pub async fn create(
    admin: Admin,
    req: HttpRequest,
    payload: web::Payload,
    db: web::Data<Database>,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Users)?;
    let body = json_object(&req, payload).await?;
    only(&body, &["username", "password", "claims"])?;
    let username = body
        .get("username")
        .and_then(Value::as_str)
        .ok_or_else(|| AdminError::bad_request("username is required"))?;
    let username =
        Username::parse(username).map_err(|e| AdminError::bad_request(format!("invalid username: {e}")))?;
    let claims = claims_of(&body)?;
    let (password, generated) = match password_of(&body)? {
        Some(password) => (password, None),
        None => {
            let generated = secrets::random_token();
            (Password::new(generated.clone()), Some(generated))
        }
    };
    let store = db.clone();
    let user_id =
        blocking(move || users::create(&store, &username, &password, &claims).map_err(AdminError::from))
            .await?;
    let mut body = serde_json::to_value(load(&db, &user_id).await?).map_err(AdminError::unavailable)?;
    if let Some(generated) = generated {
        body["password"] = generated.into();
    }
    let mut response = HttpResponse::Created();
    no_store(&mut response);
    Ok(response.insert_header((header::LOCATION, format!("/admin/v1/users/{user_id}"))).json(body))
}

/// `GET /admin/v1/users?username=…&limit=…&cursor=…`: users by username.
pub async fn list(
    admin: Admin,
    req: HttpRequest,
    db: web::Data<Database>,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Users)?;
    let query = query(&req)?;
    let limit = number_param(&query, "limit", 50, 1..=MAX_PAGE)? as usize;
    let filter = query.get("username").map(str::to_lowercase);
    let cursor = query.get("cursor").map(str::to_owned);
    let all = blocking(move || {
        stored::all(&mut *db.get().map_err(AdminError::unavailable)?).map_err(AdminError::unavailable)
    })
    .await?;
    let mut page: Vec<UserView> = all
        .into_iter()
        .filter(|u| cursor.as_deref().is_none_or(|after| u.username.as_str() > after))
        .filter(|u| filter.as_deref().is_none_or(|name| u.username.contains(name)))
        .take(limit + 1)
        .map(view)
        .collect();
    let next_cursor = (page.len() > limit).then(|| {
        page.truncate(limit);
        page.last().map(|u| u.username.clone())
    });
    Ok(json_ok(serde_json::json!({ "users": page, "next_cursor": next_cursor.flatten() })))
}

/// `GET /admin/v1/users/{user_id}`.
pub async fn get(
    admin: Admin,
    path: web::Path<String>,
    db: web::Data<Database>,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Users)?;
    Ok(json_ok(load(&db, &path).await?))
}

/// `PATCH /admin/v1/users/{user_id}` with `{"claims": {…}}`: replaces the claims.
pub async fn update(
    admin: Admin,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    db: web::Data<Database>,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Users)?;
    let user_id = path.into_inner();
    let body = json_object(&req, payload).await?;
    only(&body, &["claims"])?;
    let claims = claims_of(&body)?;
    let (store, id) = (db.clone(), user_id.clone());
    blocking(move || users::set_claims(&store, &id, &claims).map_err(AdminError::from)).await?;
    Ok(json_ok(load(&db, &user_id).await?))
}

/// `PUT /admin/v1/users/{user_id}/password` with `{"password": …}`: 204.
pub async fn set_password(
    admin: Admin,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    db: web::Data<Database>,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Users)?;
    let user_id = path.into_inner();
    let body = json_object(&req, payload).await?;
    only(&body, &["password"])?;
    let password = password_of(&body)?.ok_or_else(|| AdminError::bad_request("password is required"))?;
    blocking(move || users::set_password(&db, &user_id, &password).map_err(AdminError::from)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /admin/v1/users/{user_id}/disable`: the user's sessions end and its
/// refresh families (with their access tokens) are revoked everywhere.
pub async fn disable(
    admin: Admin,
    path: web::Path<String>,
    db: web::Data<Database>,
) -> Result<HttpResponse, AdminError> {
    set_disabled(admin, path.into_inner(), db, true).await
}

/// `POST /admin/v1/users/{user_id}/enable`.
pub async fn enable(
    admin: Admin,
    path: web::Path<String>,
    db: web::Data<Database>,
) -> Result<HttpResponse, AdminError> {
    set_disabled(admin, path.into_inner(), db, false).await
}

async fn set_disabled(
    admin: Admin,
    user_id: String,
    db: web::Data<Database>,
    disabled: bool,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Users)?;
    let (store, id) = (db.clone(), user_id.clone());
    blocking(move || users::set_disabled(&store, &id, disabled).map_err(AdminError::from)).await?;
    Ok(json_ok(load(&db, &user_id).await?))
}
