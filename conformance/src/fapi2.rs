//! What the OIDF FAPI 2.0 plan's relying party does, for the variant
//! mirrored here (`private_key_jwt`, DPoP, `plain_fapi`, `openid_connect`,
//! unsigned requests): clients of the server's `fapi2` profile registered
//! through RFC 7591, each with an RSA key that signs its PS256 assertions
//! (the issuer as their `aud`, a string) and an EC key for its DPoP proofs;
//! every request pushed (RFC 9126), the browser sent with `client_id` and
//! `request_uri` and the duplicates the suite adds; codes exchanged and
//! UserInfo called with proofs. `openidconnect` builds the request's
//! parameters and verifies the PS256 ID tokens.

use crate::relying_party::{AppClient, Pending, RelyingParty};
use crate::user_agent::Journey;
use anyhow::{ensure, Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use josekit::jwk::alg::ec::{EcCurve, EcKeyPair};
use josekit::jwk::alg::rsa::RsaKeyPair;
use josekit::jwk::Jwk;
use josekit::jws::{JwsHeader, ES256, PS256, RS256};
use josekit::jwt::JwtPayload;
use openidconnect::core::{CoreIdToken, CoreIdTokenClaims, CoreJwsSigningAlgorithm};
use openidconnect::{CsrfToken, Nonce};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use url::Url;

/// RFC 7523 §2.2.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The parameters the suite repeats in the URL beside `request_uri`.
const DUPLICATES: [&str; 4] = ["response_type", "client_id", "scope", "redirect_uri"];

static REGISTERED: AtomicUsize = AtomicUsize::new(0);

/// Seconds since the epoch.
pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A client of the `fapi2` profile, as the RP registered it.
pub struct FapiClient {
    /// Its `client_id`.
    pub client_id: String,
    /// Its RSA key (private), which signs its assertions.
    key: Jwk,
    /// Its DPoP key.
    pub dpop: DpopKey,
    /// The client as `openidconnect` knows it.
    pub client: AppClient,
}

/// An EC P-256 key that signs DPoP proofs (ES256).
pub struct DpopKey {
    private: Jwk,
    public: Value,
}

impl DpopKey {
    /// A fresh key.
    pub fn generate() -> Result<Self> {
        let pair = EcKeyPair::generate(EcCurve::P256)?;
        Ok(Self {
            private: pair.to_jwk_private_key(),
            public: serde_json::to_value(pair.to_jwk_public_key())?,
        })
    }

    /// Its RFC 7638 thumbprint: what `dpop_jkt` and `cnf.jkt` name.
    pub fn jkt(&self) -> String {
        let member = |name: &str| self.public[name].as_str().unwrap_or_default().to_owned();
        let canonical = json!({"crv": member("crv"), "kty": "EC", "x": member("x"), "y": member("y")});
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.to_string()))
    }

    /// A proof for `htm` at `htu` (with `ath` for `access_token`), its
    /// header and claims then changed by `edit` (a `null` removes a member).
    pub fn proof_with(
        &self,
        htm: &str,
        htu: &str,
        access_token: Option<&str>,
        edit: impl FnOnce(&mut Map<String, Value>, &mut Map<String, Value>),
    ) -> Result<String> {
        let mut header = Map::new();
        header.insert("typ".into(), "dpop+jwt".into());
        header.insert("jwk".into(), self.public.clone());
        let mut claims = Map::new();
        claims.insert("jti".into(), CsrfToken::new_random().secret().clone().into());
        claims.insert("htm".into(), htm.into());
        claims.insert("htu".into(), htu.into());
        claims.insert("iat".into(), now().into());
        if let Some(token) = access_token {
            claims.insert("ath".into(), ath(token).into());
        }
        edit(&mut header, &mut claims);
        header.retain(|_, value| !value.is_null());
        claims.retain(|_, value| !value.is_null());
        let header = JwsHeader::from_map(header)?;
        Ok(josekit::jwt::encode_with_signer(
            &JwtPayload::from_map(claims)?,
            &header,
            &ES256.signer_from_jwk(&self.private)?,
        )?)
    }

    /// A proof for `htm` at `htu`, as a client sends it.
    pub fn proof(&self, htm: &str, htu: &str, access_token: Option<&str>) -> Result<String> {
        self.proof_with(htm, htu, access_token, |_, _| {})
    }

    /// Its public JWK.
    pub fn public_jwk(&self) -> &Value {
        &self.public
    }

    /// Its private JWK, as a careless client would put it in a header.
    pub fn private_jwk(&self) -> Result<Value> {
        Ok(serde_json::to_value(&self.private)?)
    }
}

