//! Repository of teams, their members and their invitations. Policies are
//! stored as JSON and read back as [`TeamPolicy`]; an invitation arrives
//! already hashed and is accepted once, by one conditional update.

use crate::schema::{team_invitations, team_members, teams, users};
use crate::{json, DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use portcullis_core::team::{TeamPolicy, TeamRole};

/// A team as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamRecord {
    /// Its id.
    pub team_id: String,
    /// Its name, unique.
    pub name: String,
    /// What its members may set.
    pub policy: TeamPolicy,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When its name or policy last changed.
    pub updated_at: DateTime<Utc>,
}

/// A member of a team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRecord {
    /// The team.
    pub team_id: String,
    /// The user.
    pub user_id: String,
    /// The user's username, for lists.
    pub username: String,
    /// The member's role.
    pub role: TeamRole,
    /// When the user joined.
    pub joined_at: DateTime<Utc>,
}

/// An invitation to a team, as stored (never its token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationRecord {
    /// Its id, to list and withdraw it by.
    pub invitation_id: String,
    /// The team it invites to.
    pub team_id: String,
    /// The role it gives.
    pub role: TeamRole,
    /// Who created it (the audit log's name of the actor).
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// Who accepted it, once someone did.
    pub accepted_by: Option<String>,
    /// When.
    pub accepted_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = teams)]
