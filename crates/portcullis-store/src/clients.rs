//! Repository of clients, their configuration versions and their secrets.
//! Configuration is stored as RFC 7591 JSON and read back as [`ClientMetadata`];
//! secrets arrive already hashed.

use crate::change_log::{self, ChangeKind};
use crate::schema::{client_secrets, client_versions, clients, retired_redirect_uris};
use crate::{json, DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use portcullis_core::ClientMetadata;

/// A client as the token service needs it: its current configuration and
/// its usable secrets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRecord {
    /// The client identifier.
    pub client_id: String,
    /// The number of the current configuration version (1 for a new client).
    pub version: i64,
    /// How many changes were logged for it (any of its state): of two
    /// reads, the one with the higher count is the newer.
    pub change_seq: i64,
    /// The current configuration (RFC 7591 names).
    pub metadata: ClientMetadata,
    /// When the client was disabled; `None` while it is enabled.
    pub disabled_at: Option<DateTime<Utc>>,
    /// When the client was created.
    pub created_at: DateTime<Utc>,
    /// When its configuration or state last changed.
    pub updated_at: DateTime<Utc>,
    /// Secrets that are not revoked (expiry is checked at use).
    pub secrets: Vec<SecretRecord>,
    /// Redirect URIs an update removed, each with the time it stops working.
    pub retired_redirect_uris: Vec<(String, DateTime<Utc>)>,
    /// Failed authentications in a row.
    pub failed_attempts: i64,
    /// When a lockout after failed authentications ends, if one was imposed.
    pub locked_until: Option<DateTime<Utc>>,
    /// Every token the client was issued up to then is revoked.
    pub tokens_revoked_before: Option<DateTime<Utc>>,
    /// Addresses locked out of the client now (an IPv4 address or an IPv6
    /// /64, as rate limits key them), each with the lockout's end.
    pub locked_addresses: Vec<(String, DateTime<Utc>)>,
    /// The team it belongs to; `None` for a client admins manage.
    pub team_id: Option<String>,
}

/// A stored client secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretRecord {
    /// The secret's own identifier, for listing and revoking it.
    pub secret_id: String,
    /// SHA-256 of the secret.
    pub secret_hash: Vec<u8>,
    /// When the secret was added.
    pub created_at: DateTime<Utc>,
    /// When it stops being accepted, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for SecretRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretRecord")
            .field("secret_id", &self.secret_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What creating a client writes.
pub struct NewClient<'a> {
    /// The new identifier.
    pub client_id: &'a str,
    /// Version 1 of the configuration.
    pub metadata: &'a ClientMetadata,
    /// Who creates it (an admin client id, or `cli`).
    pub author: &'a str,
    /// The first secret, for confidential clients.
    pub secret: Option<&'a SecretRecord>,
    /// The team it belongs to, if any.
    pub team_id: Option<&'a str>,
}

#[derive(Insertable)]
#[diesel(table_name = clients)]
struct ClientRow<'a> {
    client_id: &'a str,
    current_version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    team_id: Option<&'a str>,
}

#[derive(Insertable)]
#[diesel(table_name = client_versions)]
struct VersionRow<'a> {
    client_id: &'a str,
    version: i64,
    metadata: &'a str,
    author: &'a str,
    summary: &'a str,
    created_at: NaiveDateTime,
}

#[derive(Insertable, Queryable, Selectable)]
#[diesel(table_name = client_secrets)]
struct SecretRow {
    secret_id: String,
    client_id: String,
    secret_hash: Vec<u8>,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
}

impl From<SecretRow> for SecretRecord {
    fn from(row: SecretRow) -> Self {
        SecretRecord {
            secret_id: row.secret_id,
            secret_hash: row.secret_hash,
            created_at: row.created_at.and_utc(),
            expires_at: row.expires_at.map(|t| t.and_utc()),
        }
    }
}

/// Creates a client with configuration version 1 and its first secret, in
/// one transaction. An existing `client_id` is a [`StoreError::Conflict`].
pub fn create(conn: &mut DbConnection, new: &NewClient<'_>) -> Result<(), StoreError> {
    let now = Utc::now().naive_utc();
    let metadata = json::write("client_versions", new.metadata)?;
    conn.transaction(|conn| {
        diesel::insert_into(clients::table)
            .values(ClientRow {
                client_id: new.client_id,
                current_version: 1,
                created_at: now,
                updated_at: now,
                team_id: new.team_id,
            })
            .execute(conn)
            .map_err(StoreError::from_write)?;
        diesel::insert_into(client_versions::table)
            .values(VersionRow {
                client_id: new.client_id,
                version: 1,
                metadata: &metadata,
                author: new.author,
                summary: "created",
                created_at: now,
            })
            .execute(conn)?;
        if let Some(secret) = new.secret {
            insert_secret(conn, new.client_id, secret)?;
        }
        crate::lockouts::start(conn, new.client_id)?;
        change_log::append(conn, ChangeKind::Client, new.client_id, None)
    })
}

