//! Personal access tokens: a user's named credential for one of their
//! teams, for the portal's REST API (`portal:read`, `portal:apps`,
//! `portal:members`, at most what their role there grants) and for
//! resource servers, which introspect it (the API scopes the team's
//! policy lets its clients hold, never one needing approval). A token is
//! 256 random bits behind a `pcp_` prefix (so secret scanners know it),
//! stored only as SHA-256, shown once, and expires within the team's
//! policy (a year at most). Its user, the team's owners and admins revoke
//! it; leaving the team revokes it; every use is checked against the
//! user's role as it is then.

use crate::transaction::Attempt;
use crate::{secrets, time, Actor, App, AppError, Event, Permission};
use chrono::{DateTime, TimeDelta, Utc};
use portcullis_core::client_fields::is_short_text;
use portcullis_core::team::{TeamPermission, TeamPolicy, TeamRole, MAX_TOKEN_DAYS};
use portcullis_core::{Scope, ShownOnce};
use portcullis_store::personal_tokens::{self as stored, NewToken, TokenRecord};
use portcullis_store::teams::{self, TeamRecord};
use serde::Serialize;
use std::net::IpAddr;

/// What every personal access token begins with.
pub const PREFIX: &str = "pcp_";

/// The most tokens the console's list shows.
const LISTED: i64 = 500;

/// A personal access token as views show it: never the token.
#[derive(Clone, Debug, Serialize)]
pub struct PersonalTokenView {
    /// Its id (introspection's `client_id` is `pat:<id>`).
    pub token_id: String,
    /// Whose it is.
    pub user_id: String,
    /// Their username.
    pub username: String,
    /// The team it acts for.
    pub team_id: String,
    /// Its name.
    pub name: String,
    /// Its scope.
    pub scope: String,
    /// When it was made.
    pub created_at: String,
    /// When it stops working.
    pub expires_at: String,
    /// When it was last used, to the minute.
    pub last_used_at: Option<String>,
    /// When it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// Who revoked it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_by: Option<String>,
    /// `active`, `expired` or `revoked`.
    pub state: &'static str,
}

fn token_view(record: TokenRecord, now: DateTime<Utc>) -> PersonalTokenView {
    let state = match (record.revoked_at, record.expires_at <= now) {
        (Some(_), _) => "revoked",
        (None, true) => "expired",
        (None, false) => "active",
    };
    PersonalTokenView {
        state,
        token_id: record.token_id,
        user_id: record.user_id,
        username: record.username,
        team_id: record.team_id,
        name: record.name,
        scope: record.scope,
        created_at: time(record.created_at),
        expires_at: time(record.expires_at),
        last_used_at: record.last_used_at.map(time),
        revoked_at: record.revoked_at.map(time),
        revoked_by: record.revoked_by,
    }
}

/// A token just made, with its value, shown this once.
#[derive(Debug)]
pub struct CreatedPersonalToken {
    /// The token.
    pub token: PersonalTokenView,
    /// Its value.
    pub value: ShownOnce,
}

/// A presented token that works: who it acts for, and as what.
#[derive(Clone, Debug)]
pub struct PersonalTokenUse {
    /// The token.
    pub token: PersonalTokenView,
    /// Its scope now: the portal scopes the user's role still grants, and its API scopes.
    pub scope: Scope,
    /// When it was made.
    pub issued_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// Whether it was made from a sign-in that gave a second factor.
    pub second_factor: bool,
}

impl PersonalTokenUse {
    /// The actor the portal's REST API acts as for this use, from `address`.
    pub fn actor(&self, address: Option<IpAddr>) -> Actor {
        Actor::PersonalToken {
            user_id: self.token.user_id.clone(),
            token_id: self.token.token_id.clone(),
            team_id: self.token.team_id.clone(),
            permissions: TeamPermission::ALL.into_iter().filter(|p| self.scope.contains(p.scope())).collect(),
            second_factor: self.second_factor,
            address,
        }
    }
}

/// The scopes a member of `team` holding `role` may give a token: the
/// portal scopes their role grants, and (from developers up) the API
/// scopes the team's policy lets its clients hold, without those needing
/// approval.
fn grantable(policy: &TeamPolicy, role: TeamRole, scope: &str) -> bool {
    match TeamPermission::of_scope(scope) {
        Some(permission) => role.grants(permission),
        None => {
            let listed = policy.clients.scopes.iter().flatten().any(|s| s == scope);
            let admin = crate::Permission::is_admin_scope(scope);
            role.grants(TeamPermission::Apps)
                && listed
                && !admin
                && !policy.approval_scopes.iter().any(|s| s == scope)
        }
    }
}

