//! Alert rules and the state of each rule's subjects (firing or not),
//! changed only by compare-and-swap so that of several instances checking
//! the same rule, one announces each change.

use crate::schema::{alert_rules, alert_states};
use crate::{DbConnection, StoreError};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

/// A rule as stored; its kind and parameters are the caller's JSON.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = alert_rules)]
pub struct RuleRecord {
    /// Its id.
    pub rule_id: String,
    /// What the admin called it.
    pub description: String,
    /// Its kind and parameters, JSON.
    pub config: String,
    /// Whether it is checked.
    pub enabled: bool,
    /// When it was created.
    pub created_at: NaiveDateTime,
    /// When it last changed.
    pub updated_at: NaiveDateTime,
}

/// Whether `rule` is still enabled and as read (configuration and last
/// change), locking its row until the transaction ends: what a check found
/// under it is recorded only if it was not turned off, changed or deleted
/// since.
pub fn still_enabled_as(conn: &mut DbConnection, rule: &RuleRecord) -> Result<bool, StoreError> {
    let unchanged = alert_rules::table
        .filter(alert_rules::rule_id.eq(&rule.rule_id))
        .filter(alert_rules::enabled.eq(true))
        .filter(alert_rules::config.eq(&rule.config))
        .filter(alert_rules::updated_at.eq(rule.updated_at));
    Ok(diesel::update(unchanged).set(alert_rules::updated_at.eq(alert_rules::updated_at)).execute(conn)? == 1)
}

/// Stores a new rule.
pub fn create(conn: &mut DbConnection, rule: &RuleRecord) -> Result<(), StoreError> {
    diesel::insert_into(alert_rules::table)
        .values((
            alert_rules::rule_id.eq(&rule.rule_id),
            alert_rules::description.eq(&rule.description),
            alert_rules::config.eq(&rule.config),
            alert_rules::enabled.eq(rule.enabled),
            alert_rules::created_at.eq(rule.created_at),
            alert_rules::updated_at.eq(rule.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes a rule's description, configuration and state; its subjects'
/// states are left to the caller. False when it does not exist.
pub fn update(conn: &mut DbConnection, rule: &RuleRecord) -> Result<bool, StoreError> {
    let changed = diesel::update(alert_rules::table.filter(alert_rules::rule_id.eq(&rule.rule_id)))
        .set((
            alert_rules::description.eq(&rule.description),
            alert_rules::config.eq(&rule.config),
            alert_rules::enabled.eq(rule.enabled),
            alert_rules::updated_at.eq(rule.updated_at),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Forgets what `rule_id` fired for.
pub fn clear_states(conn: &mut DbConnection, rule_id: &str) -> Result<(), StoreError> {
    diesel::delete(alert_states::table.filter(alert_states::rule_id.eq(rule_id))).execute(conn)?;
    Ok(())
}

/// Deletes a rule and its states; false when it does not exist.
pub fn delete(conn: &mut DbConnection, rule_id: &str) -> Result<bool, StoreError> {
    diesel::delete(alert_states::table.filter(alert_states::rule_id.eq(rule_id))).execute(conn)?;
    Ok(diesel::delete(alert_rules::table.filter(alert_rules::rule_id.eq(rule_id))).execute(conn)? == 1)
}

/// The rule `rule_id`.
pub fn find(conn: &mut DbConnection, rule_id: &str) -> Result<Option<RuleRecord>, StoreError> {
    Ok(alert_rules::table
        .filter(alert_rules::rule_id.eq(rule_id))
        .select(RuleRecord::as_select())
        .first(conn)
        .optional()?)
}

/// Every rule, oldest first.
pub fn all(conn: &mut DbConnection) -> Result<Vec<RuleRecord>, StoreError> {
    Ok(alert_rules::table
        .order((alert_rules::created_at, alert_rules::rule_id))
        .select(RuleRecord::as_select())
        .load(conn)?)
}

/// One subject's state under a rule.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = alert_states)]
pub struct StateRecord {
    /// The rule.
    pub rule_id: String,
    /// What it fired for: a client id, or `(all)`.
    pub subject: String,
    /// Whether it is firing.
    pub firing: bool,
    /// Since when it is in this state.
    pub since: NaiveDateTime,
    /// When it last fired.
    pub last_fired_at: NaiveDateTime,
}

/// The states of `rule_id`'s subjects.
pub fn states(conn: &mut DbConnection, rule_id: &str) -> Result<Vec<StateRecord>, StoreError> {
    Ok(alert_states::table
        .filter(alert_states::rule_id.eq(rule_id))
        .order(alert_states::subject)
        .select(StateRecord::as_select())
        .load(conn)?)
}

/// Records that `subject` first fires under `rule_id` at `at`; a conflict
/// when another instance recorded it first.
pub fn start_firing(
    conn: &mut DbConnection,
    rule_id: &str,
    subject: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(alert_states::table)
        .values((
            alert_states::rule_id.eq(rule_id),
            alert_states::subject.eq(subject),
            alert_states::firing.eq(true),
            alert_states::since.eq(at.naive_utc()),
            alert_states::last_fired_at.eq(at.naive_utc()),
        ))
        .execute(conn)
        .map_err(StoreError::from_write)?;
    Ok(())
}

/// Moves `state` to `next` if it is still as read; true when this caller did.
pub fn swap(conn: &mut DbConnection, state: &StateRecord, next: &StateRecord) -> Result<bool, StoreError> {
    let moved = diesel::update(
        alert_states::table
            .filter(alert_states::rule_id.eq(&state.rule_id))
            .filter(alert_states::subject.eq(&state.subject))
            .filter(alert_states::firing.eq(state.firing))
            .filter(alert_states::last_fired_at.eq(state.last_fired_at)),
    )
    .set((
        alert_states::firing.eq(next.firing),
        alert_states::since.eq(next.since),
        alert_states::last_fired_at.eq(next.last_fired_at),
    ))
    .execute(conn)?;
    Ok(moved == 1)
}