/// The `ath` of `access_token` (RFC 9449 §4.2).
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

impl FapiClient {
    /// An assertion of this client naming `aud`, with `iat` and `nbf`
    /// `ahead` seconds from now, its claims then changed by `edit`.
    pub fn assertion_with(
        &self,
        aud: Value,
        ahead: i64,
        edit: impl FnOnce(&mut Map<String, Value>),
    ) -> Result<String> {
        let at = now() + ahead;
        let Value::Object(mut claims) = json!({"iss": self.client_id, "sub": self.client_id, "aud": aud,
            "iat": at, "nbf": at, "exp": at + 60, "jti": CsrfToken::new_random().secret()})
        else {
            unreachable!("an object")
        };
        edit(&mut claims);
        claims.retain(|_, value| !value.is_null());
        self.sign(claims, "PS256")
    }

    /// The usual assertion: the issuer, as a string, now.
    pub fn assertion(&self, rp: &RelyingParty) -> Result<String> {
        self.assertion_with(rp.target.issuer.clone().into(), 0, |_| {})
    }

    /// `claims` signed with this client's RSA key under `alg` (PS256, or
    /// RS256 for the modules that check it is refused).
    pub fn sign(&self, claims: Map<String, Value>, alg: &str) -> Result<String> {
        let mut header = JwsHeader::new();
        header.set_key_id(self.key.key_id().context("a kid")?);
        let payload = JwtPayload::from_map(claims)?;
        Ok(match alg {
            "RS256" => {
                josekit::jwt::encode_with_signer(&payload, &header, &RS256.signer_from_jwk(&self.key)?)?
            }
            _ => josekit::jwt::encode_with_signer(&payload, &header, &PS256.signer_from_jwk(&self.key)?)?,
        })
    }

    /// `form` authenticated with `assertion`.
    pub fn authenticated(&self, form: &[(String, String)], assertion: &str) -> Vec<(String, String)> {
        let mut form = form.to_vec();
        if !form.iter().any(|(name, _)| name == "client_id") {
            form.push(("client_id".into(), self.client_id.clone()));
        }
        form.push(("client_assertion_type".into(), JWT_BEARER.into()));
        form.push(("client_assertion".into(), assertion.into()));
        form
    }
}

/// An answer of the token or PAR endpoint.
pub struct Answer {
    /// Its status.
    pub status: u16,
    /// Its JSON body.
    pub body: Value,
}

impl Answer {
    /// Checks the answer is an error, of `statuses`, one of `errors`.
    pub fn refused(&self, statuses: &[u16], errors: &[&str], what: &str) -> Result<()> {
        let error = self.body["error"].as_str().unwrap_or_default();
        ensure!(
            statuses.contains(&self.status) && errors.contains(&error),
            "{what}: answered {} {}, expected one of {statuses:?} with one of {errors:?}",
            self.status,
            self.body
        );
        Ok(())
    }
}

/// A pushed request: the authorization request's parameters, the RP's
/// memory of it, and the `request_uri` once pushed.
pub struct Pushed {
    /// The parameters pushed.
    pub params: Vec<(String, String)>,
    /// The request as `openidconnect` built it.
    pub pending: Pending,
}

