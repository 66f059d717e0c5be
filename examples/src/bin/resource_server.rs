//! A resource server: `GET /hello` answers only requests that carry an
//! active access token, checked with the authorization server's
//! introspection endpoint (RFC 7662) under this server's own credentials.
//! A bearer token (RFC 6750) is taken as `Authorization: Bearer`; a token
//! bound to a DPoP key (RFC 9449) only as `Authorization: DPoP` with a
//! proof of that key naming this request and the token, verified here with
//! the `jsonwebtoken` crate.
//!
//! ```sh
//! cargo run -p portcullis-examples --bin resource-server -- --client-id ID --client-secret SECRET
//! curl -H "Authorization: Bearer $ACCESS_TOKEN" http://127.0.0.1:8081/hello
//! curl -H "Authorization: DPoP $ACCESS_TOKEN" -H "DPoP: $PROOF" http://127.0.0.1:8081/hello
//! ```

use actix_web::http::header;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use clap::Parser;
use jsonwebtoken::jwk::ThumbprintHash;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use oauth2::{AccessToken, TokenIntrospectionResponse};
use portcullis_examples::{discover, http_client, introspector, Client, Introspector};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Serves `GET /hello` to holders of an active token.
#[derive(Parser)]
struct Args {
    /// This resource server's credentials (a client created with --introspection-allowed).
    #[command(flatten)]
    client: Client,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8081")]
    listen: String,
    /// This server's public URL, which DPoP proofs must name (`htu`); the
    /// listening address's when not given.
    #[arg(long)]
    url: Option<String>,
}

/// How long a proof is accepted after its `iat`, in seconds; its `jti` is
/// remembered as long, so it is accepted once.
const PROOF_WINDOW: i64 = 300;
/// How far ahead of this server's clock a proof's `iat` may be.
const CLOCK_AHEAD: i64 = 60;

struct State {
    introspector: Introspector,
    http: oauth2::reqwest::Client,
    /// `GET /hello`'s public URL: what proofs must name, never read from the request.
    hello: String,
    /// The `jti`s of the proofs accepted, with when each was made.
    seen: Mutex<HashMap<String, i64>>,
}

/// The algorithms this example takes DPoP proofs in (the server's).
const PROOF_ALGS: &str = "RS256 ES256 PS256 EdDSA";

/// 401 with the challenge of `scheme` naming `error`, and why in the body.
fn unauthorized(scheme: &str, error: &str, why: &str) -> HttpResponse {
    let challenge = match scheme {
        "DPoP" => format!(r#"DPoP realm="example", error="{error}", algs="{PROOF_ALGS}""#),
        _ => format!(r#"Bearer realm="example", error="{error}""#),
    };
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, challenge))
        .json(serde_json::json!({ "error": error, "error_description": why }))
}

/// The token of `Authorization: Bearer` or `Authorization: DPoP`, and which.
fn presented(req: &HttpRequest) -> Option<(&'static str, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "bearer" => "Bearer",
        "dpop" => "DPoP",
        _ => return None,
    };
    Some((scheme, token.trim().to_owned()))
}

