//! What is usual for each client (issue 25): one row per client and
//! signal holding its learnt model (JSON, the application's to read) and the
//! last hour learnt. Several instances learn the same hours; each saves
//! only over the row it read (compare and swap on `learnt_through`), so an
//! hour is learnt once.

use crate::schema::{client_baselines, clients};
use crate::{DbConnection, StoreError};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// One client's baseline of one signal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaselineRecord {
    /// The client.
    pub client_id: String,
    /// The signal's name.
    pub signal: String,
    /// The start of the last hour learnt.
    pub learnt_through: DateTime<Utc>,
    /// The model, as JSON.
    pub model: String,
}

type Row = (String, String, chrono::NaiveDateTime, String);

fn record((client_id, signal, learnt_through, model): Row) -> BaselineRecord {
    BaselineRecord { client_id, signal, learnt_through: learnt_through.and_utc(), model }
}

const COLUMNS: (
    client_baselines::client_id,
    client_baselines::signal,
    client_baselines::learnt_through,
    client_baselines::model,
) = (
    client_baselines::client_id,
    client_baselines::signal,
    client_baselines::learnt_through,
    client_baselines::model,
);

/// Every baseline's client, signal and last hour learnt (not its model).
pub fn learnt(conn: &mut DbConnection) -> Result<Vec<(String, String, DateTime<Utc>)>, StoreError> {
    let rows: Vec<(String, String, chrono::NaiveDateTime)> = client_baselines::table
        .select((client_baselines::client_id, client_baselines::signal, client_baselines::learnt_through))
        .load(conn)?;
    Ok(rows.into_iter().map(|(client_id, signal, at)| (client_id, signal, at.and_utc())).collect())
}

/// The baselines of `client_ids` for `signal`.
pub fn of_clients(
    conn: &mut DbConnection,
    signal: &str,
    client_ids: &[String],
) -> Result<Vec<BaselineRecord>, StoreError> {
    let mut found = Vec::new();
    // Bounded lists: SQLite takes at most 32,766 parameters.
    for chunk in client_ids.chunks(1_000) {
        let rows: Vec<Row> = client_baselines::table
            .filter(client_baselines::signal.eq(signal))
            .filter(client_baselines::client_id.eq_any(chunk))
            .select(COLUMNS)
            .load(conn)?;
        found.extend(rows.into_iter().map(record));
    }
    Ok(found)
}

/// The baselines of one client.
pub fn of_client(conn: &mut DbConnection, client_id: &str) -> Result<Vec<BaselineRecord>, StoreError> {
    let rows: Vec<Row> = client_baselines::table
        .filter(client_baselines::client_id.eq(client_id))
        .order(client_baselines::signal)
        .select(COLUMNS)
        .load(conn)?;
    Ok(rows.into_iter().map(record).collect())
}

/// Saves `next` over `read` (the row as it was read; `None`: there was
/// none). `false` when another instance saved first: nothing is written.
pub fn swap(
    conn: &mut DbConnection,
    read: Option<&BaselineRecord>,
    next: &BaselineRecord,
) -> Result<bool, StoreError> {
    match read {
        None => StoreError::first_insert(
            diesel::insert_into(client_baselines::table)
                .values((
                    client_baselines::client_id.eq(&next.client_id),
                    client_baselines::signal.eq(&next.signal),
                    client_baselines::learnt_through.eq(next.learnt_through.naive_utc()),
                    client_baselines::model.eq(&next.model),
                ))
                .execute(conn),
        ),
        Some(read) => {
            let same = client_baselines::table
                .filter(client_baselines::client_id.eq(&read.client_id))
                .filter(client_baselines::signal.eq(&read.signal))
                .filter(client_baselines::learnt_through.eq(read.learnt_through.naive_utc()));
            let updated = diesel::update(same)
                .set((
                    client_baselines::learnt_through.eq(next.learnt_through.naive_utc()),
                    client_baselines::model.eq(&next.model),
                ))
                .execute(conn)?;
            Ok(updated == 1)
        }
    }
}

/// Forgets the baselines of clients deleted (or gone).
pub fn delete_of_gone_clients(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let live = clients::table.filter(clients::deleted_at.is_null()).select(clients::client_id);
    Ok(diesel::delete(
        client_baselines::table.filter(diesel::dsl::not(client_baselines::client_id.eq_any(live))),
    )
    .execute(conn)?)
}