fn no_token(token_id: &str) -> AppError {
    AppError::NotFound(format!("there is no personal access token {token_id}"))
}

impl App {
    /// Makes a personal access token named `name` for the portal user
    /// `actor` in team `team_id`, with `scope`, living `days` days (within
    /// the team's policy); its value is shown this once.
    pub fn create_personal_token(
        &self,
        actor: &Actor,
        team_id: &str,
        name: &str,
        scope: &str,
        days: u32,
    ) -> Result<CreatedPersonalToken, AppError> {
        let value = ShownOnce::new(format!("{PREFIX}{}", secrets::random_token()));
        let hash = secrets::hash(value.expose());
        let token = self.team_change(
            actor,
            ("personal_token.created", team_id),
            Some(TeamPermission::Read),
            |tx, team, access| {
                // Made only when signed in: a token never makes another, which
                // would outlive its revocation.
                if matches!(actor, Actor::PersonalToken { .. }) {
                    return Err(AppError::Beyond(
                        "a personal access token is made when signed in to the portal".into(),
                    ));
                }
                let (Some(user_id), crate::teams::TeamAccess::Member(role)) = (actor.portal_user(), access)
                else {
                    return Err(AppError::Invalid(
                        "a personal access token is a member's own: sign in to the portal".into(),
                    ));
                };
                let name = name.trim();
                if !is_short_text(name, 100) {
                    return Err(AppError::Invalid(
                        "name: 1 to 100 characters without control characters".into(),
                    ));
                }
                let scope = Scope::parse(scope).map_err(|e| AppError::Invalid(format!("scope: {e}")))?;
                if scope.is_empty() {
                    return Err(AppError::Invalid("scope: name at least one, e.g. portal:read".into()));
                }
                if let Some(refused) = scope.iter().find(|s| !grantable(&team.policy, role, s)) {
                    return Err(AppError::Beyond(format!(
                        "scope: `{refused}` is beyond what your role and this team's policy let a token hold"
                    )));
                }
                let most = team.policy.max_token_lifetime_days.unwrap_or(MAX_TOKEN_DAYS);
                if days == 0 || days > most {
                    return Err(AppError::Invalid(format!(
                        "expires_in_days: 1 to {most}, as this team's policy allows"
                    )));
                }
                let token_id = format!("pat_{}", uuid::Uuid::new_v4().simple());
                let expires_at = tx.now + TimeDelta::days(i64::from(days));
                let scope = scope.to_string();
                // What the session's sign-in gave, the token keeps: a team
                // that requires a second factor takes only tokens made after one.
                let second_factor = crate::teams::second_factor_given(tx.conn, actor, tx.now)?;
                stored::insert(
                    tx.conn,
                    &NewToken {
                        token_id: &token_id,
                        token_hash: &hash,
                        user_id,
                        team_id: &team.team_id,
                        name,
                        scope: &scope,
                        created_at: tx.now,
                        expires_at,
                        second_factor,
                    },
                )?;
                tx.emit(Event::PersonalTokenCreated {
                    token_id: token_id.clone(),
                    team_id: team.team_id.clone(),
                    name: name.to_owned(),
                    scope,
                    expires_at: time(expires_at),
                });
                let record = stored::find(tx.conn, &token_id)?.ok_or_else(|| no_token(&token_id))?;
                Ok(token_view(record, tx.now))
            },
        )?;
        Ok(CreatedPersonalToken { token, value })
    }

    /// The personal access tokens for team `team_id` that `actor` may see:
    /// a member's own; an owner's or an admin's, every one.
    pub fn personal_tokens(&self, actor: &Actor, team_id: &str) -> Result<Vec<PersonalTokenView>, AppError> {
        let now = self.clock.now();
        let conn = &mut *self.db.get()?;
        let (team, access) = crate::teams::reach(conn, actor, team_id, Some(TeamPermission::Read))?;
        // Every member's, for whoever may run the team's members (by a token, one that may too).
        let token_may = match actor {
            Actor::PersonalToken { permissions, .. } => permissions.contains(&TeamPermission::Members),
            _ => true,
        };
        let records = match (access, actor.portal_user()) {
            (crate::teams::TeamAccess::Member(role), Some(user_id))
                if !(role.grants(TeamPermission::Members) && token_may) =>
            {
                stored::of_member(conn, &team.team_id, user_id)?
            }
            _ => stored::of_team(conn, &team.team_id)?,
        };
        Ok(records.into_iter().map(|record| token_view(record, now)).collect())
    }