/// Adds a secret to a client; its other secrets stay valid. Returns `false`
/// when there is no such client.
pub fn add_secret(
    conn: &mut DbConnection,
    client_id: &str,
    secret: &SecretRecord,
) -> Result<bool, StoreError> {
    conn.transaction(|conn| {
        let exists =
            diesel::select(diesel::dsl::exists(clients::table.filter(clients::client_id.eq(client_id))))
                .get_result::<bool>(conn)?;
        if !exists {
            return Ok(false);
        }
        insert_secret(conn, client_id, secret)?;
        change_log::append(conn, ChangeKind::Client, client_id, None)?;
        Ok(true)
    })
}

/// Revokes every secret of a client and adds `secret` in their place, in
/// one transaction. Returns `false` when there is no such client.
pub fn replace_secrets(
    conn: &mut DbConnection,
    client_id: &str,
    secret: &SecretRecord,
) -> Result<bool, StoreError> {
    let now = Utc::now().naive_utc();
    conn.transaction(|conn| {
        let exists = diesel::select(diesel::dsl::exists(
            clients::table.filter(clients::client_id.eq(client_id)).filter(clients::deleted_at.is_null()),
        ))
        .get_result::<bool>(conn)?;
        if !exists {
            return Ok(false);
        }
        diesel::update(
            client_secrets::table
                .filter(client_secrets::client_id.eq(client_id))
                .filter(client_secrets::revoked_at.is_null()),
        )
        .set(client_secrets::revoked_at.eq(now))
        .execute(conn)?;
        insert_secret(conn, client_id, secret)?;
        change_log::append(conn, ChangeKind::Client, client_id, None)?;
        Ok(true)
    })
}

/// Revokes one secret of a client. Returns `false` when the client has no
/// such unrevoked secret.
pub fn revoke_secret(conn: &mut DbConnection, client_id: &str, secret_id: &str) -> Result<bool, StoreError> {
    let now = Utc::now().naive_utc();
    conn.transaction(|conn| {
        let revoked = diesel::update(
            client_secrets::table
                .filter(client_secrets::client_id.eq(client_id))
                .filter(client_secrets::secret_id.eq(secret_id))
                .filter(client_secrets::revoked_at.is_null()),
        )
        .set(client_secrets::revoked_at.eq(now))
        .execute(conn)?;
        if revoked == 1 {
            change_log::append(conn, ChangeKind::Client, client_id, None)?;
        }
        Ok(revoked == 1)
    })
}

fn insert_secret(conn: &mut DbConnection, client_id: &str, secret: &SecretRecord) -> Result<(), StoreError> {
    diesel::insert_into(client_secrets::table)
        .values(SecretRow {
            secret_id: secret.secret_id.clone(),
            client_id: client_id.to_owned(),
            secret_hash: secret.secret_hash.clone(),
            created_at: secret.created_at.naive_utc(),
            expires_at: secret.expires_at.map(|t| t.naive_utc()),
        })
        .execute(conn)?;
    Ok(())
}

/// One configuration version, as the history keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionRecord {
    /// Its number: 1 for the first, one more for each change.
    pub version: i64,
    /// The configuration (RFC 7591 names).
    pub metadata: ClientMetadata,
    /// Who wrote it (an admin client id, or `cli`).
    pub author: String,
    /// What changed, in words.
    pub summary: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = client_versions)]
struct StoredVersion {
    version: i64,
    metadata: String,
    author: String,
    summary: String,
    created_at: NaiveDateTime,
}

impl StoredVersion {
    fn read(self, client_id: &str) -> Result<VersionRecord, StoreError> {
        let StoredVersion { version, metadata, author, summary, created_at } = self;
        let metadata =
            json::read("client_versions", &format!("client {client_id} version {version}"), &metadata)?;
        Ok(VersionRecord { version, metadata, author, summary, created_at: created_at.and_utc() })
    }
}

/// A configuration version to write.
#[derive(Clone, Copy)]
pub struct NewVersion<'a> {
    /// The configuration.
    pub metadata: &'a ClientMetadata,
    /// Who writes it.
    pub author: &'a str,
    /// What changed, in words.
    pub summary: &'a str,
    /// The redirect URIs this version registers.
    pub kept_redirect_uris: &'a [String],
    /// Redirect URIs the version removes, which keep working until `retired_until`.
    pub retired_redirect_uris: &'a [String],
    /// When the removed redirect URIs stop working.
    pub retired_until: DateTime<Utc>,
}

