//! Documents that others publish and this server reads: client ID metadata
//! documents, sector identifier documents. Each is fetched through the
//! guarded outbound client (never an inside address the operator did not
//! allow, no redirects, exactly `200`, at most [`MAX_DOCUMENT_BYTES`],
//! within [`TIMEOUT`]), kept as the answer's `Cache-Control` says within
//! bounds ([`client_document::cache_lifetime`]), and fetched again after. A
//! failed fetch is never kept: the next use asks again, within the
//! instance's budget of [`FETCHES_PER_SECOND`], so that invented URLs
//! cannot make the server a fetching machine for others.
//!
//! Each instance fetches for itself: a document is its publisher's record,
//! not this server's, so there is nothing to share.

use portcullis_core::client_document::{self, MAX_DOCUMENT_BYTES};
use portcullis_outbound::{LongerBody, Outbound, OutboundRequest};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a fetch may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// The most documents of one kind an instance fetches a second.
pub const FETCHES_PER_SECOND: u32 = 10;
/// The most documents of one kind an instance keeps.
pub const MAX_KEPT: usize = 10_000;

/// Why a document cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The instance's budget of fetches is spent and none is kept.
    #[error("too many documents are being fetched; try again")]
    OverBudget,
    /// The fetch failed, or the document was refused: why, for its publisher.
    #[error("{0}")]
    Refused(anyhow::Error),
}

struct Kept<T> {
    value: T,
    until: Instant,
}

/// Documents of one kind, each read into a `T`, by URL.
pub struct FetchedDocuments<T> {
    outbound: Arc<Outbound>,
    kept: Mutex<HashMap<String, Kept<T>>>,
    budget: Mutex<(Instant, u32)>,
}

impl<T: Clone> FetchedDocuments<T> {
    /// None yet, fetched through `outbound`.
    pub fn new(outbound: Arc<Outbound>) -> Self {
        Self { outbound, kept: Mutex::new(HashMap::new()), budget: Mutex::new((Instant::now(), 0)) }
    }

    /// The document at `url` as last read, even when it is due to be
    /// fetched again.
    pub fn kept(&self, url: &str) -> Option<T> {
        self.kept.lock().expect("documents lock").get(url).map(|kept| kept.value.clone())
    }

    /// Whether any kept document passes `test`.
    pub fn any_kept(&self, test: impl Fn(&T) -> bool) -> bool {
        self.kept.lock().expect("documents lock").values().any(|kept| test(&kept.value))
    }

    /// The document at `url`, read by `read`: kept, or fetched now; over
    /// the budget, what is kept (however old).
    pub async fn get(
        &self,
        url: &str,
        read: impl FnOnce(Value) -> anyhow::Result<T>,
    ) -> Result<T, DocumentError> {
        let kept = self.kept.lock().expect("documents lock").get(url).map(|k| (k.value.clone(), k.until));
        match kept {
            Some((value, until)) if Instant::now() < until => return Ok(value),
            Some((value, _)) if !self.may_fetch() => return Ok(value),
            None if !self.may_fetch() => return Err(DocumentError::OverBudget),
            _ => {}
        }
        let (document, lifetime) = self.fetch(url).await.map_err(DocumentError::Refused)?;
        let value = read(document).map_err(DocumentError::Refused)?;
        self.keep(url, value.clone(), lifetime);
        Ok(value)
    }

    fn may_fetch(&self) -> bool {
        let mut budget = self.budget.lock().expect("documents budget lock");
        if budget.0.elapsed() >= Duration::from_secs(1) {
            *budget = (Instant::now(), 0);
        }
        budget.1 += 1;
        budget.1 <= FETCHES_PER_SECOND
    }

    fn keep(&self, url: &str, value: T, lifetime: Duration) {
        let mut kept = self.kept.lock().expect("documents lock");
        if kept.len() >= MAX_KEPT {
            let now = Instant::now();
            kept.retain(|_, k| k.until > now);
        }
        if kept.len() < MAX_KEPT || kept.contains_key(url) {
            kept.insert(url.to_owned(), Kept { value, until: Instant::now() + lifetime });
        }
    }

    /// Fetches the JSON document at `url`, and how long it may be kept.
    async fn fetch(&self, url: &str) -> anyhow::Result<(Value, Duration)> {
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
        let document = serde_json::from_slice(&response.body)
            .map_err(|_| anyhow::anyhow!("the document is not JSON"))?;
        Ok((document, client_document::cache_lifetime(response.cache_control.as_deref())))
    }
}
