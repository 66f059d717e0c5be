//! The portal's team pages: the teams a user belongs to, one team's apps,
//! members and invitations, joining by an invitation link, and the owners'
//! forms for members and invitations. Each is a thin handler over the
//! application layer's team operations, as the user signed in.

use super::session::{signed, Frame};
use super::shown_once;
use crate::admin::teams::invitation_link;
use crate::console::context::ConsoleContext;
use crate::console::unusual::{Flagged, Language};
use crate::console::{see_other, Posted};
use crate::pages::PageError;
use crate::views::render;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use portcullis_app::audit::{TeamEventView, TeamEventsQuery};
use portcullis_app::clients::ClientQuery;
use portcullis_app::teams::{InvitationView, MemberView, Membership, TeamAccess, TeamSettings, TeamView};
use portcullis_app::AppError;
use portcullis_core::team::{TeamPermission, TeamRole};
use std::time::Duration;

/// The most apps a team page lists.
const LISTED: usize = 200;
/// How many of the team's events its page lists.
const EVENTS: i64 = 10;

#[derive(Template)]
#[template(path = "portal/home.html")]
struct HomePage {
    frame: Frame,
    teams: Vec<(Membership, &'static str)>,
}

/// `GET /portal`: the teams the user belongs to.
pub async fn home(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx);
    let actor = signed.actor(&req, &ctx);
    let joined = ctx.run(move |app| app.my_teams(&actor)).await?;
    let teams = joined
        .into_iter()
        .map(|m| {
            let role = signed.t.role(m.role);
            (m, role)
        })
        .collect();
    render(StatusCode::OK, &HomePage { frame: signed.frame(), teams })
}

/// An app as a team page lists it.
struct ListedApp {
    client_id: String,
    name: String,
    state: &'static str,
    waiting: bool,
}

#[derive(Template)]
#[template(path = "portal/team.html")]
struct TeamPage {
    frame: Frame,
    team: TeamView,
    role: &'static str,
    runs_apps: bool,
    runs_members: bool,
    apps: Vec<ListedApp>,
    members: Vec<(MemberView, &'static str)>,
    invitations: Vec<(InvitationView, &'static str)>,
    roles: Vec<(&'static str, &'static str)>,
    me: String,
    events: Vec<TeamEventView>,
    flagged: Vec<Flagged>,
}

/// `GET /portal/teams/{team_id}`.
pub async fn team(
    req: HttpRequest,
    path: web::Path<String>,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx);
    let actor = signed.actor(&req, &ctx);
    let team_id = path.into_inner();
    let read = ctx
        .run(move |app| {
            let (team, access) = match app.team(&actor, &team_id) {
                Ok(found) => found,
                Err(refusal) => return Ok(Err(refusal)),
            };
            let query = ClientQuery { team: Some(team_id.clone()), limit: LISTED, ..ClientQuery::default() };
            let apps = app.clients(&actor, &query)?.clients;
            let members = app.team_members(&actor, &team_id)?;
            let owner = matches!(access, TeamAccess::Member(role) if role.grants(TeamPermission::Members));
            let invitations = if owner { app.team_invitations(&actor, &team_id)? } else { Vec::new() };
            let events = app.team_events(
                &actor,
                &team_id,
                &TeamEventsQuery { limit: EVENTS, ..TeamEventsQuery::default() },
            )?;
            let unusual = app.unusual_now(&actor, Some(&team_id))?;
            Ok(Ok((team, access, apps, members, invitations, (events, unusual))))
        })
        .await?;
    let (team, access, apps, members, invitations, (events, unusual)) = match read {
        Ok(read) => read,
        Err(refusal) => return super::refused(&signed, signed.t.sections[0], refusal),
    };
    let t = signed.t;
    let role = match access {
        TeamAccess::Member(role) => role,
        TeamAccess::Admin => TeamRole::Owner,
    };
    let apps = apps
        .into_iter()
        .map(|c| ListedApp {
            state: if c.disabled { t.states[1] } else { t.states[0] },
            waiting: c.scope_request.is_some(),
            client_id: c.client_id,
            name: c.metadata.client_name,
        })
        .collect();
    let page = TeamPage {
        role: t.role(role),
        runs_apps: role.grants(TeamPermission::Apps),
        runs_members: role.grants(TeamPermission::Members),
        apps,
        members: members
            .into_iter()
            .map(|m| {
                let name = t.role(m.role);
                (m, name)
            })
            .collect(),
        invitations: invitations
            .into_iter()
            .map(|i| {
                let name = t.role(i.role);
                (i, name)
            })
            .collect(),
        roles: TeamRole::ALL.iter().map(|r| (r.as_str(), t.role(*r))).collect(),
        me: signed.session.user_id.clone(),
        events,
        flagged: unusual
            .iter()
            .map(|u| {
                Flagged::of(u, Language::of(t.lang), format!("{}/usage", super::apps::app_path(&u.client_id)))
            })
            .collect(),
        team,
        frame: signed.frame(),
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "portal/join.html")]
struct JoinPage {
    frame: Frame,
    token: String,
    team: String,
    role: &'static str,
    inviter: String,
}

/// `GET /portal/join?token=…`: which team, role and inviter, and the
/// question, once signed in.
pub async fn join_form(req: HttpRequest, ctx: web::Data<ConsoleContext>) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx);
    let token = Posted::query(&req).text("token");
    let (actor, presented) = (signed.actor(&req, &ctx), token.clone());
    match ctx.run(move |app| Ok(app.invitation_preview(&actor, &presented))).await? {
        Ok((team, role, inviter)) => {
            let role = signed.t.role(role);
            let inviter = inviter.unwrap_or_else(|| signed.t.an_admin.to_owned());
            render(StatusCode::OK, &JoinPage { frame: signed.frame(), token, team, role, inviter })
        }
        Err(refusal) => super::refused(&signed, signed.t.join.0, refusal),
    }
}

