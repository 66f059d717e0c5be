//! `/admin/v1/clients`: registering, reading, changing, rolling back,
//! disabling and deleting clients. Reads come from the database, so a
//! script sees its own writes at once; every instance applies the change
//! within a second through the change log.

use crate::admin::auth::{Admin, AdminScope};
use crate::admin::body::{json_object, metadata};
use crate::admin::error::AdminError;
use crate::admin::{apply_here, blocking, json_ok, number_param, query, time};
use crate::authorization::Authorization;
use crate::client_changes::{self, ChangeError, ChangePolicy, KnownScopes};
use crate::clients;
use crate::oauth_response::no_store;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_core::ClientMetadata;
use portcullis_store::clients::{self as stored, ClientRecord, VersionRecord};
use portcullis_store::Database;
use serde::Serialize;
use serde_json::{Map, Value};

/// The most clients one page lists.
const MAX_PAGE: i64 = 200;

/// A secret as the API shows it: never its value or hash.
#[derive(Serialize)]
struct SecretView {
    secret_id: String,
    created_at: String,
    expires_at: Option<String>,
}

/// A client as the API shows it: its current configuration (RFC 7591
/// names) with its state.
#[derive(Serialize)]
struct ClientView {
    client_id: String,
    version: i64,
    disabled: bool,
    created_at: String,
    updated_at: String,
    #[serde(flatten)]
    metadata: ClientMetadata,
    secrets: Vec<SecretView>,
    /// Redirect URIs an update removed that still work until `valid_until`.
    retired_redirect_uris: Vec<RetiredRedirectUri>,
}

/// A removed redirect URI in its grace period.
#[derive(Serialize)]
struct RetiredRedirectUri {
    redirect_uri: String,
    valid_until: String,
}

fn view(record: ClientRecord) -> Result<ClientView, AdminError> {
    let metadata = serde_json::from_str(&record.metadata).map_err(AdminError::unavailable)?;
    Ok(ClientView {
        client_id: record.client_id,
        version: record.version,
        disabled: record.disabled_at.is_some(),
        created_at: time(record.created_at),
        updated_at: time(record.updated_at),
        metadata,
        secrets: record
            .secrets
            .into_iter()
            .map(|s| SecretView {
                secret_id: s.secret_id,
                created_at: time(s.created_at),
                expires_at: s.expires_at.map(time),
            })
            .collect(),
        retired_redirect_uris: record
            .retired_redirect_uris
            .into_iter()
            .map(|(redirect_uri, until)| RetiredRedirectUri { redirect_uri, valid_until: time(until) })
            .collect(),
    })
}

/// The client's current view, or 404.
async fn load(db: &web::Data<Database>, client_id: &str) -> Result<ClientView, AdminError> {
    let (db, id) = (db.clone(), client_id.to_owned());
    let record = blocking(move || {
        stored::find(&mut *db.get().map_err(AdminError::unavailable)?, &id).map_err(AdminError::unavailable)
    })
    .await?;
    view(record.ok_or_else(|| AdminError::not_found(format!("there is no client {client_id}")))?)
}

/// 200 (or `status`) with the view, its version as the ETag, never cached.
fn respond(status: actix_web::http::StatusCode, view: &ClientView) -> HttpResponse {
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
    admin: Admin,
    req: HttpRequest,
    payload: web::Payload,
    db: web::Data<Database>,
    flow: web::Data<Authorization>,
    known: web::Data<KnownScopes>,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Clients)?;
    let metadata = metadata(json_object(&req, payload).await?, &known)?;
    let (store, author) = (db.clone(), admin.client_id.clone());
    let (client_id, secret) = blocking(move || {
        clients::create(&store, &metadata, &author).map_err(|e| match e.downcast::<ChangeError>() {
            Ok(change) => AdminError::from(change),
            Err(other) => AdminError::unavailable(other),
        })
    })
    .await?;
    apply_here(&flow, &db, client_id.as_str()).await;
    let view = load(&db, client_id.as_str()).await?;
    let mut body = serde_json::to_value(&view).map_err(AdminError::unavailable)?;
    if let Some(secret) = secret {
        body["client_secret"] = secret.expose().into();
        body["client_secret_expires_at"] = 0.into();
    }
    let mut response = HttpResponse::Created();
    no_store(&mut response);
    Ok(response
        .insert_header((header::LOCATION, format!("/admin/v1/clients/{}", view.client_id)))
        .insert_header((header::ETAG, format!("\"{}\"", view.version)))
        .json(body))
}

