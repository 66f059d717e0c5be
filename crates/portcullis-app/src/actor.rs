//! Who performs an operation, and what it may do.

use crate::AppError;
use portcullis_core::Scope;
use serde_json::{json, Value};
use std::net::IpAddr;

/// The scope that grants every admin permission.
pub const ADMIN: &str = "admin";

/// A permission an operation declares; each is an admin scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Clients, their versions and secrets.
    Clients,
    /// Signing keys.
    Keys,
    /// Users.
    Users,
    /// The audit log.
    Audit,
    /// Usage analytics, webhooks, alert rules and compliance reports.
    Monitoring,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 5] = [Self::Clients, Self::Keys, Self::Users, Self::Audit, Self::Monitoring];

    /// The admin scope that grants it.
    pub const fn scope(self) -> &'static str {
        match self {
            Self::Clients => "admin:clients",
            Self::Keys => "admin:keys",
            Self::Users => "admin:users",
            Self::Audit => "admin:audit",
            Self::Monitoring => "admin:monitoring",
        }
    }

    /// Whether `scope` names an admin scope (`admin` or one permission's).
    pub fn is_admin_scope(scope: &str) -> bool {
        scope == ADMIN || Self::ALL.iter().any(|p| p.scope() == scope)
    }
}

/// Who performs an operation. Recorded in the audit entry of every change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A client holding an admin token of this server (the REST API).
    AdminClient {
        /// The client.
        client_id: String,
        /// The scope its token carries.
        scope: Scope,
        /// Where the request came from.
        address: Option<IpAddr>,
    },
    /// A user signed in to the console.
    AdminUser {
        /// The user.
        user_id: String,
        /// A public reference to the console session (never its cookie).
        session: String,
        /// The permissions the user's roles grant.
        permissions: Vec<Permission>,
        /// Where the request came from.
        address: Option<IpAddr>,
    },
    /// A user signed in to the developer portal: no admin permission; what
    /// they may do in a team, their role there says.
    PortalUser {
        /// The user.
        user_id: String,
        /// A public reference to the portal session (never its cookie).
        session: String,
        /// Where the request came from.
        address: Option<IpAddr>,
    },
    /// A user acting by a personal access token: in its team only, as far
    /// as both their role there and the token's scope allow.
    PersonalToken {
        /// The user.
        user_id: String,
        /// The token's id.
        token_id: String,
        /// The team it acts for.
        team_id: String,
        /// The team permissions its scope names.
        permissions: Vec<portcullis_core::team::TeamPermission>,
        /// Whether it was made from a sign-in that gave a second factor.
        second_factor: bool,
        /// Where the request came from.
        address: Option<IpAddr>,
    },
    /// Someone at the server's command line: trusted like the database itself.
    Operator {
        /// The operating-system user who ran the command.
        os_user: String,
    },
    /// A job of the server itself (housekeeping, lockouts).
    System {
        /// The job's name.
        job: &'static str,
    },
    /// A party registering a client (RFC 7591) or managing the client it
    /// registered (RFC 7592), on the authority of the token or policy that
    /// admitted it; it holds no admin permission.
    Registrant {
        /// What admitted it: `initial access token <id>`, `open registration`,
        /// or `registration access token` of the client it manages.
        via: String,
        /// Where the request came from.
        address: Option<IpAddr>,
    },
    /// A party at a protocol endpoint: the client it claims to be, if any.
    Party {
        /// The client, when one is known.
        client_id: Option<String>,
        /// Where the request came from.
        address: Option<IpAddr>,
    },
}

