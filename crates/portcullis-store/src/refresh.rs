//! Repository of refresh tokens and their families: rotation by one
//! compare-and-swap, and reuse detection that revokes a family.

use crate::schema::{refresh_families, refresh_tokens};
use crate::{json, DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use portcullis_core::grant::RefreshDetails;

/// A family: the refresh tokens descending from one authorization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FamilyRecord {
    /// The family's identifier.
    pub family_id: String,
    /// The grant (authorization code) it descends from.
    pub grant_id: String,
    /// The client holding it.
    pub client_id: String,
    /// The user it acts for.
    pub user_id: String,
    /// When the first token was issued.
    pub created_at: DateTime<Utc>,
    /// The absolute end of the family: no token of it is valid after.
    pub expires_at: DateTime<Utc>,
}

/// One refresh token of a family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshRecord {
    /// SHA-256 of the token.
    pub token_hash: Vec<u8>,
    /// Its family.
    pub family_id: String,
    /// What a refresh needs (scope, auth time, session).
    pub details: RefreshDetails,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it expires unused (the idle lifetime).
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current: it is now used, and its successor stored.
    Rotated {
        /// The family.
        family: FamilyRecord,
        /// The token that was presented.
        presented: Box<RefreshRecord>,
    },
    /// The token was used before.
    Reused {
        /// The family of the reused token.
        family_id: String,
        /// Whether the family was revoked for it (outside the grace window).
        family_revoked: bool,
    },
    /// No such token, or it, or its family, expired or was revoked.
    Invalid,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_families)]
struct FamilyRow {
    family_id: String,
    grant_id: String,
    client_id: String,
    user_id: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
struct TokenRow {
    token_hash: Vec<u8>,
    family_id: String,
    details: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

impl TryFrom<&RefreshRecord> for TokenRow {
    type Error = StoreError;

    fn try_from(r: &RefreshRecord) -> Result<Self, StoreError> {
        Ok(TokenRow {
            token_hash: r.token_hash.clone(),
            family_id: r.family_id.clone(),
            details: json::write("refresh_tokens", &r.details)?,
            created_at: r.created_at.naive_utc(),
            expires_at: r.expires_at.naive_utc(),
        })
    }
}

impl TryFrom<TokenRow> for RefreshRecord {
    type Error = StoreError;

    fn try_from(r: TokenRow) -> Result<Self, StoreError> {
        let row = format!("a token of family {}", r.family_id);
        Ok(RefreshRecord {
            details: json::read("refresh_tokens", &row, &r.details)?,
            token_hash: r.token_hash,
            family_id: r.family_id,
            created_at: r.created_at.and_utc(),
            expires_at: r.expires_at.and_utc(),
        })
    }
}

impl From<FamilyRow> for FamilyRecord {
    fn from(r: FamilyRow) -> Self {
        FamilyRecord {
            family_id: r.family_id,
            grant_id: r.grant_id,
            client_id: r.client_id,
            user_id: r.user_id,
            created_at: r.created_at.and_utc(),
            expires_at: r.expires_at.and_utc(),
        }
    }
}

/// Starts a family with its first token, in one transaction.
pub fn start_family(
    conn: &mut DbConnection,
    family: &FamilyRecord,
    first: &RefreshRecord,
) -> Result<(), StoreError> {
    let row = FamilyRow {
        family_id: family.family_id.clone(),
        grant_id: family.grant_id.clone(),
        client_id: family.client_id.clone(),
        user_id: family.user_id.clone(),
        created_at: family.created_at.naive_utc(),
        expires_at: family.expires_at.naive_utc(),
    };
    conn.transaction(|conn| {
        diesel::insert_into(refresh_families::table)
            .values(row)
            .execute(conn)
            .map_err(StoreError::from_write)?;
        diesel::insert_into(refresh_tokens::table).values(TokenRow::try_from(first)?).execute(conn)?;
        Ok(())
    })
}

/// A live token and its family, for checking a request before rotating.
pub fn find(
    conn: &mut DbConnection,
    token_hash: &[u8],
) -> Result<Option<(FamilyRecord, RefreshRecord)>, StoreError> {
    let found: Option<(FamilyRow, TokenRow)> = refresh_tokens::table
        .inner_join(refresh_families::table)
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((FamilyRow::as_select(), TokenRow::as_select()))
        .first(conn)
        .optional()?;
    found.map(|(family, token)| Ok((family.into(), token.try_into()?))).transpose()
}

/// Rotates `presented` into `next` at `now`: one conditional UPDATE marks the
/// presented token used only if it was unused, unexpired and its family live,
/// so of concurrent rotations exactly one wins. A token already used is a
/// reuse: past `grace` after its use, its whole family is revoked.
pub fn rotate(
    conn: &mut DbConnection,
    presented: &[u8],
    next: &RefreshRecord,
    now: DateTime<Utc>,
    grace: TimeDelta,
) -> Result<Rotation, StoreError> {
    let at = now.naive_utc();
    conn.transaction(|conn| {
        let live_families = refresh_families::table
            .filter(refresh_families::revoked_at.is_null())
            .filter(refresh_families::expires_at.gt(at))
            .select(refresh_families::family_id);
        let won = diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(presented))
                .filter(refresh_tokens::used_at.is_null())
                .filter(refresh_tokens::expires_at.gt(at))
                .filter(refresh_tokens::family_id.eq_any(live_families)),
        )
        .set(refresh_tokens::used_at.eq(at))
        .execute(conn)?;
        let found: Option<(FamilyRow, TokenRow, Option<NaiveDateTime>, Option<NaiveDateTime>)> =
            refresh_tokens::table
                .inner_join(refresh_families::table)
                .filter(refresh_tokens::token_hash.eq(presented))
                .select((
                    FamilyRow::as_select(),
                    TokenRow::as_select(),
                    refresh_tokens::used_at,
                    refresh_families::revoked_at,
                ))
                .first(conn)
                .optional()?;
        let Some((family, token, used_at, revoked_at)) = found else { return Ok(Rotation::Invalid) };
        if won == 1 {
            let next = RefreshRecord { family_id: family.family_id.clone(), ..next.clone() };
            diesel::insert_into(refresh_tokens::table).values(TokenRow::try_from(&next)?).execute(conn)?;
            return Ok(Rotation::Rotated { family: family.into(), presented: Box::new(token.try_into()?) });
        }
        match used_at {
            Some(used_at) if revoked_at.is_none() && used_at.and_utc() + grace >= now => {
                Ok(Rotation::Reused { family_id: family.family_id, family_revoked: false })
            }
            Some(_) => {
                revoke_family(conn, &family.family_id, "refresh token reused", now)?;
                Ok(Rotation::Reused { family_id: family.family_id, family_revoked: true })
            }
            None => Ok(Rotation::Invalid),
        }
    })
}

