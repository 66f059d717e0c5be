//! Custom user attributes: the schema an admin defines (each attribute's
//! name, type and meaning) and each user's values, checked against it on
//! every write. Removing an attribute removes its values from every user in
//! the same transaction, so no value outlives its definition.

use crate::users::{changed, find, users_attempt as attempt, view, UserView};
use crate::{Actor, App, AppError, Event, Permission};
use portcullis_core::user_attributes::{check_values, AttributeDefinition, MAX_ATTRIBUTES};
use portcullis_store::user_attributes as stored;
use portcullis_store::users::UserChange;
use portcullis_store::StoreError;
use serde_json::{Map, Value};

/// An attribute's name as an audit entry's target: what an admin typed is
/// recorded only as long as a name can be.
fn target(name: &str) -> &str {
    name.char_indices().nth(64).map_or(name, |(end, _)| &name[..end])
}

/// A user's values from their JSON text (a file, a form).
pub fn parse_values(text: &str) -> Result<Map<String, Value>, AppError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(values)) => Ok(values),
        _ => Err(AppError::Invalid("the attributes must be a JSON object of values by name".into())),
    }
}

impl App {
    /// The attribute schema, by name.
    pub fn user_attributes(&self, actor: &Actor) -> Result<Vec<AttributeDefinition>, AppError> {
        self.read(actor, Permission::Users, |conn| Ok(stored::all(conn)?))
    }

    /// Adds `definition` to the schema.
    pub fn define_user_attribute(
        &self,
        actor: &Actor,
        definition: AttributeDefinition,
    ) -> Result<AttributeDefinition, AppError> {
        let name = definition.name.clone();
        self.change(actor, attempt("user_attribute.defined", target(&name)), |tx| {
            definition.validate().map_err(|e| AppError::Invalid(e.to_string()))?;
            if stored::all(tx.conn)?.len() >= MAX_ATTRIBUTES {
                return Err(AppError::Conflict(format!(
                    "the schema holds at most {MAX_ATTRIBUTES} attributes"
                )));
            }
            match stored::define(tx.conn, &definition, tx.now) {
                Err(StoreError::Conflict(_)) => {
                    return Err(AppError::Conflict(format!(
                        "an attribute {} is defined already",
                        definition.name
                    )))
                }
                other => other?,
            }
            tx.emit(Event::UserAttributeDefined {
                name: definition.name.clone(),
                kind: definition.kind.as_str(),
            });
            Ok(definition)
        })
    }

    /// Removes the attribute `name` from the schema and its value from
    /// every user (each one changed, as setting their values would: the
    /// actor must outrank every holder); returns how many values went.
    pub fn remove_user_attribute(&self, actor: &Actor, name: &str) -> Result<usize, AppError> {
        self.change(actor, attempt("user_attribute.removed", target(name)), |tx| {
            for holder in stored::holder_ids(tx.conn, name)? {
                crate::admin_roles::ensure_outranks(tx.conn, actor, &holder)?;
            }
            let cleared = stored::remove(tx.conn, name, tx.now)?
                .ok_or_else(|| AppError::NotFound("there is no such attribute".into()))?;
            tx.emit(Event::UserAttributeRemoved { name: name.to_owned(), values_cleared: cleared.len() });
            for user_id in cleared.iter().cloned() {
                tx.emit(Event::UserUpdated { user_id, changed: "attributes" });
            }
            Ok(cleared.len())
        })
    }

    /// Replaces a user's attribute values with `values`, each checked
    /// against the schema (a value that does not fit it is a conflict with
    /// it, [`AppError::Conflict`]). The actor must hold every admin role the
    /// user holds.
    pub fn set_user_attributes(
        &self,
        actor: &Actor,
        user_id: &str,
        values: Map<String, Value>,
    ) -> Result<UserView, AppError> {
        self.change(actor, attempt("user.updated", user_id), |tx| {
            find(tx.conn, user_id)?;
            crate::admin_roles::ensure_outranks(tx.conn, actor, user_id)?;
            // The schema is state an admin changes: values that do not fit it as
            // it stands conflict with it (a value may fit once it is defined).
            check_values(&stored::all(tx.conn)?, &values).map_err(|e| AppError::Conflict(e.to_string()))?;
            changed(tx, user_id, UserChange { attributes: Some(&values), ..Default::default() })?;
            tx.emit(Event::UserUpdated { user_id: user_id.to_owned(), changed: "attributes" });
            Ok(view(find(tx.conn, user_id)?))
        })
    }
}
