//! What the adapters read from a request's headers for the engine.

use actix_web::http::header;
use actix_web::HttpRequest;
use portcullis_core::OAuthError;
use portcullis_oauth::access_tokens::Presentation;
use portcullis_oauth::dpop::{Dpop, ProofRequest, Proven};

/// The `Authorization` header, as sent.
pub fn authorization(req: &HttpRequest) -> Option<&[u8]> {
    req.headers().get(header::AUTHORIZATION).map(|value| value.as_bytes())
}

/// The access token of an `Authorization: Bearer` or `Authorization: DPoP`
/// header, and which (RFC 9449 §7.1).
pub fn access_token(req: &HttpRequest) -> Option<(Presentation, String)> {
    authorization(req).and_then(portcullis_oauth::access_tokens::presented_token)
}

/// Every `DPoP` header of `req` (RFC 9449 §4.1); one that is not visible
/// ASCII reads as empty, which no proof is.
pub fn dpop_proofs(req: &HttpRequest) -> Vec<&str> {
    req.headers()
        .get_all("dpop")
        .map(|value| portcullis_oauth::access_tokens::header_text(value.as_bytes()).unwrap_or_default())
        .collect()
}

/// The DPoP proof a request to a resource at `endpoint` carries for the
/// `token` it presents as `scheme`, checked (RFC 9449 §7.1): none for a
/// bearer presentation.
pub async fn resource_proof(
    req: &HttpRequest,
    dpop: &Dpop,
    (scheme, token): (Presentation, &str),
    endpoint: &str,
) -> Result<Option<Proven>, OAuthError> {
    match scheme {
        Presentation::Bearer => Ok(None),
        Presentation::Dpop => {
            let presented = ProofRequest {
                proofs: dpop_proofs(req),
                method: req.method().as_str(),
                endpoint,
                access_token: Some(token),
            };
            dpop.check(&presented).await
        }
    }
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    authorization(req).and_then(portcullis_oauth::access_tokens::bearer_token)
}
