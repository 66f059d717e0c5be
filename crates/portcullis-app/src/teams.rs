//! Teams (DESIGN.md, "Teams and the portal"): admins create teams and set
//! their policies; members hold a role in each team they belong to and join
//! by a one-time invitation link. Every operation takes the actor it is
//! done for: an admin holding `admin:users` reaches every team; a user
//! signed in to the portal ([`Actor::PortalUser`]) reaches only the teams
//! they belong to, as far as their role grants ([`TeamPermission`]) and,
//! where the team's policy requires one, with a second factor enrolled. To
//! anyone else a team does not exist.

use crate::transaction::{Attempt, Tx};
use crate::{secrets, time, Actor, App, AppError, Event, Permission};
use chrono::{TimeDelta, Utc};
use portcullis_core::team::{self, TeamPermission, TeamPolicy, TeamRole};
use portcullis_core::ShownOnce;
use portcullis_store::teams::{self, InvitationRecord, MemberRecord, TeamRecord};
use portcullis_store::{console_sessions, DbConnection, StoreError};
use serde::Serialize;
use std::time::Duration;

/// How long an invitation is accepted, unless its creator says otherwise.
pub const DEFAULT_INVITATION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3_600);
/// The longest an invitation may be accepted.
pub const MAX_INVITATION_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3_600);

/// A team as views show it.
#[derive(Clone, Debug, Serialize)]
pub struct TeamView {
    /// Its id.
    pub team_id: String,
    /// Its name.
    pub name: String,
    /// What its members may set.
    pub policy: TeamPolicy,
    /// When it was created.
    pub created_at: String,
    /// When its policy last changed.
    pub updated_at: String,
}

fn team_view(team: TeamRecord) -> TeamView {
    TeamView {
        team_id: team.team_id,
        name: team.name,
        policy: team.policy,
        created_at: time(team.created_at),
        updated_at: time(team.updated_at),
    }
}

/// A member as views show it.
#[derive(Clone, Debug, Serialize)]
pub struct MemberView {
    /// The user.
    pub user_id: String,
    /// Their username.
    pub username: String,
    /// Their role.
    pub role: TeamRole,
    /// When they joined.
    pub joined_at: String,
}

fn member_view(member: MemberRecord) -> MemberView {
    MemberView {
        user_id: member.user_id,
        username: member.username,
        role: member.role,
        joined_at: time(member.joined_at),
    }
}

/// An invitation as views show it: never its token.
#[derive(Clone, Debug, Serialize)]
pub struct InvitationView {
    /// Its id.
    pub invitation_id: String,
    /// The team.
    pub team_id: String,
    /// The role it gives.
    pub role: TeamRole,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: String,
    /// Until when it is accepted.
    pub expires_at: String,
}

fn invitation_view(invitation: InvitationRecord) -> InvitationView {
    InvitationView {
        invitation_id: invitation.invitation_id,
        team_id: invitation.team_id,
        role: invitation.role,
        created_by: invitation.created_by,
        created_at: time(invitation.created_at),
        expires_at: time(invitation.expires_at),
    }
}

/// An invitation just created, with the token of its link, shown this once.
#[derive(Debug)]
pub struct CreatedInvitation {
    /// The invitation.
    pub invitation: InvitationView,
    /// The token its link carries; stored only hashed.
    pub token: ShownOnce,
}

/// A team the signed-in user belongs to, with their role in it.
#[derive(Clone, Debug, Serialize)]
pub struct Membership {
    /// The team.
    pub team: TeamView,
    /// The user's role in it.
    pub role: TeamRole,
}

/// How an actor reaches a team.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TeamAccess {
    /// As an admin: every team, every permission.
    Admin,
    /// As a member with this role.
    Member(TeamRole),
}

fn no_team(team_id: &str) -> AppError {
    AppError::NotFound(format!("there is no team {team_id}"))
}

