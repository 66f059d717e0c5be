//! The relying party: the `openidconnect` crate, configured from the
//! server's discovery document, making authorization requests, exchanging
//! codes and verifying ID tokens exactly as an application would.

use crate::rp_documents::RpDocuments;
use crate::target::{ClientCredentials, Target};
use crate::user_agent::{Journey, UserAgent};
use anyhow::{bail, ensure, Context, Result};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims,
    CoreProviderMetadata, CoreResponseType, CoreTokenResponse, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, TokenResponse,
};
use url::Url;

/// A client configured from discovery, as `openidconnect` builds it.
pub type AppClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// An authorization request being built.
pub type AuthRequest<'a> =
    openidconnect::AuthorizationRequest<'a, CoreAuthDisplay, CoreAuthPrompt, CoreResponseType>;

/// The scope every client of the suite is registered with.
pub const ALL_SCOPES: [&str; 4] = ["profile", "email", "address", "phone"];

/// Leaves an authorization request as it is.
pub fn unchanged(request: AuthRequest<'_>) -> AuthRequest<'_> {
    request
}

/// An authorization request sent, and what the RP keeps until the response.
pub struct Pending {
    /// The request, as a URL.
    pub url: Url,
    /// The `state` sent.
    pub state: CsrfToken,
    /// The `nonce` sent.
    pub nonce: Nonce,
    /// The PKCE verifier of the challenge sent.
    pub verifier: PkceCodeVerifier,
}

/// A completed sign-in: the tokens, the verified ID token's claims, and how
/// the user got there.
pub struct SignedIn {
    /// The token response.
    pub tokens: CoreTokenResponse,
    /// The ID token's claims, verified.
    pub claims: CoreIdTokenClaims,
    /// The user's journey through the server's pages.
    pub journey: Journey,
}

/// The relying party, with the provider's metadata and keys.
pub struct RelyingParty {
    /// The HTTP client for back-channel calls (it follows no redirects, as
    /// `openidconnect` requires).
    pub http: reqwest::Client,
    /// The discovered metadata, with the JWKS.
    pub metadata: CoreProviderMetadata,
    /// What the suite runs against.
    pub target: Target,
    /// What the relying party publishes for the server to fetch.
    pub documents: RpDocuments,
}

impl RelyingParty {
    /// Discovers the provider (OpenID Connect Discovery §4; `openidconnect`
    /// checks that the document names the same issuer).
    pub async fn discover(target: &Target) -> Result<Self> {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        let issuer = IssuerUrl::new(target.issuer.clone())?;
        let metadata =
            CoreProviderMetadata::discover_async(issuer, &http).await.context("discovery failed")?;
        Ok(Self { http, metadata, target: target.clone(), documents: RpDocuments::start().await? })
    }

    /// This relying party with the provider's metadata and keys read again
    /// (the provider may have rotated its keys), publishing as before.
    pub async fn rediscover(&self) -> Result<Self> {
        let issuer = IssuerUrl::new(self.target.issuer.clone())?;
        let metadata =
            CoreProviderMetadata::discover_async(issuer, &self.http).await.context("discovery failed")?;
        Ok(Self {
            http: self.http.clone(),
            metadata,
            target: self.target.clone(),
            documents: self.documents.clone(),
        })
    }

    /// A client for `credentials` authenticating with `client_secret_basic`.
    pub fn client(&self, credentials: &ClientCredentials) -> Result<AppClient> {
        Ok(CoreClient::from_provider_metadata(
            self.metadata.clone(),
            ClientId::new(credentials.client_id.clone()),
            Some(ClientSecret::new(credentials.client_secret.clone())),
        )
        .set_redirect_uri(RedirectUrl::new(self.target.redirect_uri.clone())?))
    }

    /// The target's main client (`client_secret_basic`).
    pub fn basic(&self) -> Result<AppClient> {
        self.client(&self.target.clients.basic)
    }

    /// A fresh browser, with no cookies, for the target's user.
    pub fn browser(&self) -> Result<UserAgent> {
        UserAgent::new(&self.target.user)
    }

    /// A client for `credentials` authenticating with `client_secret_post`.
    pub fn post_client(&self, credentials: &ClientCredentials) -> Result<AppClient> {
        Ok(self.client(credentials)?.set_auth_type(AuthType::RequestBody))
    }

    /// An authorization code request with S256 PKCE, a nonce, `openid` and
    /// `scopes`, changed by `customize`.
    pub fn request(
        &self,
        client: &AppClient,
        scopes: &[&str],
        customize: impl FnOnce(AuthRequest<'_>) -> AuthRequest<'_>,
    ) -> Pending {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scopes(scopes.iter().map(|scope| Scope::new((*scope).to_owned())))
            .set_pkce_challenge(challenge);
        let (url, state, nonce) = customize(request).url();
        Pending { url, state, nonce, verifier }
    }

    /// Exchanges `code` at the token endpoint.
    pub async fn exchange(
        &self,
        client: &AppClient,
        code: String,
        verifier: PkceCodeVerifier,
    ) -> Result<CoreTokenResponse, TokenError> {
        client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| TokenError::Other(e.to_string()))?
            .set_pkce_verifier(verifier)
            .request_async(&self.http)
            .await
            .map_err(TokenError::from)
    }

    /// Checks the ID token of `tokens` as OpenID Connect Core §3.1.3.7 says
    /// (signature with a key of the JWKS, `iss`, `aud`, `azp`, `exp`, `iat`,
    /// the `nonce` sent) and its `at_hash` (§3.1.3.8); returns its claims.
    pub fn verify_id_token(
        &self,
        client: &AppClient,
        tokens: &CoreTokenResponse,
        nonce: Option<&Nonce>,
    ) -> Result<CoreIdTokenClaims> {
        let id_token = tokens.id_token().context("the token response has no id_token")?;
        let verifier = client.id_token_verifier();
        let claims = match nonce {
            Some(nonce) => id_token.claims(&verifier, nonce)?,
            None => id_token.claims(&verifier, |sent: Option<&Nonce>| match sent {
                None => Ok(()),
                Some(_) => Err("a nonce that was never sent".to_owned()),
            })?,
        };
        let expected = claims.access_token_hash().context("the ID token has no at_hash")?;
        let actual = AccessTokenHash::from_token(
            tokens.access_token(),
            id_token.signing_alg()?,
            id_token.signing_key(&verifier)?,
        )?;
        ensure!(*expected == actual, "at_hash does not match the access token");
        Ok(claims.clone())
    }

    /// A whole sign-in: the request (see [`Self::request`]), the user's
    /// journey, the code exchanged and the ID token verified.
    pub async fn sign_in(
        &self,
        agent: &UserAgent,
        client: &AppClient,
        scopes: &[&str],
        customize: impl FnOnce(AuthRequest<'_>) -> AuthRequest<'_>,
    ) -> Result<SignedIn> {
        let pending = self.request(client, scopes, customize);
        let journey = agent.visit(&pending.url, &self.target.redirect_uri).await?;
        self.finish(client, pending, journey).await
    }

    /// A sign-in of a fresh browser with the basic client that also returns
    /// the code it exchanged and the PKCE verifier's value, for replaying.
    pub async fn sign_in_keeping_code(&self) -> Result<(String, String, SignedIn)> {
        let client = self.basic()?;
        let pending = self.request(&client, &[], unchanged);
        let verifier = pending.verifier.secret().clone();
        let journey = self.browser()?.visit(&pending.url, &self.target.redirect_uri).await?;
        let code = journey.code()?;
        let signed_in = self.finish(&client, pending, journey).await?;
        Ok((code, verifier, signed_in))
    }

    /// Checks the callback of `journey` for `pending` (RFC 9207 `iss`,
    /// `state`), exchanges its code and verifies the ID token.
    pub async fn finish(&self, client: &AppClient, pending: Pending, journey: Journey) -> Result<SignedIn> {
        let params = journey.callback()?;
        self.check_iss(params)?;
        ensure!(params.get("state") == Some(pending.state.secret()), "state not returned unchanged");
        let tokens = self.exchange(client, journey.code()?, pending.verifier).await?;
        let claims = self.verify_id_token(client, &tokens, Some(&pending.nonce))?;
        Ok(SignedIn { tokens, claims, journey })
    }

    /// RFC 9207 §2.4: the authorization response's `iss` is the issuer.
    pub fn check_iss(&self, params: &std::collections::HashMap<String, String>) -> Result<()> {
        match params.get("iss") {
            Some(iss) if *iss == self.target.issuer => Ok(()),
            other => bail!("iss in the authorization response is {other:?}, not the issuer"),
        }
    }

    /// The UserInfo response for `tokens` (a GET with the bearer header),
    /// checked to be about `claims`' subject.
    pub async fn user_info(&self, client: &AppClient, signed_in: &SignedIn) -> Result<CoreUserInfoClaims> {
        Ok(client
            .user_info(signed_in.tokens.access_token().clone(), Some(signed_in.claims.subject().clone()))?
            .request_async(&self.http)
            .await?)
    }
}

/// A token request that failed.
#[derive(Debug)]
pub enum TokenError {
    /// The server answered with an OAuth error (RFC 6749 §5.2): its `error`.
    OAuth(String),
    /// Anything else.
    Other(String),
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OAuth(error) => write!(f, "the token endpoint answered {error}"),
            Self::Other(why) => write!(f, "the token request failed: {why}"),
        }
    }
}

impl std::error::Error for TokenError {}

impl<E: std::error::Error + 'static, T: openidconnect::ErrorResponse + 'static> From<RequestTokenError<E, T>>
    for TokenError
{
    fn from(error: RequestTokenError<E, T>) -> Self {
        match &error {
            RequestTokenError::ServerResponse(response) => {
                let json = serde_json::to_value(response).unwrap_or_default();
                Self::OAuth(json["error"].as_str().unwrap_or_default().to_owned())
            }
            _ => Self::Other(error.to_string()),
        }
    }
}
