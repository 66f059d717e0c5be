//! `GET /admin/v1/openapi.json`: the OpenAPI 3.1 document of the admin API,
//! generated from [`routes::ROUTES`](crate::admin::routes::ROUTES), the same
//! table that mounts it.

use crate::admin::routes::{self, AdminRoute, Body, Verb};
use crate::admin::schemas::MAX_NUMBER;
use crate::admin::PREFIX;
use actix_web::{web, HttpResponse};
use portcullis_app::actor::ADMIN;
use portcullis_app::Permission;
use portcullis_core::Issuer;
use portcullis_oauth::endpoints;
use portcullis_oauth::grants::TokenSettings;
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
    (503, "The database cannot be reached or did not answer in time (with Retry-After)"),
];

/// The errors of operations that take a body.
const BODY_ERRORS: [(u16, &str); 2] =
    [(413, "The body is larger than 64 KiB"), (415, "The body is not JSON (Content-Type: application/json)")];

fn error(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

/// A query parameter.
fn query(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description})
}

/// The query parameters of the list operations.
fn query_parameters(route: &AdminRoute) -> Vec<Value> {
    let limit =
        |max: u64| query("limit", json!({"type": "integer", "minimum": 1, "maximum": max}), "page size");
    let text = json!({"type": "string", "maxLength": 200});
    match (route.verb, route.path) {
        (Verb::Get, "/clients") => vec![
            query("name", text.clone(), "only clients whose name contains this"),
            query("disabled", json!({"type": "boolean"}), "only disabled (true) or enabled (false) clients"),
            query(
                "grant_type",
                json!({"enum": ["authorization_code", "client_credentials", "refresh_token"]}),
                "only clients that may use this grant",
            ),
            query(
                "token_endpoint_auth_method",
                json!({"enum": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]}),
                "only clients that authenticate this way",
            ),
            query("team", text.clone(), "only the clients of this team (its team_id)"),
            limit(200),
            query("cursor", text, "the next_cursor of the page before"),
        ],
        (Verb::Get, "/users") => vec![
            query("username", text.clone(), "only users whose username contains this"),
            limit(200),
            query("cursor", text, "the next_cursor of the page before"),
        ],
        (Verb::Get, "/audit-logs") => vec![
            query("from", json!({"type": "string", "format": "date-time"}), "entries at or after"),
            query("to", json!({"type": "string", "format": "date-time"}), "entries before"),
            query("actor", text.clone(), "exactly this actor"),
            query("action", text.clone(), "exactly this action"),
            query("target", text.clone(), "exactly this target"),
            query("team", text, "only entries about this team (its team_id) and its clients"),
            query("outcome", json!({"enum": portcullis_app::exports::OUTCOMES}), "this outcome only"),
            limit(1000),
            query(
                "cursor",
                json!({"type": "integer", "minimum": 0, "maximum": MAX_NUMBER}),
                "the next_cursor of the page before",
            ),
            query(
                "order",
                json!({"enum": ["oldest", "newest"]}),
                "oldest first (the default) or newest first",
            ),
            query("format", json!({"enum": ["json", "jsonl", "csv"]}), "or ask with Accept"),
        ],
        (Verb::Get, "/clients/{client_id}/usage") => vec![
            query(
                "from",
                json!({"type": "string", "format": "date-time"}),
                "the first minute (default: an hour before to)",
            ),
            query("to", json!({"type": "string", "format": "date-time"}), "the end, excluded (default: now)"),
            query(
                "step",
                json!({"type": "integer", "minimum": 60, "maximum": 2_678_400, "multipleOf": 60}),
                "seconds per point (default 60)",
            ),
        ],
        (Verb::Get, "/webhooks/{webhook_id}/deliveries") => vec![limit(200)],
        (Verb::Get, "/teams/{team_id}/events") => vec![
            query("client_id", text.clone(), "only this client's"),
            query("action", text.clone(), "only this action"),
            limit(200),
        ],
        (Verb::Get, "/remediations") => vec![query("client_id", text, "only this client's")],
        (Verb::Get, "/compliance/{template}") => {
            vec![query("format", json!({"enum": ["json", "csv"]}), "or ask with Accept")]
        }
        (Verb::Get, "/usage") => vec![
            query(
                "from",
                json!({"type": "string", "format": "date-time"}),
                "the first minute (default: a day before to)",
            ),
            query("to", json!({"type": "string", "format": "date-time"}), "the end, excluded (default: now)"),
            query(
                "step",
                json!({"type": "integer", "minimum": 60, "maximum": 2_678_400, "multipleOf": 60}),
                "seconds each point of the series covers (default: the whole range)",
            ),
            limit(100),
            query("team", json!({"type": "string"}), "only the clients of this team (its team_id)"),
        ],
        _ => Vec::new(),
    }
}

/// The success response: JSON, or for the audit log also JSON lines and CSV.
fn success(route: &AdminRoute) -> Value {
    if route.status == 204 {
        return json!({"description": "Done"});
    }
    let mut content = json!({"application/json": {"schema": {"type": "object"}}});
    if route.path == "/audit-logs" {
        content["application/x-ndjson"] = json!({"schema": {"type": "string"}});
    }
    if ["/audit-logs", "/compliance/{template}"].contains(&route.path) {
        content["text/csv"] = json!({"schema": {"type": "string"}});
    }
    json!({"description": "Done", "content": content})
}