/// The team `team_id`, if `actor` may reach it for `needed`, and how.
/// Someone who is neither an admin nor a member is told it does not exist.
/// `needed` is `None` for what membership alone allows (leaving), which
/// asks for no second factor either.
pub(crate) fn reach(
    conn: &mut DbConnection,
    actor: &Actor,
    team_id: &str,
    needed: Option<TeamPermission>,
) -> Result<(TeamRecord, TeamAccess), AppError> {
    let admin = actor.require(Permission::Users).is_ok();
    let portal_user = actor.portal_user();
    if !admin && portal_user.is_none() {
        return Err(AppError::Forbidden(Permission::Users));
    }
    if let Actor::PersonalToken { team_id: bound, permissions, .. } = actor {
        // A token acts for its own team alone, and only as its scope says.
        if bound != team_id {
            return Err(no_team(team_id));
        }
        // Any scope reads; leaving a team (nothing named) is for a signed-in user.
        let holds = |needed: TeamPermission| needed == TeamPermission::Read || permissions.contains(&needed);
        match needed {
            None => {
                return Err(AppError::Beyond(
                    "a personal access token cannot do this: sign in to the portal".into(),
                ))
            }
            Some(lacking) if !holds(lacking) => {
                return Err(AppError::Beyond(format!("this token's scope lacks {}", lacking.scope())));
            }
            Some(_) => {}
        }
    }
    let team = teams::find(conn, team_id)?.ok_or_else(|| no_team(team_id))?;
    if admin {
        return Ok((team, TeamAccess::Admin));
    }
    let user_id = portal_user.unwrap_or_default();
    let role = teams::role_of(conn, team_id, user_id)?.ok_or_else(|| no_team(team_id))?;
    let Some(needed) = needed else { return Ok((team, TeamAccess::Member(role))) };
    if team.policy.second_factor_required && !second_factor_given(conn, actor, Utc::now())? {
        return Err(AppError::Beyond(
            "this team's members sign in with a second factor: sign out, and sign in again".into(),
        ));
    }
    if !role.grants(needed) {
        let least = TeamRole::ALL.into_iter().find(|role| role.grants(needed)).unwrap_or(TeamRole::Owner);
        return Err(AppError::Beyond(format!("this needs the {} role in the team", least.as_str())));
    }
    Ok((team, TeamAccess::Member(role)))
}

/// Whether `actor` acts from a sign-in that gave a second factor: a portal
/// session whose sign-in did (live at `now`), or a token made in one.
pub(crate) fn second_factor_given(
    conn: &mut DbConnection,
    actor: &Actor,
    now: chrono::DateTime<Utc>,
) -> Result<bool, AppError> {
    Ok(match actor {
        Actor::PortalUser { session, .. } => console_sessions::gave_second_factor(conn, session, now)?,
        Actor::PersonalToken { second_factor, .. } => *second_factor,
        _ => false,
    })
}

/// Team `team_id` as `actor` reaches it for what `overseer` governs: an
/// admin holding `overseer` reaches every team (that exists), unbounded by
/// its policy; a portal user as their role there grants `needed`; anyone
/// else is refused `overseer`. With whether it is reached as an admin.
pub(crate) fn reach_as(
    conn: &mut DbConnection,
    actor: &Actor,
    team_id: &str,
    (overseer, needed): (Permission, TeamPermission),
) -> Result<(TeamRecord, bool), AppError> {
    if actor.require(overseer).is_ok() {
        return Ok((teams::find(conn, team_id)?.ok_or_else(|| no_team(team_id))?, true));
    }
    if actor.portal_user().is_none() {
        return Err(AppError::Forbidden(overseer));
    }
    reach(conn, actor, team_id, Some(needed)).map(|(team, _)| (team, false))
}

/// Withdraws the open invitations and revokes the initial access tokens of
/// team `team_id` that `user_id` made as its owner, in `tx`.
fn forget_owner(tx: &mut Tx<'_>, team_id: &str, user_id: &str) -> Result<(), AppError> {
    let name = crate::actor::user_name(user_id);
    teams::withdraw_invitations_by(tx.conn, team_id, &name)?;
    portcullis_store::registrations::revoke_issued_by(tx.conn, team_id, &name, tx.now)?;
    Ok(())
}

/// Withdraws the invitations and revokes the team registration tokens that
/// `user_id` made in every team they own, in `tx` (they were disabled).
pub(crate) fn forget_as_owner(tx: &mut Tx<'_>, user_id: &str) -> Result<(), AppError> {
    for (team, role) in teams::teams_of(tx.conn, user_id)? {
        if role == TeamRole::Owner {
            forget_owner(tx, &team.team_id, user_id)?;
        }
    }
    Ok(())
}

