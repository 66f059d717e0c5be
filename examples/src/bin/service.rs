//! A service that gets an access token with the client credentials grant
//! and prints the token response as JSON.
//!
//! ```sh
//! cargo run -p portcullis-examples --bin service -- --client-id ID --client-secret SECRET --scope read
//! ```

use clap::Parser;
use oauth2::basic::BasicClient;
use oauth2::{ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};
use portcullis_examples::{discover, http_client, Client};

/// Gets an access token with client credentials.
#[derive(Parser)]
struct Args {
    #[command(flatten)]
    client: Client,
    /// Space-separated scope to ask for; the client's whole scope when empty.
    #[arg(long, default_value = "")]
    scope: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let http = http_client()?;
    let endpoints = discover(&http, &args.client.issuer).await?;
    let client = BasicClient::new(ClientId::new(args.client.client_id))
        .set_client_secret(ClientSecret::new(args.client.client_secret))
        .set_token_uri(TokenUrl::new(endpoints.token)?);
    let request =
        args.scope.split_whitespace().fold(client.exchange_client_credentials(), |request, scope| {
            request.add_scope(Scope::new(scope.to_owned()))
        });
    let token = request.request_async(&http).await?;
    let scope: Vec<String> = token.scopes().into_iter().flatten().map(|s| s.to_string()).collect();
    println!(
        "{}",
        serde_json::json!({
            "access_token": token.access_token().secret(),
            "token_type": token.token_type().as_ref(),
            "expires_in": token.expires_in().map(|d| d.as_secs()),
            "scope": scope.join(" "),
        })
    );
    Ok(())
}