struct TeamRow {
    team_id: String,
    name: String,
    policy: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl TryFrom<TeamRow> for TeamRecord {
    type Error = StoreError;

    fn try_from(row: TeamRow) -> Result<Self, StoreError> {
        Ok(Self {
            policy: json::read("teams", &row.team_id, &row.policy)?,
            team_id: row.team_id,
            name: row.name,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = team_invitations)]
struct InvitationRow {
    invitation_id: String,
    team_id: String,
    role: String,
    created_by: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    accepted_by: Option<String>,
    accepted_at: Option<NaiveDateTime>,
}

/// The role stored as `role` in `table`'s row `id`.
fn role(table: &'static str, id: &str, role: &str) -> Result<TeamRole, StoreError> {
    TeamRole::parse(role)
        .ok_or_else(|| StoreError::Corrupt { table, reason: format!("{id}: unknown role `{role}`") })
}

impl TryFrom<InvitationRow> for InvitationRecord {
    type Error = StoreError;

    fn try_from(row: InvitationRow) -> Result<Self, StoreError> {
        Ok(Self {
            role: role("team_invitations", &row.invitation_id, &row.role)?,
            invitation_id: row.invitation_id,
            team_id: row.team_id,
            created_by: row.created_by,
            created_at: row.created_at.and_utc(),
            expires_at: row.expires_at.and_utc(),
            accepted_by: row.accepted_by,
            accepted_at: row.accepted_at.map(|at| at.and_utc()),
        })
    }
}

/// Stores a new team; a taken name is a [`StoreError::Conflict`].
pub fn insert(conn: &mut DbConnection, team: &TeamRecord) -> Result<(), StoreError> {
    let row = TeamRow {
        team_id: team.team_id.clone(),
        name: team.name.clone(),
        policy: json::write("teams", &team.policy)?,
        created_at: team.created_at.naive_utc(),
        updated_at: team.updated_at.naive_utc(),
    };
    diesel::insert_into(teams::table).values(row).execute(conn).map_err(StoreError::from_write)?;
    Ok(())
}

/// The team `team_id`, if there is one.
pub fn find(conn: &mut DbConnection, team_id: &str) -> Result<Option<TeamRecord>, StoreError> {
    let row: Option<TeamRow> = teams::table
        .filter(teams::team_id.eq(team_id))
        .select(TeamRow::as_select())
        .first(conn)
        .optional()?;
    row.map(TeamRecord::try_from).transpose()
}

/// Every team, by name.
pub fn all(conn: &mut DbConnection) -> Result<Vec<TeamRecord>, StoreError> {
    let rows: Vec<TeamRow> = teams::table.order(teams::name).select(TeamRow::as_select()).load(conn)?;
    rows.into_iter().map(TeamRecord::try_from).collect()
}

/// Replaces the policy of team `team_id` at `now`; whether there was one.
pub fn set_policy(
    conn: &mut DbConnection,
    team_id: &str,
    policy: &TeamPolicy,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let changed = diesel::update(teams::table.filter(teams::team_id.eq(team_id)))
        .set((teams::policy.eq(json::write("teams", policy)?), teams::updated_at.eq(now.naive_utc())))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Adds `user_id` to team `team_id` as `role` at `now`; a member already is
/// a [`StoreError::Conflict`].
pub fn add_member(
    conn: &mut DbConnection,
    team_id: &str,
    user_id: &str,
    role: TeamRole,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(team_members::table)
        .values((
            team_members::team_id.eq(team_id),
            team_members::user_id.eq(user_id),
            team_members::role.eq(role.as_str()),
            team_members::joined_at.eq(now.naive_utc()),
        ))
        .execute(conn)
        .map_err(StoreError::from_write)?;
    Ok(())
}

/// Gives member `user_id` of team `team_id` the role `role`; whether they are one.
pub fn set_role(
    conn: &mut DbConnection,
    team_id: &str,
    user_id: &str,
    role: TeamRole,
) -> Result<bool, StoreError> {
    let changed = diesel::update(
        team_members::table
            .filter(team_members::team_id.eq(team_id))
            .filter(team_members::user_id.eq(user_id)),
    )
    .set(team_members::role.eq(role.as_str()))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Removes `user_id` from team `team_id`; whether they were a member.
pub fn remove_member(conn: &mut DbConnection, team_id: &str, user_id: &str) -> Result<bool, StoreError> {
    let removed = diesel::delete(
        team_members::table
            .filter(team_members::team_id.eq(team_id))
            .filter(team_members::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(removed == 1)
}

/// The role of `user_id` in team `team_id`, if they are a member.
pub fn role_of(
    conn: &mut DbConnection,
    team_id: &str,
    user_id: &str,
) -> Result<Option<TeamRole>, StoreError> {
    let stored: Option<String> = team_members::table
        .filter(team_members::team_id.eq(team_id))
        .filter(team_members::user_id.eq(user_id))
        .select(team_members::role)
        .first(conn)
        .optional()?;
    stored.map(|stored| role("team_members", user_id, &stored)).transpose()
}

/// The members of team `team_id`, by username.
pub fn members(conn: &mut DbConnection, team_id: &str) -> Result<Vec<MemberRecord>, StoreError> {
    let rows: Vec<(String, String, String, String, NaiveDateTime)> = team_members::table
        .inner_join(users::table.on(users::user_id.eq(team_members::user_id)))
        .filter(team_members::team_id.eq(team_id))
        .order(users::username)
        .select((
            team_members::team_id,
            team_members::user_id,
            users::username,
            team_members::role,
            team_members::joined_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(team_id, user_id, username, stored, joined_at)| {
            Ok(MemberRecord {
                role: role("team_members", &user_id, &stored)?,
                team_id,
                user_id,
                username,
                joined_at: joined_at.and_utc(),
            })
        })
        .collect()
}

/// The teams `user_id` belongs to, with their role in each, by name.
pub fn teams_of(conn: &mut DbConnection, user_id: &str) -> Result<Vec<(TeamRecord, TeamRole)>, StoreError> {
    let rows: Vec<(TeamRow, String)> = teams::table
        .inner_join(team_members::table.on(team_members::team_id.eq(teams::team_id)))
        .filter(team_members::user_id.eq(user_id))
        .order(teams::name)
        .select((TeamRow::as_select(), team_members::role))
        .load(conn)?;
    rows.into_iter()
        .map(|(row, stored)| {
            let role = role("team_members", user_id, &stored)?;
            Ok((TeamRecord::try_from(row)?, role))
        })
        .collect()
}

/// How many owners team `team_id` has.
pub fn owners(conn: &mut DbConnection, team_id: &str) -> Result<i64, StoreError> {
    Ok(team_members::table
        .filter(team_members::team_id.eq(team_id))
        .filter(team_members::role.eq(TeamRole::Owner.as_str()))
        .count()
        .get_result(conn)?)
}

/// Stores a new invitation under `invitation_hash`, the SHA-256 of its token.
pub fn insert_invitation(
    conn: &mut DbConnection,
    invitation_hash: &[u8],
    invitation: &InvitationRecord,
) -> Result<(), StoreError> {
    diesel::insert_into(team_invitations::table)
        .values((
            team_invitations::invitation_hash.eq(invitation_hash),
            team_invitations::invitation_id.eq(&invitation.invitation_id),
            team_invitations::team_id.eq(&invitation.team_id),
            team_invitations::role.eq(invitation.role.as_str()),
            team_invitations::created_by.eq(&invitation.created_by),
            team_invitations::created_at.eq(invitation.created_at.naive_utc()),
            team_invitations::expires_at.eq(invitation.expires_at.naive_utc()),
        ))
        .execute(conn)
        .map_err(StoreError::from_write)?;
    Ok(())
}

/// The invitations of team `team_id` not yet accepted nor expired at `now`, newest first.
pub fn open_invitations(
    conn: &mut DbConnection,
    team_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<InvitationRecord>, StoreError> {
    let rows: Vec<InvitationRow> = team_invitations::table
        .filter(team_invitations::team_id.eq(team_id))
        .filter(team_invitations::accepted_at.is_null())
        .filter(team_invitations::expires_at.gt(now.naive_utc()))
        .order(team_invitations::created_at.desc())
        .select(InvitationRow::as_select())
        .load(conn)?;
    rows.into_iter().map(InvitationRecord::try_from).collect()
}

/// The invitation whose token hashes to `invitation_hash`, if it is open at `now`.
pub fn open_invitation(
    conn: &mut DbConnection,
    invitation_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<InvitationRecord>, StoreError> {
    let row: Option<InvitationRow> = team_invitations::table
        .filter(team_invitations::invitation_hash.eq(invitation_hash))
        .filter(team_invitations::accepted_at.is_null())
        .filter(team_invitations::expires_at.gt(now.naive_utc()))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()?;
    row.map(InvitationRecord::try_from).transpose()
}

/// Accepts, for `user_id` at `now`, the invitation whose token hashes to
/// `invitation_hash`, if it is open: one conditional update, so of
/// concurrent acceptances one wins. The invitation as accepted.
pub fn accept_invitation(
    conn: &mut DbConnection,
    invitation_hash: &[u8],
    user_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<InvitationRecord>, StoreError> {
    let at = now.naive_utc();
    let accepted: Option<InvitationRow> = diesel::update(
        team_invitations::table
            .filter(team_invitations::invitation_hash.eq(invitation_hash))
            .filter(team_invitations::accepted_at.is_null())
            .filter(team_invitations::expires_at.gt(at)),
    )
    .set((team_invitations::accepted_by.eq(user_id), team_invitations::accepted_at.eq(at)))
    // A tuple: diesel's MultiConnection has no `as_returning` for a struct.
    .returning((
        team_invitations::invitation_id,
        team_invitations::team_id,
        team_invitations::role,
        team_invitations::created_by,
        team_invitations::created_at,
        team_invitations::expires_at,
        team_invitations::accepted_by,
        team_invitations::accepted_at,
    ))
    .get_result(conn)
    .optional()?;
    accepted.map(InvitationRecord::try_from).transpose()
}

/// Withdraws the open invitations of team `team_id` that `created_by`
/// created (they no longer may invite); how many.
pub fn withdraw_invitations_by(
    conn: &mut DbConnection,
    team_id: &str,
    created_by: &str,
) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        team_invitations::table
            .filter(team_invitations::team_id.eq(team_id))
            .filter(team_invitations::created_by.eq(created_by))
            .filter(team_invitations::accepted_at.is_null()),
    )
    .execute(conn)?)
}

/// Withdraws the open invitation `invitation_id` of team `team_id`; whether there was one.
pub fn withdraw_invitation(
    conn: &mut DbConnection,
    team_id: &str,
    invitation_id: &str,
) -> Result<bool, StoreError> {
    let withdrawn = diesel::delete(
        team_invitations::table
            .filter(team_invitations::team_id.eq(team_id))
            .filter(team_invitations::invitation_id.eq(invitation_id))
            .filter(team_invitations::accepted_at.is_null()),
    )
    .execute(conn)?;
    Ok(withdrawn == 1)
}
