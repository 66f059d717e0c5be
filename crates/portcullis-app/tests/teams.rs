//! Teams, on both backends: admins create teams and set their
//! policies; users join by one-time invitations and act as far as their
//! role grants; to anyone else a team does not exist; a team keeps an
//! owner; every change is audited with its event.

use chrono::{TimeDelta, Utc};
use portcullis_app::audit::Query;
use portcullis_app::teams::TeamAccess;
use portcullis_app::{Actor, App, AppError, Clock, Permission};
use portcullis_core::team::{TeamPolicy, TeamRole};
use portcullis_core::{StandardClaims, Username};
use portcullis_store::backend_tests;
use std::time::Duration;

const WEEK: Duration = Duration::from_secs(7 * 24 * 3_600);

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
        let again = app.invite_to_team(&olga, team, TeamRole::Owner, WEEK).unwrap();
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
        let strict = TeamPolicy { second_factor_required: true, max_clients: Some(5), ..TeamPolicy::default() };
        assert_eq!(app.set_team_policy(&admin, &team, strict).unwrap().policy.max_clients, Some(5));
        assert!(matches!(app.team(&olga, &team), Err(AppError::Beyond(_))), "no second factor, no team");
        assert!(matches!(app.set_team_policy(&admin, "nothing", TeamPolicy::default()), Err(AppError::NotFound(_))));
        assert_eq!(app.teams(&admin).unwrap().len(), 1);
    }
}
