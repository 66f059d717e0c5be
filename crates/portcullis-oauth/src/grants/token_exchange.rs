//! The token-exchange grant (RFC 8693): an authenticated client exchanges
//! a subject token (an access token of this server, or an ID token where
//! its policy allows) for an access token of its own, acting for the same
//! subject. Under the client's `token_exchange` policy: only subject
//! tokens of clients it names, only audiences it names (or the subject
//! token's own), only a scope within the subject token's. The issued token
//! names its actor in `act` (the actor token's subject, or the client),
//! unless the policy allows impersonation and no actor token is sent; it
//! never outlives the subject token and carries the subject's grant (so
//! revoking that grant revokes it). A refresh token comes with it only
//! where the policy says so, for a user's token of a grant: each refresh
//! mints the exchanged token again, and its family dies with the subject
//! token and its grant. A subject or actor token that is invalid or may not
//! be exchanged is `invalid_request` (§2.2.2).

use super::{
    access_token_claims, invalid_grant, sign, GrantContext, Grantee, Issued, Requested, TokenResponse,
};
use crate::params::Params;
use crate::storage::protocol_operation;
use portcullis_app::grants::{ExchangeFamily, RefreshPolicy};
use portcullis_app::Event;
use portcullis_core::grant::{Exchanged, ExchangedToken};
use portcullis_core::token_exchange::{ExchangePolicy, ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE};
use portcullis_core::{ErrorCode, GrantType, OAuthError, Scope};
use portcullis_jose::{AccessTokenClaims, IdTokenClaims};
use serde_json::{json, Value};

/// What a subject or actor token stands for.
struct Party {
    /// Its `sub`.
    sub: String,
    /// The user it acts for, when it acts for one.
    user_id: Option<String>,
    /// The client it was issued to (`client_id`, or an ID token's `aud`).
    client_id: String,
    /// Its scope (none for an ID token).
    scope: Scope,
    /// Its audience.
    aud: String,
    /// When it expires.
    exp: i64,
    /// When it was issued.
    iat: i64,
    /// Its grant, for revocation.
    grant_id: Option<String>,
    /// Its own `jti`, for an access token: what an exchange from a token with
    /// no grant (a client's own) is revoked with.
    jti: Option<String>,
    /// Who already acts for it (RFC 8693 §4.1).
    act: Option<Value>,
}

impl From<AccessTokenClaims> for Party {
    fn from(claims: AccessTokenClaims) -> Self {
        Self {
            scope: Scope::parse(claims.scope.as_deref().unwrap_or_default()).unwrap_or_default(),
            sub: claims.sub,
            user_id: None,
            client_id: claims.client_id,
            aud: claims.aud,
            exp: claims.exp,
            iat: claims.iat,
            grant_id: claims.grant_id,
            jti: Some(claims.jti),
            act: claims.act,
        }
    }
}

impl From<&Party> for ExchangedToken {
    fn from(party: &Party) -> Self {
        Self {
            client_id: party.client_id.clone(),
            jti: party.jti.clone(),
            grant_id: party.grant_id.clone(),
            aud: party.aud.clone(),
            iat: party.iat,
        }
    }
}

/// The registry's entry point.
pub fn handle<'a>(context: &'a GrantContext<'a>, form: &'a Params) -> Issued<'a> {
    Box::pin(async move { issue(context, form).await })
}

/// The access, or ID, token `token` of type `kind` as a party, when it is
/// live here and `policy` lets `context`'s client exchange it.
fn subject(
    context: &GrantContext<'_>,
    token: &str,
    kind: &str,
    policy: &ExchangePolicy,
) -> Result<Party, OAuthError> {
    let mut party = match kind {
        ACCESS_TOKEN_TYPE => {
            let claims = context
                .token_check()
                .active(token)
                .ok_or_else(|| OAuthError::invalid_request("the subject_token is not active"))?;
            // RFC 9449 §7.2's spirit: a sender-constrained token is its holder's alone.
            if claims.cnf.is_some() {
                return Err(OAuthError::invalid_request(
                    "a DPoP-bound subject_token cannot be exchanged by another party",
                ));
            }
            Party::from(claims)
        }
        ID_TOKEN_TYPE if policy.id_token_subjects => {
            let keys = context.keys.current();
            let claims = IdTokenClaims::verify(token, |kid| keys.verifier(kid))
                .filter(|claims| claims.iss == context.settings.issuer.as_str())
                .filter(|claims| claims.exp > context.settings.clock.now().timestamp())
                .ok_or_else(|| {
                    OAuthError::invalid_request("the subject_token is not a live ID token of this server")
                })?;
            Party {
                sub: claims.sub,
                user_id: None,
                client_id: claims.aud.clone(),
                scope: Scope::default(),
                aud: claims.aud,
                exp: claims.exp,
                iat: claims.iat,
                grant_id: None,
                jti: None,
                act: None,
            }
        }
        ID_TOKEN_TYPE => return Err(OAuthError::invalid_request("this client may not exchange ID tokens")),
        _ => {
            return Err(OAuthError::invalid_request(
                "subject_token_type must be an access token or an ID token (RFC 8693 §3)",
            ))
        }
    };
    if !policy.admits_subject_client(&party.client_id, context.client.id.as_str()) {
        return Err(OAuthError::invalid_request(
            "this client may not exchange the subject_token's client's tokens",
        ));
    }
    // A user's subject is re-derived for the exchanging client: pairwise subjects differ by client.
    let holder = context.clients.get(&party.client_id).filter(|c| c.disabled_at.is_none());
    let holder = holder.ok_or_else(|| OAuthError::invalid_request("the subject_token's client is gone"))?;
    if !context.clients.is_client_subject(&party.sub) {
        let subjects = context.keys.subjects();
        let user_id = subjects
            .user_id(&holder.metadata, &party.sub)
            .ok_or_else(|| OAuthError::invalid_request("the subject names no user"))?;
        party.sub = subjects.subject(&context.client.metadata, &user_id);
        party.user_id = Some(user_id);
    }
    Ok(party)
}