/// `GET /admin/v1/clients?name=…&limit=…&cursor=…`: clients in `client_id`
/// order, optionally those whose name contains `name`; `next_cursor` pages on.
pub async fn list(
    admin: Admin,
    req: HttpRequest,
    db: web::Data<Database>,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Clients)?;
    let query = query(&req)?;
    let limit = number_param(&query, "limit", 50, 1..=MAX_PAGE)? as usize;
    let name = query.get("name").map(str::to_lowercase);
    let cursor = query.get("cursor").map(str::to_owned);
    let records = blocking(move || {
        stored::all(&mut *db.get().map_err(AdminError::unavailable)?).map_err(AdminError::unavailable)
    })
    .await?;
    let mut views = Vec::new();
    for record in
        records.into_iter().filter(|r| cursor.as_deref().is_none_or(|after| r.client_id.as_str() > after))
    {
        let view = view(record)?;
        if name.as_deref().is_none_or(|name| view.metadata.client_name.to_lowercase().contains(name)) {
            views.push(view);
        }
        if views.len() > limit {
            break;
        }
    }
    let next_cursor = (views.len() > limit).then(|| {
        views.truncate(limit);
        views.last().map(|v| v.client_id.clone())
    });
    Ok(json_ok(serde_json::json!({ "clients": views, "next_cursor": next_cursor.flatten() })))
}

/// `GET /admin/v1/clients/{client_id}`.
pub async fn get(
    admin: Admin,
    path: web::Path<String>,
    db: web::Data<Database>,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Clients)?;
    Ok(respond(actix_web::http::StatusCode::OK, &load(&db, &path).await?))
}

/// Members of a client view that a PUT may carry back but cannot change.
const READ_ONLY: [&str; 6] =
    ["client_id", "created_at", "updated_at", "disabled", "secrets", "retired_redirect_uris"];

/// `PUT /admin/v1/clients/{client_id}`: the whole configuration, as a new version.
pub async fn replace(
    admin: Admin,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    db: web::Data<Database>,
    flow: web::Data<Authorization>,
    (policy, known): (web::Data<ChangePolicy>, web::Data<KnownScopes>),
) -> Result<HttpResponse, AdminError> {
    update(admin, req, path.into_inner(), payload, (db, flow, **policy, known), Update::Replace).await
}

/// `PATCH /admin/v1/clients/{client_id}`: a JSON merge patch (RFC 7396) of
/// the configuration, as a new version.
pub async fn patch(
    admin: Admin,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    db: web::Data<Database>,
    flow: web::Data<Authorization>,
    (policy, known): (web::Data<ChangePolicy>, web::Data<KnownScopes>),
) -> Result<HttpResponse, AdminError> {
    update(admin, req, path.into_inner(), payload, (db, flow, **policy, known), Update::Merge).await
}

/// How an update's body applies to the configuration.
enum Update {
    /// It is the whole configuration; read-only members of a view are ignored.
    Replace,
    /// It is a merge patch; read-only members are refused.
    Merge,
}

async fn update(
    admin: Admin,
    req: HttpRequest,
    client_id: String,
    payload: web::Payload,
    (db, flow, policy, known): (
        web::Data<Database>,
        web::Data<Authorization>,
        ChangePolicy,
        web::Data<KnownScopes>,
    ),
    how: Update,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Clients)?;
    let mut body = json_object(&req, payload).await?;
    let mut based_on = based_on(&req, &mut body)?;
    let configuration = match how {
        Update::Replace => {
            if body.get("client_id").is_some_and(|id| id != client_id.as_str()) {
                return Err(AdminError::invalid_metadata(
                    "client_id",
                    "does not match the client in the path",
                ));
            }
            for name in READ_ONLY {
                body.remove(name);
            }
            body
        }
        Update::Merge => {
            if let Some(name) = READ_ONLY.iter().find(|name| body.contains_key(**name)) {
                return Err(AdminError::invalid_metadata(*name, "cannot be changed"));
            }
            let current = load(&db, &client_id).await?;
            let mut merged = serde_json::to_value(&current.metadata).map_err(AdminError::unavailable)?;
            merge_patch(&mut merged, Value::Object(body));
            // Without a named version, the patch applies to the version it was merged onto.
            based_on = based_on.or(Some(current.version));
            match merged {
                Value::Object(merged) => merged,
                _ => return Err(AdminError::bad_request("a merge patch of a client must leave an object")),
            }
        }
    };
    let metadata = metadata(configuration, &known)?;
    change(&admin, &db, &flow, client_id, move |db, id, author| {
        client_changes::update(db, id, based_on, &metadata, &policy, author)
    })
    .await
}

