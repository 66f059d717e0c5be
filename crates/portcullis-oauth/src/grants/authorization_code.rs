//! The authorization code grant (RFC 6749 §4.1.3, OpenID Connect Core
//! §3.1.3): a code is exchanged, once, by the client it was issued to, with
//! the redirect URI and the PKCE verifier it was bound to.

use super::{
    audience, invalid_grant, reads_user, user_tokens, GrantContext, Issued, Requested, TokenResponse,
    UserGrant,
};
use crate::params::Params;
use crate::storage::protocol_operation;
use portcullis_app::grants::{Caller, CodeRedemption, RedeemedCode, RefreshPolicy};
use portcullis_app::{App, AppError};
use portcullis_core::grant::CodeDetails;
use portcullis_core::{AuthorizationCode, CodeVerifier, GrantType, OAuthError, TokenEndpointAuthMethod};

/// The token request of this grant (RFC 6749 §4.1.3, RFC 7636 §4.5).
pub struct CodeRequest {
    /// The code.
    pub code: AuthorizationCode,
    /// `redirect_uri`, when sent.
    pub redirect_uri: Option<String>,
    /// `code_verifier`, when sent.
    pub verifier: Option<CodeVerifier>,
    /// `scope` and `resource`.
    pub requested: Requested,
}

impl CodeRequest {
    /// The request in `form`.
    pub fn parse(form: &Params) -> Result<Self, OAuthError> {
        Ok(Self {
            code: AuthorizationCode::new(form.require("code")?.to_owned()),
            redirect_uri: form.get("redirect_uri").map(str::to_owned),
            verifier: form.get("code_verifier").map(|v| CodeVerifier::new(v.to_owned())),
            requested: Requested::parse(form),
        })
    }
}

/// The registry's entry point: parses the form, then [`issue`]s.
pub fn handle<'a>(context: &'a GrantContext<'a>, form: &'a Params) -> Issued<'a> {
    Box::pin(async move { issue(context, CodeRequest::parse(form)?).await })
}

/// Exchanges a code for tokens.
pub async fn issue(context: &GrantContext<'_>, request: CodeRequest) -> Result<TokenResponse, OAuthError> {
    let GrantContext { client, app, .. } = *context;
    let (caller, code) = (context.caller(), request.code);
    let record = match protocol_operation(app, move |app| app.redeem_code(&caller, &code)).await? {
        CodeRedemption::Redeemed(record) => record,
        CodeRedemption::Invalid => return Err(invalid_grant("the code is invalid or expired")),
        CodeRedemption::Replayed { .. } => {
            return Err(invalid_grant("the code was already used; the tokens issued from it are revoked"))
        }
    };
    // RFC 6749 §4.1.3: the code must have been issued to this client.
    if record.client_id != client.id.as_str() {
        return Err(invalid_grant("the code was issued to another client"));
    }
    if client.revoked_at_issue(record.issued_at) {
        return Err(invalid_grant("the code is invalid or expired"));
    }
    let details = &record.details;
    check_redirect_uri(request.redirect_uri.as_deref(), details)?;
    check_pkce(request.verifier.as_ref(), details)?;
    // RFC 9449 §10: a code bound to a key is exchanged with a proof of that key only.
    if !context.proves(details.dpop_jkt.as_deref()) {
        return Err(invalid_grant("the code is bound to a DPoP key this request does not prove (dpop_jkt)"));
    }
    let aud = audience(&request.requested, client, &context.settings.issuer)?;
    tokens_for(context, record, aud).await
}

/// The tokens of the authorization `record` redeemed (a code, or an approved
/// device grant): an access token for `aud`, an ID token for an OpenID
/// Connect one, and a refresh family when the client may refresh.
pub(super) async fn tokens_for(
    context: &GrantContext<'_>,
    record: Box<RedeemedCode>,
    aud: String,
) -> Result<TokenResponse, OAuthError> {
    let GrantContext { client, app, .. } = *context;
    let details = &record.details;
    let user = if reads_user(client, &details.claims) {
        let user_id = details.user_id.clone();
        protocol_operation(app, move |app| app.user_claims(&user_id)).await?
    } else {
        None
    };
    let grant = UserGrant {
        user_id: &details.user_id,
        grant_id: &record.grant_id,
        requested: &details.claims,
        auth_time: details.auth_time,
        sid: &details.sid,
        nonce: details.nonce.as_deref(),
        amr: &details.amr,
    };
    let (minted, id_token) = user_tokens(context, &grant, user.as_ref(), &details.scope, aud)?;
    let scope = details.scope.to_string();
    let refresh_token = if client.metadata.allows_grant(GrantType::RefreshToken) {
        let policy = RefreshPolicy::of(&client.metadata);
        // RFC 9449 §5: a public client's refresh tokens are bound to its key;
        // a confidential client's are bound to its credentials.
        let public = client.metadata.token_endpoint_auth_method == TokenEndpointAuthMethod::None;
        let dpop_jkt = context.dpop_jkt.filter(|_| public).map(str::to_owned);
        Some(protocol_operation(app, move |app| app.start_refresh_family(policy, &record, dpop_jkt)).await?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token: minted.token,
        token_type: context.token_type(),
        issued_token_type: None,
        expires_in: minted.lifetime,
        scope,
        id_token,
        refresh_token,
    })
}

/// Exchanges `code` for a client of this server that signs its own users
/// in (the console), with the checks the token endpoint makes: redeemed
/// once, by `caller`, with the redirect URI and PKCE verifier it was bound
/// to. `None` for a code the token endpoint would refuse.
pub fn redeem_own(
    app: &App,
    caller: &Caller,
    code: &AuthorizationCode,
    redirect_uri: &str,
    verifier: &CodeVerifier,
) -> Result<Option<Box<RedeemedCode>>, AppError> {
    let CodeRedemption::Redeemed(record) = app.redeem_code(caller, code)? else { return Ok(None) };
    let checked = check_redirect_uri(Some(redirect_uri), &record.details)
        .and_then(|()| check_pkce(Some(verifier), &record.details));
    Ok(checked.ok().filter(|()| record.client_id == caller.client_id).map(|()| record))
}

/// RFC 6749 §4.1.3: the redirect URI must be repeated when the request had one.
pub(crate) fn check_redirect_uri(sent: Option<&str>, details: &CodeDetails) -> Result<(), OAuthError> {
    let matches = match sent {
        Some(uri) => uri == details.redirect_uri,
        None => !details.redirect_uri_sent,
    };
    if matches {
        Ok(())
    } else {
        Err(invalid_grant("redirect_uri does not match the authorization request"))
    }
}

/// RFC 7636 §4.6, and RFC 9700 §4.8.2: a verifier without a challenge is a downgrade.
pub(crate) fn check_pkce(verifier: Option<&CodeVerifier>, details: &CodeDetails) -> Result<(), OAuthError> {
    match (&details.code_challenge, verifier) {
        (Some(challenge), Some(verifier)) if challenge.verify(verifier) => Ok(()),
        (Some(_), Some(_)) => Err(invalid_grant("code_verifier does not match the code_challenge")),
        (Some(_), None) => Err(invalid_grant("code_verifier is missing")),
        (None, Some(_)) => {
            Err(invalid_grant("code_verifier sent, but the authorization request had no code_challenge"))
        }
        (None, None) => Ok(()),
    }
}
