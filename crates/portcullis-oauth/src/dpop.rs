//! DPoP at this server (RFC 9449): checking the proof a request sends in
//! its `DPoP` header against the request itself (method, URL, time, the
//! access token it presents), refusing a replay on every instance, and the
//! server's nonces. What a proof binds (codes, access and refresh tokens)
//! is each grant's; what a refusal looks like (400 at the token endpoint,
//! 401 with a `DPoP` challenge at a resource, `DPoP-Nonce` with
//! `use_dpop_nonce`) is the adapter's.

use crate::storage::protocol_operation;
use chrono::DateTime;
use portcullis_app::App;
use portcullis_core::{ErrorCode, Issuer, OAuthError, SigningAlgorithm};
use portcullis_jose::dpop::{access_token_hash, DpopNonces, ProofKeys};
use std::sync::Arc;

/// How long after its `iat` a proof is accepted, in seconds (§11.1: "on the
/// order of seconds or minutes"); its `jti` is kept as long.
pub const PROOF_LIFETIME: i64 = 300;
/// How far ahead of this server's clock a proof's `iat` may be, in seconds
/// (FAPI 2.0 Security Profile §5.3.2.1: up to 10 s accepted, over 60 s refused).
pub const CLOCK_AHEAD: i64 = 60;

/// What a request presents of DPoP, as the adapter read it.
pub struct ProofRequest<'a> {
    /// Every `DPoP` header it carries (§4.3: at most one).
    pub proofs: Vec<&'a str>,
    /// Its method.
    pub method: &'a str,
    /// The path of the endpoint it was sent to (one of [`crate::endpoints`]),
    /// under the issuer.
    pub endpoint: &'a str,
    /// The access token it presents, at a resource (§7.1).
    pub access_token: Option<&'a str>,
}

/// A proof that passed: the key it binds, and a nonce to send on (§8.2).
#[derive(Debug)]
pub struct Proven {
    /// The RFC 7638 thumbprint of the proof's key.
    pub jkt: String,
    /// The algorithm the proof is signed with.
    pub alg: SigningAlgorithm,
    /// The current nonce, when the proof did not carry it: sent as
    /// `DPoP-Nonce` so the client uses it next.
    pub nonce: Option<String>,
}

fn invalid(why: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidDpopProof, why)
}

/// Checks DPoP proofs for a server with issuer `issuer`.
pub struct Dpop {
    app: Arc<App>,
    issuer: Issuer,
    nonces: DpopNonces,
    require_nonce: bool,
    keys: ProofKeys,
}

impl Dpop {
    /// Proofs checked through `app` (for the time and replays), with
    /// `nonces`; a proof without the current nonce is refused when
    /// `require_nonce`.
    pub fn new(app: Arc<App>, issuer: Issuer, nonces: DpopNonces, require_nonce: bool) -> Self {
        Self { app, issuer, nonces, require_nonce, keys: ProofKeys::default() }
    }

    /// The proof `presented` carries, checked (§4.3): `None` when it
    /// carries none; `invalid_dpop_proof`, or `use_dpop_nonce` with the
    /// current nonce, when it does not pass.
    pub async fn check(&self, presented: &ProofRequest<'_>) -> Result<Option<Proven>, OAuthError> {
        let proof = match presented.proofs.as_slice() {
            [] => return Ok(None),
            [one] => *one,
            _ => return Err(invalid("more than one DPoP header")),
        };
        let proof = self.keys.verify(proof).map_err(invalid)?;
        let claims = &proof.claims;
        if claims.htm != presented.method {
            return Err(invalid("the DPoP proof's htm is not this request's method"));
        }
        if !same_resource(&claims.htu, &self.issuer.endpoint(presented.endpoint)) {
            return Err(invalid("the DPoP proof's htu is not this endpoint's URL"));
        }
        let now = self.app.now().timestamp();
        if claims.iat > now + CLOCK_AHEAD || claims.iat < now - PROOF_LIFETIME {
            return Err(invalid("the DPoP proof's iat is too far from the server's time"));
        }
        // §4.3 item 12 and §7.1: a proof at a resource names the token it is sent with.
        if let Some(token) = presented.access_token {
            if claims.ath.as_deref() != Some(access_token_hash(token).as_str()) {
                return Err(invalid("the DPoP proof's ath is not the hash of the access token"));
            }
        }
        let current = self.nonces.current(now);
        let nonce_needed = match &claims.nonce {
            Some(nonce) => !self.nonces.accepts(nonce, now),
            None => self.require_nonce,
        };
        if nonce_needed {
            return Err(OAuthError::use_dpop_nonce(current));
        }
        let (jkt, jti) = (proof.jkt.clone(), claims.jti.clone());
        let until =
            DateTime::from_timestamp(claims.iat + PROOF_LIFETIME + CLOCK_AHEAD, 0).unwrap_or_default();
        let fresh =
            protocol_operation(&self.app, move |app| app.record_dpop_proof(&jkt, &jti, until)).await?;
        if !fresh {
            return Err(invalid("the DPoP proof was used before"));
        }
        let nonce = (claims.nonce.as_deref() != Some(current.as_str())).then_some(current);
        Ok(Some(Proven { jkt: proof.jkt, alg: proof.alg, nonce }))
    }
}

/// Whether `htu` names `endpoint`, ignoring query and fragment, after
/// RFC 3986 §6.2.2 and §6.2.3 normalisation (case of scheme and host,
/// default ports), as RFC 9449 §4.3 item 9 says.
fn same_resource(htu: &str, endpoint: &str) -> bool {
    let normalised = |raw: &str| {
        url::Url::parse(raw).ok().map(|mut url| {
            url.set_query(None);
            url.set_fragment(None);
            url
        })
    };
    normalised(htu).is_some_and(|htu| Some(htu) == normalised(endpoint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_is_compared_without_query_fragment_case_or_default_port() {
        let endpoint = "https://as.example/tenant/token";
        for same in [
            "https://as.example/tenant/token",
            "HTTPS://AS.example:443/tenant/token",
            "https://as.example/tenant/token?x=1#y",
        ] {
            assert!(same_resource(same, endpoint), "{same}");
        }
        for other in [
            "https://as.example/tenant/userinfo",
            "http://as.example/tenant/token",
            "https://as.example:8443/tenant/token",
            "not a url",
        ] {
            assert!(!same_resource(other, endpoint), "{other}");
        }
    }
}
