//! The console's oversight of teams (issue 23): every team with its policy,
//! members, open invitations, clients and personal access tokens; creating
//! a team, setting its policy and inviting its members (`admin:users`); the scope requests
//! waiting for an admin, approved or rejected with a reason
//! (`admin:clients`); every personal access token, revoked from here
//! (`admin:users`). Thin handlers over the same operations as the REST API.

use super::session::Frame;
use super::{refused, see_other, signed, Posted, ShownOnce};
use crate::console::context::ConsoleContext;
use crate::pages::PageError;
use crate::views::render;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::clients::{ClientQuery, ClientView, ScopeRequestView};
use portcullis_app::personal_tokens::PersonalTokenView;
use portcullis_app::teams::{InvitationView, MemberView, TeamView};
use portcullis_app::{AppError, Permission};
use portcullis_core::team::TeamPolicy;

/// What the team pages need.
const WHAT: &str = "Managing teams";
/// What the approvals need.
const APPROVING: &str = "Approving scopes";

#[derive(Template)]
#[template(path = "console/teams.html")]
struct TeamsPage {
    frame: Frame,
    teams: Vec<TeamView>,
}

/// `GET /console/teams`.
pub async fn list(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Users, WHAT);
    let actor = signed.actor(&req, &ctx);
    let teams = ctx.run(move |app| app.teams(&actor)).await?;
    render(StatusCode::OK, &TeamsPage { frame: signed.frame("teams"), teams })
}

/// `POST /console/teams` with a name: the new team's page.
pub async fn create(
    req: HttpRequest,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Users, WHAT, form);
    let (actor, name) = (signed.actor(&req, &ctx), form.text("name"));
    match ctx.run(move |app| Ok(app.create_team(&actor, &name, TeamPolicy::default()))).await? {
        Ok(team) => Ok(see_other(&format!("/console/teams/{}", team.team_id))),
        Err(refusal) => refused("New team", refusal),
    }
}

#[derive(Template)]
#[template(path = "console/team.html")]
struct TeamPage {
    frame: Frame,
    team: TeamView,
    policy: String,
    members: Vec<MemberView>,
    invitations: Vec<InvitationView>,
    clients: Vec<ClientView>,
    tokens: Vec<PersonalTokenView>,
    error: Option<String>,
}

/// The page of team `team_id`, with the policy as sent and `error` from a refused change.
async fn team_page(
    req: &HttpRequest,
    ctx: &ConsoleContext,
    team_id: String,
    refusal: Option<(String, AppError)>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Users, WHAT);
    let actor = signed.actor(req, ctx);
    let read = ctx
        .run(move |app| {
            Ok((|| {
                let (team, _) = app.team(&actor, &team_id)?;
                let members = app.team_members(&actor, &team_id)?;
                let invitations = app.team_invitations(&actor, &team_id)?;
                let query = ClientQuery { team: Some(team_id.clone()), limit: 200, ..ClientQuery::default() };
                // The team's clients are listed to whoever also runs clients.
                let clients = app.clients(&actor, &query).map(|page| page.clients).unwrap_or_default();
                let tokens = app.personal_tokens(&actor, &team_id)?;
                Ok::<_, AppError>((team, members, invitations, clients, tokens))
            })())
        })
        .await?;
    let (team, members, invitations, clients, tokens) = match read {
        Ok(read) => read,
        Err(error) => return refused("Team", error),
    };
    let (status, policy, error) = match refusal {
        Some((sent, error)) => {
            let (status, text) = super::refusal(error)?;
            (status, sent, Some(text))
        }
        None => (StatusCode::OK, serde_json::to_string_pretty(&team.policy).unwrap_or_default(), None),
    };
    let page =
        TeamPage { frame: signed.frame("teams"), team, policy, members, invitations, clients, tokens, error };
    render(status, &page)
}

/// `GET /console/teams/{team_id}`.
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    team_page(&req, &ctx, path.into_inner(), None).await
}

