//! Deciding whether an access token this server issued is still good: the
//! one check behind introspection, revocation and every bearer-protected
//! endpoint. It reads memory only.

use crate::clients::ClientRegistry;
use crate::grants::TokenSettings;
use crate::mirror::RevocationList;
use crate::KeyRing;
use portcullis_core::{ErrorCode, OAuthError};
use portcullis_jose::AccessTokenClaims;

/// The token of an `Authorization: Bearer` header's value (RFC 6750 §2.1;
/// the scheme is case-insensitive, RFC 9110 §11.1).
pub fn bearer_token(authorization: &[u8]) -> Option<String> {
    presented_token(authorization).filter(|(how, _)| *how == Presentation::Bearer).map(|(_, token)| token)
}

/// How a request presents its access token (RFC 9449 §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presentation {
    /// `Authorization: Bearer`, or in a form body (RFC 6750 §2).
    Bearer,
    /// `Authorization: DPoP`, with a proof of the key it is bound to.
    Dpop,
}

/// The token of an `Authorization: Bearer` or `Authorization: DPoP`
/// header's value, and which it was (the scheme is case-insensitive).
pub fn presented_token(authorization: &[u8]) -> Option<(Presentation, String)> {
    let value = header_text(authorization)?;
    let (scheme, token) = value.split_once(' ')?;
    let presentation = if scheme.eq_ignore_ascii_case("bearer") {
        Presentation::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Presentation::Dpop
    } else {
        return None;
    };
    Some((presentation, token.trim().to_owned()))
}

/// Whether a token with `claims`, presented as `presentation` with a proof
/// of the key `proven` (checked against the token's hash), is held by whom
/// it is bound to (RFC 9449 §7.1, §7.2): a bound token only as `DPoP` with
/// a proof of its key, a bearer token only as `Bearer`.
pub fn check_holder(
    claims: &AccessTokenClaims,
    presentation: Presentation,
    proven: Option<&str>,
) -> Result<(), OAuthError> {
    match (&claims.cnf, presentation) {
        (Some(cnf), Presentation::Dpop) if proven == Some(cnf.jkt.as_str()) => Ok(()),
        (Some(_), Presentation::Dpop) if proven.is_none() => {
            Err(OAuthError::new(ErrorCode::InvalidDpopProof, "a DPoP-bound token needs a DPoP proof"))
        }
        (Some(_), Presentation::Dpop) => Err(OAuthError::new(
            ErrorCode::InvalidDpopProof,
            "the DPoP proof is not signed with the key the token is bound to",
        )),
        // §7.2: a bound token is never accepted as a bearer token.
        (Some(_), Presentation::Bearer) => Err(OAuthError::new(
            ErrorCode::InvalidToken,
            "the access token is DPoP-bound: send it as Authorization: DPoP with a proof",
        )),
        (None, Presentation::Bearer) => Ok(()),
        (None, Presentation::Dpop) => Err(OAuthError::new(
            ErrorCode::InvalidToken,
            "the access token is not DPoP-bound: send it as Bearer",
        )),
    }
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
        let now = self.settings.clock.now().timestamp();
        // RFC 7519 §4.1.4-§4.1.6.
        let in_time = claims.exp > now
            && claims.iat <= now + CLOCK_SKEW
            && claims.nbf.is_none_or(|nbf| nbf <= now + CLOCK_SKEW);
        let stands =
            self.stands(&claims.client_id, claims.iat, Some(&claims.jti), claims.grant_id.as_deref());
        (in_time && stands).then_some(claims)
    }

    /// Whether a token of `client_id` issued at `iat` (seconds), with `jti`
    /// (an access token's) in the grant `grant_id`, still stands: its client
    /// exists, is enabled and has not had its tokens revoked since, and
    /// neither the token nor its grant is revoked.
    pub fn stands(&self, client_id: &str, iat: i64, jti: Option<&str>, grant_id: Option<&str>) -> bool {
        let issued_at = chrono::DateTime::from_timestamp(iat, 0).unwrap_or_default();
        let client_enabled = self
            .clients
            .get(client_id)
            .is_some_and(|client| client.disabled_at.is_none() && !client.revoked_at_issue(issued_at));
        client_enabled && !jti.is_some_and(|jti| self.revocations.is_revoked(jti, grant_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_token_is_held_only_with_a_proof_of_its_key() {
        let claims = |cnf: Option<&str>| AccessTokenClaims {
            iss: "i".into(),
            sub: "s".into(),
            aud: "a".into(),
            client_id: "c".into(),
            scope: None,
            jti: "j".into(),
            grant_id: None,
            iat: 0,
            nbf: None,
            exp: 1,
            userinfo_claims: Vec::new(),
            cnf: cnf.map(|jkt| portcullis_jose::Confirmation { jkt: jkt.into() }),
            act: None,
        };
        let (bound, bearer) = (claims(Some("k1")), claims(None));
        assert!(check_holder(&bound, Presentation::Dpop, Some("k1")).is_ok());
        assert_eq!(
            check_holder(&bound, Presentation::Dpop, Some("k2")).unwrap_err().error,
            ErrorCode::InvalidDpopProof
        );
        assert_eq!(
            check_holder(&bound, Presentation::Dpop, None).unwrap_err().error,
            ErrorCode::InvalidDpopProof
        );
        assert_eq!(
            check_holder(&bound, Presentation::Bearer, None).unwrap_err().error,
            ErrorCode::InvalidToken
        );
        assert!(check_holder(&bearer, Presentation::Bearer, None).is_ok());
        assert_eq!(
            check_holder(&bearer, Presentation::Dpop, Some("k1")).unwrap_err().error,
            ErrorCode::InvalidToken
        );
        assert_eq!(presented_token(b"dPoP abc"), Some((Presentation::Dpop, "abc".into())));
        assert_eq!(presented_token(b"Bearer abc"), Some((Presentation::Bearer, "abc".into())));
        assert_eq!(presented_token(b"Basic abc"), None);
    }

    #[test]
    fn a_bearer_header_is_read_only_when_it_is_visible_ascii() {
        assert_eq!(bearer_token(b"Bearer abc").as_deref(), Some("abc"));
        assert_eq!(bearer_token(b"bearer abc").as_deref(), Some("abc"), "the scheme is case-insensitive");
        assert_eq!(bearer_token("Bearer äbc".as_bytes()), None);
        assert_eq!(bearer_token(b"Bearer a\x01c"), None);
        assert_eq!(bearer_token(b"Basic abc"), None);
    }
}
