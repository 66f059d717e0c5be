//! An MCP client's way to a token, as the MCP specification (2025-06-18 and
//! later) describes it, against an MCP server whose authorization server is
//! Portcullis (see `mcp-server`):
//!
//! 1. its first request is answered `401`; the `WWW-Authenticate`
//!    challenge names the server's RFC 9728 metadata;
//! 2. that metadata names the resource and its authorization server, whose
//!    RFC 8414 metadata names the registration, authorization and token
//!    endpoints (PKCE with S256 is required);
//! 3. it registers itself (RFC 7591) as a public client with a loopback
//!    redirect URI, asking for the resource it will use;
//! 4. it signs the user in with code + PKCE, asking for the resource
//!    (RFC 8707) in the authorization and the token request, and checks
//!    `state` and `iss` (RFC 9207);
//! 5. it calls the MCP server with the token and prints the tools it lists.
//!
//! ```sh
//! cargo run -p portcullis-examples --bin mcp-client -- --server http://127.0.0.1:8082/mcp
//! ```

use anyhow::{bail, ensure, Context};
use clap::Parser;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
    TokenUrl,
};
use portcullis_examples::{http_client, receive_callback};
use serde_json::{json, Value};
use std::net::TcpListener;

/// Gets a token for an MCP server and lists its tools.
#[derive(Parser)]
struct Args {
    /// The MCP server's endpoint.
    #[arg(long, default_value = "http://127.0.0.1:8082/mcp")]
    server: String,
    /// The loopback port to receive the redirect on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
}

/// The `resource_metadata` of a `WWW-Authenticate: Bearer` challenge (RFC 9728 §5.1).
fn resource_metadata(challenge: &str) -> Option<String> {
    let start = challenge.find("resource_metadata=\"")? + "resource_metadata=\"".len();
    let end = challenge[start..].find('"')?;
    Some(challenge[start..start + end].to_owned())
}

/// A JSON document, with `what` it is named in an error.
async fn fetch(http: &oauth2::reqwest::Client, url: &str, what: &str) -> anyhow::Result<Value> {
    let response = http.get(url).send().await.with_context(|| format!("cannot read the {what}"))?;
    response.error_for_status()?.json().await.with_context(|| format!("the {what} is not JSON"))
}

fn member<'a>(document: &'a Value, name: &str) -> anyhow::Result<&'a str> {
    document[name].as_str().with_context(|| format!("no {name} in {document}"))
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let http = http_client()?;
    let tools_list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});

    // 1. Unauthorized: the challenge says where to learn more.
    let first = http.post(&args.server).json(&tools_list).send().await?;
    ensure!(first.status() == 401, "the MCP server answered {} without a token", first.status());
    let challenge = first.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let metadata_url = resource_metadata(challenge).context("the challenge names no resource_metadata")?;

    // 2. The resource's metadata, then its authorization server's.
    let resource_metadata = fetch(&http, &metadata_url, "protected resource metadata").await?;
    let resource = member(&resource_metadata, "resource")?.to_owned();
    let issuer = resource_metadata["authorization_servers"][0].as_str().context("no authorization server")?;
    let issuer = issuer.trim_end_matches('/').to_owned();
    let scope: Vec<&str> = resource_metadata["scopes_supported"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let server =
        fetch(&http, &format!("{issuer}/.well-known/oauth-authorization-server"), "server metadata").await?;
    ensure!(member(&server, "issuer")? == issuer, "the metadata is not {issuer}'s (RFC 8414 §3.3)");
    let s256 =
        server["code_challenge_methods_supported"].as_array().is_some_and(|m| m.iter().any(|m| m == "S256"));
    ensure!(s256, "the authorization server does not offer PKCE with S256");

    // 3. Register: a public client with a loopback redirect URI.
    let listener = TcpListener::bind(("127.0.0.1", args.port))?;
    let redirect_uri = format!("http://127.0.0.1:{}/callback", listener.local_addr()?.port());
    let registration = json!({
        "client_name": "Example MCP client",
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
        "scope": scope.join(" "),
        "resources": [resource],
    });
    let registered = http.post(member(&server, "registration_endpoint")?).json(&registration).send().await?;
    if !registered.status().is_success() {
        bail!("the registration was refused: {}", registered.text().await?);
    }
    let registered: Value = registered.json().await?;
    let client_id = member(&registered, "client_id")?.to_owned();
    eprintln!("registered as {client_id}");

    // 4. Code + PKCE for the resource.
    let client = BasicClient::new(ClientId::new(client_id))
        .set_auth_uri(AuthUrl::new(member(&server, "authorization_endpoint")?.to_owned())?)
        .set_token_uri(TokenUrl::new(member(&server, "token_endpoint")?.to_owned())?)
        .set_redirect_uri(RedirectUrl::new(redirect_uri)?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(scope.iter().map(|s| Scope::new((*s).to_owned())))
        .add_extra_param("resource", &resource)
        .set_pkce_challenge(challenge)
        .url();
    eprintln!("Open this URL in a browser to sign in:\n{url}");
    let params = receive_callback(listener).await?;
    // RFC 9207 §2.4: a response from another issuer is a mix-up attack.
    ensure!(params.get("iss") == Some(&issuer), "the response is not from {issuer}");
    ensure!(params.get("state") == Some(state.secret()), "the response's state is not ours");
    if let Some(error) = params.get("error") {
        bail!("the server refused: {error}");
    }
    let code = params.get("code").context("no code in the response")?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .add_extra_param("resource", &resource)
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .context("the code exchange failed")?;

    // 5. The MCP server, with the token.
    let listed =
        http.post(&args.server).bearer_auth(tokens.access_token().secret()).json(&tools_list).send().await?;
    ensure!(listed.status().is_success(), "the MCP server answered {}", listed.status());
    let listed: Value = listed.json().await?;
    println!("{}", serde_json::to_string_pretty(&listed["result"])?);
    Ok(())
}
