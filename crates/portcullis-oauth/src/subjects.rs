//! Who a token names as `sub` at a client, and back: the user's id at a
//! public client, a pairwise subject at a pairwise one (OpenID Connect Core
//! §8.1; [`PairwiseSubjects`] says how they are made). Every place that
//! puts a user in a token, or reads one out of a token or hint a client
//! presents, goes through here.

use portcullis_core::ClientMetadata;
use portcullis_jose::{KeyEncryptionKey, PairwiseSubjects};

/// The subjects of an installation.
#[derive(Debug)]
pub struct Subjects(PairwiseSubjects);

impl Subjects {
    /// The subjects of the installation whose key-encryption key is `kek`.
    pub fn new(kek: &KeyEncryptionKey) -> Self {
        Self(PairwiseSubjects::new(kek))
    }

    /// The `sub` of `user_id` at a client configured as `metadata`.
    pub fn subject(&self, metadata: &ClientMetadata, user_id: &str) -> String {
        match metadata.sector() {
            Some(sector) => self.0.subject(&sector, user_id),
            None => user_id.to_owned(),
        }
    }

    /// The user `subject` names at a client configured as `metadata`;
    /// `None` for a pairwise subject made for another sector, or forged.
    pub fn user_id(&self, metadata: &ClientMetadata, subject: &str) -> Option<String> {
        match metadata.sector() {
            Some(sector) => self.0.user_id(&sector, subject),
            None => Some(subject.to_owned()),
        }
    }
}
