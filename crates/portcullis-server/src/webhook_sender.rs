//! Sends webhook deliveries (see [`portcullis_app::webhooks`]) from a thread
//! of their own, never from a request's: every second it leases the due
//! deliveries and sends each on a task of its own with `reqwest`, each
//! bounded by [`REQUEST_TIMEOUT`], at most [`PER_ENDPOINT`](portcullis_app::webhooks::PER_ENDPOINT) at a time to one
//! endpoint and [`IN_FLIGHT`] in all. So a dead or slow endpoint holds a few
//! of its own deliveries, never the server or the other endpoints.
//! Redirects are not followed: an endpoint answers for itself.

use actix_web::web;
use portcullis_app::webhooks::{Attempt, AttemptOutcome, REQUEST_TIMEOUT};
use portcullis_app::App;
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

/// Starts the sender for `app`, for as long as `alive` exists.
pub fn spawn(app: Arc<App>, alive: Weak<dyn Any + Send + Sync>) {
    std::thread::Builder::new()
        .name("portcullis-webhooks".into())
        .spawn(move || actix_web::rt::System::new().block_on(run(app, alive)))
        .unwrap_or_else(|e| panic!("spawn the webhook sender: {e}"));
}

async fn run(app: Arc<App>, alive: Weak<dyn Any + Send + Sync>) {
    let client = match reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Portcullis-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(e) => return tracing::error!(error = %e, "the webhook sender could not start"),
    };
    let in_flight: Rc<RefCell<HashMap<String, usize>>> = Rc::default();
    while alive.strong_count() > 0 {
        let counts = in_flight.borrow().clone();
        let free = IN_FLIGHT.saturating_sub(counts.values().sum());
        let leasing = app.clone();
        let leased = web::block(move || leasing.lease_webhook_deliveries(free, &counts)).await;
        match leased {
            Ok(Ok(attempts)) => {
                for attempt in attempts {
                    *in_flight.borrow_mut().entry(attempt.delivery.webhook_id.clone()).or_default() += 1;
                    actix_web::rt::spawn(deliver(app.clone(), client.clone(), attempt, in_flight.clone()));
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
    client: reqwest::Client,
    attempt: Attempt,
    in_flight: Rc<RefCell<HashMap<String, usize>>>,
) {
    let webhook_id = attempt.delivery.webhook_id.clone();
    let mut request = client
        .post(&attempt.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(attempt.delivery.payload.clone());
    for (name, value) in attempt.headers(app.now()) {
        request = request.header(name, value);
    }
    let outcome = match request.send().await {
        Ok(response) => AttemptOutcome::Answered(response.status().as_u16()),
        // Without the URL: it may carry a token of the receiver's.
        Err(e) => AttemptOutcome::Failed(describe(&e)),
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

/// Why a request failed, in a few words.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())
    } else if error.is_connect() {
        "the endpoint could not be reached".to_owned()
    } else {
        "the request failed".to_owned()
    }
}
