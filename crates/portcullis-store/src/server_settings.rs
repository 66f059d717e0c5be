//! Facts about this installation, by name, such as which client the
//! bootstrap created.

use crate::schema::server_settings;
use crate::{DbConnection, StoreError};
use chrono::Utc;
use diesel::prelude::*;

/// The value of setting `name`, if set.
pub fn get(conn: &mut DbConnection, name: &str) -> Result<Option<String>, StoreError> {
    Ok(server_settings::table
        .filter(server_settings::name.eq(name))
        .select(server_settings::value)
        .first(conn)
        .optional()?)
}

/// Sets `name` to `value` if it is not set yet; returns `false` (changing
/// nothing) when it already was, so two concurrent first writers cannot
/// both win.
pub fn set_once(conn: &mut DbConnection, name: &str, value: &str) -> Result<bool, StoreError> {
    StoreError::first_insert(
        diesel::insert_into(server_settings::table)
            .values((
                server_settings::name.eq(name),
                server_settings::value.eq(value),
                server_settings::updated_at.eq(Utc::now().naive_utc()),
            ))
            .execute(conn),
    )
}

/// Sets `name` to `value` at `at`, whatever it was.
pub fn put(
    conn: &mut DbConnection,
    name: &str,
    value: &str,
    at: chrono::DateTime<Utc>,
) -> Result<(), StoreError> {
    let updated = diesel::update(server_settings::table.filter(server_settings::name.eq(name)))
        .set((server_settings::value.eq(value), server_settings::updated_at.eq(at.naive_utc())))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(server_settings::table)
            .values((
                server_settings::name.eq(name),
                server_settings::value.eq(value),
                server_settings::updated_at.eq(at.naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(())
}
