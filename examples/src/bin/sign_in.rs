//! An app signing a user in with the authorization code flow and PKCE
//! through a loopback redirect (RFC 8252 §7.3), as a native or command-line
//! app does, with the `openidconnect` crate; it prints the verified ID
//! token's claims and the user's UserInfo claims as JSON.
//!
//! ```sh
//! cargo run --release -- client create --name cli --auth-method none --grant-type authorization_code \
//!     --scope "openid profile email" --redirect-uri http://127.0.0.1/callback
//! cargo run -p portcullis-examples --bin sign-in -- --client-id …
//! ```
//!
//! It prints a URL to open in a browser, listens on a free loopback port for
//! the redirect, checks `state` and `iss` (RFC 9207), exchanges the code with
//! its PKCE verifier, and verifies the ID token: signature against the JWKS,
//! issuer, audience, expiry, nonce and `at_hash`. UserInfo must be about the
//! same `sub`.

use anyhow::{bail, ensure, Context};
use clap::Parser;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use portcullis_examples::{http_client, receive_callback};
use std::net::TcpListener;

/// Signs a user in and prints the ID token's claims.
#[derive(Parser)]
struct Args {
    /// The authorization server's issuer.
    #[arg(long, default_value = "http://localhost:8080")]
    issuer: String,
    /// This app's client_id (a public client: it has no secret to keep).
    #[arg(long, env = "CLIENT_ID")]
    client_id: String,
    /// The loopback port to receive the redirect on; 0 picks a free one
    /// (the server accepts any port for a loopback IP redirect URI).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The scopes to ask for besides `openid`.
    #[arg(long, default_value = "profile email")]
    scope: String,
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let http = http_client()?;
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(args.issuer.clone())?, &http)
        .await
        .context("cannot read the server's discovery document")?;
    let listener = TcpListener::bind(("127.0.0.1", args.port))?;
    let redirect_uri = format!("http://127.0.0.1:{}/callback", listener.local_addr()?.port());
    let client = CoreClient::from_provider_metadata(metadata, ClientId::new(args.client_id), None)
        .set_redirect_uri(RedirectUrl::new(redirect_uri)?);

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scopes(args.scope.split_whitespace().map(|scope| Scope::new(scope.to_owned())))
        .set_pkce_challenge(challenge)
        .url();
    eprintln!("Open this URL in a browser to sign in:\n{url}");

    let params = receive_callback(listener).await?;
    // RFC 9207 §2.4: a response from another issuer is a mix-up attack.
    ensure!(params.get("iss") == Some(&args.issuer), "the response is not from {}", args.issuer);
    ensure!(params.get("state") == Some(state.secret()), "the response's state is not ours");
    if let Some(error) = params.get("error") {
        bail!("the server refused: {error}: {}", params.get("error_description").map_or("", String::as_str));
    }
    let code = params.get("code").context("no code in the response")?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))?
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .context("the code exchange failed")?;

    let id_token = tokens.id_token().context("no ID token in the response")?;
    let id_token_verifier = client.id_token_verifier();
    let claims = id_token.claims(&id_token_verifier, &nonce)?;
    if let Some(expected) = claims.access_token_hash() {
        let actual = AccessTokenHash::from_token(
            tokens.access_token(),
            id_token.signing_alg()?,
            id_token.signing_key(&id_token_verifier)?,
        )?;
        ensure!(*expected == actual, "the ID token's at_hash does not match the access token");
    }
    // OpenID Connect Core §5.4: with an access token, the scopes' claims come from UserInfo.
    let user_info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), Some(claims.subject().clone()))?
        .request_async(&http)
        .await
        .context("the UserInfo request failed")?;
    let printed = serde_json::json!({ "id_token": claims, "userinfo": user_info });
    println!("{}", serde_json::to_string_pretty(&printed)?);
    Ok(())
}