/// RFC 8693 §2.1, §2.2: checks the request and mints the token.
async fn issue(context: &GrantContext<'_>, form: &Params) -> Result<TokenResponse, OAuthError> {
    let client = context.client;
    let policy = client.metadata.token_exchange.as_ref().ok_or_else(|| {
        OAuthError::new(ErrorCode::UnauthorizedClient, "this client has no token_exchange policy")
    })?;
    if form.get("requested_token_type").is_some_and(|kind| kind != ACCESS_TOKEN_TYPE) {
        return Err(OAuthError::invalid_request("only access tokens are issued (requested_token_type)"));
    }
    let subject =
        subject(context, form.require("subject_token")?, form.require("subject_token_type")?, policy)?;
    // §4.1: the actor, with those who acted before it nested under it. An actor
    // token is one this client holds, unbound, so no one names another as actor.
    let mut expires = subject.exp;
    let mut actor_token = None;
    let act = match (form.get("actor_token"), form.get("actor_token_type")) {
        (Some(token), Some(ACCESS_TOKEN_TYPE)) => {
            let actor = context
                .token_check()
                .active(token)
                .ok_or_else(|| OAuthError::invalid_request("the actor_token is not active"))?;
            if actor.client_id != client.id.as_str() || actor.cnf.is_some() {
                return Err(OAuthError::invalid_request(
                    "the actor_token must be an unbound token of this client",
                ));
            }
            expires = expires.min(actor.exp);
            let act = actor_claim(&actor.sub, &actor.client_id, subject.act.clone());
            actor_token = Some(ExchangedToken::from(&Party::from(actor)));
            Some(act)
        }
        (Some(_), _) => return Err(OAuthError::invalid_request("actor_token_type must be an access token")),
        (None, Some(_)) => return Err(OAuthError::invalid_request("actor_token_type without actor_token")),
        (None, None) if policy.impersonation => subject.act.clone(),
        (None, None) => Some(actor_claim(client.id.as_str(), client.id.as_str(), subject.act.clone())),
    };
    // §2.1: audience and resource name where the token is used; each must be allowed.
    let asked: Vec<&str> =
        form.all("audience").iter().chain(form.all("resource")).map(String::as_str).collect();
    let aud = match asked.as_slice() {
        [] => subject.aud.clone(),
        [one] if *one == subject.aud || policy.audiences.iter().any(|a| a == one) => (*one).to_owned(),
        [_] => {
            return Err(OAuthError::new(
                ErrorCode::InvalidTarget,
                "this client may not exchange for that audience",
            ))
        }
        _ => return Err(OAuthError::new(ErrorCode::InvalidTarget, "ask for one audience or resource")),
    };
    // The scope can only narrow: within the subject token's, and the client's.
    let scope = match form.get("scope") {
        None => subject.scope.clone(),
        Some(asked) => {
            Scope::parse(asked).map_err(|e| OAuthError::new(ErrorCode::InvalidScope, e.to_string()))?
        }
    };
    if !scope.is_subset(&subject.scope) || !scope.is_subset(&client.metadata.scope) {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "the scope exceeds the subject_token's or the client's",
        ));
    }
    // Revoked with the subject's grant, or, for a token of no grant, with the token itself.
    let grant_id = subject.grant_id.clone().or_else(|| subject.jti.clone());
    let carried = Exchanged {
        sub: subject.sub.clone(),
        aud: aud.clone(),
        act,
        expires_at: expires,
        subject: ExchangedToken::from(&subject),
        actor: actor_token,
    };
    let (token, lifetime) = mint(context, &carried, grant_id, &scope)?;
    // RFC 8693 §2.2.1: a refresh token only where the policy says so, for a
    // user's token whose grant the family dies with.
    let refresh = match (subject.grant_id, subject.user_id) {
        (Some(grant_id), Some(user_id))
            if policy.refresh_tokens && client.metadata.allows_grant(GrantType::RefreshToken) =>
        {
            let policy = RefreshPolicy::of(&client.metadata);
            Some(ExchangeFamily { grant_id, user_id, scope: scope.clone(), carried: carried.clone(), policy })
        }
        _ => None,
    };
    let caller = context.caller();
    let exchanged = Event::TokenExchanged {
        client_id: client.id.as_str().to_owned(),
        subject_client_id: subject.client_id,
        sub: carried.sub,
        aud: carried.aud,
        act: carried.act.as_ref().and_then(|a| a["sub"].as_str()).map(str::to_owned),
    };
    let refresh_token =
        protocol_operation(context.app, move |app| app.record_token_exchange(&caller, exchanged, refresh))
            .await?;
    Ok(TokenResponse {
        access_token: token,
        token_type: context.token_type(),
        issued_token_type: Some(ACCESS_TOKEN_TYPE),
        expires_in: lifetime,
        scope: scope.to_string(),
        id_token: None,
        refresh_token,
    })
}

