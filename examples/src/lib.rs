//! What the examples share: finding a server's endpoints from its discovery
//! document, and an HTTP client fit for OAuth requests.

use anyhow::Context;
use oauth2::reqwest;

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
