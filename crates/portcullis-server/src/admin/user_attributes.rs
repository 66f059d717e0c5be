//! `/admin/v1/user-attributes`: the custom user attribute schema, each
//! attribute's name, type and meaning. Users' values are set at
//! `/admin/v1/users/{user_id}/attributes`.

use crate::admin::auth::Caller;
use crate::admin::body::json_of;
use crate::admin::error::AdminError;
use crate::admin::{json_ok, operation};
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::App;
use portcullis_core::user_attributes::AttributeDefinition;

/// `GET /admin/v1/user-attributes`: the schema, by name.
pub async fn list(Caller(actor): Caller, app: web::Data<App>) -> Result<HttpResponse, AdminError> {
    let attributes = operation(&app, move |app| app.user_attributes(&actor)).await?;
    Ok(json_ok(serde_json::json!({ "attributes": attributes })))
}

/// `POST /admin/v1/user-attributes` with `{"name", "type", "description"?}`: 201.
pub async fn define(
    Caller(actor): Caller,
    req: HttpRequest,
    payload: web::Payload,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let definition: AttributeDefinition = json_of(&req, payload, "an attribute definition").await?;
    let defined = operation(&app, move |app| app.define_user_attribute(&actor, definition)).await?;
    Ok(HttpResponse::Created().json(defined))
}

/// `DELETE /admin/v1/user-attributes/{name}`: 200 with how many users' values were removed with it.
pub async fn remove(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    let cleared = operation(&app, move |app| app.remove_user_attribute(&actor, &path)).await?;
    Ok(json_ok(serde_json::json!({ "values_cleared": cleared })))
}
