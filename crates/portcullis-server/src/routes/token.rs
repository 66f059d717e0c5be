//! `POST /token` (RFC 6749 §3.2): authenticates the client, then hands the
//! request to its grant, looked up in the [registry](portcullis_oauth::grants::REGISTRY).

use crate::client_authentication::HttpClientAuthenticator;
use crate::form::FormParams;
use crate::headers;
use crate::metrics::IssuedToken;
use crate::oauth_response::{no_store, OAuthFailure, DPOP_NONCE};
use crate::KeyRing;
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::App;
use portcullis_core::{ErrorCode, OAuthError};
use portcullis_oauth::dpop::{Dpop, ProofRequest};
use portcullis_oauth::endpoints;
use portcullis_oauth::grants::{self, GrantContext, TokenSettings};
use portcullis_oauth::mirror::RevocationList;

/// `POST /token`.
pub async fn token(
    req: HttpRequest,
    form: FormParams,
    auth: web::Data<HttpClientAuthenticator>,
    settings: web::Data<TokenSettings>,
    keys: web::Data<KeyRing>,
    (app, dpop, revocations): (web::Data<App>, web::Data<Dpop>, web::Data<RevocationList>),
) -> Result<HttpResponse, OAuthFailure> {
    let client = auth.authenticate(&req, &form).await?;
    auth.within_rate_limit(&req, &client, settings.token_rate_limit, &app)?;
    // The client's own choice, checked once it is authenticated: a missing
    // or unsupported grant type counts towards its `malformed_requests` rule.
    let grant = match form.require("grant_type").and_then(|grant_type| {
        grants::find(grant_type).ok_or_else(|| {
            let description = format!("grant_type `{grant_type}` is not supported");
            OAuthError::new(ErrorCode::UnsupportedGrantType, description)
        })
    }) {
        Ok(grant) => grant,
        Err(malformed) => {
            auth.engine.answered(&client, true).await;
            return Err(malformed.into());
        }
    };
    // Anything else ends a run of malformed requests: it may be a value the
    // client only passes along (a code from a redirect), which a stranger controls.
    auth.engine.answered(&client, false).await;
    grants::ensure_allowed(&client, grant.grant_type)?;
    // RFC 9449 §5: a proof binds what is issued to its key.
    let proofs = headers::dpop_proofs(&req);
    let presented = ProofRequest { proofs, method: "POST", endpoint: endpoints::TOKEN, access_token: None };
    let proven = dpop.check(&presented).await?;
    grants::ensure_proof(&client, proven.as_ref())?;
    let dpop_jkt = proven.as_ref().map(|proven| proven.jkt.as_str());
    let context = GrantContext {
        client: &client,
        settings: &settings,
        keys: &keys,
        app: &app,
        address: auth.client_ip(&req),
        dpop_jkt,
        revocations: &revocations,
        clients: auth.clients(),
    };
    let response = (grant.handle)(&context, &form).await?;
    let mut ok = HttpResponse::Ok();
    no_store(&mut ok);
    if let Some(nonce) = proven.and_then(|proven| proven.nonce) {
        ok.insert_header((DPOP_NONCE, nonce));
    }
    // What was issued, for the metrics (see crate::metrics).
    ok.extensions_mut().insert(IssuedToken {
        grant_type: grant.grant_type,
        alg: client.metadata.access_token_signed_response_alg,
        client_id: client.id.as_str().to_owned(),
    });
    Ok(ok.json(response))
}
