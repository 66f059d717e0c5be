//! Teams, on both backends: admins create teams and set their
//! policies; users join by one-time invitations and act as far as their
//! role grants; to anyone else a team does not exist; a team keeps an
//! owner; its members run its clients within its policy, scopes needing
//! approval waiting for an admin; every change is audited with its event.

use chrono::{TimeDelta, Utc};
use portcullis_app::audit::Query;
use portcullis_app::clients::{ClientChange, ClientQuery};
use portcullis_app::teams::TeamAccess;
use portcullis_app::{Actor, App, AppError, Clock, Permission};
use portcullis_core::team::{TeamPolicy, TeamRole};
use portcullis_core::{StandardClaims, Username};
use portcullis_store::backend_tests;
use std::time::Duration;

const WEEK: Duration = Duration::from_secs(7 * 24 * 3_600);

fn draft(json: serde_json::Value) -> portcullis_app::clients::ClientDraft {
    portcullis_app::clients::draft(json.as_object().unwrap().clone(), None)
}

/// The details of the last audit entry of `action`.
fn last(app: &App, action: &str) -> portcullis_app::audit::EntryView {
    let query = Query { action: Some(action.into()), newest_first: true, limit: 1, ..Query::default() };
    app.audit_entries(&Actor::operator(), query).unwrap().entries.remove(0)
}

/// A team whose policy bounds its clients, with a developer, a viewer,
/// and a developer of another team.
fn shop(app: &App) -> (String, Actor, Actor, Actor) {
    let admin = Actor::operator();
    let policy: TeamPolicy = serde_json::from_value(serde_json::json!({
        "clients": {
            "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
            "scopes": ["openid", "profile", "orders", "payments"],
            "redirect_uri_patterns": ["https://*.shop.example/*"],
            "max_access_token_lifetime": 600
        },
        "max_clients": 2, "approval_scopes": ["payments"], "max_secret_lifetime_days": 30
    }))
    .unwrap();
    let team = app.create_team(&admin, "Shop", policy).unwrap().team_id;
    let other = app.create_team(&admin, "Other", TeamPolicy::default()).unwrap().team_id;
    let (dev, vic, bob) = (user(app, "dev"), user(app, "vic"), user(app, "bob"));
    join(app, &admin, &dev, &team, TeamRole::Developer);
    join(app, &admin, &vic, &team, TeamRole::Viewer);
    join(app, &admin, &bob, &other, TeamRole::Developer);
    (team, dev, vic, bob)
}

fn service() -> serde_json::Value {
    serde_json::json!({"client_name": "Orders worker", "grant_types": ["client_credentials"], "scope": "orders"})
}

fn user(app: &App, name: &str) -> Actor {
    let username = Username::parse(name).unwrap();
    let user_id = app
        .create_user(&Actor::operator(), &username, None, &StandardClaims::default())
        .unwrap()
        .user
        .user_id;
    Actor::PortalUser { user_id, session: format!("{name}-session"), address: None }
}

fn id(actor: &Actor) -> &str {
    match actor {
        Actor::PortalUser { user_id, .. } => user_id,
        _ => unreachable!(),
    }
}

/// `who` joins `team_id` as `role`, invited by `by`.
fn join(app: &App, by: &Actor, who: &Actor, team_id: &str, role: TeamRole) {
    let invited = app.invite_to_team(by, team_id, role, WEEK).unwrap();
    assert_eq!(app.accept_team_invitation(who, invited.token.expose()).unwrap().role, role);
}

