//! Clients the relying party registers itself (RFC 7591, OpenID Connect
//! Registration 1.0) and that authenticate with `private_key_jwt` (RFC 7523,
//! OpenID Connect Core §9), their keys published at the RP's `jwks_uri`:
//! the variant of the OIDF dynamic plan. `openidconnect` builds the
//! authorization requests and verifies the ID tokens; the token requests,
//! which carry a client assertion `openidconnect` cannot make, are posted
//! as a form.

use crate::relying_party::{AppClient, AuthRequest, Pending, RelyingParty};
use crate::user_agent::Journey;
use anyhow::{bail, ensure, Context, Result};
use josekit::jwk::Jwk;
use josekit::jws::{JwsHeader, RS256};
use josekit::jwt::JwtPayload;
use openidconnect::core::{CoreClient, CoreIdToken, CoreIdTokenClaims, CoreJwsSigningAlgorithm};
use openidconnect::{ClientId, CsrfToken, Nonce, RedirectUrl};
use serde_json::{json, Value};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use url::Url;

/// An RS256 key pair of the relying party.
pub struct RpKey {
    private: Jwk,
    public: Value,
    kid: String,
}

impl RpKey {
    /// A fresh 2048-bit RSA key.
    pub fn generate() -> Result<Self> {
        let pair = RS256.generate_key_pair(2048)?;
        let kid = CsrfToken::new_random().secret().clone();
        let mut private = pair.to_jwk_private_key();
        private.set_key_id(&kid);
        let mut public = pair.to_jwk_public_key();
        public.set_key_id(&kid);
        public.set_algorithm("RS256");
        public.set_key_use("sig");
        Ok(Self { private, public: serde_json::to_value(public.as_ref())?, kid })
    }

    /// Its public half, as a JWK Set.
    pub fn jwks(&self) -> Value {
        json!({"keys": [self.public]})
    }

    /// A client assertion (RFC 7523 §3) of `client_id` for the audience `aud`.
    pub fn assertion(&self, client_id: &str, aud: &str) -> Result<String> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        let claims = json!({"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + 60,
                            "jti": CsrfToken::new_random().secret()});
        let Value::Object(claims) = claims else { unreachable!("an object") };
        let mut header = JwsHeader::new();
        header.set_key_id(&self.kid);
        let signer = RS256.signer_from_jwk(&self.private)?;
        Ok(josekit::jwt::encode_with_signer(&JwtPayload::from_map(claims)?, &header, &signer)?)
    }

    /// `claims` signed RS256 under a header naming no `kid` (as the suite
    /// signs request objects: its keys have none).
    pub fn sign_without_kid(&self, claims: serde_json::Map<String, Value>) -> Result<String> {
        let mut private = self.private.clone();
        private.set_parameter("kid", None)?;
        let signer = RS256.signer_from_jwk(&private)?;
        Ok(josekit::jwt::encode_with_signer(&JwtPayload::from_map(claims)?, &JwsHeader::new(), &signer)?)
    }
}

/// A client the relying party registered.
pub struct Dynamic {
    /// Its `client_id`.
    pub client_id: String,
    /// The client information response (RFC 7591 §3.2.1).
    pub info: Value,
    /// Its key, whose public half is served at `jwks_path`.
    pub key: RpKey,
    /// Where its JWK Set is served, on the RP's documents server.
    pub jwks_path: String,
    /// The client as `openidconnect` knows it (no secret), with the first
    /// registered redirect URI.
    pub client: AppClient,
}

impl Dynamic {
    /// The `id_token_signed_response_alg` the server registered (RS256 when
    /// it echoed none, the default of OpenID Connect Registration §2).
    pub fn id_token_alg(&self) -> Result<CoreJwsSigningAlgorithm> {
        match self.info.get("id_token_signed_response_alg") {
            Some(alg) => Ok(serde_json::from_value(alg.clone())?),
            None => Ok(CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256),
        }
    }
}

/// A sign-in of a registered client: the token response and the verified
/// ID token's claims.
pub struct DynamicSignIn {
    /// The token response.
    pub tokens: Value,
    /// The ID token as issued.
    pub id_token: CoreIdToken,
    /// Its claims, verified as OpenID Connect Core §3.1.3.7 says.
    pub claims: CoreIdTokenClaims,
    /// The user's journey.
    pub journey: Journey,
}

static REGISTERED: AtomicUsize = AtomicUsize::new(0);

impl RelyingParty {
    /// Posts `metadata` to the registration endpoint (with the target's
    /// initial access token, when it has one): the status and the answer.
    pub async fn register_raw(&self, metadata: &Value) -> Result<(u16, Value)> {
        let endpoint = self.registration_endpoint()?;
        let mut request = self.http.post(endpoint).json(metadata);
        if let Some(token) = &self.target.registration_token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        Ok((response.status().as_u16(), response.json().await.unwrap_or_default()))
    }

    /// The registration endpoint discovery names.
    pub fn registration_endpoint(&self) -> Result<String> {
        let document = serde_json::to_value(&self.metadata)?;
        document["registration_endpoint"]
            .as_str()
            .map(str::to_owned)
            .context("discovery names no registration_endpoint")
    }