/// `POST /console/teams/{team_id}/invitations` with a role and a lifetime
/// in days: the one-time link, shown once (how a team made here gets its
/// first owner).
pub async fn invite(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Users, WHAT, form);
    let team_id = path.into_inner();
    let actor = signed.actor(&req, &ctx);
    match crate::portal::teams::invite_as_asked(&ctx, actor, team_id.clone(), &form).await? {
        Ok(link) => {
            let page = ShownOnce {
                frame: signed.frame("teams"),
                title: "Invitation link",
                warning: "Give it to the person you invite now: this page is the only time it is shown. \
                          It is accepted once, signed in to the portal.",
                value: &link,
                path: &format!("/console/teams/{team_id}"),
            };
            render(StatusCode::CREATED, &page)
        }
        Err(refusal) => refused("Invite", refusal),
    }
}

/// `POST /console/teams/{team_id}/policy` with the policy as JSON; a refused
/// one is shown again as sent, with the reason.
pub async fn set_policy(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Users, WHAT, form);
    let (actor, team_id, sent) = (signed.actor(&req, &ctx), path.into_inner(), form.text("policy"));
    let parsed: Result<TeamPolicy, AppError> = serde_json::from_str(&sent)
        .map_err(|e| AppError::Invalid(format!("the policy is not one this server reads: {e}")));
    let team = team_id.clone();
    let done = match parsed {
        Ok(policy) => ctx.run(move |app| Ok(app.set_team_policy(&actor, &team, policy))).await?.map(drop),
        Err(error) => Err(error),
    };
    match done {
        Ok(()) => Ok(see_other(&format!("/console/teams/{team_id}"))),
        Err(error) => team_page(&req, &ctx, team_id, Some((sent, error))).await,
    }
}

#[derive(Template)]
#[template(path = "console/approvals.html")]
struct ApprovalsPage {
    frame: Frame,
    requests: Vec<ScopeRequestView>,
}

/// `GET /console/approvals`: the scope requests waiting, oldest first.
pub async fn approvals(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, APPROVING);
    let actor = signed.actor(&req, &ctx);
    let requests = ctx.run(move |app| app.pending_scope_requests(&actor)).await?;
    render(StatusCode::OK, &ApprovalsPage { frame: signed.frame("teams"), requests })
}

/// `POST /console/approvals/{request_id}` with `decision` (`approve` or
/// `reject`) and a `reason`.
pub async fn decide(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Clients, APPROVING, form);
    let (request_id, approve) = (path.into_inner(), form.text("decision") == "approve");
    let reason = Some(form.text("reason")).filter(|reason| !reason.is_empty());
    super::changed((&req, &ctx, &signed), APPROVING, "/console/approvals", move |app, actor| {
        app.decide_scope_request(actor, &request_id, approve, reason.as_deref()).map(drop)
    })
    .await
}

#[derive(Template)]
#[template(path = "console/personal_tokens.html")]
struct TokensPage {
    frame: Frame,
    tokens: Vec<PersonalTokenView>,
}

/// `GET /console/personal-tokens`: every personal access token, newest first.
pub async fn tokens(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Users, WHAT);
    let actor = signed.actor(&req, &ctx);
    let tokens = ctx.run(move |app| app.all_personal_tokens(&actor)).await?;
    render(StatusCode::OK, &TokensPage { frame: signed.frame("teams"), tokens })
}

/// `POST /console/personal-tokens/{token_id}/revoke`.
pub async fn revoke_token(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, Permission::Users, WHAT, form);
    let token_id = path.into_inner();
    super::changed(
        (&req, &ctx, &signed),
        "Personal access tokens",
        "/console/personal-tokens",
        move |app, actor| app.revoke_personal_token(actor, &token_id),
    )
    .await
}

/// Mounts the pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/console/teams").route(web::get().to(list)).route(web::post().to(create)))
        .service(web::resource("/console/teams/{team_id}").route(web::get().to(show)))
        .service(web::resource("/console/teams/{team_id}/policy").route(web::post().to(set_policy)))
        .service(web::resource("/console/teams/{team_id}/invitations").route(web::post().to(invite)))
        .service(web::resource("/console/approvals").route(web::get().to(approvals)))
        .service(web::resource("/console/approvals/{request_id}").route(web::post().to(decide)))
        .service(web::resource("/console/personal-tokens").route(web::get().to(tokens)))
        .service(
            web::resource("/console/personal-tokens/{token_id}/revoke").route(web::post().to(revoke_token)),
        );
}
