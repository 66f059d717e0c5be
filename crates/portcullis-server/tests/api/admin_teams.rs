//! Teams over the admin API: an admin creates a team with its policy,
//! invites by a one-time link, sets members' roles, registers clients in
//! the team, filters clients by team, and approves or rejects the scopes
//! members asked for; each audited.

use crate::admin_clients::Admin;
use portcullis_app::{Actor, App};
use portcullis_core::{StandardClaims, Username};
use portcullis_store::backend_tests;
use reqwest::Method;
use serde_json::json;

backend_tests! {
    #[tokio::test]
    async fn an_admin_runs_teams_their_members_clients_and_scope_requests(db) {
        let admin = Admin::start(&db).await;
        let policy = json!({"clients": {"scopes": ["openid", "orders", "payments"]}, "approval_scopes": ["payments"],
                            "max_secret_lifetime_days": 30});
        let team = admin.call(Method::POST, "/teams", Some(json!({"name": "Shop", "policy": policy})), 201).await;
        let team_id = team["team_id"].as_str().unwrap().to_owned();
        assert_eq!(team["policy"]["approval_scopes"], json!(["payments"]));
        assert_eq!(admin.send(Method::POST, "/teams", Some(json!({"name": "Shop"}))).await.status(), 409);
        assert_eq!(admin.send(Method::POST, "/teams", Some(json!({"name": "X", "policy": {"max_clients": -1}}))).await.status(), 400);
        assert_eq!(admin.send(Method::GET, "/teams/nothing", None).await.status(), 404);

        // A one-time link, accepted by a user signed in to the portal.
        let invited = admin.call(Method::POST, &format!("/teams/{team_id}/invitations"), Some(json!({"role": "developer"})), 201).await;
        let token = invited["invitation_token"].as_str().unwrap();
        assert_eq!(invited["invitation_url"], format!("{}/portal/join?token={token}", crate::helpers::ISSUER));
        let app = App::with_defaults(db.connect());
        let user_id = app.create_user(&Actor::operator(), &Username::parse("dev").unwrap(), None, &StandardClaims::default())
            .unwrap().user.user_id;
        let dev = Actor::PortalUser { user_id: user_id.clone(), session: "s".into(), address: None };
        app.accept_team_invitation(&dev, token).unwrap();
        let read = admin.call(Method::GET, &format!("/teams/{team_id}"), None, 200).await;
        assert_eq!((read["members"][0]["username"].as_str(), read["members"][0]["role"].as_str()), (Some("dev"), Some("developer")));
        assert_eq!(read["invitations"], json!([]), "used once");
        let member = format!("/teams/{team_id}/members/{user_id}");
        assert_eq!(admin.send(Method::PUT, &member, Some(json!({"role": "owner"}))).await.status(), 204);
        assert_eq!(admin.send(Method::PUT, &member, Some(json!({"role": "admin"}))).await.status(), 400);

        // A team's client, its secret expiring as the policy says; the team filter.
        let body = json!({"client_name": "Worker", "grant_types": ["client_credentials"], "scope": "orders"});
        let client = admin.call(Method::POST, &format!("/teams/{team_id}/clients"), Some(body), 201).await;
        assert_eq!(client["team_id"], team_id.as_str());
        assert_eq!(client["client_secret_expires_at"], 0, "an admin's secret is unbounded");
        let client_id = client["client_id"].as_str().unwrap().to_owned();
        admin.call(Method::POST, "/clients", Some(json!({"client_name": "Admin's", "grant_types": ["client_credentials"]})), 201).await;
        let listed = admin.call(Method::GET, &format!("/clients?team={team_id}"), None, 200).await;
        let ids: Vec<&str> = listed["clients"].as_array().unwrap().iter().map(|c| c["client_id"].as_str().unwrap()).collect();
        assert_eq!(ids, [client_id.as_str()]);

        // A member's request waits; the admin approves one, rejects another.
        let patch = json!({"scope": "orders payments"}).as_object().unwrap().clone();
        let asked = app.update_client(&dev, &client_id, None, portcullis_app::clients::ClientChange::Merge(patch.clone())).unwrap();
        let request_id = asked.scope_request.unwrap().request_id;
        let pending = admin.call(Method::GET, "/scope-requests", None, 200).await;
        assert_eq!(pending["scope_requests"][0]["request_id"], request_id.as_str());
        let approved = admin.call(Method::POST, &format!("/scope-requests/{request_id}/approve"), None, 200).await;
        assert_eq!(approved["scope"], "orders payments");
        admin.call(Method::POST, &format!("/scope-requests/{request_id}/reject"), None, 404).await;
        let history = admin.call(Method::GET, &format!("/clients/{client_id}/scope-requests"), None, 200).await;
        assert_eq!(history["scope_requests"][0]["state"], "approved");
        let trimmed = json!({"scope": "orders"}).as_object().unwrap().clone();
        app.update_client(&dev, &client_id, None, portcullis_app::clients::ClientChange::Merge(trimmed)).unwrap();
        let again = app.update_client(&dev, &client_id, None, portcullis_app::clients::ClientChange::Merge(patch)).unwrap();
        let second = again.scope_request.unwrap().request_id;
        let rejected = admin.call(Method::POST, &format!("/scope-requests/{second}/reject"), Some(json!({"reason": "not yet"})), 200).await;
        assert_eq!(rejected["scope"], "orders");
        let audit = admin.call(Method::GET, "/audit-logs?action=client.scope_rejected&outcome=success", None, 200).await;
        assert_eq!(audit["entries"][0]["details"]["reason"], "not yet");

        assert_eq!(admin.send(Method::DELETE, &member, None).await.status(), 204, "an admin removes even the last owner");
        assert_eq!(admin.call(Method::GET, "/teams", None, 200).await["teams"][0]["name"], "Shop");
    }

    #[tokio::test]
    async fn a_personal_access_token_introspects_as_its_user_until_revoked(db) {
        let admin = Admin::start(&db).await;
        let team = admin.call(Method::POST, "/teams", Some(json!({"name": "Shop", "policy": {"clients": {"scopes": ["orders"]}}})), 201).await;
        let team_id = team["team_id"].as_str().unwrap().to_owned();
        let app = App::with_defaults(db.connect());
        let user_id = app.create_user(&Actor::operator(), &Username::parse("dev").unwrap(), None, &StandardClaims::default())
            .unwrap().user.user_id;
        let dev = Actor::PortalUser { user_id: user_id.clone(), session: "s".into(), address: None };
        let invited = admin.call(Method::POST, &format!("/teams/{team_id}/invitations"), Some(json!({"role": "developer"})), 201).await;
        app.accept_team_invitation(&dev, invited["invitation_token"].as_str().unwrap()).unwrap();
        let made = app.create_personal_token(&dev, &team_id, "CI", "portal:read orders", 7).unwrap();
        let (rs, rs_secret) = crate::token::service(&db);

        let answer: serde_json::Value = admin.app.introspect((&rs, &rs_secret), made.value.expose()).await.json().await.unwrap();
        assert_eq!(answer["active"], true);
        assert_eq!(answer["sub"], user_id.as_str());
        assert_eq!(answer["client_id"], format!("pat:{}", made.token.token_id));
        assert_eq!((answer["scope"].as_str(), answer["username"].as_str()), (Some("orders portal:read"), Some("dev")));
        assert!(answer["exp"].as_i64().unwrap() > answer["iat"].as_i64().unwrap());
        assert!(!admin.app.is_active((&rs, &rs_secret), "pcp_nothing").await);

        let listed = admin.call(Method::GET, "/personal-tokens", None, 200).await;
        assert_eq!(listed["personal_tokens"][0]["username"], "dev");
        assert!(listed["personal_tokens"][0]["last_used_at"].is_string(), "its last use shows");
        assert!(!listed.to_string().contains(made.value.expose()), "never its value");
        admin.call(Method::DELETE, &format!("/personal-tokens/{}", made.token.token_id), None, 204).await;
        admin.call(Method::DELETE, &format!("/personal-tokens/{}", made.token.token_id), None, 409).await;
        assert!(!admin.app.is_active((&rs, &rs_secret), made.value.expose()).await, "revoked, it stops at once");
    }
}
