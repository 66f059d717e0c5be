//! A webhook receiver: verifies each delivery's Standard Webhooks signature
//! (HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`, keyed with
//! the `whsec_` secret's bytes), refuses stale timestamps (replays), skips
//! deliveries it has seen (retries may repeat one), and prints each event
//! as a line of JSON.
//!
//! ```sh
//! WEBHOOK_SECRET=whsec_… cargo run -p portcullis-examples --bin webhook-receiver
//! ```

use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use clap::Parser;
use hmac::{Hmac, Mac};
use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

/// How far a delivery's timestamp may be from this machine's clock.
const TOLERANCE_SECONDS: i64 = 5 * 60;
/// How many delivery ids are remembered to skip repeats.
const REMEMBERED: usize = 10_000;

/// Receives webhook deliveries at `POST /webhooks`.
#[derive(Parser)]
struct Args {
    /// The endpoint's signing secret, as registering it showed (`whsec_…`).
    #[arg(long, env = "WEBHOOK_SECRET", hide_env_values = true)]
    secret: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8082")]
    listen: String,
}

struct State {
    key: Vec<u8>,
    seen: Mutex<(HashSet<String>, VecDeque<String>)>,
}

/// Why a delivery is refused: its status and a few words.
type Refusal = (StatusCode, &'static str);

fn refuse((status, why): Refusal) -> HttpResponse {
    HttpResponse::build(status).json(serde_json::json!({ "error": why }))
}

/// The delivery's id when its signature and timestamp hold.
fn verify(key: &[u8], req: &HttpRequest, body: &[u8]) -> Result<String, Refusal> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let (Some(id), Some(timestamp), Some(signatures)) =
        (header("webhook-id"), header("webhook-timestamp"), header("webhook-signature"))
    else {
        return Err((StatusCode::BAD_REQUEST, "missing webhook headers"));
    };
    let sent: i64 = timestamp.parse().map_err(|_| (StatusCode::BAD_REQUEST, "bad timestamp"))?;
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    if (now - sent).abs() > TOLERANCE_SECONDS {
        return Err((StatusCode::BAD_REQUEST, "timestamp too far from now"));
    }
    // Each signature is `v1,<base64>`; several may be sent, space-separated.
    let valid = signatures.split(' ').filter_map(|s| s.strip_prefix("v1,")).any(|given| {
        let Ok(given) = STANDARD.decode(given) else { return false };
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        mac.verify_slice(&given).is_ok() // constant time
    });
    if !valid {
        return Err((StatusCode::UNAUTHORIZED, "bad signature"));
    }
    Ok(id.to_owned())
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let id = match verify(&state.key, &req, &body) {
        Ok(id) => id,
        Err(refused) => return refuse(refused),
    };
    {
        let mut seen = state.seen.lock().expect("seen lock");
        let (ids, order) = &mut *seen;
        if !ids.insert(id.clone()) {
            return HttpResponse::NoContent().finish(); // a repeat: already handled
        }
        order.push_back(id);
        if order.len() > REMEMBERED {
            order.pop_front().map(|old| ids.remove(&old));
        }
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(event) => println!("{event}"),
        Err(_) => return refuse((StatusCode::BAD_REQUEST, "the body is not JSON")),
    }
    HttpResponse::NoContent().finish()
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let encoded = args.secret.strip_prefix("whsec_").unwrap_or(&args.secret);
    let key = STANDARD.decode(encoded).map_err(|_| anyhow::anyhow!("the secret is not whsec_ + base64"))?;
    let state = web::Data::new(State { key, seen: Mutex::default() });
    let server = HttpServer::new(move || {
        App::new().app_data(state.clone()).route("/webhooks", web::post().to(receive))
    })
    .workers(1)
    .bind(&args.listen)?;
    eprintln!("listening on http://{}/webhooks", args.listen);
    server.run().await?;
    Ok(())
}