/// RFC 7396 §2: `null` removes a member, an object merges, anything else replaces.
fn merge_patch(target: &mut Value, patch: Value) {
    let Value::Object(patch) = patch else {
        *target = patch;
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let target = target.as_object_mut().expect("made an object above");
    for (name, value) in patch {
        if value.is_null() {
            target.remove(&name);
        } else {
            merge_patch(target.entry(name).or_insert(Value::Null), value);
        }
    }
}

/// Makes a change with `apply` (given the database, the client and the
/// author) and answers with the client as it now is.
async fn change(
    admin: &Admin,
    db: &web::Data<Database>,
    flow: &web::Data<Authorization>,
    client_id: String,
    apply: impl FnOnce(&Database, &str, &str) -> Result<i64, ChangeError> + Send + 'static,
) -> Result<HttpResponse, AdminError> {
    let (store, id, author) = (db.clone(), client_id.clone(), admin.client_id.clone());
    blocking(move || apply(&store, &id, &author).map_err(AdminError::from)).await?;
    apply_here(flow, db, &client_id).await;
    Ok(respond(actix_web::http::StatusCode::OK, &load(db, &client_id).await?))
}

/// `DELETE /admin/v1/clients/{client_id}`: 204; its tokens stop working everywhere.
pub async fn delete(
    admin: Admin,
    path: web::Path<String>,
    db: web::Data<Database>,
    flow: web::Data<Authorization>,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Clients)?;
    let client_id = path.into_inner();
    let store = db.clone();
    let id = client_id.clone();
    blocking(move || client_changes::delete(&store, &id).map_err(AdminError::from)).await?;
    apply_here(&flow, &db, &client_id).await;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /admin/v1/clients/{client_id}/disable`.
pub async fn disable(
    admin: Admin,
    path: web::Path<String>,
    db: web::Data<Database>,
    flow: web::Data<Authorization>,
) -> Result<HttpResponse, AdminError> {
    set_disabled(admin, path.into_inner(), db, flow, true).await
}

/// `POST /admin/v1/clients/{client_id}/enable`.
pub async fn enable(
    admin: Admin,
    path: web::Path<String>,
    db: web::Data<Database>,
    flow: web::Data<Authorization>,
) -> Result<HttpResponse, AdminError> {
    set_disabled(admin, path.into_inner(), db, flow, false).await
}

async fn set_disabled(
    admin: Admin,
    client_id: String,
    db: web::Data<Database>,
    flow: web::Data<Authorization>,
    disabled: bool,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Clients)?;
    change(&admin, &db, &flow, client_id, move |db, id, _| {
        client_changes::set_disabled(db, id, disabled)?;
        Ok(0)
    })
    .await
}

/// A version as the history lists it.
#[derive(Serialize)]
struct VersionView {
    version: i64,
    author: String,
    created_at: String,
    summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<ClientMetadata>,
}

fn version_view(record: VersionRecord, with_metadata: bool) -> Result<VersionView, AdminError> {
    let metadata = if with_metadata {
        Some(serde_json::from_str(&record.metadata).map_err(AdminError::unavailable)?)
    } else {
        None
    };
    Ok(VersionView {
        version: record.version,
        author: record.author,
        created_at: time(record.created_at),
        summary: record.summary,
        metadata,
    })
}

/// `GET /admin/v1/clients/{client_id}/versions`: newest first.
pub async fn versions(
    admin: Admin,
    path: web::Path<String>,
    db: web::Data<Database>,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Clients)?;
    let client_id = path.into_inner();
    let records =
        blocking(move || client_changes::versions(&db, &client_id).map_err(AdminError::from)).await?;
    let views = records.into_iter().map(|r| version_view(r, false)).collect::<Result<Vec<_>, _>>()?;
    Ok(json_ok(serde_json::json!({ "versions": views })))
}

/// `GET /admin/v1/clients/{client_id}/versions/{n}`: with its configuration.
pub async fn version(
    admin: Admin,
    path: web::Path<(String, String)>,
    db: web::Data<Database>,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Clients)?;
    let (client_id, raw) = path.into_inner();
    let number =
        raw.parse::<i64>().map_err(|_| AdminError::not_found(format!("there is no version {raw}")))?;
    let record =
        blocking(move || client_changes::version(&db, &client_id, number).map_err(AdminError::from)).await?;
    Ok(json_ok(version_view(record, true)?))
}

/// `POST /admin/v1/clients/{client_id}/rollback` with `{"version": n}`:
/// writes version n's configuration as the next version.
pub async fn rollback(
    admin: Admin,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    db: web::Data<Database>,
    flow: web::Data<Authorization>,
    policy: web::Data<ChangePolicy>,
) -> Result<HttpResponse, AdminError> {
    admin.require(AdminScope::Clients)?;
    let mut body = json_object(&req, payload).await?;
    let Some(target) = body.remove("version").and_then(|v| v.as_i64()).filter(|v| *v > 0) else {
        return Err(AdminError::bad_request("give the version to roll back to: {\"version\": n}"));
    };
    if let Some(extra) = body.keys().next() {
        return Err(AdminError::bad_request(format!("unknown member `{extra}`")));
    }
    let based_on = based_on(&req, &mut body)?;
    let policy = **policy;
    change(&admin, &db, &flow, path.into_inner(), move |db, id, author| {
        client_changes::rollback(db, id, target, based_on, &policy, author)
    })
    .await
}