/// What changing the team `team_id` attempts, as its refusal is audited.
fn attempt<'a>(action: &'static str, team_id: &'a str) -> Attempt<'a> {
    Attempt { permission: Permission::Users, action, target: team_id }
}

/// What a team's owners may set of its policy, each only tighter than it
/// is; absent members stay as they are.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamSettings {
    /// Every member signs in with a second factor (only an admin waives it).
    pub second_factor_required: Option<bool>,
    /// The longest a client secret may live, in days (only shorter).
    pub max_secret_lifetime_days: Option<u32>,
    /// The longest a personal access token may live, in days (only shorter).
    pub max_token_lifetime_days: Option<u32>,
}

impl TeamSettings {
    /// `policy` with these settings, or why one would loosen it.
    fn applied_to(&self, policy: &TeamPolicy) -> Result<TeamPolicy, AppError> {
        let looser = |member: &str, why: String| {
            AppError::Beyond(format!("{member}: {why}; only an admin loosens the policy"))
        };
        let mut tighter = policy.clone();
        if let Some(required) = self.second_factor_required {
            if policy.second_factor_required && !required {
                return Err(looser("second_factor_required", "the policy requires a second factor".into()));
            }
            tighter.second_factor_required = required;
        }
        if let Some(days) = self.max_secret_lifetime_days {
            if let Some(most) = policy.max_secret_lifetime_days.filter(|most| days > *most) {
                return Err(looser("max_secret_lifetime_days", format!("the policy allows at most {most}")));
            }
            tighter.max_secret_lifetime_days = Some(days);
        }
        if let Some(days) = self.max_token_lifetime_days {
            let most = policy.max_token_lifetime_days.unwrap_or(portcullis_core::team::MAX_TOKEN_DAYS);
            if days > most {
                return Err(looser("max_token_lifetime_days", format!("the policy allows at most {most}")));
            }
            tighter.max_token_lifetime_days = Some(days);
        }
        Ok(tighter)
    }
}

impl App {
    /// Runs the change `work` of team `team_id` for `actor`, who needs
    /// `needed` there, auditing a refusal as `action`.
    pub(crate) fn team_change<T>(
        &self,
        actor: &Actor,
        (action, team_id): (&'static str, &str),
        needed: Option<TeamPermission>,
        work: impl FnOnce(&mut Tx<'_>, &TeamRecord, TeamAccess) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let done = self.commit(actor, |tx| {
            let (team, access) = reach(tx.conn, actor, team_id, needed)?;
            work(tx, &team, access)
        });
        if let Err(error) = &done {
            if error.is_refusal() {
                self.audit_refusal(actor, &attempt(action, team_id), error);
            }
        }
        done
    }

    /// Reads team `team_id` for `actor`, who needs `needed` there.
    pub(crate) fn team_read<T>(
        &self,
        actor: &Actor,
        team_id: &str,
        needed: TeamPermission,
        work: impl FnOnce(&mut DbConnection, TeamRecord) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let conn = &mut *self.db.get()?;
        let (team, _) = reach(conn, actor, team_id, Some(needed))?;
        work(conn, team)
    }

    /// Creates a team named `name` with `policy`.
    pub fn create_team(&self, actor: &Actor, name: &str, policy: TeamPolicy) -> Result<TeamView, AppError> {
        // A refused name is audited as what it is not: never its raw text.
        self.change(actor, attempt("team.created", "(new team)"), |tx| {
            team::check_name(name)?;
            policy.validate()?;
            let team = TeamRecord {
                team_id: uuid::Uuid::new_v4().to_string(),
                name: name.trim().to_owned(),
                policy,
                created_at: tx.now,
                updated_at: tx.now,
            };
            teams::insert(tx.conn, &team).map_err(|e| match e {
                StoreError::Conflict(_) => {
                    AppError::Conflict(format!("there is a team named {} already", team.name))
                }
                other => other.into(),
            })?;
            tx.emit(Event::TeamCreated { team_id: team.team_id.clone(), name: team.name.clone() });
            Ok(team_view(team))
        })
    }