/// What writing a new version found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionWrite {
    /// Written as this version, now current.
    Written(i64),
    /// The client's current version is not the one the change was based on.
    Stale {
        /// The version that is current.
        current: i64,
    },
    /// No such client (or it was deleted).
    NotFound,
}

/// Writes a new configuration version of `client_id`, based on version
/// `based_on`, which must still be current: one conditional update decides,
/// so of two concurrent changes based on the same version one wins and the
/// other is told it is stale; no change is ever lost.
pub fn add_version(
    conn: &mut DbConnection,
    client_id: &str,
    based_on: i64,
    version: &NewVersion<'_>,
) -> Result<VersionWrite, StoreError> {
    let NewVersion { metadata, author, summary, .. } = *version;
    let metadata = json::write("client_versions", metadata)?;
    let now = Utc::now().naive_utc();
    conn.transaction(|conn| {
        let this_client =
            clients::table.filter(clients::client_id.eq(client_id)).filter(clients::deleted_at.is_null());
        let claimed = diesel::update(this_client.filter(clients::current_version.eq(based_on)))
            .set((clients::current_version.eq(based_on + 1), clients::updated_at.eq(now)))
            .execute(conn)?;
        if claimed == 0 {
            let current: Option<i64> = this_client.select(clients::current_version).first(conn).optional()?;
            return Ok(current.map_or(VersionWrite::NotFound, |current| VersionWrite::Stale { current }));
        }
        diesel::insert_into(client_versions::table)
            .values(VersionRow {
                client_id,
                version: based_on + 1,
                metadata: &metadata,
                author,
                summary,
                created_at: now,
            })
            .execute(conn)?;
        retire_redirect_uris(conn, client_id, version, now)?;
        change_log::append(conn, ChangeKind::Client, client_id, None)?;
        Ok(VersionWrite::Written(based_on + 1))
    })
}

