//! Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document,
//! what MCP clients use instead of registering): a `client_id` that is an
//! https URL names a JSON document of the client's metadata, published by
//! the client at that URL. This module holds the rules, without I/O: which
//! `client_id`s are document URLs, what a fetched document must say, and how
//! long it may be kept. The engine fetches.
//!
//! A document client is treated as one registered openly: it is checked as
//! an admin's client, then against the anonymous registration policy
//! ([`RegistrationPolicy::anonymous`]), so it is a public client (or
//! `private_key_jwt` with its own keys) of the code flow with PKCE.

use crate::{ClientMetadata, MetadataError, RegistrationPolicy};
use serde_json::{Map, Value};
use std::time::Duration;

/// The largest document read (the draft suggests 5 KB; keys make some larger).
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024;
/// The shortest a document is kept, whatever its headers say, so that a
/// flood of sign-ins cannot turn into a flood of fetches.
pub const MIN_CACHE: Duration = Duration::from_secs(60);
/// The longest a document is kept, whatever its headers say, so that a
/// client's changes (a removed redirect URI) arrive within a day.
pub const MAX_CACHE: Duration = Duration::from_secs(24 * 3600);
/// How long a document is kept when its headers say nothing.
pub const DEFAULT_CACHE: Duration = Duration::from_secs(300);

/// Members a document must not carry: there is no way to share a secret
/// with a client that never registered.
const SECRET_MEMBERS: [&str; 2] = ["client_secret", "client_secret_expires_at"];

/// Whether `client_id` is the URL of a metadata document: https, with a
/// path beyond `/`, no fragment, no user information, and no `.` or `..`
/// segment; in development, http on a loopback address too, when
/// `loopback_http` says so (as loopback redirect URIs are allowed).
pub fn is_document_url(client_id: &str, loopback_http: bool) -> bool {
    let Ok(url) = url::Url::parse(client_id) else { return false };
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    };
    let scheme = url.scheme() == "https" || (loopback_http && loopback && url.scheme() == "http");
    // The parser resolves dot segments: the URL as sent must have none.
    let dot_segments =
        client_id.split(['?', '#']).next().unwrap_or_default().split('/').any(|s| s == "." || s == "..");
    scheme
        && url.path() != "/"
        && !url.path().is_empty()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && !dot_segments
        // Compared as strings later: the URL must be written as the parser writes it.
        && url.as_str() == client_id
}

/// The host a document URL names, for the consent page.
pub fn document_host(client_id: &str) -> Option<String> {
    url::Url::parse(client_id).ok().and_then(|url| url.host_str().map(str::to_owned))
}

/// The client a fetched `document` at `url` describes, checked as a client
/// admitted under `policy` is. The document must name itself (`client_id`
/// equal to `url`, compared as strings) and must carry no secret; members
/// this server does not know are ignored.
pub fn metadata_from_document(
    url: &str,
    document: Map<String, Value>,
    policy: &RegistrationPolicy,
) -> Result<ClientMetadata, MetadataError> {
    if document.get("client_id").and_then(Value::as_str) != Some(url) {
        return Err(MetadataError::new("client_id", "the document must name its own URL as its client_id"));
    }
    if let Some(member) = SECRET_MEMBERS.iter().find(|m| document.contains_key(**m)) {
        return Err(MetadataError::new(*member, "a metadata document carries no secret"));
    }
    let metadata = ClientMetadata::parse(policy.requested(document))?;
    if metadata.token_endpoint_auth_method.uses_secret() {
        return Err(MetadataError::new(
            "token_endpoint_auth_method",
            "a metadata document client cannot authenticate with a shared secret",
        ));
    }
    if metadata.subject_type.as_deref() == Some(crate::client::PAIRWISE) {
        // A document can change at every fetch; a sector must not.
        return Err(MetadataError::new("subject_type", "a metadata document client has public subjects"));
    }
    policy.admits(&metadata)?;
    Ok(metadata)
}

