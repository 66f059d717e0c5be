//! The console's monitoring pages over HTTP (issue 12): the overview's
//! charts and compliance tile, a client's usage charts, alert rules
//! created, edited (refused input kept) and deleted, a webhook endpoint
//! registered (its secret shown once), sent a test event shown in its
//! delivery log, and the compliance reports with their export.

use crate::code_flow::location;
use crate::console::signed_in;
use portcullis_app::{Actor, App, Permission};
use portcullis_store::backend_tests;
use serde_json::json;

backend_tests! {
    #[tokio::test]
    async fn an_admin_watches_usage_rules_webhooks_and_compliance_in_the_console(db) {
        let (browser, csrf) = signed_in(&db, "mona", &[Permission::Monitoring, Permission::Audit]).await;
        let app = App::with_defaults(db.connect());
        let client = app.create_client(&Actor::operator(), portcullis_core::ClientMetadata::parse(json!({"client_name": "Watched"}).as_object().unwrap().clone()).unwrap()).unwrap().client;

        let overview = browser.get("/console").await.text().await.unwrap();
        assert_eq!(overview.matches("<svg viewBox=\"0 0 600 120\"").count(), 3, "tokens, failures, error rate: {overview}");
        assert!(overview.contains("SOC 2 controls") && overview.contains("Clients failing most"), "{overview}");
        let live = browser.get("/console/overview/live").await.text().await.unwrap();
        assert!(live.contains("<svg") && !live.contains("<html"), "the fragment redraws the charts");

        let usage = browser.get(&format!("/console/monitoring/clients/{}?range=1h", client.client_id)).await;
        assert_eq!(usage.status(), 200);
        let usage = usage.text().await.unwrap();
        assert_eq!(usage.matches("<figure class=\"chart\">").count(), 5, "{usage}");
        assert_eq!(usage.matches("<rect ").count(), 5 * 60, "a bar a minute");
        assert_eq!(browser.get("/console/monitoring/clients/nobody").await.status(), 404);

        // Alert rules: created, edited, a refusal keeps what was typed, deleted.
        let bad = browser.post("/console/monitoring/alert-rules/new", &[("csrf", &csrf), ("kind", "auth_failures"),
            ("parameters", "{\"per_minute\": \"many\"}"), ("description", "Brute force"), ("enabled", "on")]).await;
        assert_eq!(bad.status(), 400);
        let bad = bad.text().await.unwrap();
        assert!(bad.contains("role=\"alert\"") && bad.contains("value=\"Brute force\""), "{bad}");
        let created = browser.post("/console/monitoring/alert-rules/new", &[("csrf", &csrf), ("kind", "auth_failures"),
            ("parameters", "{\"per_minute\": 50}"), ("description", "Brute force"), ("enabled", "on")]).await;
        assert_eq!(location(created.headers()), "/console/monitoring");
        let rule = app.alert_rules(&Actor::operator()).unwrap().remove(0);
        let index = browser.get("/console/monitoring").await.text().await.unwrap();
        assert!(index.contains("Brute force") && index.contains("auth_failures"), "{index}");
        let path = format!("/console/monitoring/alert-rules/{}", rule.rule_id);
        let form = browser.get(&path).await.text().await.unwrap();
        assert!(form.contains("&#34;per_minute&#34;:50"), "{form}");
        browser.post(&path, &[("csrf", &csrf), ("kind", "auth_failures"), ("parameters", "{\"per_minute\": 80}"), ("description", "Brute force")]).await;
        let edited = app.alert_rule(&Actor::operator(), &rule.rule_id).unwrap();
        assert!(!edited.enabled, "unchecked: off");
        assert_eq!(serde_json::to_value(&edited.rule).unwrap()["per_minute"], 80);
        browser.post(&format!("{path}/delete"), &[("csrf", &csrf)]).await;
        assert!(app.alert_rules(&Actor::operator()).unwrap().is_empty());

        // What a rule did to a client, undone here only with admin:clients too.
        let lockout = portcullis_app::client_lockouts::LockoutPolicy {
            threshold: 2, cooldown: chrono::TimeDelta::minutes(1), max_cooldown: chrono::TimeDelta::hours(1), disable: true,
        };
        for _ in 0..2 {
            app.count_client_failure(&client.client_id, Some([192, 0, 2, 9].into()), &lockout).unwrap();
        }
        let done = app.remediations(&Actor::operator(), None).unwrap().remove(0);
        let index = browser.get("/console/monitoring").await.text().await.unwrap();
        assert!(index.contains(&format!("/console/monitoring/remediations/{}/undo", done.remediation_id)), "{index}");
        let undo = format!("/console/monitoring/remediations/{}/undo", done.remediation_id);
        assert_eq!(browser.post(&undo, &[("csrf", &csrf)]).await.status(), 403, "admin:monitoring alone may not undo");
        // Roles are read at each request: granted admin:clients, the same session may.
        let mona = app.users(&Actor::operator(), &portcullis_app::users::UserQuery { username: Some("mona".into()), limit: 1, ..Default::default() })
            .unwrap().users.remove(0).user_id;
        app.set_admin_role(&Actor::operator(), &mona, Permission::Clients, true).unwrap();
        let undone = browser.post(&undo, &[("csrf", &csrf)]).await;
        assert_eq!(location(undone.headers()), "/console/monitoring");
        assert!(!app.client(&Actor::operator(), &client.client_id).unwrap().disabled, "enabled again");
        assert!(browser.get("/console/monitoring").await.text().await.unwrap().contains("undone"));

        // A webhook endpoint: its secret once, a test event in its log.
        let registered = browser.post("/console/monitoring/webhooks/new", &[("csrf", &csrf), ("url", "http://127.0.0.1:9/hook"),
            ("events", "client.* alert.fired"), ("enabled", "on")]).await;
        assert_eq!(registered.status(), 200);
        let page = registered.text().await.unwrap();
        assert!(page.contains("whsec_") && page.contains("shown this once"), "{page}");
        let webhook = app.webhooks(&Actor::operator()).unwrap().remove(0);
        assert_eq!(webhook.events, ["client.*", "alert.fired"]);
        let path = format!("/console/monitoring/webhooks/{}", webhook.webhook_id);
        let tested = browser.post(&format!("{path}/test"), &[("csrf", &csrf)]).await;
        assert_eq!(location(tested.headers()), path);
        let page = browser.get(&path).await.text().await.unwrap();
        assert!(page.contains("<td>webhook.test</td>") && !page.contains("whsec_"), "{page}");
        let refused = browser.post(&path, &[("csrf", &csrf), ("url", "ftp://example.com/hook")]).await;
        assert_eq!(refused.status(), 400);
        assert!(refused.text().await.unwrap().contains("value=\"ftp://example.com/hook\""));
        browser.post(&format!("{path}/delete"), &[("csrf", &csrf)]).await;
        assert!(app.webhooks(&Actor::operator()).unwrap().is_empty());

        // Compliance: a report per template, exported.
        let report = browser.get("/console/monitoring/compliance/gdpr").await.text().await.unwrap();
        assert!(report.contains("GDPR") && report.contains("Art. 32"), "{report}");
        let csv = browser.get("/console/monitoring/compliance/soc2/export?format=csv").await;
        assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("soc2-report.csv"));
        assert!(csv.text().await.unwrap().starts_with("template,control,"));
        assert_eq!(browser.get("/console/monitoring/compliance/iso9001").await.status(), 404);
        assert_eq!(browser.post("/console/monitoring/alert-rules/new", &[("csrf", "forged"), ("kind", "outside_cidrs")]).await.status(), 403);
    }
}