    /// Replaces the policy of team `team_id` (admins only: members never set their own bounds).
    pub fn set_team_policy(
        &self,
        actor: &Actor,
        team_id: &str,
        policy: TeamPolicy,
    ) -> Result<TeamView, AppError> {
        self.change(actor, attempt("team.policy_changed", team_id), |tx| {
            policy.validate()?;
            if !teams::set_policy(tx.conn, team_id, &policy, tx.now)? {
                return Err(no_team(team_id));
            }
            tx.emit(Event::TeamPolicyChanged { team_id: team_id.to_owned() });
            Ok(team_view(teams::find(tx.conn, team_id)?.ok_or_else(|| no_team(team_id))?))
        })
    }

    /// Tightens team `team_id`'s policy as its owners may (`settings`):
    /// a second factor required of every member, shorter secret and token
    /// lifetimes. Within the admins' policy only: nothing looser is taken,
    /// and what the owners set is the policy's, which admins may change
    /// again.
    pub fn tighten_team_policy(
        &self,
        actor: &Actor,
        team_id: &str,
        settings: TeamSettings,
    ) -> Result<TeamView, AppError> {
        let action = ("team.policy_changed", team_id);
        self.team_change(actor, action, Some(TeamPermission::Members), |tx, team, _| {
            let policy = settings.applied_to(&team.policy)?;
            policy.validate()?;
            if policy != team.policy {
                teams::set_policy(tx.conn, team_id, &policy, tx.now)?;
                tx.emit(Event::TeamPolicyChanged { team_id: team_id.to_owned() });
            }
            Ok(team_view(teams::find(tx.conn, team_id)?.ok_or_else(|| no_team(team_id))?))
        })
    }

    /// Every team (admins only).
    pub fn teams(&self, actor: &Actor) -> Result<Vec<TeamView>, AppError> {
        self.read(actor, Permission::Users, |conn| Ok(teams::all(conn)?.into_iter().map(team_view).collect()))
    }

    /// The teams the portal user `actor` belongs to, with their role in each.
    pub fn my_teams(&self, actor: &Actor) -> Result<Vec<Membership>, AppError> {
        let Some(user_id) = actor.portal_user() else { return Ok(Vec::new()) };
        let joined = teams::teams_of(&mut *self.db.get()?, user_id)?;
        let within = |team: &TeamRecord| match actor {
            Actor::PersonalToken { team_id, .. } => team.team_id == *team_id,
            _ => true,
        };
        Ok(joined
            .into_iter()
            .filter(|(team, _)| within(team))
            .map(|(team, role)| Membership { team: team_view(team), role })
            .collect())
    }

    /// The team `team_id`, and how `actor` reaches it.
    pub fn team(&self, actor: &Actor, team_id: &str) -> Result<(TeamView, TeamAccess), AppError> {
        self.team_for(actor, team_id, TeamPermission::Read)
    }

    /// The team `team_id`, and how `actor` reaches it, for what needs
    /// `needed` there: refused unless they are an admin or their role
    /// grants it (so a page offers no form its user could not send).
    pub fn team_for(
        &self,
        actor: &Actor,
        team_id: &str,
        needed: TeamPermission,
    ) -> Result<(TeamView, TeamAccess), AppError> {
        let conn = &mut *self.db.get()?;
        let (team, access) = reach(conn, actor, team_id, Some(needed))?;
        Ok((team_view(team), access))
    }

    /// The members of team `team_id`.
    pub fn team_members(&self, actor: &Actor, team_id: &str) -> Result<Vec<MemberView>, AppError> {
        self.team_read(actor, team_id, TeamPermission::Read, |conn, team| {
            Ok(teams::members(conn, &team.team_id)?.into_iter().map(member_view).collect())
        })
    }

    /// The open invitations of team `team_id`.
    pub fn team_invitations(&self, actor: &Actor, team_id: &str) -> Result<Vec<InvitationView>, AppError> {
        let now = self.clock.now();
        self.team_read(actor, team_id, TeamPermission::Members, |conn, team| {
            Ok(teams::open_invitations(conn, &team.team_id, now)?.into_iter().map(invitation_view).collect())
        })
    }

