//! `/admin/v1/users/{user_id}/admin-roles` and `…/second-factor/reset`:
//! the admin roles of users (who may use the console, and with what) and
//! resetting a user's second factor; over [`portcullis_app::admin_roles`]
//! and [`portcullis_app::second_factor`].

use crate::admin::auth::Caller;
use crate::admin::error::AdminError;
use crate::admin::{json_ok, operation};
use actix_web::{web, HttpResponse};
use portcullis_app::{App, Permission};

/// The roles' names in paths: the admin scopes without `admin:`.
pub fn role_names() -> Vec<&'static str> {
    Permission::ALL.iter().map(|p| p.scope().trim_start_matches("admin:")).collect()
}

fn role(name: &str) -> Result<Permission, AdminError> {
    Permission::ALL.into_iter().find(|p| p.scope().trim_start_matches("admin:") == name).ok_or_else(|| {
        AdminError::not_found(format!("no admin role `{name}`: one of {}", role_names().join(", ")))
    })
}

fn roles(held: &[Permission]) -> HttpResponse {
    json_ok(serde_json::json!({ "admin_roles": held.iter().map(|p| p.scope()).collect::<Vec<_>>() }))
}

/// `GET /admin/v1/users/{user_id}/admin-roles`.
pub async fn list(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    Ok(roles(&operation(&app, move |app| app.admin_roles(&actor, &path)).await?))
}

/// `PUT /admin/v1/users/{user_id}/admin-roles/{role}`: grants it.
pub async fn grant(
    admin: Caller,
    path: web::Path<(String, String)>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    set(admin, path, app, true).await
}

/// `DELETE /admin/v1/users/{user_id}/admin-roles/{role}`: withdraws it.
pub async fn withdraw(
    admin: Caller,
    path: web::Path<(String, String)>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    set(admin, path, app, false).await
}

/// Grants (or withdraws) the role the path names; the roles after.
async fn set(
    Caller(actor): Caller,
    path: web::Path<(String, String)>,
    app: web::Data<App>,
    granted: bool,
) -> Result<HttpResponse, AdminError> {
    let (user_id, name) = path.into_inner();
    let permission = role(&name)?;
    Ok(roles(&operation(&app, move |app| app.set_admin_role(&actor, &user_id, permission, granted)).await?))
}

/// `POST /admin/v1/users/{user_id}/second-factor/reset`: 204.
pub async fn reset_second_factor(
    Caller(actor): Caller,
    path: web::Path<String>,
    app: web::Data<App>,
) -> Result<HttpResponse, AdminError> {
    operation(&app, move |app| app.reset_second_factor(&actor, &path)).await?;
    Ok(HttpResponse::NoContent().finish())
}
