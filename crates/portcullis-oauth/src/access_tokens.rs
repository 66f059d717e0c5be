//! Deciding whether an access token this server issued is still good: the
//! one check behind introspection, revocation and every bearer-protected
//! endpoint. It reads memory only.

use crate::clients::ClientRegistry;
use crate::grants::TokenSettings;
use crate::mirror::RevocationList;
use crate::KeyRing;
use portcullis_jose::AccessTokenClaims;

/// The token of an `Authorization: Bearer` header's value (RFC 6750 §2.1;
/// the scheme is case-insensitive, RFC 9110 §11.1).
pub fn bearer_token(authorization: &[u8]) -> Option<String> {
    let value = header_text(authorization)?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

/// A header's value as text, when it is all visible ASCII (and tabs), as
/// HTTP header values are read everywhere else (RFC 9110 §5.5).
pub fn header_text(value: &[u8]) -> Option<&str> {
    let visible = value.iter().all(|b| *b == b'\t' || (0x20..0x7f).contains(b));
    visible.then(|| std::str::from_utf8(value).ok()).flatten()
}

/// Seconds a token's `iat` or `nbf` may lie in the future, for clocks that
/// differ between this server's instances.
pub const CLOCK_SKEW: i64 = 60;

/// What a token is checked against.
pub struct TokenCheck<'a> {
    /// The published keys.
    pub keys: &'a KeyRing,
    /// The issuer the token must name, and the clock its times are read by.
    pub settings: &'a TokenSettings,
    /// Revoked token ids.
    pub revocations: &'a RevocationList,
    /// Clients, to refuse tokens of disabled or deleted ones.
    pub clients: &'a ClientRegistry,
}

impl TokenCheck<'_> {
    /// The claims of a token signed by a published key of this server and
    /// naming it as issuer, whether or not it is still active.
    pub fn issued_here(&self, token: &str) -> Option<AccessTokenClaims> {
        let keys = self.keys.current();
        let claims = AccessTokenClaims::verify(token, |kid| keys.verifier(kid))?;
        (claims.iss == self.settings.issuer.as_str()).then_some(claims)
    }

    /// The claims of an active token: issued here, within its time (not
    /// expired, not issued or valid only in the future beyond [`CLOCK_SKEW`]),
    /// not revoked (alone, or with every token of its client), and held by
    /// a client that exists and is enabled. Its
    /// audience is not checked: introspection reports any (RFC 7662 §2.2).
    pub fn active(&self, token: &str) -> Option<AccessTokenClaims> {
        let claims = self.issued_here(token)?;
        let issued_at = chrono::DateTime::from_timestamp(claims.iat, 0).unwrap_or_default();
        let client_enabled = self
            .clients
            .get(&claims.client_id)
            .is_some_and(|client| client.disabled_at.is_none() && !client.revoked_at_issue(issued_at));
        let now = self.settings.clock.now().timestamp();
        // RFC 7519 §4.1.4-§4.1.6.
        let in_time = claims.exp > now
            && claims.iat <= now + CLOCK_SKEW
            && claims.nbf.is_none_or(|nbf| nbf <= now + CLOCK_SKEW);
        let live = in_time && !self.revocations.is_revoked(&claims.jti, claims.grant_id.as_deref());
        (live && client_enabled).then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bearer_header_is_read_only_when_it_is_visible_ascii() {
        assert_eq!(bearer_token(b"Bearer abc").as_deref(), Some("abc"));
        assert_eq!(bearer_token(b"bearer abc").as_deref(), Some("abc"), "the scheme is case-insensitive");
        assert_eq!(bearer_token("Bearer äbc".as_bytes()), None);
        assert_eq!(bearer_token(b"Bearer a\x01c"), None);
        assert_eq!(bearer_token(b"Basic abc"), None);
    }
}
