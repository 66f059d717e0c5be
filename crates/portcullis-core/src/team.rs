//! Teams (DESIGN.md, "Teams and the portal"): a team owns clients, its
//! members hold a role in it, and the policy an admin sets bounds what its
//! members may configure. A setting outside the policy is refused with the
//! reason, never dropped.

use crate::client::MetadataError;
use crate::registration::{Outside, RegistrationPolicy, MAX_POLICY_ENTRIES};
use crate::ClientMetadata;
use serde::{Deserialize, Serialize};

/// The longest team name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// The most clients a policy may allow a team.
pub const MAX_CLIENTS: u32 = 10_000;
/// The longest secret lifetime a policy may set, in days.
pub const MAX_SECRET_DAYS: u32 = 3_650;
/// The longest a personal access token lives, in days, unless a team's
/// policy says less.
pub const MAX_TOKEN_DAYS: u32 = 366;

/// A member's role in a team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TeamRole {
    /// Reads the team's apps, their monitoring and its members.
    Viewer,
    /// Also runs the team's apps: clients, secrets, webhooks.
    Developer,
    /// Also runs the team: members, invitations, registration tokens.
    Owner,
}

/// What a team operation needs of a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TeamPermission {
    /// Reading the team, its apps and their monitoring.
    Read,
    /// Changing the team's apps, their secrets and webhooks.
    Apps,
    /// Changing the team's members and invitations.
    Members,
}

impl TeamPermission {
    /// Every permission, least first.
    pub const ALL: [TeamPermission; 3] = [Self::Read, Self::Apps, Self::Members];

    /// The scope a personal access token holds it by.
    pub const fn scope(self) -> &'static str {
        match self {
            Self::Read => "portal:read",
            Self::Apps => "portal:apps",
            Self::Members => "portal:members",
        }
    }

    /// The permission the scope `scope` names.
    pub fn of_scope(scope: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|permission| permission.scope() == scope)
    }
}

impl TeamRole {
    /// Every role, least first.
    pub const ALL: [TeamRole; 3] = [Self::Viewer, Self::Developer, Self::Owner];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Developer => "developer",
            Self::Owner => "owner",
        }
    }

    /// The role named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == name)
    }

    /// Whether the role grants `permission`.
    pub fn grants(self, permission: TeamPermission) -> bool {
        let needed = match permission {
            TeamPermission::Read => Self::Viewer,
            TeamPermission::Apps => Self::Developer,
            TeamPermission::Members => Self::Owner,
        };
        self >= needed
    }
}

/// Checks a team name: 1 to [`MAX_NAME_CHARS`] characters, none a control
/// character, not only spaces.
pub fn check_name(name: &str) -> Result<(), MetadataError> {
    let chars = name.chars().count();
    if name.trim().is_empty() || chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(MetadataError::new(
            "name",
            format!("a team name has 1 to {MAX_NAME_CHARS} characters, no control characters"),
        ));
    }
    Ok(())
}

/// Refuses a member's change that lifts a protection of `current`: turning
/// off DPoP binding or pushed requests, leaving a security profile,
/// dropping its address or country restrictions, or moving its users'
/// subjects (OpenID Connect Core §8.1: the subject type and sector stay).
fn keeps_hardening(current: &ClientMetadata, new: &ClientMetadata) -> Result<(), MetadataError> {
    let lifted = [
        ("dpop_bound_access_tokens", current.dpop_bound_access_tokens && !new.dpop_bound_access_tokens),
        (
            "require_pushed_authorization_requests",
            current.require_pushed_authorization_requests && !new.require_pushed_authorization_requests,
        ),
        ("profile", current.profile.is_some() && new.profile != current.profile),
        ("allowed_cidrs", !current.allowed_cidrs.is_empty() && new.allowed_cidrs.is_empty()),
        ("allowed_countries", !current.allowed_countries.is_empty() && new.allowed_countries.is_empty()),
        // A rate limit stays, or comes down: 0 (or none) is none at all.
        (
            "token_rate_limit",
            matches!((current.token_rate_limit, new.token_rate_limit),
                     (Some(was), now) if was > 0 && !now.is_some_and(|now| (1..=was).contains(&now))),
        ),
    ];
    if let Some((member, _)) = lifted.iter().find(|(_, lifted)| *lifted) {
        return Err(MetadataError::new(*member, "only an admin may lift this protection"));
    }
    if (&current.subject_type, current.sector()) != (&new.subject_type, new.sector()) {
        return Err(MetadataError::new(
            "subject_type",
            "the subject type and the sector (sector_identifier_uri, or the redirect URIs' host) stay as they are; register a new client",
        ));
    }
    Ok(())
}

