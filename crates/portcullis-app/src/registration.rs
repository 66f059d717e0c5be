//! Clients that register themselves (RFC 7591) and manage their own
//! registration (RFC 7592), and the initial access tokens admins issue for
//! it.
//!
//! A registration is admitted by an initial access token (its policy, a use
//! of it) or by open registration (the anonymous policy); either way it is
//! checked as an admin's client is, then against the policy, and audited as
//! `client.registered` with what admitted it as the actor. The client gets a
//! registration access token, stored only as SHA-256 with the policy: it
//! reads, replaces and deletes this one client, and each use replaces it
//! (the old one stops working), since RFC 7592 §3 hands it back in every
//! response and a hash cannot be handed back.

use crate::clients::changes::Landing;
use crate::clients::scope_requests::file as file_scope_request;
use crate::clients::{find, new_client_id, parse_metadata, remove, view_of, ClientView};
use crate::secrets;
use crate::transaction::{Attempt, Tx};
use crate::{time, Actor, App, AppError, Event, Permission};
use chrono::{DateTime, Utc};
use portcullis_core::client_fields::is_short_text;
use portcullis_core::team::TeamPermission;
use portcullis_core::{ClientSecret, RegistrationPolicy, RegistrationToken};
use portcullis_store::registrations::{self as stored, InitialAccessTokenRecord, RegistrationRecord};
use portcullis_store::teams::{self, TeamRecord};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::net::IpAddr;

/// What admits a registration.
pub enum Admission<'a> {
    /// An initial access token, as presented.
    Token(&'a str),
    /// Open registration, under this policy (`--registration open`).
    Open(&'a RegistrationPolicy),
}

/// What an admin asks for when issuing an initial access token.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitialAccessTokenRequest {
    /// What it is for (whom it was given to), 1 to 200 characters.
    pub description: String,
    /// What the clients it admits may be; when left out, what an admin could register.
    #[serde(default)]
    pub policy: RegistrationPolicy,
    /// When it stops admitting (RFC 3339); never when left out.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// How many registrations it admits; unlimited when left out.
    #[serde(default)]
    pub max_uses: Option<i64>,
}

/// An initial access token as views show it: never its value.
#[derive(Clone, Debug, Serialize)]
pub struct InitialAccessTokenView {
    /// Its id, to revoke it by.
    pub token_id: String,
    /// What it is for.
    pub description: String,
    /// What the clients it admits may be.
    pub policy: RegistrationPolicy,
    /// Who issued it.
    pub created_by: String,
    /// When.
    pub created_at: String,
    /// When it stops admitting, if ever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// How many registrations it admits at most.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<i64>,
    /// How many it admitted.
    pub uses: i64,
    /// When it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// `active`, `expired`, `used_up` or `revoked`.
    pub state: &'static str,
    /// The team its clients land in, following its policy, if a team's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
}

/// An initial access token just issued, with its value, shown this once.
#[derive(Debug)]
pub struct IssuedInitialAccessToken {
    /// The token.
    pub token: InitialAccessTokenView,
    /// Its value.
    pub value: RegistrationToken,
}

/// A client as its registrant reads it (RFC 7591 §3.2.1, RFC 7592 §3).
#[derive(Debug)]
pub struct RegisteredClient {
    /// The client.
    pub client: ClientView,
    /// Its secret, when it was just registered with one.
    pub secret: Option<ClientSecret>,
    /// Its new registration access token; the one presented no longer works.
    pub registration_token: RegistrationToken,
    /// When it registered (`client_id_issued_at`).
    pub issued_at: DateTime<Utc>,
}

/// Members of a registration response the client must not send back in an
/// update (RFC 7592 §2.2).
const NOT_IN_UPDATES: [&str; 4] = [
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
];

fn state(record: &InitialAccessTokenRecord, now: DateTime<Utc>) -> &'static str {
    if record.revoked_at.is_some() {
        "revoked"
    } else if record.expires_at.is_some_and(|at| at <= now) {
        "expired"
    } else if record.max_uses.is_some_and(|max| record.uses >= max) {
        "used_up"
    } else {
        "active"
    }
}