/// `POST /portal/join` with the invitation's token: joins its team.
pub async fn join(
    req: HttpRequest,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, form);
    let (actor, token) = (signed.actor(&req, &ctx), form.text("token"));
    match ctx.run(move |app| Ok(app.accept_team_invitation(&actor, &token))).await? {
        Ok(joined) => Ok(see_other(&format!("/portal/teams/{}", joined.team.team_id))),
        Err(refusal) => super::refused(&signed, signed.t.join.0, refusal),
    }
}

/// `POST /portal/teams/{team_id}/settings` with `second_factor_required`
/// (checked or not), `max_secret_lifetime_days`, `max_token_lifetime_days`
/// (empty: as they are): the team's policy made stricter by an owner.
pub async fn tighten(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, form);
    let days = |name: &str| match form.text(name) {
        text if text.is_empty() => Ok(None),
        text => text
            .parse::<u32>()
            .map(Some)
            .map_err(|_| AppError::Invalid(format!("{name}: a whole number of days"))),
    };
    let asked = days("max_secret_lifetime_days").and_then(|secret| {
        Ok(TeamSettings {
            second_factor_required: form.get("second_factor_required").map(|_| true),
            max_secret_lifetime_days: secret,
            max_token_lifetime_days: days("max_token_lifetime_days")?,
        })
    });
    let settings = match asked {
        Ok(settings) => settings,
        Err(refusal) => return super::refused(&signed, signed.t.settings[0], refusal),
    };
    let team_id = path.into_inner();
    let back = format!("/portal/teams/{team_id}");
    super::changed((&req, &ctx, &signed), signed.t.settings[0], &back, move |app, actor| {
        app.tighten_team_policy(actor, &team_id, settings).map(drop)
    })
    .await
}

/// Invites to team `team_id`, as `actor`, whom an invitation `form` asks
/// for (`role`, and `days` from 1 to 30): the one-time link, or why not.
pub async fn invite_as_asked(
    ctx: &ConsoleContext,
    actor: portcullis_app::Actor,
    team_id: String,
    form: &Posted,
) -> Result<Result<String, AppError>, PageError> {
    let (role, days) = match (TeamRole::parse(&form.text("role")), form.text("days").parse::<u64>()) {
        (Some(role), Ok(days @ 1..=30)) => (role, days),
        _ => return Ok(Err(AppError::Invalid("role: viewer, developer or owner; days: 1 to 30".into()))),
    };
    let lifetime = Duration::from_secs(days * 24 * 3_600);
    let invited = ctx.run(move |app| Ok(app.invite_to_team(&actor, &team_id, role, lifetime))).await?;
    Ok(invited.map(|created| invitation_link(&ctx.issuer, created.token.expose())))
}

/// `POST /portal/teams/{team_id}/invitations` with a role and a lifetime in
/// days: the link, shown once.
pub async fn invite(
    req: HttpRequest,
    path: web::Path<String>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, form);
    let team_id = path.into_inner();
    match invite_as_asked(&ctx, signed.actor(&req, &ctx), team_id.clone(), &form).await? {
        Ok(link) => shown_once::page(&signed, &link, &format!("/portal/teams/{team_id}")),
        Err(refusal) => super::refused(&signed, signed.t.buttons[2], refusal),
    }
}

/// `POST /portal/teams/{team_id}/invitations/{invitation_id}/withdraw`.
pub async fn withdraw_invitation(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, form);
    let (team_id, invitation_id) = path.into_inner();
    let back = format!("/portal/teams/{team_id}");
    super::changed((&req, &ctx, &signed), signed.t.buttons[6], &back, move |app, actor| {
        app.withdraw_team_invitation(actor, &team_id, &invitation_id)
    })
    .await
}

/// `POST /portal/teams/{team_id}/members/{user_id}` with `role`, or with
/// `remove` (an owner removing a member, or anyone leaving).
pub async fn member(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: Posted,
    ctx: web::Data<ConsoleContext>,
) -> Result<HttpResponse, PageError> {
    let signed = signed!(req, ctx, form);
    let (team_id, user_id) = path.into_inner();
    // Removing is asked for by name; a role that cannot be read changes nothing.
    let role = match (form.get("remove"), TeamRole::parse(&form.text("role"))) {
        (Some(_), _) => None,
        (None, Some(role)) => Some(role),
        (None, None) => {
            return super::refused(
                &signed,
                signed.t.sections[1],
                AppError::Invalid("role: viewer, developer or owner".into()),
            )
        }
    };
    let leaving = role.is_none() && user_id == signed.session.user_id;
    let (actor, team) = (signed.actor(&req, &ctx), team_id.clone());
    let done = ctx
        .run(move |app| {
            Ok(match role {
                Some(role) => app.set_team_member_role(&actor, &team, &user_id, role),
                None => app.remove_team_member(&actor, &team, &user_id),
            })
        })
        .await?;
    match done {
        Ok(()) if leaving => Ok(see_other("/portal")),
        Ok(()) => Ok(see_other(&format!("/portal/teams/{team_id}"))),
        Err(refusal) => super::refused(&signed, signed.t.sections[1], refusal),
    }
}
