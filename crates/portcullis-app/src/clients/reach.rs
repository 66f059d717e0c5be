//! Who may reach a client: an admin holding `admin:clients` reaches every
//! client; a user signed in to the portal reaches the clients of their
//! teams, as far as their role there grants. To anyone else a team's
//! client does not exist, and an admin-managed client never does to a
//! portal user.

use crate::transaction::{Attempt, Tx};
use crate::{Actor, App, AppError, Permission};
use portcullis_core::team::TeamPermission;
use portcullis_store::clients as stored;
use portcullis_store::teams::TeamRecord;
use portcullis_store::DbConnection;

/// How an actor reaches a client.
#[derive(Clone, Debug)]
pub(crate) enum ClientReach {
    /// As an admin: unbounded by any team's policy.
    Admin,
    /// As a member of the client's team, bounded by its policy.
    Member(Box<TeamRecord>),
}

impl ClientReach {
    /// The team whose policy bounds the change, when a member makes it.
    pub fn bounding_team(&self) -> Option<&TeamRecord> {
        match self {
            Self::Admin => None,
            Self::Member(team) => Some(team),
        }
    }
}

/// Team `team_id`, and how `actor` reaches its clients for `needed`, or why not.
pub(crate) fn reach_team(
    conn: &mut DbConnection,
    actor: &Actor,
    team_id: &str,
    needed: TeamPermission,
) -> Result<(TeamRecord, ClientReach), AppError> {
    let (team, as_admin) = crate::teams::reach_as(conn, actor, team_id, (Permission::Clients, needed))?;
    let reach = if as_admin { ClientReach::Admin } else { ClientReach::Member(Box::new(team.clone())) };
    Ok((team, reach))
}

/// How `actor` reaches the client `client_id` for `needed`, or why not.
pub(crate) fn reach(
    conn: &mut DbConnection,
    actor: &Actor,
    client_id: &str,
    needed: TeamPermission,
) -> Result<ClientReach, AppError> {
    if actor.require(Permission::Clients).is_ok() {
        return Ok(ClientReach::Admin);
    }
    if actor.portal_user().is_none() {
        return Err(AppError::Forbidden(Permission::Clients));
    }
    let team_id = stored::find(conn, client_id)?
        .and_then(|record| record.team_id)
        .ok_or_else(|| super::no_client(client_id))?;
    match crate::teams::reach(conn, actor, &team_id, Some(needed)) {
        Ok((team, _)) => Ok(ClientReach::Member(Box::new(team))),
        Err(AppError::NotFound(_)) => Err(super::no_client(client_id)),
        Err(other) => Err(other),
    }
}

impl App {
    /// Runs the change `work` of the client `attempt.target` for `actor`,
    /// who needs `needed` in its team unless they are an admin, auditing a
    /// refusal as `attempt` says.
    pub(crate) fn client_change<T>(
        &self,
        actor: &Actor,
        attempt: Attempt<'_>,
        needed: TeamPermission,
        work: impl FnOnce(&mut Tx<'_>, ClientReach) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let done = self.commit(actor, |tx| {
            let reach = reach(tx.conn, actor, attempt.target, needed)?;
            work(tx, reach)
        });
        if let Err(error) = &done {
            if error.is_refusal() {
                self.audit_refusal(actor, &attempt, error);
            }
        }
        done
    }

    /// Runs the read `work` of the client `client_id` for `actor`, who
    /// needs to read its team unless they are an admin.
    pub(crate) fn client_read<T>(
        &self,
        actor: &Actor,
        client_id: &str,
        work: impl FnOnce(&mut DbConnection) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let conn = &mut *self.db.get()?;
        reach(conn, actor, client_id, TeamPermission::Read)?;
        work(conn)
    }
}
