//! Every route of the admin API, in one table: it mounts the API and is
//! what the OpenAPI document is generated from, so the two cannot differ.
//! The portal's API ([`crate::portal::api`]) is a table of the same kind,
//! mounted and documented the same way.

use crate::admin::schemas;
use crate::admin::{
    admin_roles, alert_rules, audit_logs, client_secrets, clients, compliance, initial_access_tokens, keys,
    remediations, teams, unusual, usage, user_attributes, users, webhooks,
};
use actix_web::{web, Route};
use portcullis_app::Permission;
use Body::{No, Optional, Required};

/// An HTTP method of the admin API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl Verb {
    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

/// Whether a route takes a JSON body, and its schema.
#[derive(Clone, Copy)]
pub enum Body {
    /// None.
    No,
    /// One that may be left out.
    Optional(fn() -> serde_json::Value),
    /// One that must be sent.
    Required(fn() -> serde_json::Value),
}

/// One route.
pub struct AdminRoute {
    /// The method.
    pub verb: Verb,
    /// The path under `/admin/v1`, with `{parameters}`.
    pub path: &'static str,
    /// The scope it needs (`admin` covers every admin one).
    pub scope: &'static str,
    /// What it does, in one line.
    pub summary: &'static str,
    /// Whether it takes a JSON body.
    pub body: Body,
    /// The success status.
    pub status: u16,
    /// The handler, as an actix route.
    pub route: fn() -> Route,
}

/// One route of a table: `route!(Get, "/clients", Clients, 200, No, clients::list, "…")`
/// needs the admin permission `Clients`; `route!(@scope Post, "/…", "portal:apps", …)`
/// names its scope itself.
macro_rules! route {
    ($verb:ident, $path:literal, $scope:ident, $status:literal, $body:expr, $handler:path, $summary:literal) => {
        route!(@scope $verb, $path, Permission::$scope.scope(), $status, $body, $handler, $summary)
    };
    (@scope $verb:ident, $path:literal, $scope:expr, $status:literal, $body:expr, $handler:path, $summary:literal) => {
        AdminRoute {
            verb: Verb::$verb,
            path: $path,
            scope: $scope,
            summary: $summary,
            body: $body,
            status: $status,
            route: || route!(@method $verb).to($handler),
        }
    };
    (@method Get) => { web::get() };
    (@method Post) => { web::post() };
    (@method Put) => { web::put() };
    (@method Patch) => { web::patch() };
    (@method Delete) => { web::delete() };
}

