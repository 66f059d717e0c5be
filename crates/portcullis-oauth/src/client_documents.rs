//! Clients named by the URL of their metadata document
//! (draft-ietf-oauth-client-id-metadata-document; the rules are
//! [`portcullis_core::client_document`]'s), fetched and kept as
//! [`FetchedDocuments`] are.

use crate::clients::RegisteredClient;
use crate::fetched_documents::{DocumentError, FetchedDocuments};
use portcullis_core::client_document;
use portcullis_core::{ClientId, RegistrationPolicy};
use portcullis_jose::ClientKeys;
use portcullis_outbound::Outbound;
use std::sync::Arc;

/// Which hosts' documents are accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocumentHosts {
    /// Any host the outbound policy lets the server reach.
    Any,
    /// Only these (lower-case host names).
    Only(Vec<String>),
}

/// The clients of metadata documents this instance fetched.
pub struct ClientDocuments {
    documents: FetchedDocuments<Arc<RegisteredClient>>,
    hosts: DocumentHosts,
    policy: RegistrationPolicy,
    loopback_http: bool,
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
        Self { documents: FetchedDocuments::new(outbound), hosts, policy, loopback_http }
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
        self.documents.kept(client_id)
    }

    /// Whether a kept document's client allows pages of `origin`.
    pub fn any_allows_origin(&self, origin: &str) -> bool {
        self.documents.any_kept(|client| client.metadata.allows_origin(origin))
    }

    /// The client of `client_id`'s document: kept, or fetched now. `None`
    /// when it is not a document URL accepted here, or the document cannot
    /// be fetched or does not describe a client this server admits (the
    /// reason is logged for its developer).
    pub async fn find(&self, client_id: &str) -> Option<Arc<RegisteredClient>> {
        if !self.names_document(client_id) {
            return None;
        }
        match self.documents.get(client_id, |document| self.client_of(client_id, document)).await {
            Ok(client) => Some(client),
            // Over budget: nothing new is fetched.
            Err(DocumentError::OverBudget) => None,
            Err(reason) => {
                tracing::warn!(client_id, reason = %reason, "a client metadata document was refused");
                None
            }
        }
    }

    /// The client the document at `url` describes.
    fn client_of(&self, url: &str, document: serde_json::Value) -> anyhow::Result<Arc<RegisteredClient>> {
        let serde_json::Value::Object(document) = document else {
            anyhow::bail!("the document is not a JSON object")
        };
        let metadata = client_document::metadata_from_document(url, document, &self.policy)?;
        let public_keys = metadata.jwks.as_ref().map(ClientKeys::from_jwks).transpose()?;
        let mut client = RegisteredClient::unsaved(ClientId::parse(url)?, 1, metadata);
        client.public_keys = public_keys;
        Ok(Arc::new(client))
    }
}