/// What an admin allows a team. Absent members do not restrict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamPolicy {
    /// What the team's clients may be: grant types, authentication methods,
    /// scopes, redirect-URI patterns and token-lifetime ceilings, as for a
    /// client that registers itself.
    #[serde(default, skip_serializing_if = "RegistrationPolicy::is_unrestricted")]
    pub clients: RegistrationPolicy,
    /// How many clients the team may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_clients: Option<u32>,
    /// Whether members must have enrolled a second factor to act for the team.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub second_factor_required: bool,
    /// Scopes a member may give a client only with an admin's approval
    /// (allowed to the team's clients, then, whether `clients.scopes` lists them or not).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approval_scopes: Vec<String>,
    /// The longest a client secret may live, in days; with it, every new
    /// secret needs an expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_secret_lifetime_days: Option<u32>,
    /// The longest a member's personal access token for the team may live,
    /// in days (at most [`MAX_TOKEN_DAYS`], the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_token_lifetime_days: Option<u32>,
}

impl TeamPolicy {
    /// Checks a member's change of a client from `current` (`None` for a
    /// new client) to `new` against the policy: what an admin set outside
    /// it may stay, nothing more may be added. A member never sets what
    /// only an admin sets, nor admin scopes the policy does not list,
    /// however little else the policy restricts.
    pub fn admits_change(
        &self,
        current: Option<&ClientMetadata>,
        new: &ClientMetadata,
    ) -> Result<(), MetadataError> {
        if let Some(current) = current {
            keeps_hardening(current, new)?;
        }
        let clients = self.client_policy();
        let kept = current.map(|current| clients.outside(current, true)).unwrap_or_default();
        // What was outside stays allowed unchanged, or (a lifetime) lowered.
        let was_kept = |outside: &Outside| {
            kept.iter().any(|old| {
                old.member == outside.member
                    && (old.value == outside.value
                        || outside.member.ends_with("_lifetime")
                            && matches!((old.value.parse::<u64>(), outside.value.parse::<u64>()),
                                        (Ok(before), Ok(now)) if now <= before))
            })
        };
        match clients.outside(new, true).into_iter().find(|outside| !was_kept(outside)) {
            Some(outside) => Err(outside.refusal),
            None => Ok(()),
        }
    }

    /// What the team's clients may be: its client policy, where a scope
    /// needing approval is one they may hold (once approved) too.
    fn client_policy(&self) -> RegistrationPolicy {
        let mut clients = self.clients.clone();
        if let Some(scopes) = &mut clients.scopes {
            let unlisted: Vec<String> =
                self.approval_scopes.iter().filter(|s| !scopes.contains(s)).cloned().collect();
            scopes.extend(unlisted);
        }
        clients
    }

    /// The scopes of `new` that `current` does not hold and that need an
    /// admin's approval.
    pub fn needing_approval(&self, current: Option<&ClientMetadata>, new: &ClientMetadata) -> Vec<String> {
        let held = |scope: &str| current.is_some_and(|current| current.scope.contains(scope));
        new.scope
            .iter()
            .filter(|scope| !held(scope) && self.approval_scopes.iter().any(|s| s == scope))
            .map(str::to_owned)
            .collect()
    }