impl State {
    /// Checks the DPoP proof of `req` (RFC 9449 §4.3, §7.1): one proof,
    /// `typ: dpop+jwt`, signed by the key in its header, that key the one
    /// the token is bound to (`jkt`), naming this request's method and URL,
    /// made within the window, never seen before, and carrying the token's hash.
    fn check_proof(&self, req: &HttpRequest, token: &str, jkt: &str) -> Result<(), &'static str> {
        let mut proofs = req.headers().get_all("dpop");
        let (Some(proof), None) = (proofs.next(), proofs.next()) else { return Err("send one DPoP proof") };
        let proof = proof.to_str().map_err(|_| "the proof is not a JWT")?;
        let header = jsonwebtoken::decode_header(proof).map_err(|_| "the proof is not a JWT")?;
        if header.typ.as_deref() != Some("dpop+jwt") {
            return Err("the proof's typ is not dpop+jwt");
        }
        let jwk = header.jwk.as_ref().ok_or("the proof names no key")?;
        if jwk.thumbprint(ThumbprintHash::SHA256).map_err(|_| "the proof's key cannot be read")? != jkt {
            return Err("the proof is not signed with the token's key");
        }
        if !matches!(header.alg, Algorithm::ES256 | Algorithm::RS256 | Algorithm::PS256 | Algorithm::EdDSA) {
            return Err("the proof's alg is not one of RS256, ES256, PS256, EdDSA");
        }
        let key = DecodingKey::from_jwk(jwk).map_err(|_| "the proof's key cannot be read")?;
        let mut validation = Validation::new(header.alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<serde_json::Value>(proof, &key, &validation)
            .map_err(|_| "the proof's signature does not verify")?
            .claims;
        let text = |name: &str| claims[name].as_str().unwrap_or_default();
        let htu = text("htu").split(['?', '#']).next();
        if text("htm") != req.method().as_str() || htu != Some(self.hello.as_str()) {
            return Err("the proof names another request");
        }
        if text("ath") != URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes())) {
            return Err("the proof names another token");
        }
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        // RFC 7519 §2: a NumericDate may carry a fraction.
        let iat = claims["iat"].as_f64().unwrap_or_default() as i64;
        if iat > now + CLOCK_AHEAD || iat < now - PROOF_WINDOW {
            return Err("the proof is too old or from the future");
        }
        let mut seen = self.seen.lock().expect("the jti lock");
        seen.retain(|_, made| *made > now - 2 * PROOF_WINDOW);
        if seen.insert(text("jti").to_owned(), iat).is_some() || text("jti").is_empty() {
            return Err("the proof was used before");
        }
        Ok(())
    }
}

async fn hello(req: HttpRequest, state: web::Data<State>) -> HttpResponse {
    let Some((scheme, token)) = presented(&req) else {
        // RFC 6750 §3.1, RFC 9449 §7.2: no error without credentials, either scheme offered.
        let challenge = format!(r#"Bearer realm="example", DPoP realm="example", algs="{PROOF_ALGS}""#);
        return HttpResponse::Unauthorized().insert_header((header::WWW_AUTHENTICATE, challenge)).finish();
    };
    let introspection = match state
        .introspector
        .introspect(&AccessToken::new(token.clone()))
        .request_async(&state.http)
        .await
    {
        Ok(introspection) => introspection,
        Err(e) => return HttpResponse::BadGateway().json(serde_json::json!({ "error": e.to_string() })),
    };
    if !introspection.active() {
        return unauthorized(scheme, "invalid_token", "the token is not active");
    }
    // RFC 9449 §7.2: a bound token is never taken as a bearer token.
    match (scheme, &introspection.extra_fields().cnf) {
        ("Bearer", None) => {}
        ("DPoP", Some(cnf)) => {
            if let Err(why) = state.check_proof(&req, &token, &cnf.jkt) {
                return unauthorized("DPoP", "invalid_dpop_proof", why);
            }
        }
        ("Bearer", Some(_)) => return unauthorized(scheme, "invalid_token", "the token is DPoP-bound"),
        _ => return unauthorized(scheme, "invalid_token", "the token is not DPoP-bound"),
    }
    let scope: Vec<String> = introspection.scopes().into_iter().flatten().map(|s| s.to_string()).collect();
    HttpResponse::Ok().json(serde_json::json!({
        "hello": introspection.sub(),
        "client_id": introspection.client_id().map(|id| id.as_str()),
        "scope": scope.join(" "),
        "bound_to": introspection.extra_fields().cnf.as_ref().map(|cnf| cnf.jkt.as_str()),
    }))
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let http = http_client()?;
    let endpoints = discover(&http, &args.client.issuer).await?;
    let introspector = introspector(args.client, &endpoints)?;
    let public = args.url.unwrap_or_else(|| format!("http://{}", args.listen));
    let url = format!("{}/hello", public.trim_end_matches('/'));
    let state = web::Data::new(State { introspector, http, hello: url, seen: Mutex::default() });
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
