//! Revoking a whole grant: every access token issued from it (through the
//! change log every instance follows) and every refresh-token family, with
//! its audit entry in the same transaction. A replayed code, a reused
//! refresh token and a client's own revocation (RFC 7009 §2.1) all end here.

use crate::mirror::RevocationList;
use crate::storage;
use chrono::{TimeDelta, Utc};
use portcullis_app::audit::{self, Record};
use portcullis_app::{Actor, Event, EventBus};
use portcullis_core::client::MAX_ACCESS_TOKEN_LIFETIME;
use portcullis_core::OAuthError;
use portcullis_store::change_log::{self, ChangeKind};
use portcullis_store::refresh;
use portcullis_store::Database;

/// Why every token of a grant is revoked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantRevocation {
    /// An authorization code was presented again (RFC 6749 §4.1.2).
    CodeReplayed,
    /// A rotated refresh token was presented again (RFC 9700 §4.14.2).
    RefreshReused,
    /// The client revoked one of the grant's refresh tokens (RFC 7009 §2.1).
    ByClient,
}

/// Revokes every token issued from a grant, on every instance: its access
/// tokens through the change log, its refresh-token families in storage,
/// with an audit entry in the same transaction.
pub async fn revoke_grant(
    (db, revocations, events): (&Database, &RevocationList, &EventBus),
    (client_id, grant_id): (&str, &str),
    why: GrantRevocation,
) -> Result<(), OAuthError> {
    // No access token of the grant outlives the longest configurable lifetime.
    let until = Utc::now() + TimeDelta::seconds(MAX_ACCESS_TOKEN_LIFETIME as i64);
    let grant = grant_id.to_owned();
    let (client, grant_id_owned) = (client_id.to_owned(), grant_id.to_owned());
    let (reason, event) = match why {
        GrantRevocation::CodeReplayed => (
            "authorization code replayed",
            Event::TokenCodeReplayed { client_id: client, grant_id: grant_id_owned },
        ),
        GrantRevocation::RefreshReused => (
            "refresh token reused",
            Event::TokenRefreshReused { client_id: client, grant_id: grant_id_owned },
        ),
        GrantRevocation::ByClient => (
            "revoked by the client",
            Event::TokenRevoked {
                client_id: client,
                token_type: "refresh_token",
                jti: None,
                grant_id: Some(grant_id_owned),
            },
        ),
    };
    let party = Actor::Party { client_id: Some(client_id.to_owned()), address: None };
    let record = Record::of(&party, &event);
    storage::run(db, move |conn| {
        conn.in_transaction(|conn| {
            // The audit head first, as every change takes it: no lock-order deadlock.
            portcullis_store::audit::lock_head(conn)?;
            refresh::revoke_grant_families(conn, &grant, reason, Utc::now())?;
            change_log::append(conn, ChangeKind::Grant, &grant, Some(until))?;
            // A security event is recorded with the revocation, or neither is.
            audit::append(conn, &record).map(drop)
        })
    })
    .await?;
    revocations.insert_grant(grant_id.to_owned(), until);
    events.publish(&party, Utc::now(), &[event]);
    Ok(())
}
