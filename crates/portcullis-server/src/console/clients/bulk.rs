//! Secrets shown once: a secret just added to a client, or the secrets of
//! up to 50 clients regenerated in one action (`POST
//! /console/clients/regenerate` from the list's check boxes). The page shows
//! each secret with a copy button and offers them all as a JSON download
//! that the page's script builds from what it shows (so the secrets are
//! never stored, sent again or kept in a URL).

use super::super::session::Frame;
use super::super::{refusal, signed, Posted};
use super::WHAT;
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::views::{message, render};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::Permission;
use portcullis_core::ClientSecret;

/// A secret as the page (and its download) shows it.
pub struct Shown {
    /// The client.
    pub client_id: String,
    /// Its name; empty when the page is about one client.
    pub client_name: String,
    /// The secret's id.
    pub secret_id: String,
    /// The secret.
    pub secret: ClientSecret,
}

#[derive(Template)]
#[template(path = "console/secrets.html")]
struct SecretsPage<'a> {
    frame: Frame,
    secrets: Vec<Shown>,
    back: &'a str,
}

/// The page showing `secrets` once, never cached, with a link `back`.
pub fn shown_once(frame: Frame, secrets: Vec<Shown>, back: &str) -> Result<HttpResponse, PageError> {
    render(StatusCode::OK, &SecretsPage { frame, secrets, back })
}

/// `POST /console/clients/regenerate` with `client_id` repeated (at most
/// [`portcullis_app::client_secrets::MAX_REGENERATED`]): every secret of
/// each is revoked and one new secret put in their place, all or none.
pub async fn regenerate(
    req: HttpRequest,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, WHAT, form);
    let ids: Vec<String> = form.all("client_id").into_iter().map(str::to_owned).collect();
    let actor = signed.actor(&req, &ctx);
    match ctx.run(move |app| Ok(app.regenerate_client_secrets(&actor, &ids, None))).await? {
        Ok(regenerated) => {
            let secrets = regenerated
                .into_iter()
                .map(|r| Shown {
                    secret: r.secret,
                    client_id: r.client_id,
                    client_name: r.client_name,
                    secret_id: r.secret_id,
                })
                .collect();
            shown_once(signed.frame("clients"), secrets, "/console/clients")
        }
        Err(error) => {
            let (status, text) = refusal(error)?;
            message(status, "Secrets not regenerated", &format!("{text}. No secret was changed."))
        }
    }
}