/// The access token of an exchange, or of its refresh: for `carried`'s
/// subject, audience and actor, in `grant_id`, with `scope`, bound to the
/// request's DPoP key, never outliving the subject token. With its lifetime.
pub(super) fn mint(
    context: &GrantContext<'_>,
    carried: &Exchanged,
    grant_id: Option<String>,
    scope: &Scope,
) -> Result<(String, u64), OAuthError> {
    let client = context.client;
    let grantee = Grantee {
        sub: &carried.sub,
        grant_id,
        user: None,
        userinfo_claims: &[],
        dpop_jkt: context.dpop_jkt,
        act: carried.act.clone(),
    };
    let mut unsigned = access_token_claims(client, context.settings, &grantee, scope, carried.aud.clone());
    unsigned.claims.exp = unsigned.claims.exp.min(carried.expires_at);
    let lifetime = u64::try_from(unsigned.claims.exp - unsigned.claims.iat).unwrap_or(0);
    let token = sign(context.keys, client.metadata.access_token_signed_response_alg, |key| {
        unsigned.claims.sign_with(key, &unsigned.mapped)
    })?;
    Ok((token, lifetime))
}

/// The audience of a refresh of an exchange's family: the one exchanged
/// for, which a `resource` may only repeat (RFC 8707 §2.2).
pub(super) fn refreshed_audience(requested: &Requested, carried: &Exchanged) -> Result<String, OAuthError> {
    match requested.resources.as_slice() {
        [] => Ok(carried.aud.clone()),
        [one] if *one == carried.aud => Ok(carried.aud.clone()),
        _ => Err(OAuthError::new(
            ErrorCode::InvalidTarget,
            "an exchanged token is refreshed for its own audience",
        )),
    }
}

/// What the exchange checked, checked again at each refresh of its family:
/// the policy still grants refresh tokens and still admits the subject
/// token's client, the audience and (for a token naming no delegation to
/// this client) impersonation; neither the subject nor the actor token is
/// revoked, nor its client disabled or its tokens revoked.
pub(super) fn recheck(context: &GrantContext<'_>, carried: &Exchanged) -> Result<(), OAuthError> {
    let client = context.client;
    let Some(policy) = client.metadata.token_exchange.as_ref().filter(|policy| policy.refresh_tokens) else {
        return Err(invalid_grant("this client's exchange policy no longer grants refresh tokens"));
    };
    let subject = &carried.subject;
    let delegated = carried.act.as_ref().is_some_and(|act| act["client_id"] == client.id.as_str());
    let admitted = policy.admits_subject_client(&subject.client_id, client.id.as_str())
        && (carried.aud == subject.aud || policy.audiences.contains(&carried.aud))
        && (delegated || policy.impersonation);
    let check = context.token_check();
    let stands = |token: &ExchangedToken| {
        check.stands(&token.client_id, token.iat, token.jti.as_deref(), token.grant_id.as_deref())
    };
    let live = stands(subject) && carried.actor.as_ref().is_none_or(stands);
    if admitted && live {
        Ok(())
    } else {
        Err(invalid_grant("the token this refresh token was exchanged from may no longer be exchanged"))
    }
}

/// An `act` claim (RFC 8693 §4.1): `sub` and `client_id` of the actor,
/// with `before` (who acted before it) nested.
fn actor_claim(sub: &str, client_id: &str, before: Option<Value>) -> Value {
    let mut act = json!({"sub": sub, "client_id": client_id});
    if let Some(before) = before {
        act["act"] = before;
    }
    act
}
