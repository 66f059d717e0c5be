//! Clients: registering, reading, changing (every change an immutable
//! version), rolling back, disabling and deleting them. Concurrent changes
//! are decided by the version they were based on; no change may leave the
//! server without an enabled admin client.

pub(crate) mod changes;
mod policy;
pub(crate) mod reach;
pub(crate) mod scope_requests;

pub use changes::{draft, ClientChange, ClientDraft, CreatedClient};
pub(crate) use changes::{new_client_id, remove};
pub use policy::is_last_admin;
pub use policy::{check, parse_metadata, summary, ChangePolicy, KnownScopes};
pub(crate) use policy::{holds_admin, is_durable_admin};
pub use scope_requests::ScopeRequestView;

use crate::{time, Actor, App, AppError, Permission};
use portcullis_core::team::TeamPermission;
use portcullis_core::ClientMetadata;
use portcullis_store::clients::{self as stored, ClientRecord, VersionRecord};
use portcullis_store::DbConnection;
use serde::Serialize;

/// A change of a client as saving it would write it ([`App::check_client_change`]).
#[derive(Debug)]
pub struct CheckedChange {
    /// The configuration written.
    pub metadata: ClientMetadata,
    /// The scopes left out, to wait for an admin's approval (a team
    /// member's change adding scopes its team's policy holds back), with
    /// those already waiting, whose request the change's replaces.
    pub waiting: Vec<String>,
}

/// A secret as views show it: never its value or hash.
#[derive(Clone, Debug, Serialize)]
pub struct SecretView {
    /// Its id, to revoke it by.
    pub secret_id: String,
    /// When it was added.
    pub created_at: String,
    /// When it stops working, if ever.
    pub expires_at: Option<String>,
}

/// A removed redirect URI in its grace period.
#[derive(Clone, Debug, Serialize)]
pub struct RetiredRedirectUri {
    /// The URI.
    pub redirect_uri: String,
    /// Until when it still works.
    pub valid_until: String,
}

/// A client: its current configuration (RFC 7591 names) with its state.
#[derive(Clone, Debug, Serialize)]
pub struct ClientView {
    /// Its id.
    pub client_id: String,
    /// The current configuration version.
    pub version: i64,
    /// Whether it is disabled.
    pub disabled: bool,
    /// Until when it is locked out after failed authentications, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<String>,
    /// Every token it was issued up to then is revoked (a rule's
    /// `revoke_tokens`), RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_revoked_before: Option<String>,
    /// When it was registered.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// Its configuration.
    #[serde(flatten)]
    pub metadata: ClientMetadata,
    /// Its secrets that are not revoked.
    pub secrets: Vec<SecretView>,
    /// Redirect URIs an update removed that still work until `valid_until`.
    pub retired_redirect_uris: Vec<RetiredRedirectUri>,
    /// How it registered itself (RFC 7591), when it did rather than an admin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration: Option<RegistrationView>,
    /// The team it belongs to; none for a client admins manage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    /// Scopes a member asked for that wait for an admin's approval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope_request: Option<ScopeRequestView>,
}

/// How a client registered itself.
#[derive(Clone, Debug, Serialize)]
pub struct RegistrationView {
    /// What admitted it: `initial access token <id>` or `open registration`.
    pub admitted_by: String,
    /// The policy its own updates follow.
    pub policy: portcullis_core::RegistrationPolicy,
}

/// A configuration version as the history lists it.
#[derive(Clone, Debug, Serialize)]
pub struct VersionView {
    /// Its number.
    pub version: i64,
    /// Who wrote it.
    pub author: String,
    /// When.
    pub created_at: String,
    /// What changed, in words.
    pub summary: String,
    /// The configuration, when one version is read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<ClientMetadata>,
}

/// Which clients to list.
#[derive(Clone, Debug, Default)]
pub struct ClientQuery {
    /// Only those whose name contains this (any case).
    pub name: Option<String>,
    /// Only disabled (`Some(true)`) or enabled (`Some(false)`) ones.
    pub disabled: Option<bool>,
    /// Only those that may use this grant.
    pub grant_type: Option<portcullis_core::GrantType>,
    /// Only those that authenticate this way.
    pub auth_method: Option<portcullis_core::TokenEndpointAuthMethod>,
    /// Only those of this team (a portal user must name one of theirs).
    pub team: Option<String>,
    /// Only those after this `client_id`.
    pub after: Option<String>,
    /// At most this many.
    pub limit: usize,
}

/// A page of clients, in `client_id` order.
#[derive(Clone, Debug, Serialize)]
pub struct ClientPage {
    /// The clients.
    pub clients: Vec<ClientView>,
    /// The last `client_id` of this page, when there are more.
    pub next_cursor: Option<String>,
}

/// The view of `record`, with how it registered itself, if it did, and its
/// pending scope request, if it has one.
pub(crate) fn view(conn: &mut DbConnection, record: ClientRecord) -> Result<ClientView, AppError> {
    let registration = portcullis_store::registrations::find(conn, &record.client_id)?
        .map(|r| RegistrationView { admitted_by: r.admitted_by, policy: r.policy });
    // Only a team's client has requests: an admin-managed one asks nothing more.
    let scope_request = match record.team_id {
        Some(_) => scope_requests::pending_view(conn, &record.client_id)?,
        None => None,
    };
    let metadata = record.metadata;
    Ok(ClientView {
        client_id: record.client_id,
        version: record.version,
        disabled: record.disabled_at.is_some(),
        locked_until: record.locked_until.map(time),
        tokens_revoked_before: record.tokens_revoked_before.map(time),
        created_at: time(record.created_at),
        updated_at: time(record.updated_at),
        metadata,
        secrets: record
            .secrets
            .into_iter()
            .map(|s| SecretView {
                secret_id: s.secret_id,
                created_at: time(s.created_at),
                expires_at: s.expires_at.map(time),
            })
            .collect(),
        retired_redirect_uris: record
            .retired_redirect_uris
            .into_iter()
            .map(|(redirect_uri, until)| RetiredRedirectUri { redirect_uri, valid_until: time(until) })
            .collect(),
        registration,
        team_id: record.team_id,
        scope_request,
    })
}