    /// Every personal access token, newest first (admins only).
    pub fn all_personal_tokens(&self, actor: &Actor) -> Result<Vec<PersonalTokenView>, AppError> {
        let now = self.clock.now();
        self.read(actor, Permission::Users, |conn| {
            Ok(stored::all(conn, LISTED)?.into_iter().map(|record| token_view(record, now)).collect())
        })
    }

    /// Revokes the personal access token `token_id`: by its user, an owner
    /// of its team, or an admin.
    pub fn revoke_personal_token(&self, actor: &Actor, token_id: &str) -> Result<(), AppError> {
        let attempt =
            Attempt { permission: Permission::Users, action: "personal_token.revoked", target: token_id };
        let done = self.commit(actor, |tx| {
            let record = stored::find(tx.conn, token_id)?.ok_or_else(|| no_token(token_id))?;
            // A user revokes their own; a token, itself; an owner, anyone's.
            let own = match actor {
                Actor::PersonalToken { token_id: presented, .. } => presented == token_id,
                _ => actor.portal_user() == Some(record.user_id.as_str()),
            };
            let needed = if own { Some(TeamPermission::Read) } else { Some(TeamPermission::Members) };
            crate::teams::reach(tx.conn, actor, &record.team_id, needed).map_err(|e| match e {
                AppError::NotFound(_) => no_token(token_id),
                other => other,
            })?;
            if !stored::revoke(tx.conn, token_id, &actor.name(), tx.now)? {
                return Err(AppError::Conflict(format!(
                    "personal access token {token_id} is revoked already"
                )));
            }
            tx.emit(Event::PersonalTokenRevoked {
                token_id: token_id.to_owned(),
                team_id: record.team_id,
                user_id: record.user_id,
            });
            Ok(())
        });
        if let Some(error) = done.as_ref().err().filter(|error| error.is_refusal()) {
            self.audit_refusal(actor, &attempt, error);
        }
        done
    }

    /// The use of the personal access token `presented`, if it works now:
    /// not revoked nor expired, its user enabled and still a member of its
    /// team. Its portal scopes are cut to what their role grants now. The
    /// use is recorded (once a minute at most).
    pub fn use_personal_token(&self, presented: &str) -> Result<Option<PersonalTokenUse>, AppError> {
        if !presented.starts_with(PREFIX) {
            return Ok(None);
        }
        let now = self.clock.now();
        let conn = &mut *self.db.get()?;
        let Some(mut record) = stored::find_by_hash(conn, &secrets::hash(presented))? else {
            return Ok(None);
        };
        if record.revoked_at.is_some() || record.expires_at <= now {
            return Ok(None);
        }
        let Some(role) = teams::role_of(conn, &record.team_id, &record.user_id)? else { return Ok(None) };
        let user = portcullis_store::users::find(conn, &record.user_id)?;
        if user.is_none_or(|user| user.disabled_at.is_some()) {
            return Ok(None);
        }
        let team: Option<TeamRecord> = teams::find(conn, &record.team_id)?;
        let Some(team) = team else { return Ok(None) };
        let held = Scope::parse(&record.scope).unwrap_or_default();
        let now_allowed: Vec<String> =
            held.iter().filter(|s| grantable(&team.policy, role, s)).map(str::to_owned).collect();
        let scope = Scope::parse(&now_allowed.join(" ")).unwrap_or_default();
        // At most one write a minute, however busy the token.
        if record.last_used_at.is_none_or(|at| now - at >= TimeDelta::minutes(1)) {
            stored::record_use(conn, &record.token_id, now)?;
            record.last_used_at = Some(now);
        }
        let (issued_at, expires_at, second_factor) =
            (record.created_at, record.expires_at, record.second_factor);
        Ok(Some(PersonalTokenUse {
            token: token_view(record, now),
            scope,
            issued_at,
            expires_at,
            second_factor,
        }))
    }
}
