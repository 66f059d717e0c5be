//! `POST /par`: the pushed authorization request endpoint (RFC 9126 §2).
//! The client authenticates as at the token endpoint and sends its
//! authorization request (or a request object) in the body; the request is
//! validated as `/authorize` would, kept, and named by the `request_uri` the
//! browser then carries.

use crate::client_authentication::HttpClientAuthenticator;
use crate::form::FormParams;
use crate::headers;
use crate::oauth_response::{no_store, OAuthFailure, DPOP_NONCE};
use actix_web::{web, HttpRequest, HttpResponse};
use portcullis_app::App;
use portcullis_oauth::authorization_requests::AuthorizationRequests;
use portcullis_oauth::dpop::{Dpop, ProofRequest};
use portcullis_oauth::endpoints;
use portcullis_oauth::grants::{self, TokenSettings};
use serde_json::json;

/// `POST /par`.
pub async fn push(
    req: HttpRequest,
    form: FormParams,
    auth: web::Data<HttpClientAuthenticator>,
    requests: web::Data<AuthorizationRequests>,
    settings: web::Data<TokenSettings>,
    (app, dpop): (web::Data<App>, web::Data<Dpop>),
) -> Result<HttpResponse, OAuthFailure> {
    // §2: the client authenticates as it would at the token endpoint.
    let client = auth.authenticate(&req, &form).await?;
    auth.within_rate_limit(&req, &client, settings.token_rate_limit, &app)?;
    let proofs = headers::dpop_proofs(&req);
    let endpoint = endpoints::PUSHED_AUTHORIZATION_REQUEST;
    let proven = dpop.check(&ProofRequest { proofs, method: "POST", endpoint, access_token: None }).await?;
    grants::ensure_proof_alg(&client, proven.as_ref())?;
    let pushed = requests.push(form.0, &client, proven.as_ref().map(|proven| proven.jkt.as_str())).await?;
    // §2.2: 201 with the request_uri and its lifetime.
    let mut created = HttpResponse::Created();
    no_store(&mut created);
    if let Some(nonce) = proven.and_then(|proven| proven.nonce) {
        created.insert_header((DPOP_NONCE, nonce));
    }
    Ok(created.json(json!({"request_uri": pushed.request_uri, "expires_in": pushed.expires_in})))
}
