//! Usage analytics' adapter: whoever resolves the registered client a
//! request is for [`attribute`]s it, and the [`record`] middleware hands
//! each answered request that has one to the application's
//! [`UsageRecorder`](portcullis_app::usage::UsageRecorder), which
//! aggregates in memory and writes in batches. Requests that name no
//! registered client (an unknown id, discovery, JWKS) are not counted per
//! client: anyone can make up ids, and each would be a row.

use crate::metrics::IssuedToken;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest};
use portcullis_app::usage::Answered;
use portcullis_app::App;
use std::net::IpAddr;
use std::time::Instant;

/// The registered client a request is for, and where it authenticated
/// from when it did.
struct ForClient(String, Option<IpAddr>);

/// Notes that `req` is for the registered client `client_id`.
pub fn attribute(req: &HttpRequest, client_id: &str) {
    req.extensions_mut().insert(ForClient(client_id.to_owned(), None));
}

/// Notes that the registered client `client_id` authenticated `req` from
/// `source`: its network is counted with the request (a baseline's signal,
/// and its first sightings, judged off the request path).
pub fn attribute_authenticated(req: &HttpRequest, client_id: &str, source: Option<IpAddr>) {
    req.extensions_mut().insert(ForClient(client_id.to_owned(), source));
}

/// The registered client `req` was attributed to, if any.
pub fn client_of(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<ForClient>().map(|ForClient(client_id, _)| client_id.clone())
}

/// The middleware that counts each answered request of a client.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let response = next.call(req).await?;
    let app = response.request().app_data::<web::Data<App>>();
    let extensions = response.request().extensions();
    if let (Some(app), Some(ForClient(client_id, authenticated_from))) = (app, extensions.get::<ForClient>())
    {
        let issued = response.response().extensions().get::<IssuedToken>().is_some();
        app.usage().record(&Answered {
            client_id,
            at: app.now(),
            status: response.status().as_u16(),
            took: started.elapsed(),
            tokens_issued: u32::from(issued),
            authenticated_from: *authenticated_from,
        });
    }
    drop(extensions);
    Ok(response)
}
