//! What a client may do with token exchange (RFC 8693), as an admin sets
//! it in the client's `token_exchange` member: whose tokens it may
//! exchange, for which audiences, whether an ID token may stand as the
//! subject, whether it may impersonate, and whether it gets refresh
//! tokens. Without the member, the client
//! may not exchange at all.

use crate::client::MetadataError;
use serde::{Deserialize, Serialize};

/// RFC 8693 §3: an access token.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// RFC 8693 §3: an OpenID Connect ID token.
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";

/// A client's exchange policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangePolicy {
    /// The clients whose tokens it may exchange (their `client_id`); its
    /// own always.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject_clients: Vec<String>,
    /// The audiences it may ask for with `audience` or `resource`; the
    /// subject token's own always.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// Whether an ID token of this server may stand as the subject.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub id_token_subjects: bool,
    /// Whether, without an actor token, the issued token acts as the
    /// subject itself (impersonation, no `act`), rather than naming this
    /// client as its actor (delegation, RFC 8693 §4.1).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub impersonation: bool,
    /// Whether an exchange for a user's token (one of a grant) also answers
    /// a refresh token, when the client has the refresh grant: it refreshes
    /// the same exchanged token, and its family dies with the subject
    /// token and its grant.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refresh_tokens: bool,
}

/// The most entries each list holds.
pub const MAX_ENTRIES: usize = 20;

impl ExchangePolicy {
    /// Checks the lists' sizes and that each audience is an absolute URI
    /// without a fragment (RFC 8707 §2).
    pub fn validate(&self) -> Result<(), MetadataError> {
        let invalid = |message: String| Err(MetadataError::new("token_exchange", message));
        if self.subject_clients.len() > MAX_ENTRIES || self.audiences.len() > MAX_ENTRIES {
            return invalid(format!("at most {MAX_ENTRIES} subject_clients and audiences"));
        }
        if let Some(bad) = self.subject_clients.iter().find(|id| id.is_empty() || id.len() > 255) {
            return invalid(format!("`{bad}` is not a client_id"));
        }
        for audience in &self.audiences {
            match url::Url::parse(audience) {
                Ok(url) if url.fragment().is_none() => {}
                _ => {
                    return invalid(format!(
                        "audience `{audience}` is not an absolute URI without a fragment"
                    ))
                }
            }
        }
        Ok(())
    }

    /// Whether a subject token held by `client_id` may be exchanged by `exchanger`.
    pub fn admits_subject_client(&self, client_id: &str, exchanger: &str) -> bool {
        client_id == exchanger || self.subject_clients.iter().any(|c| c == client_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_names_clients_and_absolute_audiences() {
        let policy: ExchangePolicy = serde_json::from_value(serde_json::json!({
            "subject_clients": ["web"], "audiences": ["https://api.example/orders"]
        }))
        .unwrap();
        assert!(policy.validate().is_ok());
        assert!(
            policy.admits_subject_client("web", "gateway")
                && policy.admits_subject_client("gateway", "gateway")
        );
        assert!(!policy.admits_subject_client("other", "gateway"));
        let relative = ExchangePolicy { audiences: vec!["orders".into()], ..ExchangePolicy::default() };
        assert!(relative.validate().is_err());
        assert!(serde_json::from_value::<ExchangePolicy>(serde_json::json!({"everyone": true})).is_err());
    }
}
