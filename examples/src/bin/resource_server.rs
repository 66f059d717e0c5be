//! A resource server: `GET /hello` answers only requests that carry an
//! active bearer token (RFC 6750), checked with the authorization server's
//! introspection endpoint (RFC 7662) under this server's own credentials.
//!
//! ```sh
//! cargo run -p portcullis-examples --bin resource-server -- --client-id ID --client-secret SECRET
//! curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:8081/hello
//! ```

use actix_web::http::header;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use clap::Parser;
use oauth2::{AccessToken, TokenIntrospectionResponse};
use portcullis_examples::{discover, http_client, introspector, Client, Introspector};

/// Serves `GET /hello` to holders of an active token.
#[derive(Parser)]
struct Args {
    /// This resource server's credentials (a client created with --introspection-allowed).
    #[command(flatten)]
    client: Client,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8081")]
    listen: String,
}

struct State {
    introspector: Introspector,
    http: oauth2::reqwest::Client,
}

fn unauthorized(error: &str) -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, format!(r#"Bearer realm="example", error="{error}""#)))
        .json(serde_json::json!({ "error": error }))
}

async fn hello(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let Some(token) = bearer else { return unauthorized("invalid_request") };
    let token = AccessToken::new(token.to_owned());
    let introspection = match state.introspector.introspect(&token).request_async(&state.http).await {
        Ok(introspection) => introspection,
        Err(e) => return HttpResponse::BadGateway().json(serde_json::json!({ "error": e.to_string() })),
    };
    if !introspection.active() {
        return unauthorized("invalid_token");
    }
    let scope: Vec<String> = introspection.scopes().into_iter().flatten().map(|s| s.to_string()).collect();
    HttpResponse::Ok().json(serde_json::json!({
        "hello": introspection.sub(),
        "client_id": introspection.client_id().map(|id| id.as_str()),
        "scope": scope.join(" "),
    }))
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let http = http_client()?;
    let endpoints = discover(&http, &args.client.issuer).await?;
    let introspector = introspector(args.client, &endpoints)?;
    let state = web::Data::new(State { introspector, http });
    let server =
        HttpServer::new(move || App::new().app_data(state.clone()).route("/hello", web::get().to(hello)))
            .workers(1)
            .bind(&args.listen)?;
    for address in server.addrs() {
        eprintln!("resource server listening on http://{address}");
    }
    server.run().await?;
    Ok(())
}
