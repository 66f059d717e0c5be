//! Repository of the custom user attribute schema: each attribute's name,
//! type and description. Users' values are stored with the users
//! ([`crate::users`]).

use crate::schema::{user_attribute_definitions as definitions, users};
use crate::{json, DbConnection, StoreError};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use portcullis_core::user_attributes::{AttributeDefinition, AttributeType};
use serde_json::{Map, Value};

/// Adds `definition` at `now`; an existing name is a [`StoreError::Conflict`].
pub fn define(
    conn: &mut DbConnection,
    definition: &AttributeDefinition,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(definitions::table)
        .values((
            definitions::name.eq(&definition.name),
            definitions::kind.eq(definition.kind.as_str()),
            definitions::description.eq(&definition.description),
            definitions::created_at.eq(now.naive_utc()),
        ))
        .execute(conn)
        .map_err(StoreError::from_write)?;
    Ok(())
}

/// The schema, by name.
pub fn all(conn: &mut DbConnection) -> Result<Vec<AttributeDefinition>, StoreError> {
    let rows: Vec<(String, String, String)> = definitions::table
        .select((definitions::name, definitions::kind, definitions::description))
        .order(definitions::name)
        .load(conn)?;
    rows.into_iter()
        .map(|(name, kind, description)| {
            let kind = AttributeType::named(&kind).ok_or_else(|| StoreError::Corrupt {
                table: "user_attribute_definitions",
                reason: format!("{name}: unknown type {kind}"),
            })?;
            Ok(AttributeDefinition { name, kind, description })
        })
        .collect()
}

/// A user's attribute values, by name.
type Values = Map<String, Value>;

/// The users holding a value of the attribute `name`, with their values.
fn holders(conn: &mut DbConnection, name: &str) -> Result<Vec<(String, Values)>, StoreError> {
    // Values are written compactly (`{"name":…}`), and a name is a-z, 0-9 and
    // _: the pattern finds every holder, `_` escaped as LIKE would read it as
    // any character; the parse below drops what only looks like one.
    let pattern = format!("%\"{}\":%", name.replace('_', "\\_"));
    let rows: Vec<(String, String)> = users::table
        .filter(users::attributes.like(pattern).escape('\\'))
        .select((users::user_id, users::attributes))
        .load(conn)?;
    let mut holders = Vec::new();
    for (user_id, text) in rows {
        let attributes: Values = json::read("users", &format!("user {user_id}"), &text)?;
        if attributes.contains_key(name) {
            holders.push((user_id, attributes));
        }
    }
    Ok(holders)
}

/// The users holding a value of the attribute `name`.
pub fn holder_ids(conn: &mut DbConnection, name: &str) -> Result<Vec<String>, StoreError> {
    Ok(holders(conn, name)?.into_iter().map(|(user_id, _)| user_id).collect())
}

/// Removes the attribute `name` from the schema and its value from every
/// user that holds one (each user changed at `now`); the users whose value
/// went, or `None` when it was not defined.
pub fn remove(
    conn: &mut DbConnection,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Option<Vec<String>>, StoreError> {
    if diesel::delete(definitions::table.filter(definitions::name.eq(name))).execute(conn)? == 0 {
        return Ok(None);
    }
    let mut cleared = Vec::new();
    for (user_id, mut attributes) in holders(conn, name)? {
        attributes.remove(name);
        let text = json::write("users", &attributes)?;
        diesel::update(users::table.filter(users::user_id.eq(&user_id)))
            .set((users::attributes.eq(text), users::updated_at.eq(now.naive_utc())))
            .execute(conn)?;
        cleared.push(user_id);
    }
    Ok(Some(cleared))
}