    /// The metadata of a `private_key_jwt` code-flow client of this RP (a
    /// fresh key, served at a fresh path), changed by `extra`.
    pub fn client_metadata(&self, extra: Value) -> Result<(Value, RpKey, String)> {
        let key = RpKey::generate()?;
        let jwks_path = format!("/jwks/{}.json", REGISTERED.fetch_add(1, Ordering::SeqCst));
        let jwks_uri = self.documents.publish(&jwks_path, &key.jwks());
        let mut metadata = json!({
            "client_name": "Conformance RP (dynamic)", "redirect_uris": [self.target.redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
            "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": jwks_uri,
            "scope": "openid profile email address phone",
        });
        metadata
            .as_object_mut()
            .context("an object")?
            .extend(extra.as_object().context("an object")?.clone());
        Ok((metadata, key, jwks_path))
    }

    /// Registers a client of [`Self::client_metadata`]; an error if refused.
    pub async fn register(&self, extra: Value) -> Result<Dynamic> {
        let (metadata, key, jwks_path) = self.client_metadata(extra)?;
        let (status, info) = self.register_raw(&metadata).await?;
        ensure!(status == 201, "registration answered {status}: {info}");
        let client_id = info["client_id"].as_str().context("no client_id registered")?.to_owned();
        let redirect = metadata["redirect_uris"][0].as_str().context("no redirect URI")?;
        let client = self.client_for(&client_id, redirect)?;
        Ok(Dynamic { client_id, info, key, jwks_path, client })
    }

    /// `client_id` as `openidconnect` knows it from this RP's discovery (no
    /// secret), sending responses to `redirect_uri`.
    pub fn client_for(&self, client_id: &str, redirect_uri: &str) -> Result<AppClient> {
        Ok(CoreClient::from_provider_metadata(
            self.metadata.clone(),
            ClientId::new(client_id.to_owned()),
            None,
        )
        .set_redirect_uri(RedirectUrl::new(redirect_uri.to_owned())?))
    }

    /// A token request of `dynamic`, authenticated with a client assertion
    /// for the audience `aud` (the token endpoint when `None`).
    pub async fn token_request(
        &self,
        dynamic: &Dynamic,
        form: &[(&str, &str)],
        aud: Option<&str>,
    ) -> Result<(u16, Value)> {
        let endpoint = self.metadata.token_endpoint().context("no token_endpoint")?.url().to_string();
        let assertion = dynamic.key.assertion(&dynamic.client_id, aud.unwrap_or(&endpoint))?;
        let mut form: Vec<(&str, &str)> = form.to_vec();
        form.push(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"));
        form.push(("client_assertion", &assertion));
        let response = self.http.post(&endpoint).form(&form).send().await?;
        Ok((response.status().as_u16(), response.json().await.unwrap_or_default()))
    }

    /// A fresh browser's sign-in with `dynamic`, the request changed by
    /// `customize`: the callback checked (RFC 9207 `iss`, `state`), the code
    /// exchanged with a client assertion, the ID token verified.
    pub async fn sign_in_dynamic(
        &self,
        dynamic: &Dynamic,
        customize: impl FnOnce(AuthRequest<'_>) -> AuthRequest<'_>,
    ) -> Result<DynamicSignIn> {
        let pending = self.request(&dynamic.client, &[], customize);
        self.finish_dynamic(dynamic, &pending, &pending.url).await
    }

    /// [`Self::sign_in_dynamic`] of `pending`, the browser sent to `url`
    /// (the request as `pending` made it, or carrying it another way).
    pub async fn finish_dynamic(
        &self,
        dynamic: &Dynamic,
        pending: &Pending,
        url: &Url,
    ) -> Result<DynamicSignIn> {
        let redirect = dynamic.client.redirect_uri().context("no redirect URI")?.to_string();
        let journey = self.browser()?.visit(url, &self.target.redirect_uri).await?;
        let params = journey.callback()?;
        self.check_iss(params)?;
        ensure!(params.get("state") == Some(pending.state.secret()), "state not returned unchanged");
        let code = journey.code()?;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect.as_str()),
            ("code_verifier", pending.verifier.secret().as_str()),
        ];
        let (status, tokens) = self.token_request(dynamic, &form, None).await?;
        ensure!(status == 200, "the token endpoint answered {status}: {tokens}");
        let (id_token, claims) = self.verify_dynamic(dynamic, &tokens, Some(&pending.nonce))?;
        Ok(DynamicSignIn { tokens, id_token, claims, journey })
    }

    /// The ID token of `tokens`, verified for `dynamic` (signature, `iss`,
    /// `aud`, `exp`, `iat`, the `nonce` sent when there is one).
    pub fn verify_dynamic(
        &self,
        dynamic: &Dynamic,
        tokens: &Value,
        nonce: Option<&Nonce>,
    ) -> Result<(CoreIdToken, CoreIdTokenClaims)> {
        let Some(raw) = tokens["id_token"].as_str() else { bail!("no id_token in {tokens}") };
        let id_token = CoreIdToken::from_str(raw)?;
        let verifier = dynamic.client.id_token_verifier().set_allowed_algs([dynamic.id_token_alg()?]);
        let claims = match nonce {
            Some(nonce) => id_token.claims(&verifier, nonce)?.clone(),
            None => id_token.claims(&verifier, |_: Option<&Nonce>| Ok(()))?.clone(),
        };
        Ok((id_token, claims))
    }
}