/// The admin API.
pub const ROUTES: [AdminRoute; 73] = [
    route!(Get, "/clients", Clients, 200, No, clients::list, "List clients (filter by name, paginated)"),
    route!(
        Post,
        "/clients",
        Clients,
        201,
        Required(|| schemas::client_metadata(false)),
        clients::create,
        "Register a client (RFC 7591 metadata); its secret is shown once"
    ),
    route!(
        Get,
        "/clients/{client_id}",
        Clients,
        200,
        No,
        clients::get,
        "Read a client's current configuration and state"
    ),
    route!(
        Put,
        "/clients/{client_id}",
        Clients,
        200,
        Required(|| schemas::client_metadata(true)),
        clients::replace,
        "Replace a client's configuration (a new version; If-Match or `version` for concurrency)"
    ),
    route!(
        Patch,
        "/clients/{client_id}",
        Clients,
        200,
        Required(schemas::client_patch),
        clients::patch,
        "Change a client's configuration with a JSON merge patch (a new version)"
    ),
    route!(
        Delete,
        "/clients/{client_id}",
        Clients,
        204,
        No,
        clients::delete,
        "Delete a client; its tokens stop working everywhere"
    ),
    route!(
        Post,
        "/clients/{client_id}/disable",
        Clients,
        200,
        No,
        clients::disable,
        "Disable a client; its tokens stop working everywhere"
    ),
    route!(
        Post,
        "/clients/{client_id}/enable",
        Clients,
        200,
        No,
        clients::enable,
        "Enable a client again (lifting any lockout)"
    ),
    route!(
        Get,
        "/clients/{client_id}/versions",
        Clients,
        200,
        No,
        clients::versions,
        "List a client's configuration versions, newest first"
    ),
    route!(
        Get,
        "/clients/{client_id}/versions/{version}",
        Clients,
        200,
        No,
        clients::version,
        "Read one configuration version"
    ),
    route!(
        Post,
        "/clients/{client_id}/rollback",
        Clients,
        200,
        Required(schemas::rollback),
        clients::rollback,
        "Write version n's configuration as the next version"
    ),
    route!(
        Post,
        "/clients/{client_id}/secrets",
        Clients,
        201,
        Optional(schemas::new_secret),
        client_secrets::add,
        "Add a secret (shown once, optional expiry); the others keep working"
    ),
    route!(
        Delete,
        "/clients/{client_id}/secrets/{secret_id}",
        Clients,
        204,
        No,
        client_secrets::revoke,
        "Revoke one secret"
    ),
    route!(
        Get,
        "/clients/{client_id}/usage",
        Monitoring,
        200,
        No,
        usage::client,
        "A client's requests, errors by class, tokens issued and latency, step by step"
    ),
    route!(
        Get,
        "/clients/{client_id}/baselines",
        Monitoring,
        200,
        No,
        unusual::baselines,
        "What is usual for a client: each signal's baseline, what judges it now, its last hours learnt"
    ),
    route!(Get, "/keys", Keys, 200, No, keys::list, "List the signing keys (never a private part)"),
    route!(
        Post,
        "/keys",
        Keys,
        201,
        Required(schemas::key_algorithm),
        keys::create,
        "Stage a next key: published, not signing"
    ),
    route!(
        Post,
        "/keys/rotate",
        Keys,
        200,
        Required(schemas::key_algorithm),
        keys::rotate,
        "Create a key and make it the active one (it signs once published on every instance, 2 s), retiring the previous one"
    ),
    route!(
        Post,
        "/keys/{kid}/activate",
        Keys,
        200,
        No,
        keys::activate,
        "Make a next key the signer and retire the previous one"
    ),
    route!(
        Delete,
        "/keys/{kid}",
        Keys,
        200,
        No,
        keys::revoke,
        "Revoke a key at once (an active key is replaced)"
    ),
    route!(Get, "/users", Users, 200, No, users::list, "List users (filter by username, paginated)"),
    route!(
        Post,
        "/users",
        Users,
        201,
        Required(schemas::new_user),
        users::create,
        "Create a user; a generated password is shown once"
    ),
    route!(Get, "/users/{user_id}", Users, 200, No, users::get, "Read a user"),
    route!(
        Patch,
        "/users/{user_id}",
        Users,
        200,
        Required(schemas::user_claims),
        users::update,
        "Replace a user's standard claims"
    ),
    route!(
        Put,
        "/users/{user_id}/password",
        Users,
        204,
        Required(schemas::user_password),
        users::set_password,
        "Set a user's password"
    ),
    route!(
        Post,
        "/users/{user_id}/disable",
        Users,
        200,
        No,
        users::disable,
        "Disable a user: sessions end, refresh families are revoked"
    ),
    route!(Post, "/users/{user_id}/enable", Users, 200, No, users::enable, "Enable a user again"),
    route!(
        Put,
        "/users/{user_id}/attributes",
        Users,
        200,
        Required(schemas::user_attribute_values),
        users::set_attributes,
        "Replace a user's custom attribute values (each checked against the schema)"
    ),
    route!(
        Get,
        "/user-attributes",
        Users,
        200,
        No,
        user_attributes::list,
        "The custom user attribute schema: each attribute's name, type and description"
    ),
    route!(
        Post,
        "/user-attributes",
        Users,
        201,
        Required(schemas::user_attribute),
        user_attributes::define,
        "Define a custom user attribute (string, number, boolean or strings)"
    ),
    route!(
        Delete,
        "/user-attributes/{name}",
        Users,
        200,
        No,
        user_attributes::remove,
        "Remove a custom user attribute, and its value from every user"
    ),
    route!(
        Get,
        "/users/{user_id}/admin-roles",
        Users,
        200,
        No,
        admin_roles::list,
        "A user's admin roles (who may use the console, and with which permissions)"
    ),
    route!(
        Put,
        "/users/{user_id}/admin-roles/{role}",
        Users,
        200,
        No,
        admin_roles::grant,
        "Grant a user an admin role (the granter must hold it)"
    ),
    route!(
        Delete,
        "/users/{user_id}/admin-roles/{role}",
        Users,
        200,
        No,
        admin_roles::withdraw,
        "Withdraw an admin role (the withdrawer must hold every role of the user)"
    ),
    route!(
        Post,
        "/users/{user_id}/second-factor/reset",
        Users,
        204,
        No,
        admin_roles::reset_second_factor,
        "Reset a user's second factor: sessions end, the user enrols again"
    ),
    route!(
        Get,
        "/audit-logs",
        Audit,
        200,
        No,
        audit_logs::list,
        "Read the audit log (filters, cursor, JSON / JSON lines / CSV)"
    ),
    route!(
        Get,
        "/usage",
        Monitoring,
        200,
        No,
        usage::summary,
        "Usage of every client: totals, top clients by requests and by error rate"
    ),
    route!(
        Get,
        "/unusual",
        Monitoring,
        200,
        No,
        unusual::now,
        "Every client an anomaly rule fires for now (`team` narrows them), with why and its last hours against what is usual"
    ),
    route!(
        Get,
        "/webhooks",
        Monitoring,
        200,
        No,
        webhooks::list,
        "List webhook endpoints (never their secrets)"
    ),
    route!(
        Post,
        "/webhooks",
        Monitoring,
        201,
        Required(schemas::new_webhook),
        webhooks::create,
        "Register a webhook endpoint (https, or http to loopback); its signing secret is shown once"
    ),
    route!(Get, "/webhooks/{webhook_id}", Monitoring, 200, No, webhooks::get, "Read a webhook endpoint"),
    route!(
        Patch,
        "/webhooks/{webhook_id}",
        Monitoring,
        200,
        Required(schemas::webhook_change),
        webhooks::update,
        "Change a webhook endpoint's URL, events, description or state"
    ),
    route!(
        Delete,
        "/webhooks/{webhook_id}",
        Monitoring,
        204,
        No,
        webhooks::delete,
        "Delete a webhook endpoint and its deliveries"
    ),
    route!(
        Post,
        "/webhooks/{webhook_id}/test",
        Monitoring,
        202,
        No,
        webhooks::test,
        "Queue a webhook.test event for this endpoint"
    ),
    route!(
        Get,
        "/webhooks/{webhook_id}/deliveries",
        Monitoring,
        200,
        No,
        webhooks::deliveries,
        "The endpoint's delivery log, newest first: status, attempts, last status and error"
    ),
    route!(
        Get,
        "/compliance/{template}",
        Monitoring,
        200,
        No,
        compliance::report,
        "A compliance report (soc2, gdpr, pci-dss, fapi2): each control's checks of the live configuration, JSON or CSV"
    ),
    route!(Get, "/alert-rules", Monitoring, 200, No, alert_rules::list, "List alert rules and their firing subjects"),
    route!(
        Post,
        "/alert-rules",
        Monitoring,
        201,
        Required(schemas::alert_rule),
        alert_rules::create,
        "Create an alert rule: error_rate, auth_failures, login_failures, outside_cidrs, outside_countries, consecutive_failures, malformed_requests or anomaly"
    ),
    route!(
        Get,
        "/alert-rules/{rule_id}",
        Monitoring,
        200,
        No,
        alert_rules::get,
        "Read an alert rule and its firing subjects"
    ),
    route!(
        Put,
        "/alert-rules/{rule_id}",
        Monitoring,
        200,
        Required(schemas::alert_rule),
        alert_rules::replace,
        "Replace an alert rule's kind, parameters, description and state (a rule that acts on clients needs admin:clients too)"
    ),
    route!(
        Delete,
        "/alert-rules/{rule_id}",
        Monitoring,
        204,
        No,
        alert_rules::delete,
        "Delete an alert rule (one that acts on clients needs admin:clients too)"
    ),
    route!(
        Get,
        "/initial-access-tokens",
        Clients,
        200,
        No,
        initial_access_tokens::list,
        "List initial access tokens for dynamic registration (never their values)"
    ),
    route!(
        Post,
        "/initial-access-tokens",
        Clients,
        201,
        Required(schemas::initial_access_token),
        initial_access_tokens::issue,
        "Issue an initial access token (RFC 7591 §3) with a registration policy, expiry and use count; its value is shown once"
    ),
    route!(
        Delete,
        "/initial-access-tokens/{token_id}",
        Clients,
        204,
        No,
        initial_access_tokens::revoke,
        "Revoke an initial access token: it admits no more registrations"
    ),
    route!(
        Get,
        "/remediations",
        Monitoring,
        200,
        No,
        remediations::list,
        "What alert rules did to clients (lock, disable, revoke_tokens), newest first"
    ),
    route!(
        Post,
        "/remediations/{remediation_id}/undo",
        Clients,
        200,
        No,
        remediations::undo,
        "Undo what a rule did: lift the lock, enable the client, or restore its tokens"
    ),
    route!(Get, "/teams", Users, 200, No, teams::list, "List teams, by name"),
    route!(
        Post,
        "/teams",
        Users,
        201,
        Required(schemas::new_team),
        teams::create,
        "Create a team with a policy bounding what its members may set"
    ),
    route!(Get, "/teams/{team_id}", Users, 200, No, teams::get, "Read a team, its members and open invitations"),
    route!(
        Put,
        "/teams/{team_id}/policy",
        Users,
        200,
        Required(schemas::team_policy),
        teams::set_policy,
        "Replace a team's policy (its members' later changes follow it)"
    ),
    route!(
        Post,
        "/teams/{team_id}/invitations",
        Users,
        201,
        Required(schemas::invitation),
        teams::invite,
        "Invite someone to a team by a one-time link, shown once"
    ),
    route!(
        Delete,
        "/teams/{team_id}/invitations/{invitation_id}",
        Users,
        204,
        No,
        teams::withdraw_invitation,
        "Withdraw an open invitation"
    ),
    route!(
        Put,
        "/teams/{team_id}/members/{user_id}",
        Users,
        204,
        Required(schemas::member_role),
        teams::set_role,
        "Give a member another role (a team keeps an owner)"
    ),
    route!(
        Delete,
        "/teams/{team_id}/members/{user_id}",
        Users,
        204,
        No,
        teams::remove_member,
        "Remove a member from a team"
    ),
    route!(
        Post,
        "/teams/{team_id}/clients",
        Clients,
        201,
        Required(|| schemas::client_metadata(false)),
        clients::create_in_team,
        "Register a client that belongs to a team; its secret is shown once"
    ),
    route!(
        Get,
        "/clients/{client_id}/scope-requests",
        Clients,
        200,
        No,
        teams::of_client,
        "A team client's latest scope requests, newest first"
    ),
    route!(
        Get,
        "/scope-requests",
        Clients,
        200,
        No,
        teams::pending,
        "Scope requests waiting for an admin's approval, oldest first"
    ),
    route!(
        Post,
        "/scope-requests/{request_id}/approve",
        Clients,
        200,
        Optional(schemas::decision),
        teams::approve,
        "Approve a scope request: the client holds the scopes, as a new version"
    ),
    route!(
        Post,
        "/scope-requests/{request_id}/reject",
        Clients,
        200,
        Optional(schemas::decision),
        teams::reject,
        "Reject a scope request"
    ),
    route!(
        Get,
        "/personal-tokens",
        Users,
        200,
        No,
        teams::personal_tokens,
        "Every personal access token, with whose it is and its last use (never a value)"
    ),
    route!(
        Delete,
        "/personal-tokens/{token_id}",
        Users,
        204,
        No,
        teams::revoke_personal_token,
        "Revoke a personal access token; it stops working at once"
    ),
    route!(
        Get,
        "/teams/{team_id}/initial-access-tokens",
        Users,
        200,
        No,
        initial_access_tokens::list_of_team,
        "A team's initial access tokens, newest first (never their values)"
    ),
    route!(
        Post,
        "/teams/{team_id}/initial-access-tokens",
        Users,
        201,
        Required(schemas::team_initial_access_token),
        initial_access_tokens::issue_for_team,
        "Issue a team's initial access token: the clients it registers land in the team and follow its policy"
    ),
];

