//! What a signed JWT may be used for once only: a client assertion
//! (RFC 7523 §3) or a DPoP proof (RFC 9449 §11.1). Each is recorded until
//! it could no longer be accepted anyway, in the database, so a replay is
//! refused by every instance. Protocol operations: nothing is audited.

use crate::{App, AppError};
use chrono::{DateTime, Utc};
use portcullis_store::assertions;

impl App {
    /// Records the `jti` of `client_id`'s assertion, valid until
    /// `expires_at`; false when it was seen before (RFC 7523 §3: a replay).
    pub fn record_assertion(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, AppError> {
        Ok(assertions::record_jti(&mut *self.db.get()?, client_id, jti, expires_at)?)
    }

    /// Records the DPoP proof `jti` of the key `jkt`, acceptable until
    /// `expires_at`, as the hash of both; false when it was seen before (a replay).
    pub fn record_dpop_proof(
        &self,
        jkt: &str,
        jti: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, AppError> {
        let hash = crate::secrets::hash(&format!("{jkt}\0{jti}"));
        Ok(assertions::record_dpop_proof(&mut *self.db.get()?, &hash, expires_at)?)
    }
}
