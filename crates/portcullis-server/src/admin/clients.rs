//! `/admin/v1/clients`: registering, reading, changing, rolling back,
//! disabling and deleting clients, each over one operation of
//! [`portcullis_app::clients`]. Reads come from the database, so a script
//! sees its own writes at once; every instance applies a change within a
//! second through the change log.

use crate::admin::auth::Caller;
use crate::admin::body::json_object;
use crate::admin::error::AdminError;
use crate::admin::{json_ok, number_param, operation, query};
use crate::oauth_response::no_store;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::clients::{draft, ClientChange, ClientQuery, ClientView, CreatedClient};
use portcullis_app::App;
use portcullis_core::{GrantType, TokenEndpointAuthMethod};
use serde_json::{Map, Value};

/// The most clients one page lists.
const MAX_PAGE: i64 = 200;

/// 200 (or `status`) with the view, its version as the ETag, never cached.
fn respond(status: StatusCode, view: &ClientView) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    no_store(&mut response);
    response.insert_header((header::ETAG, format!("\"{}\"", view.version))).json(view)
}

/// The version a change is based on: `If-Match` (RFC 9110 §13.1.1) or the
/// body's `version`, which is taken out of the body. `None` means current.
fn based_on(req: &HttpRequest, body: &mut Map<String, Value>) -> Result<Option<i64>, AdminError> {
    let from_body = match body.remove("version") {
        None => None,
        Some(Value::Number(n)) if n.as_i64().is_some_and(|n| n > 0) => n.as_i64(),
        Some(_) => return Err(AdminError::bad_request("`version` must be a positive integer")),
    };
    let from_header = match req.headers().get(header::IF_MATCH) {
        None => None,
        Some(value) => {
            let value = value.to_str().unwrap_or_default().trim();
            if value == "*" {
                None
            } else {
                let version = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .and_then(|v| v.parse::<i64>().ok());
                Some(version.ok_or_else(|| {
                    AdminError::bad_request("If-Match must be one version as an ETag, e.g. \"3\"")
                })?)
            }
        }
    };
    match (from_header, from_body) {
        (Some(header), Some(body)) if header != body => {
            Err(AdminError::bad_request("If-Match and `version` name different versions"))
        }
        (header, body) => Ok(header.or(body)),
    }
}

/// `POST /admin/v1/clients`: RFC 7591 metadata in, the client out with its
/// secret, shown this once (RFC 7591 §3.2.1).
pub async fn create(
    Caller(actor): Caller,
    req: HttpRequest,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let body = json_object(&req, payload).await?;
    created(operation(&app, move |app| app.create_client(&actor, draft(body, None))).await?)
}

/// `POST /admin/v1/teams/{team_id}/clients`: as [`create`], the client
/// belonging to the team.
pub async fn create_in_team(
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let body = json_object(&req, payload).await?;
    created(operation(&app, move |app| app.create_team_client(&actor, &path, draft(body, None))).await?)
}

/// 201 with the client just created and its secret, shown this once;
/// `client_secret_expires_at` is 0 for a secret that never expires (RFC 7591 §3.2.1).
fn created(created: CreatedClient) -> Result<HttpResponse, AdminError> {
    let mut body = serde_json::to_value(&created.client).map_err(AdminError::unavailable)?;
    if let Some(secret) = &created.secret {
        let expires_at = created.client.secrets.first().and_then(|s| s.expires_at.as_deref());
        let expires_at = expires_at
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
            .map_or(0, |at| at.timestamp());
        body["client_secret"] = secret.expose().into();
        body["client_secret_expires_at"] = expires_at.into();
    }
    let mut response = HttpResponse::Created();
    no_store(&mut response);
    Ok(response
        .insert_header((header::LOCATION, format!("/admin/v1/clients/{}", created.client.client_id)))
        .insert_header((header::ETAG, format!("\"{}\"", created.client.version)))
        .json(body))
}

/// The value of `name` in `query` as `find` names it; a name it does not
/// know is refused.
fn named<T>(
    query: &crate::form::FormParams,
    name: &str,
    find: fn(&str) -> Option<T>,
) -> Result<Option<T>, AdminError> {
    match query.get(name) {
        None => Ok(None),
        Some(value) => find(value).map(Some).ok_or_else(|| {
            AdminError::bad_request(format!("{name}: `{value}` is not one this server knows"))
        }),
    }
}