/// How long a document may be kept, by its `Cache-Control` (RFC 9111
/// §5.2.2): `max-age` within [`MIN_CACHE`] and [`MAX_CACHE`];
/// `no-store` or `no-cache` the shortest; [`DEFAULT_CACHE`] otherwise.
pub fn cache_lifetime(cache_control: Option<&str>) -> Duration {
    let Some(header) = cache_control else { return DEFAULT_CACHE };
    let directives = header.split(',').map(|d| d.trim().to_ascii_lowercase());
    let mut lifetime = DEFAULT_CACHE;
    for directive in directives {
        if directive == "no-store" || directive == "no-cache" {
            return MIN_CACHE;
        }
        if let Some(seconds) =
            directive.strip_prefix("max-age=").and_then(|s| s.trim_matches('"').parse().ok())
        {
            lifetime = Duration::from_secs(seconds);
        }
    }
    lifetime.clamp(MIN_CACHE, MAX_CACHE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const URL: &str = "https://agent.example/oauth/client.json";

    fn document(value: Value) -> Map<String, Value> {
        let Value::Object(map) = value else { unreachable!() };
        map
    }

    #[test]
    fn document_urls_are_https_with_a_path_and_nothing_ambiguous() {
        assert!(is_document_url(URL, false));
        assert!(is_document_url("https://agent.example/c?v=1", false));
        for refused in [
            "https://agent.example",
            "https://agent.example/",
            "https://agent.example/a#frag",
            "https://user@agent.example/a",
            "https://agent.example/a/../b",
            "https://agent.example/./b",
            "http://agent.example/client.json",
            "HTTPS://agent.example/client.json",
            "my-client",
        ] {
            assert!(!is_document_url(refused, false), "{refused}");
        }
        assert!(!is_document_url("http://127.0.0.1:9000/client.json", false));
        assert!(is_document_url("http://127.0.0.1:9000/client.json", true), "dev mode: loopback over http");
        assert!(!is_document_url("http://10.0.0.1/client.json", true));
    }

    #[test]
    fn a_document_must_name_itself_hold_no_secret_and_stay_public() {
        let policy = RegistrationPolicy::anonymous(&[]);
        let good = document(json!({"client_id": URL, "client_name": "Agent",
            "redirect_uris": ["http://127.0.0.1:3000/cb"], "unknown": 1}));
        let metadata = metadata_from_document(URL, good, &policy).unwrap();
        assert_eq!(metadata.token_endpoint_auth_method, crate::TokenEndpointAuthMethod::None);
        assert!(metadata.require_pkce);

        let refusals = [
            (
                json!({"client_id": "https://other.example/c.json", "client_name": "A", "redirect_uris": ["https://a.example/cb"]}),
                "client_id",
            ),
            (json!({"client_name": "A", "redirect_uris": ["https://a.example/cb"]}), "client_id"),
            (
                json!({"client_id": URL, "client_name": "A", "redirect_uris": ["https://a.example/cb"], "client_secret": "s"}),
                "client_secret",
            ),
            (
                json!({"client_id": URL, "client_name": "A", "redirect_uris": ["https://a.example/cb"],
                    "token_endpoint_auth_method": "client_secret_post"}),
                "token_endpoint_auth_method",
            ),
            (
                json!({"client_id": URL, "client_name": "A", "redirect_uris": ["https://a.example/cb"], "skip_consent": true}),
                "skip_consent",
            ),
        ];
        for (body, member) in refusals {
            assert_eq!(metadata_from_document(URL, document(body), &policy).unwrap_err().field, member);
        }
    }

    #[test]
    fn documents_are_kept_as_their_headers_say_within_bounds() {
        assert_eq!(cache_lifetime(None), DEFAULT_CACHE);
        assert_eq!(cache_lifetime(Some("public, max-age=3600")), Duration::from_secs(3600));
        assert_eq!(cache_lifetime(Some("max-age=5")), MIN_CACHE);
        assert_eq!(cache_lifetime(Some("max-age=99999999")), MAX_CACHE);
        assert_eq!(cache_lifetime(Some("no-store")), MIN_CACHE);
        assert_eq!(cache_lifetime(Some("max-age=nonsense")), DEFAULT_CACHE);
    }
}
