//! Every change and security event, typed, with a stable dotted name
//! (DESIGN.md, "Events"). The name is the audit entry's action; the fields
//! are its details. [`CATALOGUE`] lists them all, as the README's table does.

use serde::Serialize;
use serde_json::Value;

/// How an audited event ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It was done.
    Success,
    /// It was refused (bad input, no permission, a conflict).
    Refused,
    /// A security event: a wrong credential, a replay, a reuse.
    Failure,
}

impl Outcome {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Refused => "refused",
            Self::Failure => "failure",
        }
    }
}

/// A change or security event. Serialised, a variant is its fields.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Event {
    /// A client was registered.
    ClientCreated {
        client_id: String,
        version: i64,
        client_name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        team_id: Option<String>,
    },
    /// A client registered itself (RFC 7591), admitted by an initial access
    /// token or by open registration.
    ClientRegistered { client_id: String, version: i64, client_name: String, admitted_by: String },
    /// A client's configuration changed: a new version.
    ClientUpdated { client_id: String, version: i64, summary: String },
    /// An older configuration was written as a new version.
    ClientRolledBack { client_id: String, version: i64, restored: i64 },
    /// A client was disabled; its tokens stopped working.
    ClientDisabled { client_id: String },
    /// A client was enabled again, any lockout lifted.
    ClientEnabled { client_id: String },
    /// A client was deleted; its tokens stopped working.
    ClientDeleted { client_id: String },
    /// A client secret was added.
    ClientSecretAdded { client_id: String, secret_id: String, expires_at: Option<String> },
    /// A client secret was revoked.
    ClientSecretRevoked { client_id: String, secret_id: String },
    /// Every secret of a client was revoked and one new secret put in their place.
    ClientSecretRegenerated { client_id: String, secret_id: String },
    /// A team's member asked for scopes its policy reserves for an admin's approval.
    ClientScopeRequested { client_id: String, team_id: String, request_id: String, scope: String },
    /// An admin approved a scope request: the client holds the scopes.
    ClientScopeApproved { client_id: String, request_id: String, scope: String },
    /// An admin rejected a scope request.
    ClientScopeRejected { client_id: String, request_id: String, reason: Option<String> },
    /// A pending scope request was withdrawn, or replaced by a later one.
    ClientScopeWithdrawn { client_id: String, request_id: String },
    /// Repeated failed authentications locked an address out of a client, or the client out.
    ClientLockedOut {
        client_id: String,
        address: Option<String>,
        scope: &'static str,
        until: String,
        lockouts: i64,
        disabled: bool,
    },
    /// An alert rule acted on a client (locked, disabled it, or revoked its tokens).
    ClientRemediated {
        client_id: String,
        remediation_id: String,
        rule_id: String,
        action: &'static str,
        reason: String,
    },
    /// An admin undid what a rule did to a client.
    ClientRemediationUndone { client_id: String, remediation_id: String, action: &'static str },
    /// An admin issued an initial access token for dynamic registration.
    InitialAccessTokenIssued {
        token_id: String,
        description: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        team_id: Option<String>,
    },
    /// An admin revoked an initial access token.
    InitialAccessTokenRevoked { token_id: String },
    /// A signing key was staged: published, not yet signing.
    KeyStaged { kid: String, alg: String },
    /// A signing key became the active signer of its algorithm.
    KeyActivated { kid: String, alg: String },
    /// A signing key stopped signing; it stays published until its tokens expire.
    KeyRetired { kid: String, alg: String },
    /// A signing key was revoked: unpublished at once.
    KeyRevoked { kid: String, alg: String },
    /// A user was created.
    UserCreated { user_id: String, username: String },
    /// A user's claims, attributes or password changed.
    UserUpdated { user_id: String, changed: &'static str },
    /// An admin added an attribute to the custom user attribute schema.
    UserAttributeDefined { name: String, kind: &'static str },
    /// An admin removed an attribute from the schema, and its values from every user.
    UserAttributeRemoved { name: String, values_cleared: usize },
    /// A user was disabled: sessions ended, refresh families revoked.
    UserDisabled { user_id: String, grants_revoked: usize },
    /// A user was enabled again.
    UserEnabled { user_id: String },
    /// A user was granted an admin role (an admin permission).
    UserAdminRoleGranted { user_id: String, permission: &'static str },
    /// A user's admin role was withdrawn.
    UserAdminRoleWithdrawn { user_id: String, permission: &'static str },
    /// A user confirmed a TOTP second factor with a first code.
    UserSecondFactorEnrolled { user_id: String },
    /// An admin removed a user's second factor; the user enrols again.
    UserSecondFactorReset { user_id: String },
    /// A user signed in with a recovery code instead of a TOTP code.
    UserRecoveryCodeUsed { user_id: String, left: i64 },
    /// An admin user signed in to the console.
    ConsoleSignedIn { user_id: String, session_id: String },
    /// An admin user signed out of the console.
    ConsoleSignedOut { user_id: String, session_id: String },
    /// A user signed in to the developer portal.
    PortalSignedIn { user_id: String, session_id: String },
    /// A user signed out of the developer portal.
    PortalSignedOut { user_id: String, session_id: String },
    /// Client authentications failed: one entry per presented id, address and window.
    AuthClientFailed(FailureSummary),
    /// Logins failed (wrong password, unknown or disabled user): one entry
    /// per presented username, address and window.
    AuthLoginFailed(FailureSummary),
    /// Logins were refused unchecked because their account or address is
    /// throttled: one entry per presented username, address and window.
    AuthLoginThrottled(FailureSummary),
    /// A client authenticated from a country outside its `allowed_countries`:
    /// one entry per client, address and window; the reasons are the countries.
    ClientOutsideCountries(FailureSummary),
    /// A confidential client authenticated from a network it did not use
    /// within its retained history (issue 25).
    ClientNewNetwork { client_id: String, network: String, country: Option<String> },
    /// A confidential client authenticated from a country it did not use
    /// within its retained history.
    ClientNewCountry { client_id: String, network: String, country: String, known_countries: Vec<String> },
    /// A refresh-token family or an access token was used from two
    /// countries too far apart for the time between.
    TokenImpossibleTravel {
        client_id: String,
        token_kind: String,
        token: String,
        from: crate::sightings::Whereabouts,
        to: crate::sightings::Whereabouts,
        distance_km: f64,
        hours: f64,
    },
    /// A token was revoked by its client (RFC 7009).
    TokenRevoked {
        client_id: String,
        token_type: &'static str,
        jti: Option<String>,
        grant_id: Option<String>,
    },
    /// An authorization code was presented twice: its grant was revoked (RFC 6749 §4.1.2).
    TokenCodeReplayed { client_id: String, grant_id: String },
    /// A rotated refresh token was presented again: its family was revoked (RFC 9700 §4.14.2),
    /// and its grant unless the family is a token exchange's (`family_only`).
    TokenRefreshReused { client_id: String, grant_id: String, family_only: bool },
    /// A client exchanged a token for one of its own (RFC 8693).
    TokenExchanged {
        client_id: String,
        subject_client_id: String,
        sub: String,
        aud: String,
        act: Option<String>,
    },
    /// A device asked for a device code and a user code (RFC 8628 §3.1).
    DeviceAuthorizationStarted { client_id: String, user_code: String, scope: String },
    /// A user approved a device on the verification page (RFC 8628 §3.3).
    DeviceApproved { client_id: String, user_code: String, user_id: String },
    /// A user denied a device on the verification page.
    DeviceDenied { client_id: String, user_code: String, user_id: String },
    /// A device got the tokens its user approved (RFC 8628 §3.5).
    DeviceRedeemed { client_id: String, user_code: String, grant_id: String },
    /// The first admin client was created, or its secret replaced.
    AdminBootstrapped { client_id: String, rotated: bool },
    /// A webhook endpoint was registered.
    WebhookCreated {
        webhook_id: String,
        url: String,
        events: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        team_id: Option<String>,
    },
    /// A webhook endpoint's URL, events, description or state changed.
    WebhookUpdated { webhook_id: String, url: String, events: Vec<String>, enabled: bool },
    /// A webhook endpoint was deleted, with its deliveries.
    WebhookDeleted { webhook_id: String },
    /// An admin sent a test event to a webhook endpoint.
    WebhookTested { webhook_id: String, delivery_id: String },
    /// An endpoint that failed every delivery for the configured days was disabled.
    WebhookDisabled { webhook_id: String, failing_since: String },
    /// A team was created.
    TeamCreated { team_id: String, name: String },
    /// A user made a personal access token for a team.
    PersonalTokenCreated {
        token_id: String,
        team_id: String,
        name: String,
        scope: String,
        expires_at: String,
    },
    /// A personal access token was revoked.
    PersonalTokenRevoked { token_id: String, team_id: String, user_id: String },
    /// A team's policy changed.
    TeamPolicyChanged { team_id: String },
    /// Someone was invited to a team, by a one-time link.
    TeamInvitationCreated { team_id: String, invitation_id: String, role: &'static str },
    /// An open invitation to a team was withdrawn.
    TeamInvitationWithdrawn { team_id: String, invitation_id: String },
    /// A user joined a team, accepting an invitation.
    TeamMemberAdded { team_id: String, user_id: String, role: &'static str },
    /// A member's role in a team changed.
    TeamMemberRoleChanged { team_id: String, user_id: String, role: &'static str },
    /// A member left a team, or was removed.
    TeamMemberRemoved { team_id: String, user_id: String },
    /// An alert rule was created.
    AlertRuleCreated { rule_id: String, kind: &'static str },
    /// An alert rule was changed.
    AlertRuleUpdated { rule_id: String, kind: &'static str },
    /// An alert rule was deleted.
    AlertRuleDeleted { rule_id: String },
    /// An alert rule's condition holds for a subject: announced once per window while it does.
    AlertFired {
        rule_id: String,
        kind: &'static str,
        subject: String,
        value: f64,
        threshold: f64,
        /// For an `anomaly` rule over a baseline: what departed from what.
        #[serde(skip_serializing_if = "Option::is_none")]
        unusual: Option<crate::baselines::Unusual>,
    },
    /// An alert rule's condition no longer holds for a subject.
    AlertResolved { rule_id: String, kind: &'static str, subject: String },
}

/// High-volume failures of one kind, presented id, address and window,
/// summed: anyone can cause them, so they are never written one by one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FailureSummary {
    /// The client id or username presented, when it names a known one;
    /// else `(unknown client)` or `(unknown user)`.
    pub presented: String,
    /// Where the attempts came from.
    pub address: Option<String>,
    /// How many.
    pub count: u64,
    /// How many for each reason.
    pub reasons: std::collections::BTreeMap<String, u64>,
    /// The first, RFC 3339.
    pub first_at: String,
    /// The last, RFC 3339.
    pub last_at: String,
    /// The window's length.
    pub window_seconds: i64,
    /// Keyed digests of a few unknown ids, never the text typed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub presented_digests: Vec<String>,
}

/// One row of the event table: name, meaning, fields.
pub type CatalogueEntry = (&'static str, &'static str, &'static str);

/// Every event: its name, what it means, its fields.
pub const CATALOGUE: [CatalogueEntry; 73] = [
    ("client.created", "a client was registered, in a team or not", "client_id, version, client_name, team_id"),
    (
        "client.registered",
        "a client registered itself (RFC 7591); the actor is what admitted it",
        "client_id, version, client_name, admitted_by",
    ),
    (
        "initial_access_token.issued",
        "an admin (or a team's owner) issued an initial access token for dynamic registration",
        "token_id, description, team_id",
    ),
    ("initial_access_token.revoked", "an admin revoked an initial access token", "token_id"),
    ("client.updated", "a client's configuration changed (a new version)", "client_id, version, summary"),
    (
        "client.rolled_back",
        "an older configuration was written as a new version",
        "client_id, version, restored",
    ),
    ("client.disabled", "a client was disabled; its tokens stopped working", "client_id"),
    ("client.enabled", "a client was enabled again, any lockout lifted", "client_id"),
    ("client.deleted", "a client was deleted; its tokens stopped working", "client_id"),
    ("client.secret_added", "a client secret was added", "client_id, secret_id, expires_at"),
    ("client.secret_revoked", "a client secret was revoked", "client_id, secret_id"),
    (
        "client.secret_regenerated",
        "every secret of a client was revoked and one new secret put in their place",
        "client_id, secret_id",
    ),
    (
        "client.scope_requested",
        "a team's member asked for scopes its policy reserves for an admin's approval",
        "client_id, team_id, request_id, scope",
    ),
    (
        "client.scope_approved",
        "an admin approved a scope request; the client holds the scopes",
        "client_id, request_id, scope",
    ),
    ("client.scope_rejected", "an admin rejected a scope request", "client_id, request_id, reason"),
    (
        "client.scope_withdrawn",
        "a pending scope request was withdrawn, or replaced by a later one",
        "client_id, request_id",
    ),
    (
        "client.locked_out",
        "failed authentications locked an address (scope `address`) or the client (scope `client`) out",
        "client_id, address, scope, until, lockouts, disabled",
    ),
    (
        "client.remediated",
        "an alert rule acted on a client: `lock`, `disable` or `revoke_tokens`",
        "client_id, remediation_id, rule_id, action, reason",
    ),
    (
        "client.remediation_undone",
        "an admin undid what a rule did to a client",
        "client_id, remediation_id, action",
    ),
    ("key.staged", "a signing key was staged: published, not signing", "kid, alg"),
    ("key.activated", "a signing key became its algorithm's signer", "kid, alg"),
    ("key.retired", "a signing key stopped signing; published until its tokens expire", "kid, alg"),
    ("key.revoked", "a signing key was revoked and unpublished at once", "kid, alg"),
    ("user.created", "a user was created", "user_id, username"),
    ("user.updated", "a user's claims, attributes or password changed", "user_id, changed"),
    ("user_attribute.defined", "an admin added an attribute to the custom user attribute schema", "name, kind"),
    (
        "user_attribute.removed",
        "an admin removed an attribute from the schema, and its values from every user",
        "name, values_cleared",
    ),
    (
        "user.disabled",
        "a user was disabled: sessions ended, refresh families revoked",
        "user_id, grants_revoked",
    ),
    ("user.enabled", "a user was enabled again", "user_id"),
    ("user.admin_role_granted", "a user was granted an admin role (an admin permission)", "user_id, permission"),
    ("user.admin_role_withdrawn", "a user's admin role was withdrawn", "user_id, permission"),
    ("user.second_factor_enrolled", "a user confirmed a TOTP second factor with a first code", "user_id"),
    ("user.second_factor_reset", "an admin removed a user's second factor; the user enrols again", "user_id"),
    ("user.recovery_code_used", "a user signed in with a recovery code instead of a TOTP code", "user_id, left"),
    ("console.signed_in", "an admin user signed in to the console", "user_id, session_id"),
    ("console.signed_out", "an admin user signed out of the console", "user_id, session_id"),
    ("portal.signed_in", "a user signed in to the developer portal", "user_id, session_id"),
    ("portal.signed_out", "a user signed out of the developer portal", "user_id, session_id"),
    (
        "auth.client_failed",
        "client authentications failed; one entry per presented id, address and window",
        "presented, address, count, reasons, first_at, last_at, window_seconds, presented_digests",
    ),
    (
        "auth.login_failed",
        "logins failed (wrong password, unknown or disabled user); one entry per username, address and window",
        "presented, address, count, reasons, first_at, last_at, window_seconds, presented_digests",
    ),
    (
        "auth.login_throttled",
        "logins refused unchecked while throttled; one entry per username, address and window",
        "presented, address, count, reasons, first_at, last_at, window_seconds, presented_digests",
    ),
    (
        "client.outside_countries",
        "a client authenticated from a country outside its allowed_countries; one entry per address and window, the countries as reasons",
        "presented, address, count, reasons, first_at, last_at, window_seconds",
    ),
    (
        "client.new_network",
        "a confidential client authenticated from a network (IPv4 /24, IPv6 /48) it did not use within its retained history",
        "client_id, network, country",
    ),
    (
        "client.new_country",
        "a confidential client authenticated from a country it did not use within its retained history (with --geoip-db)",
        "client_id, network, country, known_countries",
    ),
    (
        "token.impossible_travel",
        "a refresh-token family or access token was used from two countries too far apart for the time between (with a City --geoip-db)",
        "client_id, token_kind, token, from, to, distance_km, hours",
    ),
    ("token.revoked", "a client revoked a token (RFC 7009)", "client_id, token_type, jti, grant_id"),
    (
        "token.code_replayed",
        "an authorization code was used twice; its grant was revoked",
        "client_id, grant_id",
    ),
    (
        "token.refresh_reused",
        "a rotated refresh token was used again; its family was revoked, and its grant unless family_only (a token exchange's family)",
        "client_id, grant_id, family_only",
    ),
    (
        "token.exchanged",
        "a client exchanged another party's token for one of its own (RFC 8693); act names the actor, none for impersonation",
        "client_id, subject_client_id, sub, aud, act",
    ),
    (
        "device.authorization_started",
        "a device asked for a device code and a user code (RFC 8628)",
        "client_id, user_code, scope",
    ),
    ("device.approved", "a user approved a device on the verification page", "client_id, user_code, user_id"),
    ("device.denied", "a user denied a device on the verification page", "client_id, user_code, user_id"),
    ("device.redeemed", "a device got the tokens its user approved", "client_id, user_code, grant_id"),
    (
        "admin.bootstrapped",
        "the first admin client was created, or its secret replaced",
        "client_id, rotated",
    ),
    ("webhook.created", "a webhook endpoint was registered (a team's: with its team)", "webhook_id, url, events, team_id"),
    (
        "webhook.updated",
        "a webhook endpoint's URL, events, description or state changed",
        "webhook_id, url, events, enabled",
    ),
    ("webhook.deleted", "a webhook endpoint was deleted, with its deliveries", "webhook_id"),
    ("webhook.tested", "an admin or a team's developer sent a test event to a webhook endpoint", "webhook_id, delivery_id"),
    (
        "webhook.disabled",
        "a webhook endpoint that failed every delivery for --webhook-failure-days was disabled",
        "webhook_id, failing_since",
    ),
    (
        "personal_token.created",
        "a user made a personal access token for a team",
        "token_id, team_id, name, scope, expires_at",
    ),
    ("personal_token.revoked", "a personal access token was revoked", "token_id, team_id, user_id"),
    ("team.created", "a team was created", "team_id, name"),
    ("team.policy_changed", "an admin changed a team's policy", "team_id"),
    ("team.invitation_created", "someone was invited to a team by a one-time link", "team_id, invitation_id, role"),
    ("team.invitation_withdrawn", "an open invitation to a team was withdrawn", "team_id, invitation_id"),
    ("team.member_added", "a user joined a team by accepting an invitation", "team_id, user_id, role"),
    ("team.member_role_changed", "a member's role in a team changed", "team_id, user_id, role"),
    ("team.member_removed", "a member left a team or was removed", "team_id, user_id"),
    ("alert_rule.created", "an alert rule was created", "rule_id, kind"),
    ("alert_rule.updated", "an alert rule was changed (turned off, made another kind or for other clients, what it fired for resolves)", "rule_id, kind"),
    ("alert_rule.deleted", "an alert rule was deleted", "rule_id"),
    (
        "alert.fired",
        "an alert rule's condition holds for a subject (a client, or `(all)`); once per window while it does",
        "rule_id, kind, subject, value, threshold, unusual",
    ),
    ("alert.resolved", "an alert rule's condition no longer holds for a subject", "rule_id, kind, subject"),
];

impl Event {
    /// The stable dotted name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ClientCreated { .. } => "client.created",
            Self::ClientRegistered { .. } => "client.registered",
            Self::InitialAccessTokenIssued { .. } => "initial_access_token.issued",
            Self::InitialAccessTokenRevoked { .. } => "initial_access_token.revoked",
            Self::ClientUpdated { .. } => "client.updated",
            Self::ClientRolledBack { .. } => "client.rolled_back",
            Self::ClientDisabled { .. } => "client.disabled",
            Self::ClientEnabled { .. } => "client.enabled",
            Self::ClientDeleted { .. } => "client.deleted",
            Self::ClientSecretAdded { .. } => "client.secret_added",
            Self::ClientSecretRevoked { .. } => "client.secret_revoked",
            Self::ClientSecretRegenerated { .. } => "client.secret_regenerated",
            Self::ClientScopeRequested { .. } => "client.scope_requested",
            Self::ClientScopeApproved { .. } => "client.scope_approved",
            Self::ClientScopeRejected { .. } => "client.scope_rejected",
            Self::ClientScopeWithdrawn { .. } => "client.scope_withdrawn",
            Self::ClientLockedOut { .. } => "client.locked_out",
            Self::ClientRemediated { .. } => "client.remediated",
            Self::ClientRemediationUndone { .. } => "client.remediation_undone",
            Self::KeyStaged { .. } => "key.staged",
            Self::KeyActivated { .. } => "key.activated",
            Self::KeyRetired { .. } => "key.retired",
            Self::KeyRevoked { .. } => "key.revoked",
            Self::UserCreated { .. } => "user.created",
            Self::UserUpdated { .. } => "user.updated",
            Self::UserDisabled { .. } => "user.disabled",
            Self::UserAttributeDefined { .. } => "user_attribute.defined",
            Self::UserAttributeRemoved { .. } => "user_attribute.removed",
            Self::UserEnabled { .. } => "user.enabled",
            Self::UserAdminRoleGranted { .. } => "user.admin_role_granted",
            Self::UserAdminRoleWithdrawn { .. } => "user.admin_role_withdrawn",
            Self::UserSecondFactorEnrolled { .. } => "user.second_factor_enrolled",
            Self::UserSecondFactorReset { .. } => "user.second_factor_reset",
            Self::UserRecoveryCodeUsed { .. } => "user.recovery_code_used",
            Self::ConsoleSignedIn { .. } => "console.signed_in",
            Self::ConsoleSignedOut { .. } => "console.signed_out",
            Self::PortalSignedIn { .. } => "portal.signed_in",
            Self::PortalSignedOut { .. } => "portal.signed_out",
            Self::AuthClientFailed(_) => "auth.client_failed",
            Self::AuthLoginFailed(_) => "auth.login_failed",
            Self::AuthLoginThrottled(_) => "auth.login_throttled",
            Self::ClientOutsideCountries(_) => "client.outside_countries",
            Self::ClientNewNetwork { .. } => "client.new_network",
            Self::ClientNewCountry { .. } => "client.new_country",
            Self::TokenImpossibleTravel { .. } => "token.impossible_travel",
            Self::TokenRevoked { .. } => "token.revoked",
            Self::TokenCodeReplayed { .. } => "token.code_replayed",
            Self::TokenRefreshReused { .. } => "token.refresh_reused",
            Self::TokenExchanged { .. } => "token.exchanged",
            Self::DeviceAuthorizationStarted { .. } => "device.authorization_started",
            Self::DeviceApproved { .. } => "device.approved",
            Self::DeviceDenied { .. } => "device.denied",
            Self::DeviceRedeemed { .. } => "device.redeemed",
            Self::AdminBootstrapped { .. } => "admin.bootstrapped",
            Self::WebhookCreated { .. } => "webhook.created",
            Self::WebhookUpdated { .. } => "webhook.updated",
            Self::WebhookDeleted { .. } => "webhook.deleted",
            Self::WebhookTested { .. } => "webhook.tested",
            Self::WebhookDisabled { .. } => "webhook.disabled",
            Self::TeamCreated { .. } => "team.created",
            Self::PersonalTokenCreated { .. } => "personal_token.created",
            Self::PersonalTokenRevoked { .. } => "personal_token.revoked",
            Self::TeamPolicyChanged { .. } => "team.policy_changed",
            Self::TeamInvitationCreated { .. } => "team.invitation_created",
            Self::TeamInvitationWithdrawn { .. } => "team.invitation_withdrawn",
            Self::TeamMemberAdded { .. } => "team.member_added",
            Self::TeamMemberRoleChanged { .. } => "team.member_role_changed",
            Self::TeamMemberRemoved { .. } => "team.member_removed",
            Self::AlertRuleCreated { .. } => "alert_rule.created",
            Self::AlertRuleUpdated { .. } => "alert_rule.updated",
            Self::AlertRuleDeleted { .. } => "alert_rule.deleted",
            Self::AlertFired { .. } => "alert.fired",
            Self::AlertResolved { .. } => "alert.resolved",
        }
    }

    /// What the event is about: a client id, a kid, a user id, a grant.
    pub fn target(&self) -> &str {
        match self {
            Self::ClientCreated { client_id, .. }
            | Self::ClientRegistered { client_id, .. }
            | Self::ClientUpdated { client_id, .. }
            | Self::ClientRolledBack { client_id, .. }
            | Self::ClientDisabled { client_id }
            | Self::ClientEnabled { client_id }
            | Self::ClientDeleted { client_id }
            | Self::ClientSecretAdded { client_id, .. }
            | Self::ClientSecretRevoked { client_id, .. }
            | Self::ClientSecretRegenerated { client_id, .. }
            | Self::ClientScopeRequested { client_id, .. }
            | Self::ClientScopeApproved { client_id, .. }
            | Self::ClientScopeRejected { client_id, .. }
            | Self::ClientScopeWithdrawn { client_id, .. }
            | Self::ClientLockedOut { client_id, .. }
            | Self::ClientRemediated { client_id, .. }
            | Self::ClientRemediationUndone { client_id, .. }
            | Self::ClientNewNetwork { client_id, .. }
            | Self::ClientNewCountry { client_id, .. }
            | Self::TokenImpossibleTravel { client_id, .. }
            | Self::AdminBootstrapped { client_id, .. } => client_id,
            Self::InitialAccessTokenIssued { token_id, .. }
            | Self::InitialAccessTokenRevoked { token_id } => token_id,
            Self::KeyStaged { kid, .. }
            | Self::KeyActivated { kid, .. }
            | Self::KeyRetired { kid, .. }
            | Self::KeyRevoked { kid, .. } => kid,
            Self::UserAttributeDefined { name, .. } | Self::UserAttributeRemoved { name, .. } => name,
            Self::UserCreated { user_id, .. }
            | Self::UserUpdated { user_id, .. }
            | Self::UserDisabled { user_id, .. }
            | Self::UserEnabled { user_id }
            | Self::UserAdminRoleGranted { user_id, .. }
            | Self::UserAdminRoleWithdrawn { user_id, .. }
            | Self::UserSecondFactorEnrolled { user_id }
            | Self::UserSecondFactorReset { user_id }
            | Self::UserRecoveryCodeUsed { user_id, .. }
            | Self::ConsoleSignedIn { user_id, .. }
            | Self::ConsoleSignedOut { user_id, .. }
            | Self::PortalSignedIn { user_id, .. }
            | Self::PortalSignedOut { user_id, .. } => user_id,
            Self::AuthClientFailed(summary)
            | Self::AuthLoginFailed(summary)
            | Self::AuthLoginThrottled(summary)
            | Self::ClientOutsideCountries(summary) => &summary.presented,
            Self::TokenRevoked { jti: Some(id), .. }
            | Self::TokenRevoked { jti: None, grant_id: Some(id), .. }
            | Self::TokenCodeReplayed { grant_id: id, .. }
            | Self::TokenRefreshReused { grant_id: id, .. } => id,
            Self::TokenRevoked { client_id, jti: None, grant_id: None, .. } => client_id,
            Self::TokenExchanged { sub, .. } => sub,
            Self::DeviceAuthorizationStarted { user_code, .. }
            | Self::DeviceApproved { user_code, .. }
            | Self::DeviceDenied { user_code, .. }
            | Self::DeviceRedeemed { user_code, .. } => user_code,
            Self::WebhookCreated { webhook_id, .. }
            | Self::WebhookUpdated { webhook_id, .. }
            | Self::WebhookDeleted { webhook_id }
            | Self::WebhookTested { webhook_id, .. }
            | Self::WebhookDisabled { webhook_id, .. } => webhook_id,
            Self::TeamCreated { team_id, .. }
            | Self::TeamPolicyChanged { team_id, .. }
            | Self::TeamInvitationCreated { team_id, .. }
            | Self::TeamInvitationWithdrawn { team_id, .. }
            | Self::TeamMemberAdded { team_id, .. }
            | Self::TeamMemberRoleChanged { team_id, .. }
            | Self::TeamMemberRemoved { team_id, .. } => team_id,
            Self::PersonalTokenCreated { token_id, .. } | Self::PersonalTokenRevoked { token_id, .. } => {
                token_id
            }
            Self::AlertRuleCreated { rule_id, .. }
            | Self::AlertRuleUpdated { rule_id, .. }
            | Self::AlertRuleDeleted { rule_id } => rule_id,
            Self::AlertFired { subject, .. } | Self::AlertResolved { subject, .. } => subject,
        }
    }

    /// How it ended: security events are failures, changes successes.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::AuthClientFailed(_)
            | Self::AuthLoginFailed(_)
            | Self::AuthLoginThrottled(_)
            | Self::ClientOutsideCountries(_)
            | Self::ClientNewNetwork { .. }
            | Self::ClientNewCountry { .. }
            | Self::TokenImpossibleTravel { .. }
            | Self::TokenCodeReplayed { .. }
            | Self::TokenRefreshReused { .. }
            | Self::AlertFired { .. } => Outcome::Failure,
            _ => Outcome::Success,
        }
    }

    /// The fields, as the audit entry's details.
    pub fn fields(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dotted_unique_and_catalogued() {
        let mut names: Vec<&str> = CATALOGUE.iter().map(|(name, _, _)| *name).collect();
        assert!(names.iter().all(|n| n.split('.').count() == 2
            && n.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATALOGUE.len());
        let event = Event::KeyStaged { kid: "k1".into(), alg: "ES256".into() };
        assert!(CATALOGUE.iter().any(|(name, _, fields)| *name == event.name() && *fields == "kid, alg"));
        assert_eq!((event.target(), event.outcome()), ("k1", Outcome::Success));
        assert_eq!(event.fields(), serde_json::json!({"kid": "k1", "alg": "ES256"}));
    }

    #[test]
    fn the_readme_lists_every_event() {
        let readme = include_str!("../../../README.md");
        for (name, _, fields) in CATALOGUE {
            let row = readme.lines().find(|line| line.starts_with(&format!("| `{name}` |")));
            let row = row.unwrap_or_else(|| panic!("the README's event table has no row for {name}"));
            assert!(row.contains(fields), "the README's row for {name} names its fields: {fields}");
        }
    }
}
