//! Clients named by the URL of their metadata document
//! (draft-ietf-oauth-client-id-metadata-document; the rules are
//! [`portcullis_core::client_document`]'s): fetched when first named
//! through the guarded outbound client (never an inside address the
//! operator did not allow, no redirects, exactly `200`, at most
//! [`MAX_DOCUMENT_BYTES`], within [`TIMEOUT`]), kept as the answer's
//! `Cache-Control` says within bounds, and fetched again after. A failed
//! fetch is never kept: the next request asks again, within the instance's
//! budget of [`FETCHES_PER_SECOND`], so that invented URLs cannot make the
//! server a fetching machine for others.
//!
//! Each instance fetches for itself: a document is its client's own record,
//! not this server's, so there is nothing to share.

use crate::clients::RegisteredClient;
use portcullis_core::client_document::{self, MAX_DOCUMENT_BYTES};
use portcullis_core::{ClientId, RegistrationPolicy};
use portcullis_jose::ClientKeys;
use portcullis_outbound::{LongerBody, Outbound, OutboundRequest};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a fetch may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// The most documents an instance fetches a second.
pub const FETCHES_PER_SECOND: u32 = 10;
/// The most documents an instance keeps.
pub const MAX_KEPT: usize = 10_000;

/// Which hosts' documents are accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocumentHosts {
    /// Any host the outbound policy lets the server reach.
    Any,
    /// Only these (lower-case host names).
    Only(Vec<String>),
}

struct Kept {
    client: Arc<RegisteredClient>,
    until: Instant,
}

/// The clients of metadata documents this instance fetched.
pub struct ClientDocuments {
    outbound: Arc<Outbound>,
    hosts: DocumentHosts,
    policy: RegistrationPolicy,
    loopback_http: bool,
    kept: Mutex<HashMap<String, Kept>>,
    budget: Mutex<(Instant, u32)>,
}

impl ClientDocuments {
    /// Documents of `hosts`, fetched through `outbound`, their clients
    /// admitted under `policy` (open registration's); http documents on
    /// loopback too when `loopback_http` (dev mode).
    pub fn new(
        outbound: Arc<Outbound>,
        hosts: DocumentHosts,
        policy: RegistrationPolicy,
        loopback_http: bool,
    ) -> Self {
        Self {
            outbound,
            hosts,
            policy,
            loopback_http,
            kept: Mutex::new(HashMap::new()),
            budget: Mutex::new((Instant::now(), 0)),
        }
    }

    /// Whether `client_id` is a document URL of a host accepted here.
    pub fn names_document(&self, client_id: &str) -> bool {
        if !client_document::is_document_url(client_id, self.loopback_http) {
            return false;
        }
        match &self.hosts {
            DocumentHosts::Any => true,
            DocumentHosts::Only(hosts) => client_document::document_host(client_id)
                .is_some_and(|host| hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(&host))),
        }
    }

    /// The client of `client_id`'s document as last fetched, even when it
    /// is due to be fetched again: what a token issued to it is checked
    /// against.
    pub fn kept(&self, client_id: &str) -> Option<Arc<RegisteredClient>> {
        self.kept.lock().expect("documents lock").get(client_id).map(|kept| kept.client.clone())
    }

    /// Whether a kept document's client allows pages of `origin`.
    pub fn any_allows_origin(&self, origin: &str) -> bool {
        self.kept.lock().expect("documents lock").values().any(|k| k.client.metadata.allows_origin(origin))
    }

    /// The client of `client_id`'s document: kept, or fetched now. `None`
    /// when it is not a document URL accepted here, or the document cannot
    /// be fetched or does not describe a client this server admits (the
    /// reason is logged for its developer).
    pub async fn find(&self, client_id: &str) -> Option<Arc<RegisteredClient>> {
        if !self.names_document(client_id) {
            return None;
        }
        let kept =
            self.kept.lock().expect("documents lock").get(client_id).map(|k| (k.client.clone(), k.until));
        if let Some((client, until)) = &kept {
            if Instant::now() < *until {
                return Some(client.clone());
            }
        }
        if !self.may_fetch() {
            // Over budget: what is kept still serves; nothing new is fetched.
            return kept.map(|(client, _)| client);
        }
        match self.fetch(client_id).await {
            Ok((client, lifetime)) => {
                let client = Arc::new(client);
                self.keep(client_id, client.clone(), lifetime);
                Some(client)
            }
            Err(reason) => {
                tracing::warn!(client_id, reason = %reason, "a client metadata document was refused");
                None
            }
        }
    }

    fn may_fetch(&self) -> bool {
        let mut budget = self.budget.lock().expect("documents budget lock");
        if budget.0.elapsed() >= Duration::from_secs(1) {
            *budget = (Instant::now(), 0);
        }
        budget.1 += 1;
        budget.1 <= FETCHES_PER_SECOND
    }

    fn keep(&self, client_id: &str, client: Arc<RegisteredClient>, lifetime: Duration) {
        let mut kept = self.kept.lock().expect("documents lock");
        if kept.len() >= MAX_KEPT {
            let now = Instant::now();
            kept.retain(|_, k| k.until > now);
        }
        if kept.len() < MAX_KEPT || kept.contains_key(client_id) {
            kept.insert(client_id.to_owned(), Kept { client, until: Instant::now() + lifetime });
        }
    }

    /// Fetches and checks the document at `url`.
    async fn fetch(&self, url: &str) -> anyhow::Result<(RegisteredClient, Duration)> {
        let request = OutboundRequest {
            method: portcullis_outbound::Method::GET,
            url,
            headers: vec![("accept", "application/json".to_owned())],
            body: None,
            timeout: TIMEOUT,
            max_body: MAX_DOCUMENT_BYTES,
            longer_body: LongerBody::Refused,
        };
        let response = self.outbound.send(request).await?;
        // The document is served with exactly 200; a redirect is not followed.
        anyhow::ensure!(response.status == 200, "the document's URL answered {}", response.status);
        let document = match serde_json::from_slice(&response.body) {
            Ok(serde_json::Value::Object(document)) => document,
            _ => anyhow::bail!("the document is not a JSON object"),
        };
        let metadata = client_document::metadata_from_document(url, document, &self.policy)?;
        let assertion_keys = metadata.jwks.as_ref().map(ClientKeys::from_jwks).transpose()?;
        let mut client = RegisteredClient::unsaved(ClientId::parse(url)?, 1, metadata);
        client.assertion_keys = assertion_keys;
        Ok((client, client_document::cache_lifetime(response.cache_control.as_deref())))
    }
}