impl Pushed {
    /// The parameter `name` pushed.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

impl RelyingParty {
    /// Registers a client of the `fapi2` profile (RFC 7591), its keys
    /// published at a fresh path of the RP's documents.
    pub async fn register_fapi2(&self) -> Result<FapiClient> {
        // Without `alg`, so the one key can also sign the RS256 assertion that must be refused.
        let pair = RsaKeyPair::generate(2048)?;
        let kid = CsrfToken::new_random().secret().clone();
        let mut key = pair.to_jwk_private_key();
        key.set_key_id(&kid);
        let mut public = pair.to_jwk_public_key();
        public.set_key_id(&kid);
        public.set_key_use("sig");
        let path = format!("/fapi2/{}.json", REGISTERED.fetch_add(1, Ordering::SeqCst));
        let jwks_uri = self.documents.publish(&path, &json!({"keys": [public]}));
        let metadata = json!({
            "client_name": "Conformance RP (FAPI 2.0)", "profile": "fapi2", "redirect_uris": [self.target.redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
            "jwks_uri": jwks_uri, "scope": "openid profile email",
        });
        let (status, info) = self.register_raw(&metadata).await?;
        ensure!(status == 201, "registration of a fapi2 client answered {status}: {info}");
        ensure!(info["token_endpoint_auth_method"] == "private_key_jwt", "not private_key_jwt: {info}");
        let client_id = info["client_id"].as_str().context("no client_id registered")?.to_owned();
        let client = self.client_for(&client_id, &self.target.redirect_uri)?;
        Ok(FapiClient { client_id, key, dpop: DpopKey::generate()?, client })
    }

    /// The URL of `path` under the issuer, as discovery names it.
    fn endpoint(&self, name: &str) -> Result<String> {
        let document = serde_json::to_value(&self.metadata)?;
        document[name].as_str().map(str::to_owned).with_context(|| format!("discovery names no {name}"))
    }

    /// The PAR endpoint (which `openidconnect`'s metadata does not model).
    pub async fn par_endpoint(&self) -> Result<String> {
        let document = crate::support::discovery_json(self).await?;
        document["pushed_authorization_request_endpoint"]
            .as_str()
            .map(str::to_owned)
            .context("discovery names no pushed_authorization_request_endpoint")
    }

    /// The token endpoint.
    pub fn token_url(&self) -> Result<String> {
        self.endpoint("token_endpoint")
    }

    /// The UserInfo endpoint.
    pub fn userinfo_url(&self) -> Result<String> {
        self.endpoint("userinfo_endpoint")
    }

    /// A request of `client` for `openid profile`, its parameters changed by `edit`.
    pub fn fapi2_request(
        &self,
        client: &FapiClient,
        edit: impl FnOnce(&mut Vec<(String, String)>),
    ) -> Pushed {
        let pending = self.request(&client.client, &["profile"], crate::relying_party::unchanged);
        let mut params: Vec<(String, String)> = pending.url.query_pairs().into_owned().collect();
        edit(&mut params);
        Pushed { params, pending }
    }

    /// Posts `form` to `url` with the DPoP header `proof`.
    pub async fn post_with_proof(
        &self,
        url: &str,
        form: &[(String, String)],
        proof: Option<&str>,
    ) -> Result<Answer> {
        let mut request = self.http.post(url).form(form);
        if let Some(proof) = proof {
            request = request.header("DPoP", proof);
        }
        let response = request.send().await?;
        Ok(Answer { status: response.status().as_u16(), body: response.json().await.unwrap_or_default() })
    }

    /// Pushes `pushed` for `client` with `assertion` and `proof`.
    pub async fn push(
        &self,
        client: &FapiClient,
        pushed: &Pushed,
        assertion: &str,
        proof: Option<&str>,
    ) -> Result<Answer> {
        let form = client.authenticated(&pushed.params, assertion);
        self.post_with_proof(&self.par_endpoint().await?, &form, proof).await
    }

    /// Pushes `pushed` as the suite does (a fresh assertion, a proof of the
    /// client's key) and returns the `request_uri`.
    pub async fn push_ok(&self, client: &FapiClient, pushed: &Pushed) -> Result<String> {
        let proof = client.dpop.proof("POST", &self.par_endpoint().await?, None)?;
        let answer = self.push(client, pushed, &client.assertion(self)?, Some(&proof)).await?;
        ensure!(answer.status == 201, "PAR answered {} {}", answer.status, answer.body);
        let expires_in = answer.body["expires_in"].as_i64().unwrap_or_default();
        ensure!((5..600).contains(&expires_in), "expires_in {expires_in} (FAPI 2.0 §5.3.2.2: under 600)");
        answer.body["request_uri"].as_str().map(str::to_owned).context("no request_uri")
    }

    /// The authorization URL for `request_uri` of `client`, with the
    /// suite's duplicates of `pushed` unless `bare`, and `extra`.
    pub fn by_reference(
        &self,
        client_id: &str,
        request_uri: &str,
        pushed: Option<&Pushed>,
        extra: &[(&str, &str)],
    ) -> Result<Url> {
        let mut url = Url::parse(self.metadata.authorization_endpoint().url().as_str())?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(pushed) = pushed {
                for (name, value) in
                    pushed.params.iter().filter(|(name, _)| DUPLICATES.contains(&name.as_str()))
                {
                    query.append_pair(name, value);
                }
            } else {
                query.append_pair("client_id", client_id);
            }
            query.append_pair("request_uri", request_uri);
            for (name, value) in extra {
                query.append_pair(name, value);
            }
        }
        Ok(url)
    }