/// `GET /admin/v1/clients?name=…&disabled=…&grant_type=…&token_endpoint_auth_method=…&team=…&limit=…&cursor=…`:
/// clients in `client_id` order, optionally only those whose name contains
/// `name`, disabled (or not), that may use a grant, that authenticate
/// a way, or of a team; `next_cursor` pages on.
pub async fn list(
    Caller(actor): Caller,
    req: HttpRequest,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let query = query(&req)?;
    let query = ClientQuery {
        limit: number_param(&query, "limit", 50, 1..=MAX_PAGE)? as usize,
        name: query.get("name").map(str::to_owned),
        disabled: match query.get("disabled") {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(AdminError::bad_request("disabled must be true or false")),
        },
        grant_type: named(&query, "grant_type", GrantType::named)?,
        auth_method: named(&query, "token_endpoint_auth_method", TokenEndpointAuthMethod::named)?,
        team: query.get("team").map(str::to_owned),
        after: query.get("cursor").map(str::to_owned),
    };
    Ok(json_ok(operation(&app, move |app| app.clients(&actor, &query)).await?))
}

/// `GET /admin/v1/clients/{client_id}`.
pub async fn get(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let view = operation(&app, move |app| app.client(&actor, &path)).await?;
    Ok(respond(StatusCode::OK, &view))
}

/// `PUT /admin/v1/clients/{client_id}`: the whole configuration, as a new version.
pub async fn replace(
    admin: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let replace = |body, client_id: &str| ClientChange::Replace(draft(body, Some(client_id)));
    update(admin, req, path.into_inner(), payload, app, replace).await
}

/// `PATCH /admin/v1/clients/{client_id}`: a JSON merge patch (RFC 7396) of
/// the configuration, as a new version.
pub async fn patch(
    admin: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    update(admin, req, path.into_inner(), payload, app, |body, _| ClientChange::Merge(body)).await
}

async fn update(
    Caller(actor): Caller,
    req: HttpRequest,
    client_id: String,
    payload: web::Payload,
    app: web::Data<App>,
    how: fn(Map<String, Value>, &str) -> ClientChange,
) -> Result<HttpResponse, AdminError> {
    let mut body = json_object(&req, payload).await?;
    let based_on = based_on(&req, &mut body)?;
    let view =
        operation(&app, move |app| app.update_client(&actor, &client_id, based_on, how(body, &client_id)))
            .await?;
    Ok(respond(StatusCode::OK, &view))
}

/// `DELETE /admin/v1/clients/{client_id}`: 204; its tokens stop working everywhere.
pub async fn delete(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    operation(&app, move |app| app.delete_client(&actor, &path)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /admin/v1/clients/{client_id}/disable`.
pub async fn disable(
    admin: Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    set_disabled(admin, path.into_inner(), app, true).await
}

/// `POST /admin/v1/clients/{client_id}/enable`.
pub async fn enable(
    admin: Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    set_disabled(admin, path.into_inner(), app, false).await
}

async fn set_disabled(
    Caller(actor): Caller,
    client_id: String,
    app: web::Data<App>,
    disabled: bool,
) -> Result<HttpResponse, AdminError> {
    let view = operation(&app, move |app| app.set_client_disabled(&actor, &client_id, disabled)).await?;
    Ok(respond(StatusCode::OK, &view))
}

/// `GET /admin/v1/clients/{client_id}/versions`: newest first.
pub async fn versions(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let versions = operation(&app, move |app| app.client_versions(&actor, &path)).await?;
    Ok(json_ok(serde_json::json!({ "versions": versions })))
}

/// `GET /admin/v1/clients/{client_id}/versions/{n}`: with its configuration.
pub async fn version(
    Caller(actor): Caller,
    path: web::Path<(String, String)>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let (client_id, raw) = path.into_inner();
    let number =
        raw.parse::<i64>().map_err(|_| AdminError::not_found(format!("there is no version {raw}")))?;
    Ok(json_ok(operation(&app, move |app| app.client_version(&actor, &client_id, number)).await?))
}

/// `POST /admin/v1/clients/{client_id}/rollback` with `{"version": n}`:
/// writes version n's configuration as the next version.
pub async fn rollback(
    Caller(actor): Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let mut body = json_object(&req, payload).await?;
    let Some(target) = body.remove("version").and_then(|v| v.as_i64()).filter(|v| *v > 0) else {
        return Err(AdminError::bad_request("give the version to roll back to: {\"version\": n}"));
    };
    if let Some(extra) = body.keys().next() {
        return Err(AdminError::bad_request(format!("unknown member `{extra}`")));
    }
    let based_on = based_on(&req, &mut body)?;
    let client_id = path.into_inner();
    let view = operation(&app, move |app| app.roll_back_client(&actor, &client_id, target, based_on)).await?;
    Ok(respond(StatusCode::OK, &view))
}
