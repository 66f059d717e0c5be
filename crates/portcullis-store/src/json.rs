//! JSON columns: values are written from their types and read back into
//! them here, at the boundary, so nothing above the store re-parses JSON.
//! A value that does not read is an error naming its table and row, never
//! a silent default.

use crate::StoreError;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The JSON text of `value`, for column `table`.
pub(crate) fn write<T: Serialize>(table: &'static str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Corrupt { table, reason: format!("cannot be written: {e}") })
}

/// The value stored as `text` in `table`, in the row `row` names.
pub(crate) fn read<T: DeserializeOwned>(table: &'static str, row: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt { table, reason: format!("{row}: {e}") })
}