fn token_view(record: InitialAccessTokenRecord, now: DateTime<Utc>) -> InitialAccessTokenView {
    InitialAccessTokenView {
        state: state(&record, now),
        token_id: record.token_id,
        description: record.description,
        policy: record.policy,
        created_by: record.created_by,
        created_at: time(record.created_at),
        expires_at: record.expires_at.map(time),
        max_uses: record.max_uses,
        uses: record.uses,
        revoked_at: record.revoked_at.map(time),
        team_id: record.team_id,
    }
}

/// The one refusal of a token that does not admit: the same whatever the
/// reason, so a caller learns nothing about tokens it does not hold.
fn not_admitted(what: &str) -> AppError {
    AppError::Unauthenticated(format!("the {what} is not valid, or no longer"))
}

/// Issues the initial access token `request` asks for, of `team` if any, in `tx`.
fn issue(
    tx: &mut Tx<'_>,
    actor: &Actor,
    request: &InitialAccessTokenRequest,
    team: Option<&TeamRecord>,
) -> Result<IssuedInitialAccessToken, AppError> {
    let description = request.description.trim();
    if !is_short_text(description, 200) {
        return Err(AppError::Invalid("description: 1 to 200 characters without control characters".into()));
    }
    request.policy.validate()?;
    let expires_at = match &request.expires_at {
        Some(at) => Some(
            DateTime::parse_from_rfc3339(at)
                .map(|at| at.with_timezone(&Utc))
                .ok()
                .filter(|at| *at > tx.now)
                .ok_or_else(|| {
                    AppError::Invalid(
                        "expires_at: an RFC 3339 time in the future, e.g. 2027-01-31T00:00:00Z".into(),
                    )
                })?,
        ),
        None => None,
    };
    if request.max_uses.is_some_and(|max| !(1..=1_000_000).contains(&max)) {
        return Err(AppError::Invalid("max_uses: 1 to 1000000".into()));
    }
    let (value, hash) = new_token();
    let token_id = format!("iat_{}", uuid::Uuid::new_v4().simple());
    stored::issue(
        tx.conn,
        &stored::NewInitialAccessToken {
            token_id: &token_id,
            token_hash: &hash,
            description,
            policy: team.map_or(&request.policy, |team| &team.policy.clients),
            created_by: &actor.name(),
            created_at: tx.now,
            expires_at,
            max_uses: request.max_uses,
            team_id: team.map(|team| team.team_id.as_str()),
        },
    )?;
    tx.emit(Event::InitialAccessTokenIssued {
        token_id: token_id.clone(),
        description: description.to_owned(),
        team_id: team.map(|team| team.team_id.clone()),
    });
    let record = stored::find_by_hash(tx.conn, &hash)?
        .ok_or_else(|| AppError::Corrupt(format!("initial access token {token_id} was not written")))?;
    Ok(IssuedInitialAccessToken { token: token_view(record, tx.now), value })
}

/// The party managing the client `client_id` with its registration access token.
fn registrant(client_id: &str, address: Option<IpAddr>) -> Actor {
    Actor::Registrant { via: format!("client {client_id}"), address }
}

/// A new registration access token and its hash.
fn new_token() -> (RegistrationToken, Vec<u8>) {
    let token = RegistrationToken::new(secrets::random_token());
    let hash = secrets::hash(token.expose()).to_vec();
    (token, hash)
}

impl App {
    /// The policy of open registration (`--registration open`) on this
    /// server: the anonymous one, with the API scopes it is configured with.
    pub fn anonymous_registration_policy(&self) -> RegistrationPolicy {
        RegistrationPolicy::anonymous(self.scopes.api())
    }

    /// Issues an initial access token; its value is shown this once.
    pub fn issue_initial_access_token(
        &self,
        actor: &Actor,
        request: InitialAccessTokenRequest,
    ) -> Result<IssuedInitialAccessToken, AppError> {
        let attempt =
            Attempt { permission: Permission::Clients, action: "initial_access_token.issued", target: "" };
        self.change(actor, attempt, |tx| issue(tx, actor, &request, None))
    }

