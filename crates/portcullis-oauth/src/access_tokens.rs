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
    let value = std::str::from_utf8(authorization).ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
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
