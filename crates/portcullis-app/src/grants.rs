//! The grants aggregate: what the token, authorization and revocation
//! endpoints store. A code is issued once and redeemed at most once (a
//! replay revokes its grant, RFC 6749 §4.1.2); a refresh token rotates on
//! every use and a reused one revokes its family's grant (RFC 9700
//! §4.14.2); a client revokes its own tokens (RFC 7009).
//!
//! These are protocol operations: the authenticated client is their
//! authority ([`Caller`]), so they check no admin permission. Revocations
//! are security events: each is audited in the transaction that records
//! it in the change log (which every instance follows), then published.

use crate::sessions::{Interaction, Session};
use crate::{secrets, Actor, App, AppError, Event};
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_core::authorization_request::AuthorizationRequest;
use portcullis_core::client::{ClientMetadata, MAX_ACCESS_TOKEN_LIFETIME};
use portcullis_core::grant::{CodeDetails, Exchanged, RefreshDetails};
use portcullis_core::{AuthorizationCode, RefreshToken};
use portcullis_store::change_log::{self, ChangeKind};
use portcullis_store::codes::{self, CodeRecord, Redemption};
use portcullis_store::refresh::{self, FamilyRecord, RefreshRecord, Rotation};
use portcullis_store::sessions;
use std::net::IpAddr;
use std::time::Duration;

/// How long a code may wait to be exchanged (RFC 6749 §4.1.2: short).
pub const CODE_LIFETIME: Duration = Duration::from_secs(60);
/// How long an unused refresh token lives, unless the client says otherwise.
pub const DEFAULT_REFRESH_IDLE: u64 = 14 * 24 * 60 * 60;
/// How long a refresh-token family lives, unless the client says otherwise.
pub const DEFAULT_REFRESH_ABSOLUTE: u64 = 90 * 24 * 60 * 60;

/// The authenticated client a protocol operation acts for.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Its id.
    pub client_id: String,
    /// Where its request came from, when known.
    pub address: Option<IpAddr>,
}

impl Caller {
    /// The caller as the actor of what it changes.
    pub(crate) fn actor(&self) -> Actor {
        Actor::Party { client_id: Some(self.client_id.clone()), address: self.address }
    }
}

/// How a client's refresh tokens live: the lifetimes and reuse interval of
/// its metadata, or the defaults.
#[derive(Clone, Copy, Debug)]
pub struct RefreshPolicy {
    idle: TimeDelta,
    absolute: TimeDelta,
    reuse_interval: TimeDelta,
    rotate: bool,
}

impl RefreshPolicy {
    /// The policy `metadata` sets.
    pub fn of(metadata: &ClientMetadata) -> Self {
        Self {
            idle: seconds(metadata.refresh_token_idle_lifetime.unwrap_or(DEFAULT_REFRESH_IDLE)),
            absolute: seconds(metadata.refresh_token_absolute_lifetime.unwrap_or(DEFAULT_REFRESH_ABSOLUTE)),
            reuse_interval: seconds(metadata.refresh_token_reuse_interval.unwrap_or(0)),
            rotate: metadata.refresh_token_rotation,
        }
    }
}

/// Why every token of a grant is revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantRevocation {
    /// An authorization code was presented again (RFC 6749 §4.1.2).
    CodeReplayed,
    /// A rotated refresh token was presented again (RFC 9700 §4.14.2).
    RefreshReused,
    /// The client revoked one of the grant's refresh tokens (RFC 7009 §2.1).
    ByClient,
}

/// A code redeemed: what it was issued for.
pub struct RedeemedCode {
    /// The grant it starts.
    pub grant_id: String,
    /// The client it was issued to.
    pub client_id: String,
    /// What the user authorized.
    pub details: CodeDetails,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
}

/// What presenting a code came to.
pub enum CodeRedemption {
    /// The code was live and is now spent.
    Redeemed(Box<RedeemedCode>),
    /// No live code: unknown or expired.
    Invalid,
    /// The code was spent before: its grant is now revoked.
    Replayed {
        /// The revoked grant.
        grant_id: String,
    },
}

