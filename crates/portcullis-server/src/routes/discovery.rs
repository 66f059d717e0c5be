//! Authorization server metadata: OpenID Connect Discovery 1.0 §3 and
//! RFC 8414 §2, served at both well-known paths.
//!
//! The document is written from what this build really serves and is
//! serialised once at start. It is a plain serde struct rather than
//! openidconnect's `ProviderMetadata`, whose OpenID members would still need
//! an extension type for the RFC 8414 ones (introspection, revocation, PKCE,
//! RFC 9207), and whose crate would pull a second p256 and an Ed25519 stack
//! into the server; the conformance suite parses this document with
//! openidconnect, so the two cannot drift apart unnoticed.

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use portcullis_core::user::CLAIMS_BY_SCOPE;
use portcullis_core::{Issuer, SigningAlgorithm};
use portcullis_oauth::{client_auth, endpoints, request_objects};
use serde::Serialize;

/// The claims of every ID token (OpenID Connect Core §2).
const ID_TOKEN_CLAIMS: [&str; 11] =
    ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "sid", "amr"];

/// How long clients may cache the metadata, in seconds.
const MAX_AGE: u32 = 300;

/// What this server is configured to offer beyond what it always serves.
#[derive(Clone, Copy, Debug, Default)]
pub struct Offered {
    /// Dynamic registration at `/register` (`--registration`).
    pub registration: bool,
    /// Clients named by metadata document URLs (`--client-metadata-documents`).
    pub client_metadata_documents: bool,
    /// Every client must push its requests (`--require-pushed-authorization-requests`).
    pub pushed_requests_required: bool,
}

/// The serialised metadata document.
pub struct DiscoveryDocument(Bytes);

