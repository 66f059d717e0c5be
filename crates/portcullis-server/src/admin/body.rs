//! Reading admin request bodies: JSON objects of bounded size.

use crate::admin::error::AdminError;
use crate::form::{media_type, read_body, BodyRefusal, BODY_TIMEOUT};
use actix_web::{web, HttpRequest};
use serde_json::{Map, Value};

/// The largest body the admin API reads.
pub const MAX_BODY: usize = 64 * 1024;

/// The body read as `T`, or a 400 saying it is not `what` (and why).
pub async fn json_of<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    what: &str,
) -> Result<T, AdminError> {
    let body = Value::Object(json_object(req, payload).await?);
    serde_json::from_value(body).map_err(|e| AdminError::bad_request(format!("the body is not {what}: {e}")))
}

/// The body as a JSON object: `application/json` (or `application/merge-patch+json`),
/// at most [`MAX_BODY`] bytes.
pub async fn json_object(req: &HttpRequest, payload: web::Payload) -> Result<Map<String, Value>, AdminError> {
    let essence = media_type(req);
    if essence != "application/json" && essence != "application/merge-patch+json" {
        return Err(AdminError::unsupported_media_type(
            "the body must be JSON (Content-Type: application/json)",
        ));
    }
    let bytes = match read_body(req, &mut payload.into_inner(), MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(BodyRefusal::TooLarge(_)) => {
            return Err(AdminError::too_large(format!("the body is larger than {MAX_BODY} bytes")))
        }
        Err(BodyRefusal::TooSlow) => {
            return Err(AdminError::bad_request(format!("the body did not arrive within {BODY_TIMEOUT:?}")))
        }
        Err(BodyRefusal::Unreadable | BodyRefusal::NotForm) => {
            return Err(AdminError::bad_request("the body could not be read"))
        }
    };
    match serde_json::from_slice(&bytes).map(integral) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(AdminError::bad_request("the body must be a JSON object")),
        Err(e) => Err(AdminError::bad_request(format!("the body is not valid JSON: {e}"))),
    }
}

/// `value` with every number that is a whole number written with a
/// fraction (`600.0`) made an integer: JSON (RFC 8259 §6) and JSON Schema
/// do not tell them apart, so neither does the API.
fn integral(value: Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            // Up to 2^53, where every whole number is exact.
            Some(f) if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 => Value::from(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(integral).collect()),
        Value::Object(members) => Value::Object(members.into_iter().map(|(k, v)| (k, integral(v))).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_written_with_a_fraction_are_integers() {
        let value = integral(serde_json::json!({"version": 3.0, "nested": [600.0, 1.5], "n": 7}));
        assert_eq!(value, serde_json::json!({"version": 3, "nested": [600, 1.5], "n": 7}));
        assert!(value["version"].as_i64().is_some());
    }
}