/// The refresh family a token exchange starts (RFC 8693 §2.2.1: a refresh
/// token where the client's policy says so), within the subject's grant.
pub struct ExchangeFamily {
    /// The subject token's grant: revoking it ends the family.
    pub grant_id: String,
    /// The user the subject token acts for.
    pub user_id: String,
    /// The scope exchanged for.
    pub scope: portcullis_core::Scope,
    /// What each refresh mints again; the family ends when the subject token expires.
    pub carried: Exchanged,
    /// The exchanging client's refresh lifetimes.
    pub policy: RefreshPolicy,
}

/// A live refresh token, found before its request is checked and rotated.
pub struct RefreshGrant {
    /// Its family.
    pub family_id: String,
    /// The grant the family descends from.
    pub grant_id: String,
    /// The client holding it.
    pub client_id: String,
    /// The user it acts for.
    pub user_id: String,
    /// What the family was granted.
    pub details: RefreshDetails,
    /// When the family started (its first token was issued).
    pub started_at: DateTime<Utc>,
    hash: [u8; 32],
}

/// What rotating a refresh token came to.
pub enum Rotated {
    /// The new refresh token; the presented one is spent.
    Rotated(RefreshToken),
    /// The client's tokens are not rotated: the presented one stays, for
    /// another idle lifetime.
    Kept,
    /// The token was spent within the client's reuse interval: refused,
    /// nothing revoked.
    JustRotated,
    /// The token was spent before: its grant is now revoked (for an
    /// exchange's family, the family alone).
    Reused,
    /// Expired, revoked or unknown.
    Invalid,
}

/// What a client's revocation request came to (RFC 7009 §2.2: the client
/// is answered 200 unless the token is another client's).
#[derive(Debug, PartialEq, Eq)]
pub enum TokenRevocation {
    /// The token (and, for a refresh token, its grant) is revoked now.
    Revoked,
    /// Nothing to revoke: unknown, expired or already revoked.
    Nothing,
    /// RFC 7009 §2.1: the token was issued to another client.
    NotYours,
}

fn seconds(s: u64) -> TimeDelta {
    TimeDelta::seconds(i64::try_from(s).unwrap_or(i64::MAX / 2))
}