    /// Invites someone to team `team_id` as `role`, for `lifetime` (at most
    /// [`MAX_INVITATION_LIFETIME`]): the link's token is a CSPRNG value,
    /// stored only hashed and shown this once.
    pub fn invite_to_team(
        &self,
        actor: &Actor,
        team_id: &str,
        role: TeamRole,
        lifetime: Duration,
    ) -> Result<CreatedInvitation, AppError> {
        if lifetime.is_zero() || lifetime > MAX_INVITATION_LIFETIME {
            return Err(AppError::Invalid("an invitation lives from a second to 30 days".into()));
        }
        let token = ShownOnce::new(secrets::random_token());
        let invitation = self.team_change(
            actor,
            ("team.invitation_created", team_id),
            Some(TeamPermission::Members),
            |tx, team, _| {
                let invitation = InvitationRecord {
                    invitation_id: uuid::Uuid::new_v4().to_string(),
                    team_id: team.team_id.clone(),
                    role,
                    created_by: actor.name(),
                    created_at: tx.now,
                    expires_at: tx.now + TimeDelta::from_std(lifetime).unwrap_or_default(),
                    accepted_by: None,
                    accepted_at: None,
                };
                teams::insert_invitation(tx.conn, &secrets::hash(token.expose()), &invitation)?;
                tx.emit(Event::TeamInvitationCreated {
                    team_id: team.team_id.clone(),
                    invitation_id: invitation.invitation_id.clone(),
                    role: role.as_str(),
                });
                Ok(invitation_view(invitation))
            },
        )?;
        Ok(CreatedInvitation { invitation, token })
    }

    /// Withdraws the open invitation `invitation_id` of team `team_id`.
    pub fn withdraw_team_invitation(
        &self,
        actor: &Actor,
        team_id: &str,
        invitation_id: &str,
    ) -> Result<(), AppError> {
        self.team_change(
            actor,
            ("team.invitation_withdrawn", team_id),
            Some(TeamPermission::Members),
            |tx, team, _| {
                if !teams::withdraw_invitation(tx.conn, &team.team_id, invitation_id)? {
                    return Err(AppError::NotFound(format!("there is no open invitation {invitation_id}")));
                }
                let event = Event::TeamInvitationWithdrawn {
                    team_id: team.team_id.clone(),
                    invitation_id: invitation_id.to_owned(),
                };
                tx.emit(event);
                Ok(())
            },
        )
    }

    /// The team, role and inviter (a member's username; `None` for an
    /// admin) of the open invitation whose link carries `token`, for a
    /// signed-in portal user to decide on; nothing is accepted.
    pub fn invitation_preview(
        &self,
        actor: &Actor,
        token: &str,
    ) -> Result<(String, TeamRole, Option<String>), AppError> {
        if !matches!(actor, Actor::PortalUser { .. }) {
            return Err(AppError::Invalid(
                "only a user signed in to the portal looks at an invitation".into(),
            ));
        }
        let conn = &mut *self.db.get()?;
        let refused = || AppError::Invalid("the invitation is unknown, expired or used".into());
        let invitation =
            teams::open_invitation(conn, &secrets::hash(token), self.clock.now())?.ok_or_else(refused)?;
        let team = teams::find(conn, &invitation.team_id)?.ok_or_else(refused)?;
        // A member's invitation names its member; any other, an admin.
        let member = match invitation.created_by.strip_prefix("user:") {
            Some(user_id) if teams::role_of(conn, &team.team_id, user_id)?.is_some() => {
                portcullis_store::users::find(conn, user_id)?.map(|user| user.username)
            }
            _ => None,
        };
        Ok((team.name, invitation.role, member))
    }