backend_tests! {
    #[test]
    fn members_join_by_one_time_invitations_and_act_as_their_role_allows(db) {
        let clock = Clock::manual(Utc::now());
        let app = App::with_defaults(db.connect()).with_clock(clock.clone());
        let admin = Actor::operator();
        let (olga, dev, vic, eve) = (user(&app, "olga"), user(&app, "dev"), user(&app, "vic"), user(&app, "eve"));
        let payments = app.create_team(&admin, "Payments", TeamPolicy::default()).unwrap();
        let team = payments.team_id.as_str();
        assert!(matches!(app.create_team(&admin, "Payments", TeamPolicy::default()), Err(AppError::Conflict(_))), "names are unique");
        assert!(matches!(app.create_team(&olga, "Mine", TeamPolicy::default()), Err(AppError::Forbidden(Permission::Users))),
                "only admins create teams");

        // One-time links: shown once, used once, until they expire.
        let invited = app.invite_to_team(&admin, team, TeamRole::Owner, WEEK).unwrap();
        assert_eq!(app.team_invitations(&admin, team).unwrap().len(), 1);
        assert_eq!(app.accept_team_invitation(&olga, invited.token.expose()).unwrap().team.name, "Payments");
        assert!(matches!(app.accept_team_invitation(&dev, invited.token.expose()), Err(AppError::Invalid(_))), "used once");
        assert!(app.team_invitations(&olga, team).unwrap().is_empty());
        let late = app.invite_to_team(&olga, team, TeamRole::Developer, Duration::from_secs(3_600)).unwrap();
        clock.advance(TimeDelta::seconds(3_601));
        assert!(matches!(app.accept_team_invitation(&dev, late.token.expose()), Err(AppError::Invalid(_))), "expired");
        let withdrawn = app.invite_to_team(&olga, team, TeamRole::Developer, WEEK).unwrap();
        app.withdraw_team_invitation(&olga, team, &withdrawn.invitation.invitation_id).unwrap();
        assert!(app.accept_team_invitation(&dev, withdrawn.token.expose()).is_err(), "withdrawn");
        join(&app, &olga, &dev, team, TeamRole::Developer);
        join(&app, &olga, &vic, team, TeamRole::Viewer);
        assert!(app.invitation_preview(&vic, late.token.expose()).is_err(), "an expired link shows nothing");
        let again = app.invite_to_team(&olga, team, TeamRole::Owner, WEEK).unwrap();
        assert_eq!(app.invitation_preview(&vic, again.token.expose()).unwrap(), ("Payments".into(), TeamRole::Owner, Some("olga".into())),
                   "which team, role and inviter, before accepting");
        assert!(matches!(app.accept_team_invitation(&vic, again.token.expose()), Err(AppError::Conflict(_))),
                "a member joins once, and the invitation stays open");
        assert_eq!(app.team_invitations(&olga, team).unwrap().len(), 1);

        // Roles: viewers read, developers also run apps, owners also run the team.
        assert_eq!(app.team(&vic, team).unwrap().1, TeamAccess::Member(TeamRole::Viewer));
        assert_eq!(app.team(&admin, team).unwrap().1, TeamAccess::Admin);
        let names: Vec<String> = app.team_members(&vic, team).unwrap().into_iter().map(|m| m.username).collect();
        assert_eq!(names, ["dev", "olga", "vic"]);
        assert!(matches!(app.invite_to_team(&dev, team, TeamRole::Owner, WEEK), Err(AppError::Beyond(_))), "only owners invite");
        assert!(matches!(app.team_invitations(&vic, team), Err(AppError::Beyond(_))));
        assert!(matches!(app.set_team_member_role(&dev, team, id(&dev), TeamRole::Owner), Err(AppError::Beyond(_))),
                "nobody raises themselves");
        assert!(matches!(app.set_team_policy(&olga, team, TeamPolicy::default()), Err(AppError::Forbidden(_))),
                "an owner never sets the team's bounds");
        // To anyone else the team does not exist.
        let open = app.team_invitations(&olga, team).unwrap()[0].invitation_id.clone();
        for refused in [app.team(&eve, team).map(|_| ()), app.team_members(&eve, team).map(|_| ()),
                        app.team_invitations(&eve, team).map(|_| ()),
                        app.invite_to_team(&eve, team, TeamRole::Viewer, WEEK).map(|_| ()),
                        app.withdraw_team_invitation(&eve, team, &open),
                        app.set_team_member_role(&eve, team, id(&vic), TeamRole::Viewer),
                        app.remove_team_member(&eve, team, id(&vic)),
                        app.team(&eve, "no-such-team").map(|_| ())] {
            assert!(matches!(refused, Err(AppError::NotFound(_))), "{refused:?}");
        }
        let other = app.create_team(&admin, "Other", TeamPolicy::default()).unwrap().team_id;
        assert!(matches!(app.withdraw_team_invitation(&admin, &other, &open), Err(AppError::NotFound(_))),
                "an invitation is withdrawn from its own team only");
        assert!(app.my_teams(&eve).unwrap().is_empty());
        assert_eq!(app.my_teams(&dev).unwrap()[0].role, TeamRole::Developer);

        // A team keeps an owner; members leave by themselves.
        assert!(matches!(app.set_team_member_role(&olga, team, id(&olga), TeamRole::Developer), Err(AppError::Conflict(_))));
        assert!(matches!(app.remove_team_member(&olga, team, id(&olga)), Err(AppError::Conflict(_))));
        app.set_team_member_role(&olga, team, id(&dev), TeamRole::Owner).unwrap();
        app.set_team_member_role(&dev, team, id(&olga), TeamRole::Developer).unwrap();
        app.remove_team_member(&vic, team, id(&vic)).unwrap();
        assert!(matches!(app.team(&vic, team), Err(AppError::NotFound(_))), "left");
        assert!(matches!(app.remove_team_member(&olga, team, id(&dev)), Err(AppError::Beyond(_))));
        // An owner's links go with their authority: nobody rejoins by one.
        let kept = app.invite_to_team(&dev, team, TeamRole::Owner, WEEK).unwrap();
        app.remove_team_member(&admin, team, id(&dev)).unwrap();
        assert_eq!(app.team_members(&admin, team).unwrap().len(), 1, "an admin may remove the last owner");
        assert!(matches!(app.accept_team_invitation(&dev, kept.token.expose()), Err(AppError::Invalid(_))),
                "withdrawn with its maker's authority");

        let query = Query { limit: 200, ..Query::default() };
        let actions: Vec<String> = app.audit_entries(&admin, query).unwrap()
            .entries.into_iter().filter(|e| e.target == team && e.outcome == "success").map(|e| e.action).collect();
        for action in ["team.created", "team.invitation_created", "team.invitation_withdrawn", "team.member_added",
                       "team.member_role_changed", "team.member_removed"] {
            assert!(actions.iter().any(|a| a == action), "{action} audited: {actions:?}");
        }
        let refused = Query { outcome: Some("refused".into()), target: Some(team.to_owned()), limit: 200, ..Query::default() };
        let refusals = app.audit_entries(&admin, refused).unwrap().entries;
        assert!(refusals.iter().any(|e| e.action == "team.invitation_created" && e.actor == format!("user:{}", id(&dev))),
                "refusals are audited: {refusals:?}");
    }

    #[test]
    fn a_policy_is_checked_and_may_require_a_second_factor(db) {
        let app = App::with_defaults(db.connect());
        let admin = Actor::operator();
        let olga = user(&app, "olga");
        let bad: TeamPolicy = serde_json::from_value(serde_json::json!({"max_clients": 1_000_000})).unwrap();
        assert!(matches!(app.create_team(&admin, "Big", bad), Err(AppError::InvalidMetadata { .. })));
        assert!(matches!(app.create_team(&admin, " ", TeamPolicy::default()), Err(AppError::InvalidMetadata { .. })));
        let team = app.create_team(&admin, "Ledger", TeamPolicy::default()).unwrap().team_id;
        join(&app, &admin, &olga, &team, TeamRole::Owner);
        let before = app.create_personal_token(&olga, &team, "CI", "portal:read", 7).unwrap();
        let strict = TeamPolicy { second_factor_required: true, max_clients: Some(5), ..TeamPolicy::default() };
        assert_eq!(app.set_team_policy(&admin, &team, strict).unwrap().policy.max_clients, Some(5));
        assert!(matches!(app.team(&olga, &team), Err(AppError::Beyond(_))), "no second factor, no team");
        let by_token = app.use_personal_token(before.value.expose()).unwrap().unwrap().actor(None);
        assert!(matches!(app.team(&by_token, &team), Err(AppError::Beyond(_))),
                "nor by a token made without one");

        // A disabled owner's open invitations go with them.
        let invited = app.invite_to_team(&olga, &team, TeamRole::Viewer, WEEK);
        assert!(invited.is_err(), "refused already: no second factor");
        app.set_team_policy(&admin, &team, TeamPolicy::default()).unwrap();
        let invited = app.invite_to_team(&olga, &team, TeamRole::Viewer, WEEK).unwrap();
        app.set_user_disabled(&admin, id(&olga), true).unwrap();
        let newcomer = user(&app, "nina");
        assert!(app.accept_team_invitation(&newcomer, invited.token.expose()).is_err(), "withdrawn when disabled");
        assert!(matches!(app.set_team_policy(&admin, "nothing", TeamPolicy::default()), Err(AppError::NotFound(_))));
        assert_eq!(app.teams(&admin).unwrap().len(), 1);
    }

    #[test]
    fn a_team_runs_its_clients_within_its_policy_and_no_other_team_reaches_them(db) {
        let app = App::with_defaults(db.connect());
        let admin = Actor::operator();
        let (team, dev, vic, bob) = shop(&app);
        let created = app.create_team_client(&dev, &team, draft(service())).unwrap();
        let client = created.client.client_id.clone();
        assert_eq!(created.client.team_id.as_deref(), Some(team.as_str()));
        let expires = created.client.secrets[0].expires_at.clone().expect("the policy bounds secrets");
        let expires = chrono::DateTime::parse_from_rfc3339(&expires).unwrap();
        assert!(expires <= Utc::now() + TimeDelta::days(30) && expires > Utc::now() + TimeDelta::days(29));
        let entry = last(&app, "client.created");
        assert_eq!((entry.actor.as_str(), entry.details["team_id"].as_str()), (format!("user:{}", id(&dev)).as_str(), Some(team.as_str())));

        // Outside the policy: refused, naming what and why.
        let refused = |json| match app.create_team_client(&dev, &team, draft(json)) {
            Err(AppError::InvalidMetadata { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(refused(serde_json::json!({"client_name": "Web", "redirect_uris": ["https://evil.example/cb"]})), "redirect_uris");
        assert_eq!(refused(serde_json::json!({"client_name": "Web", "redirect_uris": ["https://app.shop.example/cb"], "skip_consent": true})), "skip_consent");
        assert_eq!(refused(serde_json::json!({"client_name": "Web", "grant_types": ["client_credentials"], "scope": "admin"})), "scope");
        let long = serde_json::json!({"access_token_lifetime": 3_600});
        assert!(matches!(app.update_client(&dev, &client, None, ClientChange::Merge(long.as_object().unwrap().clone())),
                         Err(AppError::InvalidMetadata { field, .. }) if field == "access_token_lifetime"));

        // Roles, and teams apart: a viewer reads, another team's developer finds nothing.
        assert_eq!(app.client(&vic, &client).unwrap().client_id, client);
        let rename = || ClientChange::Merge(serde_json::json!({"client_name": "Worker"}).as_object().unwrap().clone());
        assert!(matches!(app.update_client(&vic, &client, None, rename()), Err(AppError::Beyond(_))));
        assert!(matches!(app.create_team_client(&vic, &team, draft(service())), Err(AppError::Beyond(_))));
        assert!(matches!(app.client(&bob, &client), Err(AppError::NotFound(_))));
        assert!(matches!(app.update_client(&bob, &client, None, rename()), Err(AppError::NotFound(_))));
        assert!(matches!(app.add_client_secret(&bob, &client, None), Err(AppError::NotFound(_))));
        assert!(matches!(app.regenerate_client_secrets(&bob, std::slice::from_ref(&client), None), Err(AppError::NotFound(_))));
        assert!(matches!(app.set_client_disabled(&bob, &client, true), Err(AppError::NotFound(_))));
        assert!(matches!(app.client_versions(&bob, &client), Err(AppError::NotFound(_))));
        assert!(matches!(app.delete_client(&bob, &client), Err(AppError::NotFound(_))));
        let of_team = |actor: &Actor| app.clients(actor, &ClientQuery { team: Some(team.clone()), limit: 10, ..ClientQuery::default() });
        assert!(matches!(of_team(&bob), Err(AppError::NotFound(_))));
        assert_eq!(of_team(&vic).unwrap().clients.len(), 1);
        assert!(matches!(app.clients(&dev, &ClientQuery { limit: 10, ..ClientQuery::default() }), Err(AppError::Forbidden(_))),
                "a member lists only a team's clients");
        let admins = app.create_client(&admin, draft(service())).unwrap().client.client_id;
        assert!(matches!(app.client(&dev, &admins), Err(AppError::NotFound(_))), "an admin's client is no team's");
        assert!(matches!(app.update_client(&dev, &admins, None, rename()), Err(AppError::NotFound(_))));
        assert_eq!(app.client(&admin, &client).unwrap().metadata.client_name, "Orders worker", "nothing refused changed anything");
        assert_eq!(last(&app, "client.updated").outcome, "refused");

        // Secrets live as long as the policy lets them.
        let too_late = Utc::now() + TimeDelta::days(31);
        assert!(matches!(app.add_client_secret(&dev, &client, Some(too_late)), Err(AppError::Invalid(_))));
        let added = app.add_client_secret(&dev, &client, None).unwrap();
        assert!(added.expires_at.is_some());
        assert!(matches!(app.regenerate_client_secrets(&vic, std::slice::from_ref(&client), Some(&team)), Err(AppError::Beyond(_))));
        let elsewhere = app.create_team(&Actor::operator(), "Elsewhere", TeamPolicy::default()).unwrap().team_id;
        assert!(matches!(app.regenerate_client_secrets(&Actor::operator(), std::slice::from_ref(&client), Some(&elsewhere)),
                         Err(AppError::NotFound(_))), "only the named team's clients");
        let many: Vec<String> = (0..51).map(|n| n.to_string()).collect();
        assert!(matches!(app.regenerate_client_secrets(&dev, &many, Some(&team)), Err(AppError::Invalid(_))), "at most 50");
        let regenerated = app.regenerate_client_secrets(&dev, std::slice::from_ref(&client), Some(&team)).unwrap();
        assert_eq!(app.client(&dev, &client).unwrap().secrets[0].secret_id, regenerated[0].secret_id);

        // As many clients as the policy allows.
        app.create_team_client(&dev, &team, draft(service())).unwrap();
        assert!(matches!(app.create_team_client(&dev, &team, draft(service())), Err(AppError::Conflict(_))));

        // What an admin set outside the policy stays through a member's change.
        let consent = serde_json::json!({"skip_consent": true});
        app.update_client(&admin, &client, None, ClientChange::Merge(consent.as_object().unwrap().clone())).unwrap();
        let renamed = app.update_client(&dev, &client, None, rename()).unwrap();
        assert!(renamed.metadata.skip_consent && renamed.metadata.client_name == "Worker");
        let mut view = serde_json::to_value(app.client(&dev, &client).unwrap()).unwrap();
        view.as_object_mut().unwrap().remove("version");
        let put_back = portcullis_app::clients::draft(view.as_object().unwrap().clone(), Some(&client));
        assert_eq!(app.update_client(&dev, &client, None, ClientChange::Replace(put_back)).unwrap().version, renamed.version,
                   "a client's own view, written back, changes nothing");
        app.set_client_disabled(&admin, &client, true).unwrap();
        assert!(matches!(app.set_client_disabled(&dev, &client, false), Err(AppError::Beyond(_))),
                "what an admin disabled, an admin enables");
        app.set_client_disabled(&admin, &client, false).unwrap();
        app.set_client_disabled(&dev, &client, true).unwrap();
        assert!(!app.set_client_disabled(&dev, &client, false).unwrap().disabled, "what a member disabled, a member enables");
        app.delete_client(&dev, &client).unwrap();
        assert!(matches!(app.client(&admin, &client), Err(AppError::NotFound(_))));
    }

    #[test]
    fn owners_tighten_their_teams_policy_and_nothing_looser(db) {
        use portcullis_app::teams::TeamSettings;
        let app = App::with_defaults(db.connect());
        let admin = Actor::operator();
        let (team, dev, _, bob) = shop(&app);
        let olga = user(&app, "olga");
        join(&app, &admin, &olga, &team, TeamRole::Owner);
        let settings = |second: Option<bool>, secret: Option<u32>, token: Option<u32>| TeamSettings {
            second_factor_required: second, max_secret_lifetime_days: secret, max_token_lifetime_days: token };
        assert!(matches!(app.tighten_team_policy(&dev, &team, settings(None, Some(7), None)), Err(AppError::Beyond(_))), "owners only");
        assert!(matches!(app.tighten_team_policy(&bob, &team, settings(None, Some(7), None)), Err(AppError::NotFound(_))));
        let looser = app.tighten_team_policy(&olga, &team, settings(None, Some(60), None));
        assert!(matches!(&looser, Err(AppError::Beyond(why)) if why.contains("at most 30")), "{looser:?}");
        assert!(matches!(app.tighten_team_policy(&olga, &team, settings(None, None, Some(400))), Err(AppError::Beyond(_))));
        let tighter = app.tighten_team_policy(&olga, &team, settings(Some(true), Some(7), Some(30))).unwrap().policy;
        assert_eq!((tighter.second_factor_required, tighter.max_secret_lifetime_days, tighter.max_token_lifetime_days), (true, Some(7), Some(30)));
        assert_eq!(tighter.clients, app.team(&admin, &team).unwrap().0.policy.clients, "the rest stays the admins'");
        assert_eq!(last(&app, "team.policy_changed").actor, olga.name());
        let waived = app.tighten_team_policy(&admin, &team, settings(Some(false), None, None));
        assert!(matches!(&waived, Err(AppError::Beyond(why)) if why.contains("second_factor_required")), "{waived:?}");
        let mut loosened = app.team(&admin, &team).unwrap().0.policy;
        loosened.second_factor_required = false;
        assert!(!app.set_team_policy(&admin, &team, loosened).unwrap().policy.second_factor_required, "an admin loosens it");
    }

    #[test]
    fn a_scope_needing_approval_waits_for_an_admin(db) {
        let app = App::with_defaults(db.connect());
        let admin = Actor::operator();
        let (team, dev, vic, bob) = shop(&app);
        let client = app.create_team_client(&dev, &team, draft(service())).unwrap().client.client_id;
        let more = ClientChange::Merge(serde_json::json!({"scope": "orders payments"}).as_object().unwrap().clone());
        let asked = app.update_client(&dev, &client, None, more).unwrap();
        assert_eq!(asked.metadata.scope.to_string(), "orders", "written without the scope needing approval");
        let request = asked.scope_request.expect("the scope waits");
        assert_eq!((request.scope.as_str(), request.state), ("payments", "pending"));
        assert_eq!(last(&app, "client.scope_requested").details["scope"], "payments");
        let events = app.team_events(&vic, &team, &portcullis_app::audit::TeamEventsQuery { limit: 20, ..Default::default() }).unwrap();
        let requested = events.iter().find(|e| e.action == "client.scope_requested").expect("members read their team's events");
        assert!(requested.details.get("session").is_none() && requested.details.get("via").is_none(),
                "without sessions or where from: {:?}", requested.details);
        assert!(matches!(app.team_events(&bob, &team, &portcullis_app::audit::TeamEventsQuery { limit: 5, ..Default::default() }),
                         Err(AppError::NotFound(_))), "another team's member reads nothing");
        assert_eq!(app.client(&vic, &client).unwrap().scope_request.unwrap().request_id, request.request_id, "members see it");
        assert!(matches!(app.pending_scope_requests(&dev), Err(AppError::Forbidden(_))));
        assert!(matches!(app.decide_scope_request(&dev, &request.request_id, true, None), Err(AppError::Forbidden(_))),
                "nobody approves their own");
        assert!(matches!(app.withdraw_scope_request(&bob, &client), Err(AppError::NotFound(_))));
        assert_eq!(app.pending_scope_requests(&admin).unwrap().len(), 1);

        let approved = app.decide_scope_request(&admin, &request.request_id, true, Some("PCI review done")).unwrap();
        assert_eq!(approved.metadata.scope.to_string(), "orders payments");
        assert!(approved.scope_request.is_none());
        assert_eq!(last(&app, "client.scope_approved").actor, admin.name());
        assert!(matches!(app.decide_scope_request(&admin, &request.request_id, false, None), Err(AppError::NotFound(_))),
                "decided once");
        let history = app.client_scope_requests(&dev, &client).unwrap();
        assert_eq!((history[0].state, history[0].reason.as_deref()), ("approved", Some("PCI review done")));

        // Asked at creation: the client comes without it; a rejection leaves it so.
        let second = app.create_team_client(&dev, &team, draft(serde_json::json!({
            "client_name": "Refunds", "grant_types": ["client_credentials"], "scope": "orders payments"}))).unwrap().client;
        assert_eq!(second.metadata.scope.to_string(), "orders");
        let pending = second.scope_request.unwrap().request_id;
        let rejected = app.decide_scope_request(&admin, &pending, false, Some("use the refunds API")).unwrap();
        assert_eq!(rejected.metadata.scope.to_string(), "orders");
        assert_eq!(last(&app, "client.scope_rejected").details["reason"], "use the refunds API");

        // Withdrawn by its team, or replaced by a later request.
        let again = ClientChange::Merge(serde_json::json!({"scope": "orders payments"}).as_object().unwrap().clone());
        let first = app.update_client(&dev, &second.client_id, None, again).unwrap().scope_request.unwrap();
        let mut policy = app.team(&admin, &team).unwrap().0.policy;
        policy.approval_scopes.push("profile".into());
        app.set_team_policy(&admin, &team, policy).unwrap();
        let more = ClientChange::Merge(serde_json::json!({"scope": "orders profile"}).as_object().unwrap().clone());
        let checked = app.check_client_change(&dev, &second.client_id, portcullis_app::clients::draft(
            serde_json::json!({"client_name": "Refunds", "grant_types": ["client_credentials"], "scope": "orders profile"}).as_object().unwrap().clone(),
            Some(&second.client_id))).unwrap();
        assert_eq!((checked.metadata.scope.to_string(), checked.waiting.clone()), ("orders".to_owned(), vec!["payments".to_owned(), "profile".to_owned()]),
                   "a review names what would wait, the pending scopes too");
        let both = app.update_client(&dev, &second.client_id, None, more).unwrap().scope_request.unwrap();
        assert_eq!(both.scope, "payments profile", "a later request keeps the pending one's scopes waiting");
        assert_ne!(both.request_id, first.request_id, "in place of the pending one");
        let first = both;
        let withdrawn = app.withdraw_scope_request(&dev, &second.client_id).unwrap();
        assert!(withdrawn.scope_request.is_none());
        assert_eq!(app.client_scope_requests(&vic, &second.client_id).unwrap()[0].request_id, first.request_id);
        assert_eq!(app.client_scope_requests(&vic, &second.client_id).unwrap()[0].state, "withdrawn");
        assert!(app.pending_scope_requests(&admin).unwrap().is_empty());
        let again = ClientChange::Merge(serde_json::json!({"scope": "orders payments"}).as_object().unwrap().clone());
        app.update_client(&dev, &second.client_id, None, again).unwrap();
        app.delete_client(&dev, &second.client_id).unwrap();
        assert!(app.pending_scope_requests(&admin).unwrap().is_empty(), "a deleted client's request goes with it");
    }

    #[test]
    fn personal_access_tokens_act_for_one_team_within_the_role_and_die_with_the_membership(db) {
        let app = App::with_defaults(db.connect());
        let admin = Actor::operator();
        let (team, dev, vic, bob) = shop(&app);
        let olga = user(&app, "olga");
        join(&app, &admin, &olga, &team, TeamRole::Owner);
        let made = app.create_personal_token(&dev, &team, "CI", "portal:read portal:apps orders", 30).unwrap();
        assert!(made.value.expose().starts_with("pcp_") && made.value.expose().len() > 40);
        assert_eq!(last(&app, "personal_token.created").details["scope"], "orders portal:apps portal:read");
        for (scope, days, why) in [("portal:members", 30, "beyond a developer"), ("payments", 30, "needs approval"),
                                   ("admin", 30, "an admin scope"), ("billing", 30, "not in the team's policy")] {
            assert!(matches!(app.create_personal_token(&dev, &team, "x", scope, days), Err(AppError::Beyond(_))), "{why}");
        }
        assert!(matches!(app.create_personal_token(&dev, &team, "x", "portal:read", 400), Err(AppError::Invalid(_))));
        assert!(matches!(app.create_personal_token(&admin, &team, "x", "portal:read", 1), Err(AppError::Invalid(_))), "a member's own");
        assert!(matches!(app.create_personal_token(&bob, &team, "x", "portal:read", 1), Err(AppError::NotFound(_))));

        // In use: the token acts for its team only, within its scope.
        let used = app.use_personal_token(made.value.expose()).unwrap().expect("it works");
        assert_eq!((used.token.user_id.as_str(), used.scope.to_string().as_str()), (id(&dev), "orders portal:apps portal:read"));
        assert!(used.token.last_used_at.is_some());
        let by_token = used.actor(None);
        let client = app.create_team_client(&by_token, &team, draft(service())).unwrap().client.client_id;
        assert_eq!(last(&app, "client.created").details["team_id"], team.as_str());
        let reader = app.create_personal_token(&dev, &team, "read", "portal:read", 1).unwrap();
        let reading = app.use_personal_token(reader.value.expose()).unwrap().unwrap().actor(None);
        assert_eq!(app.client(&reading, &client).unwrap().client_id, client);
        assert!(matches!(app.set_client_disabled(&reading, &client, true), Err(AppError::Beyond(_))), "read only");
        assert!(matches!(app.create_personal_token(&reading, &team, "more", "portal:read", 1), Err(AppError::Beyond(_))),
                "a token makes no token: it would outlive its revocation");
        assert!(matches!(app.remove_team_member(&reading, &team, id(&dev)), Err(AppError::Beyond(_))),
                "a token does not leave the team for its user");
        assert!(matches!(app.create_personal_token(&vic, &team, "api", "orders", 1), Err(AppError::Beyond(_))),
                "API scopes from developers up");
        let bobs = app.create_personal_token(&bob, &app.my_teams(&bob).unwrap()[0].team.team_id, "b", "portal:read", 1).unwrap();
        let bobs = app.use_personal_token(bobs.value.expose()).unwrap().unwrap().actor(None);
        assert!(matches!(app.client(&bobs, &client), Err(AppError::NotFound(_))), "another team's token finds nothing");
        assert!(app.use_personal_token("pcp_unknown").unwrap().is_none());
        assert!(app.use_personal_token("eyJhbGciOi").unwrap().is_none());

        // Seen and revoked by its user, its team's owners and admins, nobody else.
        assert_eq!(app.personal_tokens(&dev, &team).unwrap().len(), 2);
        assert!(app.personal_tokens(&vic, &team).unwrap().is_empty(), "a member sees their own");
        assert_eq!(app.personal_tokens(&olga, &team).unwrap().len(), 2);
        let olga_reads = app.create_personal_token(&olga, &team, "r", "portal:read", 1).unwrap();
        let olga_reading = app.use_personal_token(olga_reads.value.expose()).unwrap().unwrap().actor(None);
        assert_eq!(app.personal_tokens(&olga_reading, &team).unwrap().len(), 1, "a read-only token lists its user's own");
        app.revoke_personal_token(&olga_reading, &olga_reads.token.token_id).unwrap();
        assert_eq!(app.all_personal_tokens(&admin).unwrap().len(), 4);
        assert!(matches!(app.all_personal_tokens(&dev), Err(AppError::Forbidden(_))));
        assert!(matches!(app.revoke_personal_token(&vic, &reader.token.token_id), Err(AppError::Beyond(_))));
        assert!(matches!(app.revoke_personal_token(&reading, &made.token.token_id), Err(AppError::Beyond(_))),
                "a token revokes itself, not its user's others");
        assert!(matches!(app.revoke_personal_token(&bob, &reader.token.token_id), Err(AppError::NotFound(_))));
        app.revoke_personal_token(&olga, &reader.token.token_id).unwrap();
        assert!(app.use_personal_token(reader.value.expose()).unwrap().is_none());
        assert!(matches!(app.revoke_personal_token(&dev, &reader.token.token_id), Err(AppError::Conflict(_))));

        // The role as it is now bounds every use; leaving the team ends the token.
        app.set_team_member_role(&olga, &team, id(&dev), TeamRole::Viewer).unwrap();
        let demoted = app.use_personal_token(made.value.expose()).unwrap().unwrap();
        assert_eq!(demoted.scope.to_string(), "portal:read", "a viewer's token holds no API scope");
        app.remove_team_member(&dev, &team, id(&dev)).unwrap();
        assert!(app.use_personal_token(made.value.expose()).unwrap().is_none());
        assert_eq!(app.personal_tokens(&olga, &team).unwrap()[0].state, "revoked");

        // An owner's registration tokens end when they stop being one.
        let request = portcullis_app::registration::InitialAccessTokenRequest { description: "CI".into(), ..Default::default() };
        let issued = app.issue_team_initial_access_token(&olga, &team, request).unwrap().token.token_id;
        assert_eq!(app.team_initial_access_tokens(&olga, &team).unwrap()[0].state, "active");
        let other = user(&app, "owen");
        join(&app, &admin, &other, &team, TeamRole::Owner);
        app.set_team_member_role(&other, &team, id(&olga), TeamRole::Developer).unwrap();
        let tokens = app.team_initial_access_tokens(&admin, &team).unwrap();
        assert_eq!(tokens.iter().find(|t| t.token_id == issued).unwrap().state, "revoked", "demoted, their tokens end");
    }
}