    /// A fresh browser's journey through `url`.
    pub async fn journey(&self, url: &Url) -> Result<Journey> {
        self.browser()?.visit(url, &self.target.redirect_uri).await
    }

    /// Pushes `pushed`, signs in by reference, and returns the code, after
    /// checking the response's `iss` and `state`.
    pub async fn fapi2_code(&self, client: &FapiClient, pushed: &Pushed) -> Result<String> {
        let request_uri = self.push_ok(client, pushed).await?;
        let journey =
            self.journey(&self.by_reference(&client.client_id, &request_uri, Some(pushed), &[])?).await?;
        let params = journey.callback()?;
        self.check_iss(params)?;
        ensure!(
            params.get("state").map(String::as_str) == pushed.param("state"),
            "state not returned as pushed"
        );
        journey.code()
    }

    /// The token request exchanging `code` for `pushed`, with a proof of `dpop` (or none).
    pub fn code_form(code: &str, pushed: &Pushed) -> Vec<(String, String)> {
        vec![
            ("grant_type".into(), "authorization_code".into()),
            ("code".into(), code.into()),
            ("redirect_uri".into(), pushed.param("redirect_uri").unwrap_or_default().into()),
            ("code_verifier".into(), pushed.pending.verifier.secret().clone()),
        ]
    }

    /// Exchanges `code` with a proof of `client`'s key: the tokens, checked
    /// DPoP-bound, with the ID token verified (PS256, the nonce pushed).
    pub async fn fapi2_tokens(
        &self,
        client: &FapiClient,
        code: &str,
        pushed: &Pushed,
    ) -> Result<(Value, CoreIdTokenClaims)> {
        let proof = client.dpop.proof("POST", &self.token_url()?, None)?;
        let form = client.authenticated(&Self::code_form(code, pushed), &client.assertion(self)?);
        let answer = self.post_with_proof(&self.token_url()?, &form, Some(&proof)).await?;
        ensure!(answer.status == 200, "the token endpoint answered {} {}", answer.status, answer.body);
        ensure!(answer.body["token_type"] == "DPoP", "not a DPoP token: {}", answer.body);
        let raw = answer.body["id_token"].as_str().context("no id_token")?;
        let verifier =
            client.client.id_token_verifier().set_allowed_algs([CoreJwsSigningAlgorithm::RsaSsaPssSha256]);
        let nonce = Nonce::new(pushed.param("nonce").unwrap_or_default().to_owned());
        let claims = match pushed.param("nonce") {
            Some(_) => CoreIdToken::from_str(raw)?.claims(&verifier, &nonce)?.clone(),
            None => CoreIdToken::from_str(raw)?.claims(&verifier, |_: Option<&Nonce>| Ok(()))?.clone(),
        };
        Ok((answer.body, claims))
    }

    /// The status of UserInfo called with `access_token` under `scheme` and the DPoP headers `proofs`.
    pub async fn userinfo_with(&self, scheme: &str, access_token: &str, proofs: &[&str]) -> Result<u16> {
        let mut request =
            self.http.get(self.userinfo_url()?).header("authorization", format!("{scheme} {access_token}"));
        for proof in proofs {
            request = request.header("DPoP", *proof);
        }
        Ok(request.send().await?.status().as_u16())
    }

    /// A whole sign-in of `client` with the request changed by `edit`: its tokens.
    pub async fn fapi2_sign_in(
        &self,
        client: &FapiClient,
        edit: impl FnOnce(&mut Vec<(String, String)>),
    ) -> Result<(Value, CoreIdTokenClaims)> {
        let pushed = self.fapi2_request(client, edit);
        let code = self.fapi2_code(client, &pushed).await?;
        self.fapi2_tokens(client, &code, &pushed).await
    }
}

/// `params` with `name` set to `value`.
pub fn set(params: &mut Vec<(String, String)>, name: &str, value: &str) {
    params.retain(|(n, _)| n != name);
    params.push((name.into(), value.into()));
}

/// `params` without `name`.
pub fn remove(params: &mut Vec<(String, String)>, name: &str) {
    params.retain(|(n, _)| n != name);
}