    /// Issues an initial access token of team `team_id` (its owners and
    /// admins): the clients it admits land in the team and follow the
    /// team's policy as it stands when they register; its value is shown
    /// this once.
    pub fn issue_team_initial_access_token(
        &self,
        actor: &Actor,
        team_id: &str,
        request: InitialAccessTokenRequest,
    ) -> Result<IssuedInitialAccessToken, AppError> {
        let action = ("initial_access_token.issued", team_id);
        self.team_change(actor, action, Some(TeamPermission::Members), |tx, team, _| {
            if !request.policy.is_unrestricted() {
                return Err(AppError::InvalidMetadata {
                    field: "policy".into(),
                    message: "a team's token follows the team's policy; leave it out".into(),
                });
            }
            issue(tx, actor, &request, Some(team))
        })
    }

    /// The initial access tokens of team `team_id`, newest first.
    pub fn team_initial_access_tokens(
        &self,
        actor: &Actor,
        team_id: &str,
    ) -> Result<Vec<InitialAccessTokenView>, AppError> {
        let now = self.clock.now();
        self.team_read(actor, team_id, TeamPermission::Members, |conn, team| {
            Ok(stored::all(conn, Some(&team.team_id))?
                .into_iter()
                .map(|record| token_view(record, now))
                .collect())
        })
    }

    /// Every initial access token, newest first.
    pub fn initial_access_tokens(&self, actor: &Actor) -> Result<Vec<InitialAccessTokenView>, AppError> {
        let now = self.clock.now();
        self.read(actor, Permission::Clients, |conn| {
            Ok(stored::all(conn, None)?.into_iter().map(|record| token_view(record, now)).collect())
        })
    }

    /// Revokes an initial access token (an admin, or an owner of its
    /// team): it admits no more registrations; the clients it admitted stay.
    pub fn revoke_initial_access_token(&self, actor: &Actor, token_id: &str) -> Result<(), AppError> {
        let attempt = Attempt {
            permission: Permission::Clients,
            action: "initial_access_token.revoked",
            target: token_id,
        };
        let gone = || AppError::NotFound(format!("there is no initial access token {token_id} to revoke"));
        let done = self.commit(actor, |tx| {
            // A team's token is its owners' and the admins who run teams, as
            // issuing it is; any other, the admins who run clients'.
            match stored::find_token(tx.conn, token_id)?.and_then(|token| token.team_id) {
                Some(team_id) => {
                    crate::teams::reach(tx.conn, actor, &team_id, Some(TeamPermission::Members))
                        .map_err(|e| if matches!(e, AppError::NotFound(_)) { gone() } else { e })?;
                }
                None if actor.portal_user().is_some() => return Err(gone()),
                None => actor.require(Permission::Clients)?,
            }
            if !stored::revoke(tx.conn, token_id, tx.now)? {
                return Err(gone());
            }
            tx.emit(Event::InitialAccessTokenRevoked { token_id: token_id.to_owned() });
            Ok(())
        });
        if let Some(error) = done.as_ref().err().filter(|error| error.is_refusal()) {
            self.audit_refusal(actor, &attempt, error);
        }
        done
    }