    /// Checks the policy itself, naming the member at fault.
    pub fn validate(&self) -> Result<(), MetadataError> {
        self.clients.validate()?;
        if self.max_clients.is_some_and(|n| n > MAX_CLIENTS) {
            return Err(MetadataError::new("max_clients", format!("at most {MAX_CLIENTS}")));
        }
        if self.max_secret_lifetime_days.is_some_and(|days| days == 0 || days > MAX_SECRET_DAYS) {
            return Err(MetadataError::new(
                "max_secret_lifetime_days",
                format!("1 to {MAX_SECRET_DAYS} days"),
            ));
        }
        if self.max_token_lifetime_days.is_some_and(|days| days == 0 || days > MAX_TOKEN_DAYS) {
            return Err(MetadataError::new("max_token_lifetime_days", format!("1 to {MAX_TOKEN_DAYS} days")));
        }
        if self.approval_scopes.len() > MAX_POLICY_ENTRIES {
            return Err(MetadataError::new(
                "approval_scopes",
                format!("at most {MAX_POLICY_ENTRIES} entries"),
            ));
        }
        let bad = |s: &String| s.is_empty() || s.len() > 500 || s.contains(char::is_whitespace);
        if let Some(bad) = self.approval_scopes.iter().find(|s| bad(s)) {
            return Err(MetadataError::new(
                "approval_scopes",
                format!("`{bad}` must be 1 to 500 characters without spaces"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn roles_grant_what_they_name_and_less() {
        use TeamPermission::{Apps, Members, Read};
        let granted = |role: TeamRole| [Read, Apps, Members].map(|p| role.grants(p));
        assert_eq!(granted(TeamRole::Viewer), [true, false, false]);
        assert_eq!(granted(TeamRole::Developer), [true, true, false]);
        assert_eq!(granted(TeamRole::Owner), [true, true, true]);
        assert_eq!(TeamRole::parse("developer"), Some(TeamRole::Developer));
        assert_eq!(TeamRole::parse("admin"), None);
        assert_eq!(TeamPermission::of_scope("portal:apps"), Some(Apps));
        assert_eq!(TeamPermission::of_scope("portal:admin"), None);
    }

    #[test]
    fn a_policy_is_checked_and_unknown_members_refused() {
        let policy: TeamPolicy = serde_json::from_value(json!({
            "clients": {"grant_types": ["authorization_code"], "scopes": ["openid", "orders"]},
            "max_clients": 20, "second_factor_required": true, "approval_scopes": ["orders"],
            "max_secret_lifetime_days": 90
        }))
        .unwrap();
        assert!(policy.validate().is_ok());
        assert_eq!(
            serde_json::to_value(TeamPolicy::default()).unwrap(),
            json!({}),
            "nothing restricted, nothing said"
        );
        let refused = |policy: TeamPolicy| policy.validate().unwrap_err().field;
        assert_eq!(
            refused(TeamPolicy { max_clients: Some(MAX_CLIENTS + 1), ..policy.clone() }),
            "max_clients"
        );
        assert_eq!(
            refused(TeamPolicy { max_secret_lifetime_days: Some(0), ..policy.clone() }),
            "max_secret_lifetime_days"
        );
        assert_eq!(
            refused(TeamPolicy { approval_scopes: vec!["a b".into()], ..policy.clone() }),
            "approval_scopes"
        );
        assert!(serde_json::from_value::<TeamPolicy>(json!({"everything": true})).is_err());
        assert!(check_name("Payments").is_ok());
        assert!(
            check_name("  ").is_err() && check_name("a\nb").is_err() && check_name(&"x".repeat(101)).is_err()
        );
    }

    #[test]
    fn a_member_keeps_what_an_admin_set_outside_the_policy_and_adds_nothing_outside_it() {
        let policy: TeamPolicy = serde_json::from_value(json!({
            "clients": {"scopes": ["openid", "orders", "payments"], "redirect_uri_patterns": ["https://*.shop.example/*"]},
            "approval_scopes": ["payments"]
        }))
        .unwrap();
        let client = |extra: serde_json::Value| -> ClientMetadata {
            let mut base = json!({"client_name": "Shop", "redirect_uris": ["https://app.shop.example/cb"], "scope": "openid orders"});
            base.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            serde_json::from_value(base).unwrap()
        };
        assert!(policy.admits_change(None, &client(json!({}))).is_ok());
        let refused =
            |current: Option<&ClientMetadata>, new| policy.admits_change(current, &new).unwrap_err();
        assert_eq!(refused(None, client(json!({"skip_consent": true}))).field, "skip_consent");
        assert_eq!(refused(None, client(json!({"scope": "openid admin"}))).field, "scope");
        assert_eq!(
            refused(None, client(json!({"redirect_uris": ["https://evil.example/cb"]}))).field,
            "redirect_uris"
        );
        // What an admin set stays through a member's change; more of it does not come in.
        let admin_set = client(json!({"skip_consent": true, "scope": "openid orders legacy"}));
        assert!(policy
            .admits_change(
                Some(&admin_set),
                &client(json!({"skip_consent": true, "scope": "openid legacy", "client_name": "Shop 2"}))
            )
            .is_ok());
        let mapping = json!([{"claim": "role", "from": {"value": "admin"}, "tokens": ["access_token"]}]);
        let mapped = client(json!({"claim_mappings": mapping}));
        let remapped = client(
            json!({"claim_mappings": [{"claim": "role", "from": {"value": "root"}, "tokens": ["access_token"]}]}),
        );
        assert_eq!(
            refused(Some(&mapped), remapped).field,
            "claim_mappings",
            "an admin-only value is kept only unchanged"
        );
        assert!(policy
            .admits_change(
                Some(&mapped),
                &client(json!({"claim_mappings": mapping, "client_name": "Renamed"}))
            )
            .is_ok());
        let limited = client(json!({"token_rate_limit": 5}));
        let limit = |limit: serde_json::Value| client(json!({"token_rate_limit": limit}));
        assert_eq!(refused(Some(&limited), limit(json!(1000))).field, "token_rate_limit");
        assert_eq!(
            refused(Some(&limited), limit(json!(0))).field,
            "token_rate_limit",
            "0 is no limit at all"
        );
        assert_eq!(refused(Some(&limited), client(json!({}))).field, "token_rate_limit", "nor is none");
        assert!(policy.admits_change(Some(&limited), &limited).is_ok());
        let lowered = |lifetime: u64| client(json!({"access_token_lifetime": lifetime}));
        let long = TeamPolicy {
            clients: RegistrationPolicy { max_access_token_lifetime: Some(600), ..policy.clients.clone() },
            ..policy.clone()
        };
        assert!(
            long.admits_change(Some(&lowered(3_600)), &lowered(1_800)).is_ok(),
            "a lifetime over the ceiling may come down"
        );
        assert_eq!(
            long.admits_change(Some(&lowered(1_800)), &lowered(3_600)).unwrap_err().field,
            "access_token_lifetime"
        );
        let bound = client(json!({"dpop_bound_access_tokens": true}));
        assert_eq!(
            refused(Some(&bound), client(json!({}))).field,
            "dpop_bound_access_tokens",
            "protections stay"
        );
        let pairwise = client(json!({"subject_type": "pairwise"}));
        assert_eq!(refused(Some(&pairwise), client(json!({}))).field, "subject_type");
        let more = client(json!({"skip_consent": true, "scope": "openid legacy other"}));
        assert_eq!(refused(Some(&admin_set), more).message, "`other` is not allowed by the policy");
        assert_eq!(policy.needing_approval(None, &client(json!({"scope": "openid payments"}))), ["payments"]);
        let unlisted = TeamPolicy { approval_scopes: vec!["billing".into()], ..policy.clone() };
        assert!(
            unlisted.admits_change(None, &client(json!({"scope": "openid billing"}))).is_ok(),
            "a scope needing approval may be asked for, listed or not"
        );
        let holding = client(json!({"scope": "openid payments"}));
        assert!(policy.needing_approval(Some(&holding), &holding).is_empty());
    }
}