fn operation(api: &Api, route: &AdminRoute) -> Value {
    let mut parameters: Vec<Value> = route
        .path
        .split('/')
        .filter_map(|part| part.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
        .map(|name| {
            let schema = match name {
                "version" => json!({"type": "integer", "minimum": 1, "maximum": MAX_NUMBER}),
                "role" => json!({"enum": crate::admin::admin_roles::role_names()}),
                "template" => {
                    let ids: Vec<&str> = portcullis_app::compliance::TEMPLATES.iter().map(|t| t.id).collect();
                    json!({"enum": ids})
                }
                _ => json!({"type": "string"}),
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect();
    parameters.extend(query_parameters(route));
    let mut responses = Map::new();
    responses.insert(route.status.to_string(), success(route));
    let body = match route.body {
        Body::No => None,
        Body::Optional(schema) => Some((false, schema())),
        Body::Required(schema) => Some((true, schema())),
    };
    let errors = ERRORS.iter().chain(body.as_ref().map_or(&[][..], |_| &BODY_ERRORS[..]));
    for (status, description) in errors {
        responses.insert(status.to_string(), error(description));
    }
    let mut operation = json!({
        "summary": route.summary,
        "operationId": format!("{} {}", route.verb.as_str(), route.path),
        "tags": [route.scope],
        "security": security(api, route.scope),
        "parameters": parameters,
        "responses": responses,
    });
    if let Some((required, schema)) = body {
        let media =
            if route.verb == Verb::Patch { "application/merge-patch+json" } else { "application/json" };
        operation["requestBody"] = json!({"required": required, "content": {media: {"schema": schema}}});
    }
    operation
}

/// An API of this server as its OpenAPI document describes it.
pub struct Api {
    /// Where it is mounted.
    pub prefix: &'static str,
    /// Its routes.
    pub routes: &'static [AdminRoute],
    /// Its title.
    pub title: &'static str,
    /// What it is for.
    pub description: &'static str,
    /// The name of its security scheme.
    pub scheme: &'static str,
}

/// The admin API.
pub const ADMIN_API: Api = Api {
    prefix: PREFIX,
    routes: &routes::ROUTES,
    title: "Portcullis admin API",
    description: "Clients with versions and rollback, signing keys, users, teams and the audit log. \
                  Every change is recorded in the hash-chained audit log.",
    scheme: "admin",
};

/// The scopes of `api`, each with what it grants.
fn scopes(api: &Api) -> Map<String, Value> {
    if api.scheme == ADMIN_API.scheme {
        return std::iter::once((ADMIN.to_owned(), json!("every admin scope")))
            .chain(Permission::ALL.map(|scope| {
                (scope.scope().to_owned(), json!(format!("the routes tagged {}", scope.scope())))
            }))
            .collect();
    }
    let mut named: Vec<&str> = api.routes.iter().map(|route| route.scope).collect();
    named.sort_unstable();
    named.dedup();
    named.into_iter().map(|scope| (scope.to_owned(), json!(format!("the routes tagged {scope}")))).collect()
}

/// The portal session's scheme: its cookie (with the page's CSRF token in
/// `X-CSRF-Token` for a change).
const PORTAL_SESSION: &str = "portal_session";

/// What a route of `api` needing `scope` takes: the API's scheme, and for
/// the portal's API the portal session too.
fn security(api: &Api, scope: &str) -> Value {
    if api.scheme == ADMIN_API.scheme {
        return json!([{api.scheme: [scope]}]);
    }
    json!([{api.scheme: [scope]}, {PORTAL_SESSION: []}])
}

/// How `api` is authenticated, as its document's security scheme.
fn security_scheme(api: &Api, issuer: &Issuer) -> Value {
    let scopes = scopes(api);
    if api.scheme == ADMIN_API.scheme {
        return json!({"type": "oauth2", "description": "A client-credentials access token of this server: Authorization: Bearer, or DPoP with a proof for a DPoP-bound one (RFC 9449 §7.1)",
            "flows": {"clientCredentials": {"tokenUrl": issuer.endpoint(endpoints::TOKEN), "scopes": scopes}}});
    }
    json!({"type": "http", "scheme": "bearer", "bearerFormat": "pcp_…",
           "description": format!("A personal access token made in the portal, its scope one or more of {}",
               scopes.keys().cloned().collect::<Vec<_>>().join(", "))})
}

/// Every security scheme of `api`.
fn security_schemes(api: &Api, issuer: &Issuer) -> Value {
    let mut schemes = json!({api.scheme: security_scheme(api, issuer)});
    if api.scheme != ADMIN_API.scheme {
        schemes[PORTAL_SESSION] = json!({"type": "apiKey", "in": "cookie", "name": crate::portal::session::COOKIE,
            "description": "Signed in to the portal (its pages' scripts): a change also sends the page's CSRF token (its forms' `csrf`) in X-CSRF-Token; the session's role in each team applies"});
    }
    schemes
}

/// The document of `api` on a server with issuer `issuer`.
pub fn build(api: &Api, issuer: &Issuer) -> Value {
    let mut paths = Map::new();
    for route in api.routes {
        let path = paths.entry(format!("{}{}", api.prefix, route.path)).or_insert_with(|| json!({}));
        path[route.verb.as_str().to_lowercase()] = operation(api, route);
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": api.title, "version": "v1", "description": api.description},
        "servers": [{"url": issuer.as_str()}],
        "paths": paths,
        "components": {
            "securitySchemes": security_schemes(api, issuer),
            "schemas": {"Error": {"type": "object", "required": ["error", "error_description"], "properties": {
                "error": {"type": "string"}, "error_description": {"type": "string"}, "field": {"type": "string"}}}},
        },
    })
}

/// `GET /admin/v1/openapi.json` (no token needed: it holds no data).
pub async fn document(settings: web::Data<TokenSettings>) -> HttpResponse {
    HttpResponse::Ok().json(build(&ADMIN_API, &settings.issuer))
}
