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

/// Removes the attribute `name` from the schema and its value from every
/// user that holds one; whether it was defined, and how many values went.
pub fn remove(conn: &mut DbConnection, name: &str) -> Result<Option<usize>, StoreError> {
    if diesel::delete(definitions::table.filter(definitions::name.eq(name))).execute(conn)? == 0 {
        return Ok(None);
    }
    let holders: Vec<(String, String)> = users::table
        .filter(users::attributes.ne("{}"))
        .select((users::user_id, users::attributes))
        .load(conn)?;
    let mut cleared = 0;
    for (user_id, text) in holders {
        let mut attributes: Map<String, Value> = json::read("users", &format!("user {user_id}"), &text)?;
        if attributes.remove(name).is_some() {
            let text = json::write("users", &attributes)?;
            diesel::update(users::table.filter(users::user_id.eq(&user_id)))
                .set(users::attributes.eq(text))
                .execute(conn)?;
            cleared += 1;
        }
    }
    Ok(Some(cleared))
}