pub(crate) use route;

/// Mounts every route of `routes` on `scope`; a path called with a method
/// it does not have answers 405 with `Allow`.
pub fn mount(scope: actix_web::Scope, routes: &'static [AdminRoute]) -> actix_web::Scope {
    let table: Vec<_> = routes.iter().map(|route| (route.path, route.verb, route.route)).collect();
    resources(&table).into_iter().fold(scope, actix_web::Scope::service)
}

/// A path, a method, and the route serving it.
pub type Served = (&'static str, Verb, fn() -> Route);

/// The resources serving `routes` (each a path, a method and its route):
/// one a path, in table order, so a fixed path (`/keys/rotate`) is mounted
/// before a pattern that would also match it (`/keys/{kid}`); a path
/// called with a method it does not have answers 405 with `Allow`.
pub fn resources(routes: &[Served]) -> Vec<actix_web::Resource> {
    let mut seen = std::collections::BTreeSet::new();
    let paths: Vec<&str> = routes.iter().map(|(path, ..)| *path).filter(|path| seen.insert(*path)).collect();
    paths
        .into_iter()
        .map(|path| {
            let mut resource = web::resource(path);
            let mut allowed = Vec::new();
            for (_, verb, route) in routes.iter().filter(|(at, ..)| *at == path) {
                resource = resource.route(route());
                allowed.push(verb.as_str());
            }
            resource.default_service(crate::allowed_methods::refuse_except(allowed.join(", ")))
        })
        .collect()
}
