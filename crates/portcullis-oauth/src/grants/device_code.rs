//! The device authorization grant at the token endpoint (RFC 8628 §3.4,
//! §3.5): the device polls with its device code until its user decides.
//! An approved grant is redeemed once, as a code would be, for the tokens
//! of what the user approved.

use super::authorization_code::tokens_for;
use super::{invalid_grant, GrantContext, Issued, Requested, TokenResponse};
use crate::params::Params;
use crate::storage::protocol_operation;
use portcullis_app::device_grants::DevicePoll;
use portcullis_core::{ErrorCode, OAuthError};

/// The registry's entry point: reads `device_code`, then [`issue`]s.
pub fn handle<'a>(context: &'a GrantContext<'a>, form: &'a Params) -> Issued<'a> {
    Box::pin(async move {
        let device_code = form.require("device_code")?.to_owned();
        issue(context, device_code, Requested::parse(form)).await
    })
}

/// Polls the grant of `device_code`; tokens once the user approved.
pub async fn issue(
    context: &GrantContext<'_>,
    device_code: String,
    requested: Requested,
) -> Result<TokenResponse, OAuthError> {
    // Checked before the grant is spent: a refused audience leaves it for another poll.
    let aud = super::audience(&requested, context.client, &context.settings.issuer)?;
    let caller = context.caller();
    let poll =
        protocol_operation(context.app, move |app| app.poll_device_grant(&caller, &device_code)).await?;
    let record = match poll {
        DevicePoll::Approved(record) => record,
        DevicePoll::Pending => {
            return Err(OAuthError::new(ErrorCode::AuthorizationPending, "the user has not decided yet"))
        }
        DevicePoll::TooFast(interval) => {
            let why = format!("poll at most every {interval} seconds (RFC 8628 §3.5)");
            return Err(OAuthError::new(ErrorCode::PollingTooFast, why));
        }
        DevicePoll::Denied => {
            return Err(OAuthError::new(ErrorCode::DeviceDenied, "the user denied the device"))
        }
        DevicePoll::Expired => {
            return Err(OAuthError::new(ErrorCode::ExpiredToken, "the device code expired; start again"))
        }
        DevicePoll::Redeemed => return Err(invalid_grant("the device code was already used")),
        DevicePoll::Unknown => return Err(invalid_grant("the device code is invalid")),
    };
    if context.client.revoked_at_issue(record.issued_at) {
        return Err(invalid_grant("the device code is invalid or expired"));
    }
    tokens_for(context, record, aud).await
}
