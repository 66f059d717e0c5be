//! A command-line app without a browser of its own signing its user in
//! with the device authorization grant (RFC 8628), with the `openidconnect`
//! crate: it prints where to go and the code to type, polls while the user
//! signs in and approves on any other device, then prints the verified ID
//! token's claims as JSON.
//!
//! ```sh
//! cargo run --release -- client create --name tv --auth-method none \
//!     --grant-type urn:ietf:params:oauth:grant-type:device_code --scope "openid profile"
//! cargo run -p portcullis-examples --bin device-sign-in -- --client-id …
//! ```
//!
//! The device authorization endpoint comes from discovery (RFC 8628 §4);
//! `openidconnect` polls at the interval the server asks, slowing down
//! when told to (§3.5), and verifies the ID token: signature against the
//! JWKS, issuer, audience and expiry.

use anyhow::Context;
use clap::Parser;
use openidconnect::core::{CoreClient, CoreDeviceAuthorizationResponse, CoreProviderMetadata};
use openidconnect::{ClientId, DeviceAuthorizationUrl, IssuerUrl, Nonce, Scope, TokenResponse};
use portcullis_examples::http_client;
use std::time::Duration;

/// Signs a user in through another device and prints the ID token's claims.
#[derive(Parser)]
struct Args {
    /// The authorization server's issuer.
    #[arg(long, default_value = "http://localhost:8080")]
    issuer: String,
    /// This app's client_id (a public client).
    #[arg(long, env = "CLIENT_ID")]
    client_id: String,
    /// The scopes to ask for besides `openid`.
    #[arg(long, default_value = "profile")]
    scope: String,
    /// How long to wait for the user, in seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let http = http_client()?;
    let issuer = IssuerUrl::new(args.issuer.clone())?;
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .context("cannot read the server's discovery document")?;
    // `openidconnect`'s core metadata does not model RFC 8628 §4's member: read it from the document.
    let document: serde_json::Value =
        reqwest::get(format!("{}/.well-known/openid-configuration", args.issuer.trim_end_matches('/')))
            .await?
            .json()
            .await?;
    let device_endpoint = document["device_authorization_endpoint"]
        .as_str()
        .context("the server offers no device authorization endpoint")?;
    let client = CoreClient::from_provider_metadata(metadata, ClientId::new(args.client_id), None)
        .set_device_authorization_url(DeviceAuthorizationUrl::new(device_endpoint.to_owned())?);

    let details: CoreDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scopes(args.scope.split_whitespace().map(|scope| Scope::new(scope.to_owned())))
        .request_async(&http)
        .await
        .context("the device authorization request failed")?;
    eprintln!(
        "On another device, open {} and enter the code {}",
        details.verification_uri().as_str(),
        details.user_code().secret()
    );
    if let Some(complete) = details.verification_uri_complete() {
        eprintln!("or open this URL, the code filled in:\n{}", complete.secret());
    }

    let tokens = client
        .exchange_device_access_token(&details)?
        .request_async(&http, tokio::time::sleep, Some(Duration::from_secs(args.timeout)))
        .await
        .context("the user did not approve the device")?;
    let id_token = tokens.id_token().context("no ID token in the response")?;
    // No nonce is sent in the device grant, so none is checked.
    let claims = id_token.claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))?;
    println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "id_token": claims }))?);
    Ok(())
}
