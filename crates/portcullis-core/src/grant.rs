//! What a grant carries between the front channel and the token endpoint:
//! the details an authorization code stands for, and what its refresh
//! tokens carry forward. Stored as JSON, read back as these types.

use crate::claims_request::RequestedClaims;
use crate::{CodeChallenge, Scope};
use serde::{Deserialize, Serialize};

/// What a code stands for: everything the token endpoint checks and needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeDetails {
    /// The user (`sub`).
    pub user_id: String,
    /// The scope granted.
    pub scope: Scope,
    /// The request's `nonce`, for the ID token.
    pub nonce: Option<String>,
    /// The PKCE challenge the verifier must answer.
    pub code_challenge: Option<CodeChallenge>,
    /// The redirect URI the code was sent to.
    pub redirect_uri: String,
    /// Whether the request named it, so the token request must repeat it (RFC 6749 §4.1.3).
    pub redirect_uri_sent: bool,
    /// When the user authenticated, seconds since the epoch.
    pub auth_time: i64,
    /// The session, `sid` in the ID token.
    pub sid: String,
    /// How the user authenticated (RFC 8176 values: `pwd`, then `otp`
    /// after a second factor), `amr` in the ID token.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// What the `claims` parameter asked for (OpenID Connect Core §5.5).
    #[serde(default, skip_serializing_if = "RequestedClaims::is_empty")]
    pub claims: RequestedClaims,
    /// The thumbprint of the DPoP key the code is bound to (`dpop_jkt`,
    /// RFC 9449 §10): only a proof with that key exchanges it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
}

/// What the refresh tokens of a token exchange carry forward: every access
/// token refreshed is the exchanged one again, for the same subject,
/// audience and actor, never outliving the subject token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchanged {
    /// The `sub`, as the exchanging client knows the user.
    pub sub: String,
    /// The audience exchanged for.
    pub aud: String,
    /// Who acts for the subject (RFC 8693 §4.1), when anyone does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<serde_json::Value>,
    /// When the subject token expires, seconds since the epoch: no token of
    /// the family outlives it.
    pub expires_at: i64,
    /// The subject token, as each refresh checks it again.
    pub subject: ExchangedToken,
    /// The actor token, when one was sent, as each refresh checks it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<ExchangedToken>,
}

/// A token an exchange stood on, its subject or actor token: a refresh of
/// its family is refused once the exchange would refuse it (revoked, its
/// client disabled or its tokens revoked, or the policy no longer admitting
/// it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangedToken {
    /// The client it was issued to.
    pub client_id: String,
    /// Its `jti`, for an access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Its grant, for a user's access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    /// Its audience.
    pub aud: String,
    /// When it was issued, seconds since the epoch.
    pub iat: i64,
}

/// What a refresh token carries forward from the authorization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshDetails {
    /// The scope granted.
    pub scope: Scope,
    /// When the user authenticated, seconds since the epoch.
    pub auth_time: i64,
    /// The session (empty for an exchange's family, which has none).
    pub sid: String,
    /// What the `claims` parameter asked for, for the ID tokens and access
    /// tokens of each refresh.
    #[serde(default, skip_serializing_if = "RequestedClaims::is_empty")]
    pub claims: RequestedClaims,
    /// The thumbprint of the DPoP key a public client's family is bound to
    /// (RFC 9449 §5): only a proof with that key refreshes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
    /// For a family a token exchange started (RFC 8693): what each refresh
    /// keeps of the exchanged token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchanged: Option<Exchanged>,
}