/// Keeps the presented refresh token of a client whose tokens are not
/// rotated: when it is live (unused, unexpired, of a live family) it now
/// expires at `expires_at`. Whether it was live.
pub fn extend(
    conn: &mut DbConnection,
    presented: &[u8],
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let at = now.naive_utc();
    let live_families = refresh_families::table
        .filter(refresh_families::revoked_at.is_null())
        .filter(refresh_families::expires_at.gt(at))
        .select(refresh_families::family_id);
    let kept = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(presented))
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::expires_at.gt(at))
            .filter(refresh_tokens::family_id.eq_any(live_families)),
    )
    .set(refresh_tokens::expires_at.eq(expires_at.naive_utc()))
    .execute(conn)?;
    Ok(kept == 1)
}

/// Revokes a family with a reason; returns whether it was live until now.
pub fn revoke_family(
    conn: &mut DbConnection,
    family_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let revoked = diesel::update(
        refresh_families::table
            .filter(refresh_families::family_id.eq(family_id))
            .filter(refresh_families::revoked_at.is_null()),
    )
    .set((refresh_families::revoked_at.eq(now.naive_utc()), refresh_families::revoked_reason.eq(reason)))
    .execute(conn)?;
    Ok(revoked == 1)
}

/// Revokes every live family descending from `grant_id`; returns how many.
pub fn revoke_grant_families(
    conn: &mut DbConnection,
    grant_id: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        refresh_families::table
            .filter(refresh_families::grant_id.eq(grant_id))
            .filter(refresh_families::revoked_at.is_null()),
    )
    .set((refresh_families::revoked_at.eq(now.naive_utc()), refresh_families::revoked_reason.eq(reason)))
    .execute(conn)?)
}

/// The grants of `user_id` that still have a live refresh-token family.
pub fn user_grants(conn: &mut DbConnection, user_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(refresh_families::table
        .filter(refresh_families::user_id.eq(user_id))
        .filter(refresh_families::revoked_at.is_null())
        .select(refresh_families::grant_id)
        .distinct()
        .load(conn)?)
}

/// Why a family was revoked, if it was.
pub fn revocation_reason(conn: &mut DbConnection, family_id: &str) -> Result<Option<String>, StoreError> {
    Ok(refresh_families::table
        .filter(refresh_families::family_id.eq(family_id))
        .select(refresh_families::revoked_reason)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}
