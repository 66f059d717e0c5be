//! Sends webhook deliveries (see [`portcullis_app::webhooks`]) from a thread
//! of their own, never from a request's: every second it leases the due
//! deliveries and sends each on a task of its own through the guarded
//! outbound client ([`portcullis_outbound`]), each bounded by
//! [`REQUEST_TIMEOUT`], [`IN_FLIGHT`] in all, shared fairly between the
//! endpoints with deliveries waiting (at most
//! [`PER_ENDPOINT`](portcullis_app::webhooks::PER_ENDPOINT) each). So a dead
//! or slow endpoint holds its share of the slots, never the server's or the
//! other endpoints'.
//! Redirects are not followed: an endpoint answers for itself. An endpoint
//! whose address is not admitted is never connected to; its delivery log
//! says so in words that name no address. A team's endpoint goes through
//! a client of its own admitting only public addresses over https, however
//! far the operator opened the admins' (`--outbound-allow`).

use actix_web::web;
use portcullis_app::webhooks::{Attempt, AttemptOutcome, REQUEST_TIMEOUT};
use portcullis_app::App;
use portcullis_outbound::{LongerBody, Outbound, OutboundRequest};
use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Weak};
use std::time::Duration;

/// Deliveries in flight in all.
pub const IN_FLIGHT: usize = 64;
/// How often due deliveries are looked for.
const POLL: Duration = Duration::from_secs(1);

/// Starts the sender for `app`, sending through `outbound`, for as long
/// as `alive` exists.
pub fn spawn(app: Arc<App>, outbound: Arc<Outbound>, alive: Weak<dyn Any + Send + Sync>) {
    std::thread::Builder::new()
        .name("portcullis-webhooks".into())
        .spawn(move || actix_web::rt::System::new().block_on(run(app, outbound, alive)))
        .unwrap_or_else(|e| panic!("spawn the webhook sender: {e}"));
}

async fn run(app: Arc<App>, outbound: Arc<Outbound>, alive: Weak<dyn Any + Send + Sync>) {
    let public_only = Arc::new(Outbound::new(portcullis_core::outbound::OutboundPolicy::default()));
    let in_flight: Rc<RefCell<HashMap<String, usize>>> = Rc::default();
    while alive.strong_count() > 0 {
        let counts = in_flight.borrow().clone();
        let leasing = app.clone();
        let leased = web::block(move || leasing.lease_webhook_deliveries(IN_FLIGHT, &counts)).await;
        match leased {
            Ok(Ok(attempts)) => {
                for attempt in attempts {
                    *in_flight.borrow_mut().entry(attempt.delivery.webhook_id.clone()).or_default() += 1;
                    let through = if attempt.public_only { &public_only } else { &outbound };
                    actix_web::rt::spawn(deliver(app.clone(), through.clone(), attempt, in_flight.clone()));
                }
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "due webhook deliveries could not be read"),
            Err(e) => tracing::warn!(error = %e, "due webhook deliveries could not be read"),
        }
        actix_web::rt::time::sleep(POLL).await;
    }
}

/// Sends one attempt and records how it ended.
async fn deliver(
    app: Arc<App>,
    outbound: Arc<Outbound>,
    attempt: Attempt,
    in_flight: Rc<RefCell<HashMap<String, usize>>>,
) {
    let webhook_id = attempt.delivery.webhook_id.clone();
    let mut headers = vec![("content-type", "application/json".to_owned())];
    headers.extend(attempt.headers(app.now()));
    let request = OutboundRequest {
        method: reqwest::Method::POST,
        url: &attempt.url,
        headers,
        body: Some(attempt.delivery.payload.clone()),
        timeout: REQUEST_TIMEOUT,
        // The status is what counts: the body is not read.
        max_body: 0,
        longer_body: LongerBody::CutOff,
    };
    let outcome = match outbound.send(request).await {
        Ok(response) => AttemptOutcome::Answered(response.status),
        // Refusals and time-outs alike, in words that name no address.
        Err(e) => AttemptOutcome::Failed(e.to_string()),
    };
    let recorded = web::block(move || app.finish_webhook_attempt(attempt, &outcome)).await;
    if !matches!(recorded, Ok(Ok(()))) {
        tracing::warn!(webhook = %webhook_id, "a webhook attempt could not be recorded; it will be tried again");
    }
    let mut counts = in_flight.borrow_mut();
    if let Some(n) = counts.get_mut(&webhook_id) {
        *n -= 1;
        if *n == 0 {
            counts.remove(&webhook_id);
        }
    }
}
