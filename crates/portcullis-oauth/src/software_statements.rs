//! Software statements (RFC 7591 §2.3): signed JWTs of client metadata that
//! a party an admin trusts (a platform, an app store, a federation) hands
//! to the software it vouches for. A registration carrying one is admitted
//! only when the statement's issuer is trusted (`--software-statement-issuer`)
//! and one of that issuer's keys signed it; its members then take
//! precedence over the same members sent in the clear (RFC 7591 §3.1.1).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use portcullis_core::{ErrorCode, OAuthError};
use portcullis_jose::ClientKeys;
use serde_json::{Map, Value};

/// JWT claims of a statement that say something of the statement itself,
/// not of the client: they are not client metadata.
const ABOUT_THE_STATEMENT: [&str; 6] = ["iss", "iat", "exp", "nbf", "jti", "aud"];

/// An issuer of software statements an admin trusts, and its keys.
pub struct TrustedIssuer {
    /// Its identifier, the statements' `iss`.
    pub issuer: String,
    /// The keys it signs with.
    pub keys: ClientKeys,
}

/// The issuers of software statements this server trusts.
#[derive(Default)]
pub struct SoftwareStatements(pub Vec<TrustedIssuer>);

impl SoftwareStatements {
    /// The client metadata `statement` vouches for at `now` (Unix seconds):
    /// `unapproved_software_statement` when its issuer is not trusted,
    /// `invalid_software_statement` when it is not a JWT that issuer
    /// signed, or has expired.
    pub fn metadata(&self, statement: &Value, now: i64) -> Result<Map<String, Value>, OAuthError> {
        let invalid = |why: &str| OAuthError::new(ErrorCode::InvalidSoftwareStatement, why);
        let statement = statement.as_str().ok_or_else(|| invalid("the software statement must be a JWT"))?;
        let issuer = unverified_issuer(statement)
            .ok_or_else(|| invalid("the software statement is not a JWT with an iss"))?;
        let trusted = self.0.iter().find(|trusted| trusted.issuer == issuer).ok_or_else(|| {
            OAuthError::new(
                ErrorCode::UnapprovedSoftwareStatement,
                format!("this server does not trust software statements of {issuer}"),
            )
        })?;
        let payload = trusted
            .keys
            .verify(statement)
            .ok_or_else(|| invalid("the software statement's signature does not verify"))?;
        let claims = payload.claims_set().clone();
        let time = |name: &str| claims.get(name).and_then(Value::as_i64);
        if time("exp").is_some_and(|exp| exp <= now) || time("nbf").is_some_and(|nbf| nbf > now) {
            return Err(invalid("the software statement has expired, or is not valid yet"));
        }
        Ok(claims.into_iter().filter(|(name, _)| !ABOUT_THE_STATEMENT.contains(&name.as_str())).collect())
    }

    /// Reads `issuer=path` pairs, each path a JWK Set file of that issuer's keys.
    pub fn load(pairs: &[String]) -> anyhow::Result<Self> {
        let mut trusted = Vec::new();
        for pair in pairs {
            let (issuer, path) =
                pair.split_once('=').ok_or_else(|| anyhow::anyhow!("`{pair}` is not ISSUER=PATH_TO_JWKS"))?;
            let text =
                std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {path}: {e}"))?;
            let jwks: Value =
                serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{path} is not JSON: {e}"))?;
            let keys = ClientKeys::from_jwks(&jwks).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
            trusted.push(TrustedIssuer { issuer: issuer.trim().to_owned(), keys });
        }
        Ok(Self(trusted))
    }
}

/// The `iss` a JWT claims, read before its signature is checked, to know
/// whose keys to check it with.
fn unverified_issuer(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}