fn version_view(record: VersionRecord, with_metadata: bool) -> VersionView {
    let metadata = with_metadata.then_some(record.metadata);
    VersionView {
        version: record.version,
        author: record.author,
        created_at: time(record.created_at),
        summary: record.summary,
        metadata,
    }
}

/// The view of the client `client_id`, or [`AppError::NotFound`].
pub(crate) fn view_of(conn: &mut DbConnection, client_id: &str) -> Result<ClientView, AppError> {
    let record = find(conn, client_id)?;
    view(conn, record)
}

/// The client's record, or [`AppError::NotFound`].
pub(crate) fn find(conn: &mut DbConnection, client_id: &str) -> Result<ClientRecord, AppError> {
    stored::find(conn, client_id)?.ok_or_else(|| no_client(client_id))
}

/// That there is no client `client_id` (or none the actor may reach).
pub(crate) fn no_client(client_id: &str) -> AppError {
    AppError::NotFound(format!("there is no client {client_id}"))
}

impl App {
    /// One client.
    pub fn client(&self, actor: &Actor, client_id: &str) -> Result<ClientView, AppError> {
        self.client_read(actor, client_id, |conn| view_of(conn, client_id))
    }

    /// A page of clients: an admin's of all or of one team, a portal
    /// user's of one of their teams.
    pub fn clients(&self, actor: &Actor, query: &ClientQuery) -> Result<ClientPage, AppError> {
        let conn = &mut *self.db.get()?;
        match &query.team {
            Some(team_id) => drop(reach::reach_team(conn, actor, team_id, TeamPermission::Read)?),
            None => actor.require(Permission::Clients)?,
        }
        let name = query.name.as_deref().map(str::to_lowercase);
        let mut clients = Vec::new();
        let after =
            |r: &ClientRecord| query.after.as_deref().is_none_or(|after| r.client_id.as_str() > after);
        let records = match &query.team {
            Some(team_id) => stored::in_team(conn, team_id)?,
            None => stored::all(conn)?,
        };
        for record in records.into_iter().filter(after) {
            let metadata = &record.metadata;
            if name.as_deref().is_none_or(|name| metadata.client_name.to_lowercase().contains(name))
                && query.disabled.is_none_or(|disabled| record.disabled_at.is_some() == disabled)
                && query.grant_type.is_none_or(|grant| metadata.allows_grant(grant))
                && query.auth_method.is_none_or(|method| metadata.token_endpoint_auth_method == method)
            {
                clients.push(view(conn, record)?);
            }
            if clients.len() > query.limit {
                break;
            }
        }
        let next_cursor = (clients.len() > query.limit).then(|| {
            clients.truncate(query.limit);
            clients.last().map(|v| v.client_id.clone())
        });
        Ok(ClientPage { clients, next_cursor: next_cursor.flatten() })
    }

    /// `draft` checked as creating a client would check it, without
    /// writing anything: for trying a draft.
    pub fn check_client_draft(&self, actor: &Actor, draft: ClientDraft) -> Result<ClientMetadata, AppError> {
        actor.require(Permission::Clients)?;
        let draft = draft.read()?;
        check(&draft)?;
        self.scopes.check(&draft)?;
        policy::check_mapped_attributes(&mut *self.db.get()?, &draft)?;
        Ok(draft)
    }

    /// `draft` for `client_id` checked as [`App::update_client`] would
    /// check it, without writing anything: for reviewing a change. The one
    /// check it leaves to the change is that an admin client stays.
    pub fn check_client_change(
        &self,
        actor: &Actor,
        client_id: &str,
        draft: ClientDraft,
    ) -> Result<CheckedChange, AppError> {
        let conn = &mut *self.db.get()?;
        let reach = reach::reach(conn, actor, client_id, TeamPermission::Apps)?;
        crate::console::ensure_not_reserved(actor, client_id)?;
        let current = view_of(conn, client_id)?;
        let wanted = draft.read()?;
        check(&wanted)?;
        self.scopes.check(&wanted)?;
        policy::check_mapped_attributes(conn, &wanted)?;
        let (metadata, asked) = match reach.bounding_team() {
            Some(team) => changes::bounded(team, Some(&current.metadata), wanted)?,
            None => (wanted, Vec::new()),
        };
        let waiting = scope_requests::waiting_with_pending(conn, client_id, asked)?;
        Ok(CheckedChange { metadata, waiting })
    }

    /// Every configuration version of a client, newest first.
    pub fn client_versions(&self, actor: &Actor, client_id: &str) -> Result<Vec<VersionView>, AppError> {
        self.client_read(actor, client_id, |conn| {
            find(conn, client_id)?;
            Ok(stored::versions(conn, client_id)?.into_iter().map(|r| version_view(r, false)).collect())
        })
    }

    /// One configuration version, with its configuration.
    pub fn client_version(
        &self,
        actor: &Actor,
        client_id: &str,
        version: i64,
    ) -> Result<VersionView, AppError> {
        self.client_read(actor, client_id, |conn| {
            find(conn, client_id)?;
            let record = stored::version(conn, client_id, version)?
                .ok_or_else(|| AppError::NotFound(format!("client {client_id} has no version {version}")))?;
            Ok(version_view(record, true))
        })
    }
}
