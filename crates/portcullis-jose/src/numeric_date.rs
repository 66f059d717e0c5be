//! JWT times (RFC 7519 §2 NumericDate): seconds since the epoch, which a
//! JSON number may give with a fraction (josekit, for one, writes `iat` as
//! `1765063867.25`). Read as whole seconds, the fraction dropped.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// The whole seconds of a NumericDate `value`; `None` when it is no number
/// or out of range.
pub fn seconds(value: &Value) -> Option<i64> {
    match value.as_i64() {
        Some(whole) => Some(whole),
        None => value.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15).map(|f| f.floor() as i64),
    }
}

/// Deserialises a required NumericDate (`#[serde(deserialize_with = ...)]`).
pub fn required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    seconds(&Value::deserialize(deserializer)?).ok_or_else(|| serde::de::Error::custom("not a NumericDate"))
}

/// Deserialises an optional NumericDate (with `#[serde(default)]`).
pub fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    required(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_and_fractional_seconds_read_alike() {
        assert_eq!(seconds(&serde_json::json!(1_700_000_000)), Some(1_700_000_000));
        assert_eq!(seconds(&serde_json::json!(1_700_000_000.75)), Some(1_700_000_000));
        assert_eq!(seconds(&serde_json::json!("1700000000")), None);
        assert_eq!(seconds(&serde_json::json!(1e300)), None);
    }
}