    /// Registers a client from an RFC 7591 request, admitted as `admission`
    /// says, from `address`.
    pub fn register_client(
        &self,
        admission: Admission<'_>,
        address: Option<IpAddr>,
        request: Map<String, Value>,
    ) -> Result<RegisteredClient, AppError> {
        let (token_id, policy, team_id, admitted_by) = match admission {
            Admission::Token(presented) => {
                let found = stored::find_by_hash(&mut *self.db.get()?, &secrets::hash(presented))?;
                let record = found
                    .filter(|record| state(record, self.clock.now()) == "active")
                    .ok_or_else(|| not_admitted("initial access token"))?;
                let admitted_by = format!("initial access token {}", record.token_id);
                (Some(record.token_id), record.policy, record.team_id, admitted_by)
            }
            Admission::Open(policy) => (None, policy.clone(), None, "open registration".to_owned()),
        };
        let actor = Actor::Registrant { via: admitted_by.clone(), address };
        self.commit(&actor, |tx| {
            // A team's token follows the team's policy as it stands now.
            let team = match &team_id {
                Some(team_id) => {
                    Some(teams::find(tx.conn, team_id)?.ok_or_else(|| not_admitted("initial access token"))?)
                }
                None => None,
            };
            let policy = team.as_ref().map_or_else(|| policy.clone(), |team| team.policy.clients.clone());
            // A registration that fails leaves the use untaken: the transaction rolls back.
            if let Some(token_id) = &token_id {
                if !stored::take_use(tx.conn, token_id, tx.now)? {
                    return Err(not_admitted("initial access token"));
                }
            }
            let metadata = parse_metadata(policy.requested(request), &self.scopes)?;
            let client_id = new_client_id();
            let (metadata, asked, landing) = match &team {
                Some(team) => {
                    let (metadata, asked) = crate::clients::changes::bounded(team, None, metadata)?;
                    crate::clients::changes::ensure_room(tx.conn, team)?;
                    (metadata, asked, Some(Landing { team, bounded: true }))
                }
                None => {
                    policy.admits(&metadata)?;
                    (metadata, Vec::new(), None)
                }
            };
            let created =
                self.register(tx, &actor, &metadata, client_id.clone(), Some(&admitted_by), landing)?;
            if let Some(team) = &team {
                if !asked.is_empty() {
                    file_scope_request(tx, &actor, (client_id.as_str(), &team.team_id), asked)?;
                }
            }
            let (registration_token, token_hash) = new_token();
            let record = RegistrationRecord {
                client_id: client_id.as_str().to_owned(),
                token_hash,
                admitted_by: admitted_by.clone(),
                policy: policy.clone(),
                created_at: tx.now,
                token_issued_at: tx.now,
            };
            stored::record(tx.conn, &record)?;
            let client = view_of(tx.conn, client_id.as_str())?;
            Ok(RegisteredClient { client, secret: created.secret, registration_token, issued_at: tx.now })
        })
    }

    /// Reads the client `client_id` for the holder of its registration
    /// access token `presented` (RFC 7592 §2.1).
    pub fn registered_client(
        &self,
        client_id: &str,
        presented: &str,
        address: Option<IpAddr>,
    ) -> Result<RegisteredClient, AppError> {
        self.manage(client_id, presented, address, |_, _, _, current| Ok(current))
    }