impl Actor {
    /// The operator running this process, named by `$USER` or `$LOGNAME`,
    /// else by the account of the process's user id (a container's root
    /// often has neither variable).
    pub fn operator() -> Self {
        let named =
            std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).ok().filter(|u| !u.is_empty());
        Self::Operator { os_user: named.unwrap_or_else(account_of_process) }
    }

    /// Checks that this actor holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        let granted = match self {
            Self::AdminClient { scope, .. } => scope.contains(ADMIN) || scope.contains(permission.scope()),
            Self::AdminUser { permissions, .. } => permissions.contains(&permission),
            Self::Operator { .. } | Self::System { .. } => true,
            Self::PortalUser { .. }
            | Self::PersonalToken { .. }
            | Self::Registrant { .. }
            | Self::Party { .. } => false,
        };
        if granted {
            Ok(())
        } else {
            Err(AppError::Forbidden(permission))
        }
    }

    /// The actor as the audit log names it: a client id, `user:<id>`,
    /// `cli:<os user>`, `system:<job>`, `registration:<what admitted it>`,
    /// or empty for an unknown party.
    pub fn name(&self) -> String {
        match self {
            Self::AdminClient { client_id, .. } => client_id.clone(),
            Self::AdminUser { user_id, .. }
            | Self::PortalUser { user_id, .. }
            | Self::PersonalToken { user_id, .. } => user_name(user_id),
            Self::Operator { os_user } => format!("cli:{os_user}"),
            Self::System { job } => format!("system:{job}"),
            Self::Registrant { via, .. } => format!("registration:{via}"),
            Self::Party { client_id, .. } => client_id.clone().unwrap_or_default(),
        }
    }

    /// The user acting in the portal (signed in, or by a personal access
    /// token), when the actor is one.
    pub fn portal_user(&self) -> Option<&str> {
        match self {
            Self::PortalUser { user_id, .. } | Self::PersonalToken { user_id, .. } => Some(user_id),
            _ => None,
        }
    }

    /// Where the actor acted from, when known.
    pub fn address(&self) -> Option<IpAddr> {
        match self {
            Self::AdminClient { address, .. }
            | Self::AdminUser { address, .. }
            | Self::PortalUser { address, .. }
            | Self::PersonalToken { address, .. }
            | Self::Registrant { address, .. }
            | Self::Party { address, .. } => *address,
            Self::Operator { .. } | Self::System { .. } => None,
        }
    }

    /// What the audit entry adds about the actor: how it acted.
    pub fn details(&self) -> Value {
        match self {
            Self::AdminClient { .. } => json!({ "via": "admin-api" }),
            Self::AdminUser { session, .. } => json!({ "via": "console", "session": session }),
            Self::PortalUser { session, .. } => json!({ "via": "portal", "session": session }),
            Self::PersonalToken { token_id, .. } => {
                json!({ "via": "portal-api", "personal_token": token_id })
            }
            Self::Operator { .. } => json!({ "via": "cli" }),
            Self::System { .. } => json!({ "via": "system" }),
            Self::Registrant { .. } => json!({ "via": "registration" }),
            Self::Party { .. } => json!({ "via": "protocol" }),
        }
    }
}

/// How the audit log names the user `user_id` as an actor.
pub fn user_name(user_id: &str) -> String {
    format!("user:{user_id}")
}

/// The name `/etc/passwd` gives the user id this process runs as, `uid N`
/// when it names none, or `unknown` where neither can be read.
fn account_of_process() -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // /proc/self belongs to the process's user.
        if let Ok(uid) = std::fs::metadata("/proc/self").map(|m| m.uid()) {
            let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
            let named = passwd.lines().find_map(|line| {
                let fields: Vec<&str> = line.split(':').collect();
                (fields.get(2) == Some(&uid.to_string().as_str())).then(|| fields[0].to_owned())
            });
            return named.unwrap_or_else(|| format!("uid {uid}"));
        }
    }
    "unknown".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(scope: &str) -> Actor {
        Actor::AdminClient { client_id: "c".into(), scope: Scope::parse(scope).unwrap(), address: None }
    }

    #[test]
    fn admin_grants_every_permission_and_a_scope_only_its_own() {
        for permission in Permission::ALL {
            assert!(client("admin").require(permission).is_ok());
            assert!(client(permission.scope()).require(permission).is_ok());
        }
        assert!(matches!(
            client("admin:keys").require(Permission::Users),
            Err(AppError::Forbidden(Permission::Users))
        ));
        let party = Actor::Party { client_id: Some("c".into()), address: None };
        assert!(party.require(Permission::Audit).is_err());
        assert!(Actor::System { job: "housekeeping" }.require(Permission::Keys).is_ok());
    }

    #[test]
    fn actors_are_named_for_the_audit_log() {
        assert_eq!(client("admin").name(), "c");
        assert_eq!(Actor::Operator { os_user: "ops".into() }.name(), "cli:ops");
        assert_eq!(Actor::System { job: "lockout" }.name(), "system:lockout");
        let user = Actor::AdminUser {
            user_id: "u1".into(),
            session: "s".into(),
            permissions: vec![],
            address: None,
        };
        assert_eq!(user.name(), "user:u1");
        assert_eq!(user.details()["session"], "s");
    }

    #[test]
    fn without_user_variables_the_operator_is_named_by_the_process_account() {
        let id = std::process::Command::new("id").arg("-un").output().unwrap();
        assert_eq!(account_of_process(), String::from_utf8(id.stdout).unwrap().trim());
    }
}