    /// Accepts the invitation whose link carries `token`, for the portal user
    /// `actor`: they join its team with its role. An unknown, expired or
    /// used invitation, or one to a team they are in, changes nothing.
    pub fn accept_team_invitation(&self, actor: &Actor, token: &str) -> Result<Membership, AppError> {
        let refused = || AppError::Invalid("the invitation is unknown, expired or used".into());
        let done = self.commit(actor, |tx| {
            let Actor::PortalUser { user_id, .. } = actor else {
                return Err(AppError::Invalid(
                    "only a user signed in to the portal accepts an invitation".into(),
                ));
            };
            let invitation = teams::accept_invitation(tx.conn, &secrets::hash(token), user_id, tx.now)?
                .ok_or_else(refused)?;
            let team_id = invitation.team_id.as_str();
            teams::add_member(tx.conn, team_id, user_id, invitation.role, tx.now).map_err(|e| match e {
                StoreError::Conflict(_) => AppError::Conflict("you are a member of this team already".into()),
                other => other.into(),
            })?;
            tx.emit(Event::TeamMemberAdded {
                team_id: team_id.to_owned(),
                user_id: user_id.clone(),
                role: invitation.role.as_str(),
            });
            let team = teams::find(tx.conn, team_id)?.ok_or_else(|| no_team(team_id))?;
            Ok(Membership { team: team_view(team), role: invitation.role })
        });
        if let Some(error) = done.as_ref().err().filter(|error| error.is_refusal()) {
            self.audit_refusal(actor, &attempt("team.member_added", "(invitation)"), error);
        }
        done
    }

    /// Gives member `user_id` of team `team_id` the role `role`; a team
    /// keeps at least one owner.
    pub fn set_team_member_role(
        &self,
        actor: &Actor,
        team_id: &str,
        user_id: &str,
        role: TeamRole,
    ) -> Result<(), AppError> {
        self.team_change(
            actor,
            ("team.member_role_changed", team_id),
            Some(TeamPermission::Members),
            |tx, team, _| {
                let current = teams::role_of(tx.conn, &team.team_id, user_id)?
                    .ok_or_else(|| AppError::NotFound(format!("{user_id} is no member of this team")))?;
                // Every change begins by locking the audit head (`commit`), so two owners
                // demoting each other are serialised and the second sees the first.
                let demoted = current == TeamRole::Owner && role != TeamRole::Owner;
                if demoted && teams::owners(tx.conn, &team.team_id)? <= 1 {
                    return Err(AppError::Conflict("a team keeps at least one owner".into()));
                }
                teams::set_role(tx.conn, &team.team_id, user_id, role)?;
                if demoted {
                    // Who may no longer invite leaves no invitation, nor registration token, behind.
                    forget_owner(tx, &team.team_id, user_id)?;
                }
                let event = Event::TeamMemberRoleChanged {
                    team_id: team.team_id.clone(),
                    user_id: user_id.to_owned(),
                    role: role.as_str(),
                };
                tx.emit(event);
                Ok(())
            },
        )
    }

    /// Removes member `user_id` from team `team_id`: by an owner or an
    /// admin, or by themselves (leaving). The last owner leaves only when
    /// an admin removes them.
    pub fn remove_team_member(&self, actor: &Actor, team_id: &str, user_id: &str) -> Result<(), AppError> {
        let leaving = actor.portal_user() == Some(user_id);
        let needed = (!leaving).then_some(TeamPermission::Members);
        self.team_change(actor, ("team.member_removed", team_id), needed, |tx, team, access| {
            let current = teams::role_of(tx.conn, &team.team_id, user_id)?
                .ok_or_else(|| AppError::NotFound(format!("{user_id} is no member of this team")))?;
            // Serialised as in `set_team_member_role`.
            let last_owner = current == TeamRole::Owner && teams::owners(tx.conn, &team.team_id)? <= 1;
            if last_owner && access != TeamAccess::Admin {
                return Err(AppError::Conflict(
                    "the last owner cannot leave: make someone else owner first".into(),
                ));
            }
            teams::remove_member(tx.conn, &team.team_id, user_id)?;
            // Nobody rejoins by a link they made while they could invite, nor
            // registers clients into the team, nor acts for it by a token they made.
            forget_owner(tx, &team.team_id, user_id)?;
            portcullis_store::personal_tokens::revoke_of_member(
                tx.conn,
                &team.team_id,
                user_id,
                &actor.name(),
                tx.now,
            )?;
            tx.emit(Event::TeamMemberRemoved { team_id: team.team_id.clone(), user_id: user_id.to_owned() });
            Ok(())
        })
    }
}
