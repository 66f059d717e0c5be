//! What the examples share: finding a server's endpoints from its discovery
//! document, an HTTP client fit for OAuth requests, and the loopback
//! redirect listener of apps that sign a user in (RFC 8252 §7.3).

use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use oauth2::reqwest;
use std::collections::HashMap;
use std::net::TcpListener;
use tokio::sync::mpsc;

/// The query of an authorization response.
pub type Callback = HashMap<String, String>;

async fn callback(query: web::Query<Callback>, received: web::Data<mpsc::Sender<Callback>>) -> HttpResponse {
    let _ = received.send(query.into_inner()).await;
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body("<p>Signed in. You can close this window and go back to the terminal.</p>")
}

/// Serves `/callback` on `listener` until the browser arrives there; returns its query.
pub async fn receive_callback(listener: TcpListener) -> anyhow::Result<Callback> {
    let (sender, mut receiver) = mpsc::channel(1);
    let received = web::Data::new(sender);
    let server = HttpServer::new(move || {
        App::new().app_data(received.clone()).route("/callback", web::get().to(callback))
    })
    .workers(1)
    .listen(listener)?
    .run();
    let handle = server.handle();
    let running = actix_web::rt::spawn(server);
    let params = receiver.recv().await.context("the redirect listener stopped")?;
    handle.stop(true).await;
    running.await??;
    Ok(params)
}

/// Where the authorization server is, and who this client is.
#[derive(clap::Args)]
pub struct Client {
    /// The authorization server's issuer.
    #[arg(long, default_value = "http://localhost:8080")]
    pub issuer: String,
    /// This client's client_id.
    #[arg(long, env = "CLIENT_ID")]
    pub client_id: String,
    /// This client's client_secret.
    #[arg(long, env = "CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: String,
}

/// The endpoints the examples use, from the server's metadata.
pub struct Endpoints {
    /// `token_endpoint`.
    pub token: String,
    /// `introspection_endpoint`.
    pub introspection: String,
}

/// What a resource server reads from introspection besides the standard
/// members: the key a DPoP-bound token is bound to (RFC 9449 §6.2).
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
pub struct Binding {
    /// `cnf`, for a bound token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

/// A token's confirmation (RFC 7800): the thumbprint of its DPoP key.
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
pub struct Confirmation {
    /// The RFC 7638 thumbprint of the key (RFC 9449 §6.1).
    pub jkt: String,
}

impl oauth2::ExtraTokenFields for Binding {}

/// An introspection answer with its `cnf`.
pub type Introspection = oauth2::StandardTokenIntrospectionResponse<Binding, oauth2::basic::BasicTokenType>;

/// An oauth2 client that calls the introspection endpoint only.
pub type Introspector = oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    oauth2::basic::BasicTokenResponse,
    Introspection,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
>;

/// `client` as a caller of `endpoints`' introspection (RFC 7662), with its
/// secret: what a resource server checks tokens with.
pub fn introspector(client: Client, endpoints: &Endpoints) -> anyhow::Result<Introspector> {
    Ok(oauth2::Client::new(oauth2::ClientId::new(client.client_id))
        .set_client_secret(oauth2::ClientSecret::new(client.client_secret))
        .set_introspection_url(oauth2::IntrospectionUrl::new(endpoints.introspection.clone())?))
}

/// An HTTP client that does not follow redirects, as oauth2 recommends
/// (a redirect could send credentials elsewhere).
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?)
}

/// Reads `issuer`'s RFC 8414 metadata.
pub async fn discover(http: &reqwest::Client, issuer: &str) -> anyhow::Result<Endpoints> {
    let url = format!("{}/.well-known/oauth-authorization-server", issuer.trim_end_matches('/'));
    let metadata: serde_json::Value = http.get(&url).send().await?.error_for_status()?.json().await?;
    let endpoint = |name: &str| -> anyhow::Result<String> {
        Ok(metadata[name].as_str().with_context(|| format!("{url} has no {name}"))?.to_owned())
    };
    Ok(Endpoints { token: endpoint("token_endpoint")?, introspection: endpoint("introspection_endpoint")? })
}