    /// Replaces the configuration of `client_id` with `request` for the
    /// holder of its registration access token (RFC 7592 §2.2): a new
    /// version, checked against the policy that admitted it; members left
    /// out are removed (or take their defaults).
    pub fn update_registered_client(
        &self,
        client_id: &str,
        presented: &str,
        address: Option<IpAddr>,
        request: Map<String, Value>,
    ) -> Result<RegisteredClient, AppError> {
        if request.get("client_id").and_then(Value::as_str) != Some(client_id) {
            return Err(AppError::Invalid(
                "client_id: an update carries the client's own client_id (RFC 7592 §2.2)".into(),
            ));
        }
        if let Some(name) = NOT_IN_UPDATES.iter().find(|name| request.contains_key(**name)) {
            return Err(AppError::Invalid(format!("{name}: an update must not carry it (RFC 7592 §2.2)")));
        }
        let presented_secret =
            request.get("client_secret").map(|s| s.as_str().unwrap_or_default().to_owned());
        self.manage(client_id, presented, address, |app, tx, registration, current| {
            if let Some(secret) = &presented_secret {
                let record = find(tx.conn, client_id)?;
                let hashes = record.secrets.iter().map(|s| s.secret_hash.as_slice());
                if !secrets::matches_any(secret, hashes) {
                    return Err(AppError::Invalid(
                        "client_secret: when sent, it must be the client's current secret (RFC 7592 §2.2)"
                            .into(),
                    ));
                }
            }
            // A team's client follows the team's policy as it stands now.
            let team = match &current.team_id {
                Some(team_id) => teams::find(tx.conn, team_id)?,
                None => None,
            };
            let policy = team.as_ref().map_or(&registration.policy, |team| &team.policy.clients);
            let metadata = parse_metadata(policy.requested(request), &app.scopes)?;
            let (metadata, asked) = match &team {
                Some(team) => crate::clients::changes::bounded(team, Some(&current.metadata), metadata)?,
                None => {
                    registration.policy.admits(&metadata)?;
                    (metadata, Vec::new())
                }
            };
            let (before, after) =
                (current.metadata.token_endpoint_auth_method, metadata.token_endpoint_auth_method);
            if before.uses_secret() != after.uses_secret() {
                // A secret is shown only at registration: a switch would leave a
                // confidential client without one, or a public one with stale ones.
                return Err(AppError::InvalidMetadata {
                    field: "token_endpoint_auth_method".into(),
                    message: format!(
                        "cannot change from {} to {}: whether a client holds a secret is fixed at registration; register a new client",
                        before.as_str(),
                        after.as_str()
                    ),
                });
            }
            if (&current.metadata.subject_type, current.metadata.sector()) != (&metadata.subject_type, metadata.sector()) {
                // OpenID Connect Core §8.1: a user's subject at the client is fixed
                // by its sector; moving it would hand the client other subjects.
                return Err(AppError::InvalidMetadata {
                    field: "subject_type".into(),
                    message: "the subject type and the sector (sector_identifier_uri, or the redirect URIs' host) are fixed at registration; register a new client".into(),
                });
            }
            let registrant = registrant(client_id, address);
            let client = app.reconfigure(tx, &registrant, current, &metadata)?;
            match team.filter(|_| !asked.is_empty()) {
                Some(team) => {
                    file_scope_request(tx, &registrant, (client_id, &team.team_id), asked)?;
                    view_of(tx.conn, client_id)
                }
                None => Ok(client),
            }
        })
    }

    /// Deletes the client `client_id` for the holder of its registration
    /// access token (RFC 7592 §2.3): its tokens stop working everywhere.
    pub fn delete_registered_client(
        &self,
        client_id: &str,
        presented: &str,
        address: Option<IpAddr>,
    ) -> Result<(), AppError> {
        // Checked before the change takes the audit log's head: a wrong token waits on nothing.
        authenticate(&mut *self.db.get()?, client_id, presented)?;
        self.commit(&registrant(client_id, address), |tx| {
            authenticate(tx.conn, client_id, presented)?;
            remove(tx, client_id)
        })
    }

    /// Runs `work` on the client `client_id` for the holder of its
    /// registration access token, then replaces the token.
    fn manage(
        &self,
        client_id: &str,
        presented: &str,
        address: Option<IpAddr>,
        work: impl FnOnce(&Self, &mut Tx<'_>, &RegistrationRecord, ClientView) -> Result<ClientView, AppError>,
    ) -> Result<RegisteredClient, AppError> {
        authenticate(&mut *self.db.get()?, client_id, presented)?;
        self.commit(&registrant(client_id, address), |tx| {
            let registration = authenticate(tx.conn, client_id, presented)?;
            let current = view_of(tx.conn, client_id)?;
            let client = work(self, tx, &registration, current)?;
            let (registration_token, hash) = new_token();
            stored::replace_token(tx.conn, client_id, &hash, tx.now)?;
            Ok(RegisteredClient {
                client,
                secret: None,
                registration_token,
                issued_at: registration.created_at,
            })
        })
    }
}

/// The registration of `client_id`, when `presented` is its registration
/// access token and the client is still there and enabled (RFC 7592 §3: a
/// token of a client that is gone is refused; an admin's disabling stops
/// its own management too).
fn authenticate(
    conn: &mut portcullis_store::DbConnection,
    client_id: &str,
    presented: &str,
) -> Result<RegistrationRecord, AppError> {
    let registration = stored::find(conn, client_id)?
        .filter(|r| secrets::matches_any(presented, [r.token_hash.as_slice()]))
        .ok_or_else(|| not_admitted("registration access token"))?;
    match portcullis_store::clients::find(conn, client_id)? {
        Some(client) if client.disabled_at.is_none() => Ok(registration),
        _ => Err(not_admitted("registration access token")),
    }
}
