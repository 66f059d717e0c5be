//! Sector identifier documents (OpenID Connect Registration §2 and §5,
//! Core §8.1): the `sector_identifier_uri` of a client serves a JSON array
//! of redirect URIs, and every redirect URI of the client must be among
//! them, so that clients of one sector (and so sharing pairwise subjects)
//! are the ones its owner lists. Checked when a client registers or updates
//! itself (registration fails otherwise, §2) and at each authorization
//! request of a pairwise client (a configuration an admin wrote, or a
//! document changed since, is held to it too). Fetched and kept as
//! [`FetchedDocuments`] are.

use crate::fetched_documents::FetchedDocuments;
use portcullis_core::ClientMetadata;
use portcullis_outbound::Outbound;
use serde_json::Value;
use std::sync::Arc;

/// The most redirect URIs a document lists.
pub const MAX_LISTED: usize = 1_000;

/// The sector identifier documents this instance fetched.
pub struct SectorDocuments(FetchedDocuments<Arc<Vec<String>>>);

impl SectorDocuments {
    /// None yet, fetched through `outbound`.
    pub fn new(outbound: Arc<Outbound>) -> Self {
        Self(FetchedDocuments::new(outbound))
    }

    /// Checks that the document at `uri` lists each of `redirect_uris`;
    /// why not, for the client's developer, when it does not.
    pub async fn check<'a>(
        &self,
        uri: &str,
        redirect_uris: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), String> {
        let listed = self.0.get(uri, read).await.map_err(|e| e.to_string())?;
        match redirect_uris.into_iter().find(|uri| !listed.iter().any(|listed| listed == uri)) {
            Some(missing) => Err(format!("{missing} is not listed in the sector identifier document")),
            None => Ok(()),
        }
    }
}

impl SectorDocuments {
    /// Whether an authorization request of a client configured as
    /// `metadata` may be answered at `redirect_uri`: for a pairwise client
    /// with a `sector_identifier_uri`, the registered URI the request's
    /// matched must be listed there; why not, when it is not.
    pub async fn admits(&self, metadata: &ClientMetadata, redirect_uri: &str) -> Result<(), String> {
        let Some(sector) = metadata.sector_identifier_uri.as_deref().filter(|_| metadata.sector().is_some())
        else {
            return Ok(());
        };
        match metadata.redirect_uris.iter().find(|uri| uri.matches(redirect_uri)) {
            Some(registered) => self.check(sector, [registered.as_str()]).await,
            None => Ok(()),
        }
    }
}

/// The redirect URIs a document lists.
fn read(document: Value) -> anyhow::Result<Arc<Vec<String>>> {
    let Value::Array(items) = document else { anyhow::bail!("the document is not a JSON array") };
    anyhow::ensure!(items.len() <= MAX_LISTED, "the document lists more than {MAX_LISTED} URIs");
    let uris = items.into_iter().map(|item| match item {
        Value::String(uri) => Ok(uri),
        _ => Err(anyhow::anyhow!("the document lists something that is not a URI")),
    });
    Ok(Arc::new(uris.collect::<anyhow::Result<_>>()?))
}
