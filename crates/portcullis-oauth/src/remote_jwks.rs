//! Client keys published at a `jwks_uri`: fetched when first needed, kept
//! for a while, and fetched again when a signature does not verify (the
//! client may have rotated its keys), at most every [`MIN_REFETCH`].
//!
//! Fetches go through the guarded outbound client
//! ([`portcullis_outbound`]): never to an inside address the operator
//! did not allow, no redirects, within [`TIMEOUT`], at most [`MAX_BYTES`].

use crate::clients::RegisteredClient;
use josekit::jwt::JwtPayload;
use portcullis_jose::ClientKeys;
use portcullis_outbound::{LongerBody, Outbound, OutboundRequest};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long fetched keys are used without asking again.
const FRESH_FOR: Duration = Duration::from_secs(300);
/// The shortest time between two fetches of one URI.
const MIN_REFETCH: Duration = Duration::from_secs(5);
/// The largest key set read.
const MAX_BYTES: usize = 64 * 1024;
/// How long a fetch may take.
const TIMEOUT: Duration = Duration::from_secs(5);

struct Fetched {
    keys: Arc<ClientKeys>,
    at: Instant,
}

/// The cache of key sets fetched from clients' `jwks_uri`s.
pub struct RemoteJwks {
    outbound: Arc<Outbound>,
    cache: Mutex<HashMap<String, Fetched>>,
}

impl RemoteJwks {
    /// An empty cache fetching through `outbound`.
    pub fn new(outbound: Arc<Outbound>) -> Self {
        Self { outbound, cache: Mutex::new(HashMap::new()) }
    }

    /// The payload of `jwt` when one of `client`'s keys signed it: those it
    /// registered (`jwks`), or those it publishes (`jwks_uri`).
    pub async fn verify_client(&self, client: &RegisteredClient, jwt: &str) -> Option<JwtPayload> {
        match (&client.public_keys, &client.metadata.jwks_uri) {
            (Some(keys), _) => keys.verify(jwt),
            (None, Some(uri)) => self.verify(uri, jwt).await,
            (None, None) => None,
        }
    }

    /// The payload of `jwt` when a key published at `uri` signed it.
    pub async fn verify(&self, uri: &str, jwt: &str) -> Option<JwtPayload> {
        let cached =
            self.cache.lock().expect("jwks cache lock").get(uri).map(|f| (f.keys.clone(), f.at.elapsed()));
        if let Some((keys, age)) = &cached {
            if *age < FRESH_FOR {
                if let Some(payload) = keys.verify(jwt) {
                    return Some(payload);
                }
            }
            if *age < MIN_REFETCH {
                return None;
            }
        }
        match self.fetch(uri).await {
            Ok(keys) => keys.verify(jwt),
            Err(e) => {
                tracing::warn!(jwks_uri = %uri, error = %e, "cannot fetch a client's keys");
                // Keys that are merely old still verify while the client's server is down.
                cached.and_then(|(keys, _)| keys.verify(jwt))
            }
        }
    }

    async fn fetch(&self, uri: &str) -> anyhow::Result<Arc<ClientKeys>> {
        let request = OutboundRequest {
            method: portcullis_outbound::Method::GET,
            url: uri,
            headers: vec![("accept", "application/jwk-set+json, application/json".to_owned())],
            body: None,
            timeout: TIMEOUT,
            max_body: MAX_BYTES,
            longer_body: LongerBody::Refused,
        };
        let response = self.outbound.send(request).await?;
        if !(200..300).contains(&response.status) {
            anyhow::bail!("the key set's URI answered {}", response.status);
        }
        let body = response.body;
        let keys = Arc::new(ClientKeys::from_jwks(&serde_json::from_slice(&body)?)?);
        let fetched = Fetched { keys: keys.clone(), at: Instant::now() };
        self.cache.lock().expect("jwks cache lock").insert(uri.to_owned(), fetched);
        Ok(keys)
    }
}
