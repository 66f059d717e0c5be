//! What the adapters read from a request's headers for the engine.

use actix_web::http::header;
use actix_web::HttpRequest;

/// The `Authorization` header, as sent.
pub fn authorization(req: &HttpRequest) -> Option<&[u8]> {
    req.headers().get(header::AUTHORIZATION).map(|value| value.as_bytes())
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    authorization(req).and_then(portcullis_oauth::access_tokens::bearer_token)
}