#[derive(Serialize)]
struct ProviderMetadata<'a> {
    issuer: &'a str,
    jwks_uri: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    end_session_endpoint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    registration_endpoint: Option<String>,
    scopes_supported: Vec<&'a str>,
    claims_supported: Vec<&'static str>,
    grant_types_supported: Vec<&'static str>,
    token_endpoint_auth_methods_supported: &'static [&'static str],
    introspection_endpoint: String,
    introspection_endpoint_auth_methods_supported: &'static [&'static str],
    revocation_endpoint: String,
    revocation_endpoint_auth_methods_supported: &'static [&'static str],
    token_endpoint_auth_signing_alg_values_supported: &'static [&'static str],
    introspection_endpoint_auth_signing_alg_values_supported: &'static [&'static str],
    revocation_endpoint_auth_signing_alg_values_supported: &'static [&'static str],
    response_types_supported: [&'static str; 1],
    subject_types_supported: &'static [&'static str],
    id_token_signing_alg_values_supported: Vec<&'static str>,
    userinfo_signing_alg_values_supported: Vec<&'static str>,
    code_challenge_methods_supported: [&'static str; 1],
    authorization_response_iss_parameter_supported: bool,
    response_modes_supported: [&'static str; 1],
    prompt_values_supported: [&'static str; 3],
    claim_types_supported: [&'static str; 1],
    claims_parameter_supported: bool,
    request_parameter_supported: bool,
    request_uri_parameter_supported: bool,
    require_request_uri_registration: bool,
    request_object_signing_alg_values_supported: &'static [&'static str],
    pushed_authorization_request_endpoint: String,
    require_pushed_authorization_requests: bool,
    device_authorization_endpoint: String,
    dpop_signing_alg_values_supported: &'static [&'static str],
    introspection_signing_alg_values_supported: Vec<&'static str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    client_id_metadata_document_supported: bool,
}

impl DiscoveryDocument {
    /// The metadata of a server with issuer `issuer` issuing the API scopes
    /// `api_scopes`, advertising what it `offered`.
    pub fn new(issuer: &Issuer, api_scopes: &[String], offered: Offered) -> Self {
        let metadata = ProviderMetadata {
            // OpenID Connect Discovery §4.3: identical to the configured issuer.
            issuer: issuer.as_str(),
            jwks_uri: issuer.endpoint(endpoints::JWKS),
            authorization_endpoint: issuer.endpoint(endpoints::AUTHORIZE),
            token_endpoint: issuer.endpoint(endpoints::TOKEN),
            userinfo_endpoint: issuer.endpoint(endpoints::USERINFO),
            end_session_endpoint: issuer.endpoint(endpoints::END_SESSION),
            // RFC 8414 §2, OpenID Connect Discovery §3: only when it is served.
            registration_endpoint: offered.registration.then(|| issuer.endpoint(endpoints::REGISTER)),
            scopes_supported: std::iter::once("openid")
                .chain(CLAIMS_BY_SCOPE.iter().map(|(scope, _)| *scope))
                .chain(api_scopes.iter().map(String::as_str))
                .collect(),
            claims_supported: ID_TOKEN_CLAIMS
                .into_iter()
                .chain(CLAIMS_BY_SCOPE.iter().flat_map(|(_, claims)| claims.iter().copied()))
                .collect(),
            grant_types_supported: portcullis_oauth::grants::supported(),
            token_endpoint_auth_methods_supported: &client_auth::METHODS_AND_NONE,
            introspection_endpoint: issuer.endpoint(endpoints::INTROSPECT),
            introspection_endpoint_auth_methods_supported: &client_auth::METHODS,
            revocation_endpoint: issuer.endpoint(endpoints::REVOKE),
            revocation_endpoint_auth_methods_supported: &client_auth::METHODS_AND_NONE,
            token_endpoint_auth_signing_alg_values_supported: &client_auth::ASSERTION_ALGS,
            introspection_endpoint_auth_signing_alg_values_supported: &client_auth::ASSERTION_ALGS,
            revocation_endpoint_auth_signing_alg_values_supported: &client_auth::ASSERTION_ALGS,
            response_types_supported: ["code"],
            // OpenID Connect Core §8.
            subject_types_supported: portcullis_core::client_fields::SUBJECT_TYPES,
            id_token_signing_alg_values_supported: SigningAlgorithm::ALL
                .iter()
                .map(|alg| alg.as_str())
                .collect(),
            // OpenID Connect Core §5.3.2.
            userinfo_signing_alg_values_supported: SigningAlgorithm::ALL
                .iter()
                .map(|alg| alg.as_str())
                .collect(),
            // RFC 9700 §2.1.1: S256 only, `plain` is not offered.
            code_challenge_methods_supported: ["S256"],
            // RFC 9207 §3.
            authorization_response_iss_parameter_supported: true,
            response_modes_supported: ["query"],
            prompt_values_supported: ["none", "login", "consent"],
            claim_types_supported: ["normal"],
            // OpenID Connect Core §5.5.
            claims_parameter_supported: true,
            // RFC 9101 §10.4.1 and OpenID Connect Discovery §3: request
            // objects by value or by reference, from registered locations only.
            request_parameter_supported: true,
            request_uri_parameter_supported: true,
            require_request_uri_registration: true,
            request_object_signing_alg_values_supported: &request_objects::ALGORITHMS,
            // RFC 9126 §5.
            pushed_authorization_request_endpoint: issuer.endpoint(endpoints::PUSHED_AUTHORIZATION_REQUEST),
            require_pushed_authorization_requests: offered.pushed_requests_required,
            // RFC 8628 §4.
            device_authorization_endpoint: issuer.endpoint(endpoints::DEVICE_AUTHORIZATION),
            // RFC 9449 §5.1.
            dpop_signing_alg_values_supported: &portcullis_jose::dpop::PROOF_ALGORITHMS,
            // RFC 9701 §7.
            introspection_signing_alg_values_supported: SigningAlgorithm::ALL
                .iter()
                .map(|alg| alg.as_str())
                .collect(),
            // draft-ietf-oauth-client-id-metadata-document: only when on.
            client_id_metadata_document_supported: offered.client_metadata_documents,
        };
        Self(Bytes::from(serde_json::to_vec(&metadata).expect("metadata serialises")))
    }
}

/// `GET /.well-known/openid-configuration` and `GET /.well-known/oauth-authorization-server`.
pub async fn metadata(document: web::Data<DiscoveryDocument>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(MAX_AGE)]))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(document.0.clone())
}
