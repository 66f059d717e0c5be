//! Admins are people (issue 12): a user may hold admin roles, each one of
//! the admin permissions (the same as the admin scopes: `admin:clients`,
//! `admin:keys`, `admin:users`, `admin:audit`, `admin:monitoring`), and then
//! use the console with exactly those. Granting one needs `admin:users` and
//! the permission itself: nobody hands out more than they hold.

use crate::transaction::Attempt;
use crate::users::find;
use crate::{Actor, App, AppError, Event, Permission};
use portcullis_store::{admin_roles, DbConnection};

impl App {
    /// The admin permissions `user_id` holds.
    pub fn admin_roles(&self, actor: &Actor, user_id: &str) -> Result<Vec<Permission>, AppError> {
        self.read(actor, Permission::Users, |conn| {
            find(conn, user_id)?;
            Ok(held(&admin_roles::of_user(conn, user_id)?))
        })
    }

    /// Grants `permission` to `user_id`, or withdraws it (which needs every
    /// role the user holds, as any change of a more powerful account does);
    /// the user's permissions after. Either needs `admin:users` and the
    /// permission itself.
    pub fn set_admin_role(
        &self,
        actor: &Actor,
        user_id: &str,
        permission: Permission,
        granted: bool,
    ) -> Result<Vec<Permission>, AppError> {
        let action = if granted { "user.admin_role_granted" } else { "user.admin_role_withdrawn" };
        let attempt = Attempt { permission: Permission::Users, action, target: user_id };
        self.change(actor, attempt, |tx| {
            actor.require(permission)?;
            find(tx.conn, user_id)?;
            let (owned, scope) = (user_id.to_owned(), permission.scope());
            if granted && admin_roles::grant(tx.conn, user_id, scope, tx.now)? {
                tx.emit(Event::UserAdminRoleGranted { user_id: owned, permission: scope });
            } else if !granted {
                ensure_outranks(tx.conn, actor, user_id)?;
                if admin_roles::withdraw(tx.conn, user_id, scope)? {
                    tx.emit(Event::UserAdminRoleWithdrawn { user_id: owned, permission: scope });
                }
            }
            roles_of(tx.conn, user_id)
        })
    }

    /// The admin permissions of `user_id` as the console grants them once
    /// the user signed in (with a second factor): a protocol operation, whose
    /// authority is that sign-in. None for an unknown or disabled user.
    pub fn console_permissions(&self, user_id: &str) -> Result<Vec<Permission>, AppError> {
        let conn = &mut *self.db.get()?;
        match portcullis_store::users::find(conn, user_id)? {
            Some(user) if user.disabled_at.is_none() => roles_of(conn, user_id),
            _ => Ok(Vec::new()),
        }
    }
}

/// Refuses `actor` acting on `user_id`'s account (its password, second
/// factor, state or roles) unless the actor holds every admin role the user
/// holds: `admin:users` alone takes over no one more powerful.
pub(crate) fn ensure_outranks(conn: &mut DbConnection, actor: &Actor, user_id: &str) -> Result<(), AppError> {
    held(&admin_roles::of_user(conn, user_id)?).into_iter().try_for_each(|role| actor.require(role))
}

/// The admin permissions `user_id` holds, whatever its state.
pub(crate) fn roles_of(conn: &mut DbConnection, user_id: &str) -> Result<Vec<Permission>, AppError> {
    Ok(held(&admin_roles::of_user(conn, user_id)?))
}

/// The permissions named by stored scopes (an unknown one grants nothing).
fn held(scopes: &[String]) -> Vec<Permission> {
    Permission::ALL.into_iter().filter(|p| scopes.iter().any(|s| s == p.scope())).collect()
}
