//! JWT introspection responses (RFC 9701): the RFC 7662 answer about a
//! token, signed by the server for the resource server that asked, so that
//! it can keep or pass on proof of what the server said.

use crate::{JoseError, SigningKey};
use josekit::jws::JwsHeader;
use serde::Serialize;
use serde_json::{Map, Value};

/// The media type a resource server asks for (`Accept`) and gets (RFC 9701 §4, §5).
pub const MEDIA_TYPE: &str = "application/token-introspection+jwt";
/// The `typ` of the response (§5): explicitly typed, so that it is never
/// taken for an access token or an ID token.
pub const TYPE: &str = "token-introspection+jwt";

/// The claims of a JWT response (§5): only these, nothing that could make
/// it pass for a token about someone.
#[derive(Serialize)]
struct Response<'a> {
    iss: &'a str,
    aud: &'a str,
    iat: i64,
    token_introspection: &'a Map<String, Value>,
}

/// Signs `answer` (the RFC 7662 §2.2 object) with `key`, from the issuer
/// `issuer` for the resource server `audience`, at `now`.
pub fn sign_introspection(
    key: &SigningKey,
    issuer: &str,
    audience: &str,
    now: i64,
    answer: &Map<String, Value>,
) -> Result<String, JoseError> {
    let mut header = JwsHeader::new();
    header.set_token_type(TYPE);
    key.sign_json(header, &Response { iss: issuer, aud: audience, iat: now, token_introspection: answer })
}