/// A new family of the grant `grant_id`, held by `client_id` for `user_id`,
/// started `now` and ending at `expires_at`.
fn new_family(
    grant_id: &str,
    client_id: &str,
    user_id: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> FamilyRecord {
    FamilyRecord {
        family_id: uuid::Uuid::new_v4().to_string(),
        grant_id: grant_id.to_owned(),
        client_id: client_id.to_owned(),
        user_id: user_id.to_owned(),
        created_at: now,
        expires_at,
    }
}

/// A new refresh token of the family `family_id` carrying `details`, and
/// its record, unused until `policy`'s idle lifetime from `now` has passed.
fn new_refresh_token(
    family_id: &str,
    details: RefreshDetails,
    now: DateTime<Utc>,
    policy: RefreshPolicy,
) -> (RefreshToken, RefreshRecord) {
    let token = RefreshToken::new(secrets::random_token());
    let record = RefreshRecord {
        token_hash: secrets::hash(token.expose()).to_vec(),
        family_id: family_id.to_owned(),
        details,
        created_at: now,
        expires_at: now + policy.idle,
    };
    (token, record)
}

/// What the user of `session` authorizes for `request`, as a code (or an
/// approved device grant) carries it to the token endpoint. Its `amr` holds
/// `otp` only for a second factor given for this very request.
pub(crate) fn code_details(
    request: &AuthorizationRequest,
    session: &Session,
    interaction: Option<&Interaction>,
    now: DateTime<Utc>,
) -> CodeDetails {
    let requested_at = interaction.map_or(now, |i| i.started_at);
    CodeDetails {
        user_id: session.user_id.clone(),
        scope: request.scope.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        redirect_uri: request.redirect_uri.clone(),
        redirect_uri_sent: request.redirect_uri_sent,
        auth_time: session.auth_time.timestamp(),
        sid: session.session_id.clone(),
        amr: session.methods_since(requested_at).into_iter().map(str::to_owned).collect(),
        claims: request.claims.clone(),
        dpop_jkt: request.dpop_jkt.clone(),
    }
}

impl App {
    /// Issues a single-use code bound to the client, the redirect URI and
    /// the PKCE challenge of `request`, for the user of `session`, and ends
    /// `interaction` in the same transaction. `None` when the interaction
    /// had already ended: a second submission gets no code. Its `amr` holds
    /// `otp` only for a second factor given for this very request, and the
    /// console gets no code without one, whichever page asked for it.
    pub fn issue_code(
        &self,
        request: &AuthorizationRequest,
        session: &Session,
        interaction: Option<&Interaction>,
    ) -> Result<Option<AuthorizationCode>, AppError> {
        let code = AuthorizationCode::new(secrets::random_token());
        let now = self.clock.now();
        let details = code_details(request, session, interaction, now);
        if request.client_id.as_str() == crate::console::CONSOLE_CLIENT_ID
            && !details.amr.iter().any(|m| m == "otp")
        {
            tracing::warn!(user_id = %session.user_id, "a console code was asked for without a second factor for this sign-in");
            return Ok(None);
        }
        let record = CodeRecord {
            code_hash: secrets::hash(code.expose()).to_vec(),
            grant_id: uuid::Uuid::new_v4().to_string(),
            client_id: request.client_id.as_str().to_owned(),
            details,
            created_at: now,
            expires_at: now + TimeDelta::from_std(CODE_LIFETIME).expect("fits"),
        };
        let issued = self.db.get()?.atomically(|conn| {
            let finished = match interaction {
                Some(interaction) => sessions::finish_interaction(conn, interaction.hash())?,
                None => true,
            };
            if finished {
                codes::insert(conn, &record)?;
            }
            Ok::<_, AppError>(finished)
        })?;
        Ok(issued.then_some(code))
    }

    /// Redeems `code` for `caller`, at most once: a code presented again
    /// revokes every token of its grant.
    pub fn redeem_code(&self, caller: &Caller, code: &AuthorizationCode) -> Result<CodeRedemption, AppError> {
        let redemption =
            codes::redeem(&mut *self.db.get()?, &secrets::hash(code.expose()), self.clock.now())?;
        Ok(match redemption {
            Redemption::Redeemed(record) => {
                let CodeRecord { grant_id, client_id, details, created_at, .. } = *record;
                let issued_at = created_at;
                CodeRedemption::Redeemed(Box::new(RedeemedCode { grant_id, client_id, details, issued_at }))
            }
            Redemption::Invalid => CodeRedemption::Invalid,
            Redemption::Replayed { grant_id, .. } => {
                self.revoke_grant(caller, &grant_id, GrantRevocation::CodeReplayed)?;
                tracing::warn!(client_id = %caller.client_id, grant_id = %grant_id, "authorization code replayed; its tokens are revoked");
                CodeRedemption::Replayed { grant_id }
            }
        })
    }

    /// Starts the refresh-token family of the grant `code` started, living
    /// as `policy` says, bound to the DPoP key `dpop_jkt` when given; returns its
    /// first token.
    pub fn start_refresh_family(
        &self,
        policy: RefreshPolicy,
        code: &RedeemedCode,
        dpop_jkt: Option<String>,
    ) -> Result<RefreshToken, AppError> {
        let now = self.clock.now();
        let family =
            new_family(&code.grant_id, &code.client_id, &code.details.user_id, now, now + policy.absolute);
        let carried = RefreshDetails {
            scope: code.details.scope.clone(),
            auth_time: code.details.auth_time,
            sid: code.details.sid.clone(),
            claims: code.details.claims.clone(),
            dpop_jkt,
            exchanged: None,
        };
        let (token, first) = new_refresh_token(&family.family_id, carried, now, policy);
        refresh::start_family(&mut *self.db.get()?, &family, &first)?;
        Ok(token)
    }

    /// Audits `caller`'s token exchange (RFC 8693) as `token.exchanged`
    /// and, with `refresh`, starts in the same transaction the refresh
    /// family it answers (returning its first token).
    pub fn record_token_exchange(
        &self,
        caller: &Caller,
        exchanged: Event,
        refresh: Option<ExchangeFamily>,
    ) -> Result<Option<RefreshToken>, AppError> {
        self.commit(&caller.actor(), |tx| {
            let token = match refresh {
                Some(start) => {
                    let ends = DateTime::from_timestamp(start.carried.expires_at, 0).unwrap_or(tx.now);
                    let ends = ends.min(tx.now + start.policy.absolute);
                    let family = new_family(&start.grant_id, &caller.client_id, &start.user_id, tx.now, ends);
                    let carried = RefreshDetails {
                        scope: start.scope,
                        auth_time: 0,
                        sid: String::new(),
                        claims: Default::default(),
                        dpop_jkt: None,
                        exchanged: Some(start.carried),
                    };
                    let (token, first) = new_refresh_token(&family.family_id, carried, tx.now, start.policy);
                    refresh::start_family(tx.conn, &family, &first)?;
                    Some(token)
                }
                None => None,
            };
            tx.emit(exchanged);
            Ok(token)
        })
    }

    /// The refresh token `token` and its family, if it was ever issued.
    pub fn refresh_grant(&self, token: &RefreshToken) -> Result<Option<RefreshGrant>, AppError> {
        let hash = secrets::hash(token.expose());
        let found = refresh::find(&mut *self.db.get()?, &hash)?;
        Ok(found.map(|(family, record)| RefreshGrant {
            family_id: family.family_id,
            grant_id: family.grant_id,
            client_id: family.client_id,
            user_id: family.user_id,
            details: record.details,
            started_at: family.created_at,
            hash,
        }))
    }

    /// Rotates the presented refresh token of `grant` for `caller`, with
    /// the lifetimes and reuse interval of `policy` (or, for a client whose
    /// tokens are not rotated, keeps it for another idle lifetime). Of
    /// concurrent rotations exactly one wins; a token spent before (past
    /// the reuse interval) revokes every token of its grant.
    pub fn rotate_refresh(
        &self,
        caller: &Caller,
        policy: RefreshPolicy,
        grant: &RefreshGrant,
    ) -> Result<Rotated, AppError> {
        let now = self.clock.now();
        if !policy.rotate {
            let kept = refresh::extend(&mut *self.db.get()?, &grant.hash, now + policy.idle, now)?;
            return Ok(if kept { Rotated::Kept } else { Rotated::Invalid });
        }
        // The family keeps the whole original grant; only an access token is narrowed.
        let (token, next) = new_refresh_token(&grant.family_id, grant.details.clone(), now, policy);
        let rotation = refresh::rotate(&mut *self.db.get()?, &grant.hash, &next, now, policy.reuse_interval)?;
        Ok(match rotation {
            Rotation::Rotated { .. } => Rotated::Rotated(token),
            Rotation::Reused { family_revoked: true, .. } if grant.details.exchanged.is_some() => {
                // An exchange's family is the exchanging client's: it ends alone
                // (revoked by the rotation), never the subject's grant.
                let event = Event::TokenRefreshReused {
                    client_id: caller.client_id.clone(),
                    grant_id: grant.grant_id.clone(),
                    family_only: true,
                };
                self.commit(&caller.actor(), |tx| {
                    tx.emit(event);
                    Ok(())
                })?;
                Rotated::Reused
            }
            Rotation::Reused { family_revoked: true, .. } => {
                self.revoke_grant(caller, &grant.grant_id, GrantRevocation::RefreshReused)?;
                tracing::warn!(client_id = %caller.client_id, family = %grant.family_id, "refresh token reused; its family is revoked");
                Rotated::Reused
            }
            Rotation::Reused { family_revoked: false, .. } => Rotated::JustRotated,
            Rotation::Invalid => Rotated::Invalid,
        })
    }

    /// Revokes every token issued from the grant `grant_id`, on every
    /// instance: its access tokens through the change log, its refresh
    /// families in storage, audited in the same transaction.
    pub fn revoke_grant(
        &self,
        caller: &Caller,
        grant_id: &str,
        why: GrantRevocation,
    ) -> Result<(), AppError> {
        // No access token of the grant outlives the longest configurable lifetime.
        let (client_id, grant) = (caller.client_id.clone(), grant_id.to_owned());
        let (reason, event) = match why {
            GrantRevocation::CodeReplayed => {
                ("authorization code replayed", Event::TokenCodeReplayed { client_id, grant_id: grant })
            }
            GrantRevocation::RefreshReused => (
                "refresh token reused",
                Event::TokenRefreshReused { client_id, grant_id: grant, family_only: false },
            ),
            GrantRevocation::ByClient => (
                "revoked by the client",
                Event::TokenRevoked {
                    client_id,
                    token_type: "refresh_token",
                    jti: None,
                    grant_id: Some(grant),
                },
            ),
        };
        self.commit(&caller.actor(), |tx| {
            let until = tx.now + seconds(MAX_ACCESS_TOKEN_LIFETIME);
            refresh::revoke_grant_families(tx.conn, grant_id, reason, tx.now)?;
            change_log::append(tx.conn, ChangeKind::Grant, grant_id, Some(until))?;
            tx.emit(event);
            Ok(())
        })
    }

    /// Revokes the access token `jti` of `caller`, valid until
    /// `expires_at`, on every instance (RFC 7009 §2.1).
    pub fn revoke_access_token(
        &self,
        caller: &Caller,
        jti: &str,
        grant_id: Option<&str>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let event = Event::TokenRevoked {
            client_id: caller.client_id.clone(),
            token_type: "access_token",
            jti: Some(jti.to_owned()),
            grant_id: grant_id.map(str::to_owned),
        };
        self.commit(&caller.actor(), |tx| {
            change_log::append(tx.conn, ChangeKind::Token, jti, Some(expires_at))?;
            tx.emit(event);
            Ok(())
        })?;
        tracing::info!(client_id = %caller.client_id, "access token revoked");
        Ok(())
    }

    /// Revokes the refresh token `token` of `caller`: its family ends, and
    /// with it (RFC 7009 §2.1) every access token of the same grant.
    pub fn revoke_refresh_token(&self, caller: &Caller, token: &str) -> Result<TokenRevocation, AppError> {
        let now = self.clock.now();
        let (family, record, revoked) = {
            // Given back before the revocation takes its own connection.
            let conn = &mut *self.db.get()?;
            let Some((family, record)) = refresh::find(conn, &secrets::hash(token))? else {
                return Ok(TokenRevocation::Nothing);
            };
            // The grant's revocation in the change log, which every instance follows.
            let revoked = change_log::is_revoked(conn, ChangeKind::Grant, &family.grant_id, now)?;
            (family, record, revoked)
        };
        if family.client_id != caller.client_id {
            return Ok(TokenRevocation::NotYours);
        }
        if family.expires_at <= now || revoked {
            return Ok(TokenRevocation::Nothing);
        }
        if record.details.exchanged.is_some() {
            // An exchange's family is the exchanging client's: it ends alone, never
            // the subject's grant (whose access tokens the exchanged ones share).
            let event = Event::TokenRevoked {
                client_id: caller.client_id.clone(),
                token_type: "refresh_token",
                jti: None,
                grant_id: None,
            };
            self.commit(&caller.actor(), |tx| {
                refresh::revoke_family(tx.conn, &family.family_id, "revoked by the client", tx.now)?;
                tx.emit(event);
                Ok(())
            })?;
            return Ok(TokenRevocation::Revoked);
        }
        self.revoke_grant(caller, &family.grant_id, GrantRevocation::ByClient)?;
        tracing::info!(client_id = %caller.client_id, "refresh token revoked with its grant");
        Ok(TokenRevocation::Revoked)
    }
}