/// Records the redirect URIs `version` removes as retiring, and forgets
/// those it registers again.
fn retire_redirect_uris(
    conn: &mut DbConnection,
    client_id: &str,
    version: &NewVersion<'_>,
    now: NaiveDateTime,
) -> Result<(), StoreError> {
    let of_client = retired_redirect_uris::table.filter(retired_redirect_uris::client_id.eq(client_id));
    let again = version.kept_redirect_uris.iter().chain(version.retired_redirect_uris);
    diesel::delete(of_client.filter(retired_redirect_uris::redirect_uri.eq_any(again))).execute(conn)?;
    for uri in version.retired_redirect_uris {
        diesel::insert_into(retired_redirect_uris::table)
            .values((
                retired_redirect_uris::client_id.eq(client_id),
                retired_redirect_uris::redirect_uri.eq(uri),
                retired_redirect_uris::retired_at.eq(now),
                retired_redirect_uris::expires_at.eq(version.retired_until.naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Every version of `client_id`, newest first.
pub fn versions(conn: &mut DbConnection, client_id: &str) -> Result<Vec<VersionRecord>, StoreError> {
    client_versions::table
        .filter(client_versions::client_id.eq(client_id))
        .order(client_versions::version.desc())
        .select(StoredVersion::as_select())
        .load::<StoredVersion>(conn)?
        .into_iter()
        .map(|row| row.read(client_id))
        .collect()
}

/// Version `version` of `client_id`, if it is kept.
pub fn version(
    conn: &mut DbConnection,
    client_id: &str,
    version: i64,
) -> Result<Option<VersionRecord>, StoreError> {
    client_versions::table
        .filter(client_versions::client_id.eq(client_id))
        .filter(client_versions::version.eq(version))
        .select(StoredVersion::as_select())
        .first::<StoredVersion>(conn)
        .optional()?
        .map(|row| row.read(client_id))
        .transpose()
}

/// Deletes a client: it stops existing for every instance, its history
/// stays. Returns `false` when there is no such client.
pub fn delete(conn: &mut DbConnection, client_id: &str) -> Result<bool, StoreError> {
    let now = Utc::now().naive_utc();
    conn.transaction(|conn| {
        let deleted = diesel::update(
            clients::table.filter(clients::client_id.eq(client_id)).filter(clients::deleted_at.is_null()),
        )
        .set((clients::deleted_at.eq(now), clients::updated_at.eq(now)))
        .execute(conn)?;
        if deleted == 1 {
            change_log::append(conn, ChangeKind::Client, client_id, None)?;
        }
        Ok(deleted == 1)
    })
}

/// Disables (or enables again) a client, `by_team` when a member of its
/// team does, recording the change for every instance. Returns `false`
/// when there is no such client.
pub fn set_disabled(
    conn: &mut DbConnection,
    client_id: &str,
    disabled: bool,
    by_team: bool,
) -> Result<bool, StoreError> {
    let now = Utc::now().naive_utc();
    conn.transaction(|conn| {
        let updated = diesel::update(clients::table.filter(clients::client_id.eq(client_id)))
            .set((
                clients::disabled_at.eq(disabled.then_some(now)),
                clients::disabled_by_team.eq(disabled && by_team),
                clients::updated_at.eq(now),
            ))
            .execute(conn)?;
        if updated == 0 {
            return Ok(false);
        }
        if !disabled {
            // Enabling lifts any lockout too.
            crate::lockouts::clear(conn, client_id)?;
        }
        change_log::append(conn, ChangeKind::Client, client_id, None)?;
        Ok(true)
    })
}

/// Disables `client_id` at `at` unless it is disabled already (or gone);
/// whether this did it. Of concurrent callers, one does.
pub fn disable_if_enabled(
    conn: &mut DbConnection,
    client_id: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    conn.transaction(|conn| {
        let target = clients::table
            .filter(clients::client_id.eq(client_id))
            .filter(clients::deleted_at.is_null())
            .filter(clients::disabled_at.is_null());
        let updated = diesel::update(target)
            .set((clients::disabled_at.eq(at.naive_utc()), clients::updated_at.eq(at.naive_utc())))
            .execute(conn)?;
        if updated == 1 {
            change_log::append(conn, ChangeKind::Client, client_id, None)?;
        }
        Ok(updated == 1)
    })
}

/// Revokes every token `client_id` was issued up to `before` (none when
/// `None`, which restores them), on every instance; false when there is no
/// such client.
pub fn set_tokens_revoked_before(
    conn: &mut DbConnection,
    client_id: &str,
    before: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    conn.transaction(|conn| {
        let target =
            clients::table.filter(clients::client_id.eq(client_id)).filter(clients::deleted_at.is_null());
        let updated = diesel::update(target)
            .set(clients::tokens_revoked_before.eq(before.map(|t| t.naive_utc())))
            .execute(conn)?;
        if updated == 1 {
            change_log::append(conn, ChangeKind::Client, client_id, None)?;
        }
        Ok(updated == 1)
    })
}

/// The client `client_id`, if it exists.
pub fn find(conn: &mut DbConnection, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
    Ok(load(conn, Which::One(client_id))?.pop())
}

/// The clients of team `team_id`, in `client_id` order.
pub fn in_team(conn: &mut DbConnection, team_id: &str) -> Result<Vec<ClientRecord>, StoreError> {
    load(conn, Which::Team(team_id))
}

/// How many clients team `team_id` has.
pub fn count_in_team(conn: &mut DbConnection, team_id: &str) -> Result<i64, StoreError> {
    Ok(clients::table
        .filter(clients::team_id.eq(team_id))
        .filter(clients::deleted_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Whether `client_id` is disabled by a member of its team (not by an
/// admin, a lockout or a rule).
pub fn disabled_by_team(conn: &mut DbConnection, client_id: &str) -> Result<bool, StoreError> {
    let by_team = clients::table
        .filter(clients::client_id.eq(client_id))
        .filter(clients::disabled_at.is_not_null())
        .filter(clients::disabled_by_team.eq(true));
    Ok(diesel::select(diesel::dsl::exists(by_team)).get_result(conn)?)
}

/// Whether `client_id` was deleted (a deletion is final).
pub fn is_deleted(conn: &mut DbConnection, client_id: &str) -> Result<bool, StoreError> {
    let deleted =
        clients::table.filter(clients::client_id.eq(client_id)).filter(clients::deleted_at.is_not_null());
    Ok(diesel::select(diesel::dsl::exists(deleted)).get_result(conn)?)
}

/// Every client, for warming an instance's cache.
pub fn all(conn: &mut DbConnection) -> Result<Vec<ClientRecord>, StoreError> {
    load(conn, Which::All)
}

/// The ids of every client not deleted, in order.
pub fn ids(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    Ok(clients::table
        .filter(clients::deleted_at.is_null())
        .order(clients::client_id)
        .select(clients::client_id)
        .load(conn)?)
}

/// Which clients [`load`] reads.
#[derive(Clone, Copy)]
enum Which<'a> {
    All,
    One(&'a str),
    Team(&'a str),
}

type LoadedRow = (
    String,
    i64,
    String,
    Option<NaiveDateTime>,
    NaiveDateTime,
    NaiveDateTime,
    Option<NaiveDateTime>,
    i64,
    Option<String>,
);

fn load(conn: &mut DbConnection, which: Which<'_>) -> Result<Vec<ClientRecord>, StoreError> {
    let mut query = clients::table
        .inner_join(
            client_versions::table.on(client_versions::client_id
                .eq(clients::client_id)
                .and(client_versions::version.eq(clients::current_version))),
        )
        .select((
            clients::client_id,
            clients::current_version,
            client_versions::metadata,
            clients::disabled_at,
            clients::created_at,
            clients::updated_at,
            clients::tokens_revoked_before,
            clients::change_seq,
            clients::team_id,
        ))
        .filter(clients::deleted_at.is_null())
        .order(clients::client_id.asc())
        .into_boxed();
    match which {
        Which::All => {}
        Which::One(client_id) => query = query.filter(clients::client_id.eq(client_id)),
        Which::Team(team_id) => query = query.filter(clients::team_id.eq(team_id)),
    }
    // The clients first: what is read after them is as new or newer, so a
    // read is never counted newer than what it holds.
    let rows: Vec<LoadedRow> = query.load(conn)?;
    let ids: Vec<String> = rows.iter().map(|row| row.0.clone()).collect();
    let only = match which {
        Which::All => None,
        Which::One(_) | Which::Team(_) => Some(ids.as_slice()),
    };
    let mut secrets_query = client_secrets::table
        .filter(client_secrets::revoked_at.is_null())
        .select(SecretRow::as_select())
        .order((client_secrets::client_id.asc(), client_secrets::created_at.asc()))
        .into_boxed();
    let mut retired_query = retired_redirect_uris::table
        .filter(retired_redirect_uris::expires_at.gt(Utc::now().naive_utc()))
        .select((
            retired_redirect_uris::client_id,
            retired_redirect_uris::redirect_uri,
            retired_redirect_uris::expires_at,
        ))
        .order((retired_redirect_uris::client_id.asc(), retired_redirect_uris::redirect_uri.asc()))
        .into_boxed();
    if let Some(client_ids) = only {
        secrets_query = secrets_query.filter(client_secrets::client_id.eq_any(client_ids.to_vec()));
        retired_query = retired_query.filter(retired_redirect_uris::client_id.eq_any(client_ids.to_vec()));
    }
    let mut secrets: Vec<SecretRow> = secrets_query.load(conn)?;
    let mut retired: Vec<(String, String, NaiveDateTime)> = retired_query.load(conn)?;
    let mut locked_addresses = crate::address_lockouts::in_force(conn, only, Utc::now())?;
    let lockouts: std::collections::HashMap<String, (i64, Option<DateTime<Utc>>)> =
        crate::lockouts::states(conn, only)?
            .into_iter()
            .map(|(id, failures, until)| (id, (failures, until)))
            .collect();
    rows.into_iter()
        .map(
            |(
                client_id,
                version,
                metadata,
                disabled_at,
                created_at,
                updated_at,
                revoked_before,
                change_seq,
                team_id,
            )| {
                let row = format!("client {client_id} version {version}");
                let metadata = json::read("client_versions", &row, &metadata)?;
                let (mine, rest): (Vec<_>, Vec<_>) =
                    secrets.drain(..).partition(|s| s.client_id == client_id);
                secrets = rest;
                let (retiring, rest): (Vec<_>, Vec<_>) =
                    retired.drain(..).partition(|(id, _, _)| *id == client_id);
                retired = rest;
                let (failed_attempts, locked_until) = lockouts.get(&client_id).copied().unwrap_or((0, None));
                let (locked, rest): (Vec<_>, Vec<_>) =
                    locked_addresses.drain(..).partition(|(id, _, _)| *id == client_id);
                locked_addresses = rest;
                Ok(ClientRecord {
                    failed_attempts,
                    locked_until,
                    client_id,
                    version,
                    change_seq,
                    metadata,
                    disabled_at: disabled_at.map(|t| t.and_utc()),
                    tokens_revoked_before: revoked_before.map(|t| t.and_utc()),
                    created_at: created_at.and_utc(),
                    updated_at: updated_at.and_utc(),
                    secrets: mine.into_iter().map(SecretRecord::from).collect(),
                    retired_redirect_uris: retiring
                        .into_iter()
                        .map(|(_, uri, until)| (uri, until.and_utc()))
                        .collect(),
                    locked_addresses: locked
                        .into_iter()
                        .map(|(_, address, until)| (address, until))
                        .collect(),
                    team_id,
                })
            },
        )
        .collect()
}
