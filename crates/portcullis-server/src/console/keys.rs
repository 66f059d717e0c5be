//! `/console/keys`: the signing keys in the console. Per algorithm, its
//! keys as a timeline (next, active, retired, revoked); staging a next key,
//! activating it, rotating and revoking, the last three after a
//! confirmation; the published JWKS as verifiers read it; and the automatic
//! rotation setting. Over the REST API's operations, as the signed-in user
//! (`admin:keys`).

use super::session::Frame;
use super::{refusal, see_other, signed, Confirm, Posted};
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::views::render;
use crate::KeyRing;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::compliance::Facts;
use portcullis_app::keys::KeyView;
use portcullis_app::{AppError, Permission};
use portcullis_core::SigningAlgorithm;

/// What a page says the keys need.
const WHAT: &str = "Managing signing keys";

/// One algorithm's keys, newest first.
struct Algorithm {
    alg: &'static str,
    keys: Vec<KeyView>,
}

#[derive(Template)]
#[template(path = "console/keys.html")]
struct KeysPage {
    frame: Frame,
    algorithms: Vec<Algorithm>,
    jwks: String,
    rotation: Option<u64>,
    error: Option<String>,
}

/// The keys page, with `error` from a refused action.
async fn page(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    ring: &KeyRing,
    facts: &Facts,
    error: Option<(StatusCode, String)>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Keys, WHAT);
    let actor = signed.actor(req, ctx);
    let mut keys = ctx.run(move |app| app.keys(&actor)).await?;
    keys.reverse();
    let algorithms = SigningAlgorithm::ALL
        .iter()
        .map(|alg| Algorithm {
            alg: alg.as_str(),
            keys: keys.iter().filter(|k| k.alg == alg.as_str()).cloned().collect(),
        })
        .collect();
    let jwks = serde_json::from_slice::<serde_json::Value>(ring.current().jwks_json())
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_default();
    let (status, error) = error.map_or((StatusCode::OK, None), |(s, e)| (s, Some(e)));
    let page = KeysPage {
        frame: signed.frame("keys"),
        algorithms,
        jwks,
        rotation: facts.key_rotation.map(|period| period.as_secs() / 86_400),
        error,
    };
    render(status, &page)
}

/// `GET /console/keys`.
pub async fn show(
    req: HttpRequest,
    ctx: web::Data<ConsoleContext>,
    ring: web::Data<KeyRing>,
    facts: web::Data<Facts>,
) -> Result<HttpResponse, PageError> {
    page(&req, &ctx, &ring, &facts, None).await
}

/// A change to the keys, confirmed before it is made.
#[derive(Clone, Copy)]
enum Action {
    Stage,
    Rotate,
    Activate,
    Revoke,
}

impl Action {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "stage" => Some(Self::Stage),
            "rotate" => Some(Self::Rotate),
            "activate" => Some(Self::Activate),
            "revoke" => Some(Self::Revoke),
            _ => None,
        }
    }

    /// The confirmation's title, text and button for `subject` (an algorithm or a kid).
    fn confirmation(self, subject: &str) -> (String, String, &'static str) {
        match self {
            Self::Stage => (
                format!("Stage a next {subject} key"),
                "A new key is published in the JWKS now and signs nothing until it is activated.".into(),
                "Stage",
            ),
            Self::Rotate => (
                format!("Rotate the {subject} key"),
                format!("A new {subject} key signs within seconds (once every instance publishes it); the active one is retired and stays published until every token it signed has expired. Verifiers that cached the JWKS may not know the new key yet: staging a next key first avoids that."),
                "Rotate now",
            ),
            Self::Activate => (
                "Activate the next key".into(),
                format!("Key {subject} signs within seconds (once every instance publishes it); the active key of its algorithm is retired and stays published until its tokens have expired."),
                "Activate",
            ),
            Self::Revoke => (
                "Revoke the key".into(),
                format!("Key {subject} leaves the JWKS at once: every token it signed stops verifying. If it is the active key, a new key takes its place. This cannot be undone."),
                "Revoke",
            ),
        }
    }
}

/// `GET /console/keys/{action}/{subject}`: the confirmation.
pub async fn confirm(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Keys, WHAT);
    let (name, subject) = path.into_inner();
    let Some(action) = Action::parse(&name) else {
        return crate::views::message(StatusCode::NOT_FOUND, "Keys", "There is no such key action.");
    };
    let (title, text, button) = action.confirmation(&subject);
    let target = format!("/console/keys/{name}/{}", super::clients::urlencoding(&subject));
    let page = Confirm {
        frame: signed.frame("keys"),
        title: &title,
        text: &text,
        action: &target,
        button,
        back: "/console/keys",
    };
    render(StatusCode::OK, &page)
}

/// `POST /console/keys/{action}/{subject}`: stage or rotate (an
/// algorithm), activate or revoke (a kid).
pub async fn act(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
    ring: web::Data<KeyRing>,
    facts: web::Data<Facts>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Keys, WHAT, form);
    let (name, subject) = path.into_inner();
    let actor = signed.actor(&req, &ctx);
    let maker = ring.clone().into_inner();
    let done = ctx
        .run(move |app| {
            let alg = || {
                subject
                    .parse::<SigningAlgorithm>()
                    .map_err(|_| AppError::Invalid(format!("{subject} is not an algorithm")))
            };
            Ok((|| match Action::parse(&name) {
                Some(Action::Stage) => app.stage_key(&actor, &*maker, alg()?).map(drop),
                Some(Action::Rotate) => app.rotate_key(&actor, &*maker, alg()?).map(drop),
                Some(Action::Activate) => app.activate_key(&actor, &subject).map(drop),
                Some(Action::Revoke) => app.revoke_key(&actor, &*maker, &subject).map(drop),
                None => Err(AppError::NotFound("there is no such key action".into())),
            })())
        })
        .await?;
    match done {
        Ok(()) => Ok(see_other("/console/keys")),
        Err(error) => page(&req, &ctx, &ring, &facts, Some(refusal(error)?)).await,
    }
}
