//! `GET /admin/v1/openapi.json`: the OpenAPI 3.1 document of the admin API,
//! generated from [`routes::ROUTES`](crate::admin::routes::ROUTES), the same
//! table that mounts it.

use crate::admin::auth::{AdminScope, ADMIN};
use crate::admin::routes::{self, AdminRoute, Body};
use crate::admin::PREFIX;
use crate::endpoints;
use crate::grants::TokenSettings;
use actix_web::{web, HttpResponse};
use portcullis_core::Issuer;
use serde_json::{json, Map, Value};

/// Where the document is, under the admin prefix.
pub const PATH: &str = "/openapi.json";

/// The errors every operation may answer, besides its own success.
const ERRORS: [(u16, &str); 6] = [
    (400, "Invalid request or metadata (the `field` names the member)"),
    (401, "No, or an invalid, expired or revoked, access token"),
    (403, "The token lacks the scope"),
    (404, "No such resource"),
    (409, "Stale version, or a state that forbids the change"),
    (503, "The database cannot be reached"),
];

fn operation(route: &AdminRoute) -> Value {
    let parameters: Vec<Value> = route
        .path
        .split('/')
        .filter_map(|part| part.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    let mut responses = Map::new();
    let success = if route.status == 204 {
        json!({"description": "Done"})
    } else {
        json!({"description": "Done", "content": {"application/json": {"schema": {"type": "object"}}}})
    };
    responses.insert(route.status.to_string(), success);
    for (status, description) in ERRORS {
        responses.insert(
            status.to_string(),
            json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        );
    }
    let mut operation = json!({
        "summary": route.summary,
        "operationId": format!("{} {}", route.verb.as_str(), route.path),
        "tags": [route.scope.as_str()],
        "security": [{"admin": [route.scope.as_str()]}],
        "parameters": parameters,
        "responses": responses,
    });
    if route.body != Body::No {
        operation["requestBody"] = json!({"required": route.body == Body::Required,
                                          "content": {"application/json": {"schema": {"type": "object"}}}});
    }
    operation
}

/// The document for a server with issuer `issuer`.
pub fn build(issuer: &Issuer) -> Value {
    let mut paths = Map::new();
    for route in routes::all() {
        let path = paths.entry(format!("{PREFIX}{}", route.path)).or_insert_with(|| json!({}));
        path[route.verb.as_str().to_lowercase()] = operation(route);
    }
    let scopes: Map<String, Value> =
        std::iter::once((ADMIN.to_owned(), json!("every admin scope")))
            .chain([AdminScope::Clients, AdminScope::Keys, AdminScope::Users, AdminScope::Audit].map(
                |scope| (scope.as_str().to_owned(), json!(format!("the routes tagged {}", scope.as_str()))),
            ))
            .collect();
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Portcullis admin API", "version": "v1",
                 "description": "Clients with versions and rollback, signing keys, users and the audit log. \
                                 Every change is recorded in the hash-chained audit log."},
        "servers": [{"url": issuer.as_str()}],
        "paths": paths,
        "components": {
            "securitySchemes": {"admin": {"type": "oauth2", "description": "A client-credentials access token of this server",
                "flows": {"clientCredentials": {"tokenUrl": issuer.endpoint(endpoints::TOKEN), "scopes": scopes}}}},
            "schemas": {"Error": {"type": "object", "required": ["error", "error_description"], "properties": {
                "error": {"type": "string"}, "error_description": {"type": "string"}, "field": {"type": "string"}}}},
        },
    })
}

/// `GET /admin/v1/openapi.json` (no token needed: it holds no data).
pub async fn document(settings: web::Data<TokenSettings>) -> HttpResponse {
    HttpResponse::Ok().json(build(&settings.issuer))
}
