//! The authorization side of an MCP server, with Portcullis as its
//! authorization server, as the MCP specification (2025-06-18 and later)
//! asks of a server: it is an OAuth 2.0 protected resource that
//!
//! - publishes its RFC 9728 metadata at
//!   `/.well-known/oauth-protected-resource`, naming Portcullis as its
//!   authorization server and `mcp:tools` as its scope;
//! - answers a request without a valid token `401` with a `WWW-Authenticate`
//!   challenge that points at that metadata (RFC 9728 §5.1);
//! - accepts only active tokens issued for itself: their audience is its
//!   own URL (RFC 8707, asked for with `resource`) and their scope holds
//!   `mcp:tools`, checked with Portcullis's introspection (RFC 7662) under
//!   this server's own credentials.
//!
//! Its one MCP method is JSON-RPC `tools/list`, over `POST /mcp`.
//!
//! ```sh
//! portcullis serve --registration open --scopes mcp:tools
//! portcullis client create --name "MCP server" --introspection-allowed   # its credentials
//! CLIENT_SECRET=… cargo run -p portcullis-examples --bin mcp-server -- --client-id …
//! ```

use actix_web::http::header;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use clap::Parser;
use oauth2::{AccessToken, TokenIntrospectionResponse};
use portcullis_examples::{discover, http_client, introspector, Client, Introspector};
use serde_json::{json, Value};

/// The scope the MCP server's tools need.
const SCOPE: &str = "mcp:tools";
/// Where RFC 9728 metadata is, under the server's origin.
const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// Serves an MCP endpoint to holders of a token issued for it.
#[derive(Parser)]
struct Args {
    /// This server's credentials at Portcullis (a client with --introspection-allowed).
    #[command(flatten)]
    client: Client,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8082")]
    listen: String,
}

struct State {
    introspector: Introspector,
    http: oauth2::reqwest::Client,
    issuer: String,
    /// This server's URL (`http://host:port/mcp`): the audience its tokens must name.
    resource: String,
}

impl State {
    fn metadata_url(&self) -> String {
        self.resource.replace("/mcp", METADATA_PATH)
    }

    /// RFC 6750 §3 with RFC 9728 §5.1: where to learn how to get a token.
    fn unauthorized(&self, error: Option<&str>) -> HttpResponse {
        let mut challenge = format!(r#"Bearer resource_metadata="{}", scope="{SCOPE}""#, self.metadata_url());
        if let Some(error) = error {
            challenge.push_str(&format!(r#", error="{error}""#));
        }
        HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, challenge))
            .json(json!({ "error": error.unwrap_or("unauthorized") }))
    }
}

/// `GET /.well-known/oauth-protected-resource` (RFC 9728 §3).
async fn metadata(state: web::Data<State>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "resource": state.resource,
        "authorization_servers": [state.issuer],
        "scopes_supported": [SCOPE],
        "bearer_methods_supported": ["header"],
    }))
}

/// `POST /mcp`: a JSON-RPC request, answered for a token issued for this server.
async fn mcp(req: HttpRequest, body: web::Json<Value>, state: web::Data<State>) -> HttpResponse {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let Some(token) = bearer else { return state.unauthorized(None) };
    let introspection = match state
        .introspector
        .introspect(&AccessToken::new(token.to_owned()))
        .request_async(&state.http)
        .await
    {
        Ok(introspection) => introspection,
        Err(e) => return HttpResponse::BadGateway().json(json!({ "error": e.to_string() })),
    };
    // RFC 8707: a token for another resource is not for this server, however
    // valid; RFC 9449 §7.2: a DPoP-bound token is no bearer token.
    let for_us = introspection.aud().is_some_and(|aud| aud.iter().any(|a| *a == state.resource));
    let bound = introspection.extra_fields().cnf.is_some();
    if !introspection.active() || !for_us || bound {
        return state.unauthorized(Some("invalid_token"));
    }
    let scopes: Vec<String> = introspection.scopes().into_iter().flatten().map(|s| s.to_string()).collect();
    if !scopes.iter().any(|s| s == SCOPE) {
        return HttpResponse::Forbidden()
            .insert_header((
                header::WWW_AUTHENTICATE,
                format!(r#"Bearer error="insufficient_scope", scope="{SCOPE}""#),
            ))
            .json(json!({ "error": "insufficient_scope" }));
    }
    let id = body.get("id").cloned().unwrap_or(Value::Null);
    if body.get("method").and_then(Value::as_str) != Some("tools/list") {
        return HttpResponse::Ok().json(
            json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "method not found"}}),
        );
    }
    HttpResponse::Ok().json(json!({"jsonrpc": "2.0", "id": id, "result": {"tools": [{
        "name": "whoami",
        "description": format!("Says who the token acts for: {}", introspection.sub().unwrap_or("nobody")),
        "inputSchema": {"type": "object", "properties": {}},
    }]}}))
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let http = http_client()?;
    let endpoints = discover(&http, &args.client.issuer).await?;
    let issuer = args.client.issuer.clone();
    let introspector = introspector(args.client, &endpoints)?;
    let listener = std::net::TcpListener::bind(&args.listen)?;
    let resource = format!("http://{}/mcp", listener.local_addr()?);
    let state = web::Data::new(State { introspector, http, issuer, resource });
    eprintln!("MCP server listening on {}", state.resource);
    HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route(METADATA_PATH, web::get().to(metadata))
            .route("/mcp", web::post().to(mcp))
    })
    .workers(1)
    .listen(listener)?
    .run()
    .await?;
    Ok(())
}
