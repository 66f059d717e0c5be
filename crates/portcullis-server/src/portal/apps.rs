//! The portal's app pages: a new app from the console's client builder (the
//! shared field table) without what only admins set, bounded by the team's
//! policy (a setting outside it is refused with the reason); an app's page
//! with its secrets (added with an expiry within the policy, shown once,
//! revoked) and the scopes waiting for an admin.

use super::builder::{self, member_configuration, Built};
use super::session::{signed, Frame};
use super::shown_once;
use crate::console::context::ConsoleContext;
use crate::console::{refusal, see_other, Posted};
use crate::pages::PageError;
use crate::views::render;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::TimeDelta;
use portcullis_app::clients::{draft, ClientView, ScopeRequestView};
use portcullis_core::team::TeamPermission;
use serde_json::Map;

/// `GET /portal/teams/{team_id}/apps/new`: the builder, with the defaults
/// the team's policy gives a new client.
pub async fn new(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx);
    let (actor, team_id) = (signed.actor(&req, &ctx), path.into_inner());
    let team = team_id.clone();
    let policy = match ctx.run(move |app| Ok(app.team_for(&actor, &team, TeamPermission::Apps))).await? {
        Ok((team, _)) => team.policy,
        Err(refusal) => return super::refused(&signed, signed.t.buttons[0], refusal),
    };
    let mut defaults = Map::new();
    defaults.insert("client_name".into(), "".into());
    policy.clients.fill_defaults(&mut defaults);
    builder::page(&signed, Built::New(&team_id), &defaults, (StatusCode::OK, Vec::new()))
}

/// `POST /portal/teams/{team_id}/apps/new`: registers the app in the team;
/// its first secret is shown once. A setting outside the team's policy is
/// refused with the reason, on the form as it was sent.
pub async fn create(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, form);
    let team_id = path.into_inner();
    // What the builder does not show keeps its default.
    let (written, problems) = member_configuration(Map::new(), &form, &signed);
    if !problems.is_empty() {
        return builder::page(&signed, Built::New(&team_id), &written, (StatusCode::BAD_REQUEST, problems));
    }
    let (actor, team, configuration) = (signed.actor(&req, &ctx), team_id.clone(), written.clone());
    match ctx.run(move |app| Ok(app.create_team_client(&actor, &team, draft(configuration, None)))).await? {
        Ok(created) => {
            let path = app_path(&created.client.client_id);
            match created.secret {
                Some(secret) => shown_once::page(&signed, secret.expose(), &path),
                None => Ok(see_other(&path)),
            }
        }
        Err(error) => {
            let (status, why) = refusal(error)?;
            builder::page(&signed, Built::New(&team_id), &written, (status, vec![why]))
        }
    }
}

/// Where an app's page is.
pub fn app_path(client_id: &str) -> String {
    format!("/portal/apps/{}", crate::console::clients::urlencoding(client_id))
}

#[derive(Template)]
#[template(path = "portal/app.html")]
struct AppPage {
    frame: Frame,
    client: ClientView,
    state: &'static str,
    last_decision: Option<ScopeRequestView>,
    most_days: Option<u32>,
    runs_apps: bool,
}

/// `GET /portal/apps/{client_id}`.
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx);
    let (actor, client_id) = (signed.actor(&req, &ctx), path.into_inner());
    let read = ctx
        .run(move |app| {
            Ok(app.client(&actor, &client_id).and_then(|client| {
                let decisions = app.client_scope_requests(&actor, &client_id)?;
                let team_id = client.team_id.clone().unwrap_or_default();
                let (team, access) = app.team(&actor, &team_id)?;
                Ok((client, decisions, team.policy.max_secret_lifetime_days, super::runs_apps(&access)))
            }))
        })
        .await?;
    let (client, decisions, most_days, runs_apps) = match read {
        Ok(read) => read,
        Err(refusal) => return super::refused(&signed, signed.t.sections[0], refusal),
    };
    let t = signed.t;
    let state = if client.disabled { t.states[1] } else { t.states[0] };
    let last_decision = decisions.into_iter().find(|d| d.state != "pending");
    render(
        StatusCode::OK,
        &AppPage { frame: signed.frame(), client, state, last_decision, most_days, runs_apps },
    )
}

/// `POST /portal/apps/{client_id}/secrets` with a lifetime in days (empty:
/// the longest the team's policy allows, or never): the secret, shown once.
pub async fn add_secret(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, form);
    let (actor, client_id) = (signed.actor(&req, &ctx), path.into_inner());
    let days = form.text("days");
    let expires_at = match days.parse::<i64>() {
        Ok(days) if (1..=3_650).contains(&days) => Some(ctx.app.now() + TimeDelta::days(days)),
        _ if days.is_empty() => None,
        _ => {
            return super::refused(
                &signed,
                signed.t.secrets[0],
                portcullis_app::AppError::Invalid("days: 1 to 3650".into()),
            )
        }
    };
    let client = client_id.clone();
    match ctx.run(move |app| Ok(app.add_client_secret(&actor, &client, expires_at))).await? {
        Ok(added) => shown_once::page(&signed, added.secret.expose(), &app_path(&client_id)),
        Err(refusal) => super::refused(&signed, signed.t.secrets[0], refusal),
    }
}

/// `POST /portal/apps/{client_id}/secrets/{secret_id}/revoke`.
pub async fn revoke_secret(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, form);
    let (client_id, secret_id) = path.into_inner();
    let (title, back) = (signed.t.secrets[0], app_path(&client_id));
    super::changed((&req, &ctx, &signed), title, &back, move |app, actor| {
        app.revoke_client_secret(actor, &client_id, &secret_id)
    })
    .await
}

/// `POST /portal/apps/{client_id}/scope-request/withdraw`.
pub async fn withdraw_scope_request(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, form);
    let client_id = path.into_inner();
    let (title, back) = (signed.t.scope_request[0], app_path(&client_id));
    super::changed((&req, &ctx, &signed), title, &back, move |app, actor| {
        app.withdraw_scope_request(actor, &client_id).map(drop)
    })
    .await
}

/// A secret just regenerated, as the page lists it.
struct Regenerated {
    client_id: String,
    client_name: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "portal/secrets.html")]
struct SecretsPage {
    frame: Frame,
    secrets: Vec<Regenerated>,
    back: String,
}

/// `POST /portal/teams/{team_id}/regenerate` with `client_id` repeated (at
/// most 50 of the team's apps): each loses every secret and gets one new
/// one, all or none; the new secrets are shown once.
pub async fn regenerate(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, form);
    let ids: Vec<String> = form.all("client_id").into_iter().map(str::to_owned).collect();
    let team_id = path.into_inner();
    let (actor, back, team) = (signed.actor(&req, &ctx), format!("/portal/teams/{team_id}"), team_id.clone());
    // Only the apps of the team whose page this is.
    let done = ctx.run(move |app| Ok(app.regenerate_client_secrets(&actor, &ids, Some(&team)))).await?;
    match done {
        Ok(regenerated) => {
            let secrets = regenerated
                .into_iter()
                .map(|r| Regenerated {
                    secret: r.secret.expose().to_owned(),
                    client_id: r.client_id,
                    client_name: r.client_name,
                })
                .collect();
            render(StatusCode::OK, &SecretsPage { frame: signed.frame(), secrets, back })
        }
        Err(refusal) => super::refused(&signed, signed.t.regenerate[1], refusal),
    }
}
