//! Compliance reports on both backends: each check reads the live
//! configuration, and the audit chain's last verification is kept.

use diesel::connection::SimpleConnection;
use portcullis_app::compliance::{Facts, Report, Status};
use portcullis_app::{Actor, App, AppError};
use portcullis_core::Scope;
use portcullis_store::backend_tests;
use serde_json::json;
use std::time::Duration;

fn facts(issuer: &str) -> Facts {
    Facts {
        issuer: issuer.into(),
        access_token_lifetime: Duration::from_secs(900),
        audit_retention: Duration::from_secs(365 * 86_400),
        key_rotation: None,
        pushed_request_lifetime: Duration::from_secs(60),
    }
}

fn status(report: &Report, check: &str) -> (Status, String) {
    let found = report.controls.iter().flat_map(|c| &c.checks).find(|c| c.check == check).unwrap();
    (found.status, found.evidence.clone())
}

backend_tests! {
    #[test]
    fn a_verification_of_an_empty_log_proves_nothing_about_what_came_after(db) {
        let app = App::with_defaults(db.connect());
        let operator = Actor::operator();
        app.verify_audit_chain_if_due().unwrap();
        for n in 0..5 {
            app.create_client(&operator, portcullis_core::ClientMetadata::parse(json!({"client_name": format!("c{n}")}).as_object().unwrap().clone()).unwrap()).unwrap();
        }
        let report = app.compliance_report(&operator, "soc2", &facts("https://id.example")).unwrap();
        let (status_now, evidence) = status(&report, "audit_chain_verified");
        assert_eq!(status_now, Status::Fail, "{evidence}");
        assert!(evidence.contains("the 5 written since are not verified"), "{evidence}");
        // The job renews it at its next run, although a day has not passed.
        app.verify_audit_chain_if_due().unwrap();
        app.create_client(&operator, portcullis_core::ClientMetadata::parse(json!({"client_name": "later"}).as_object().unwrap().clone()).unwrap()).unwrap();
        let report = app.compliance_report(&operator, "soc2", &facts("https://id.example")).unwrap();
        assert_eq!(status(&report, "audit_chain_verified"), (Status::Pass, "5 entries intact, up to #5; 1 written since".into()));
    }

    #[test]
    fn checks_read_the_live_configuration(db) {
        let app = App::with_defaults(db.connect());
        let operator = Actor::operator();
        let object = |value: serde_json::Value| value.as_object().unwrap().clone();
        app.create_client(&operator, portcullis_core::ClientMetadata::parse(object(json!({"client_name": "billing"}))).unwrap()).unwrap();
        app.create_client(&operator, portcullis_core::ClientMetadata::parse(object(json!({"client_name": "spa", "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code"], "redirect_uris": ["https://spa.example/cb"]}))).unwrap()).unwrap();
        app.create_client(&operator, portcullis_core::ClientMetadata::parse(object(json!({"client_name": "long", "access_token_lifetime": 7200}))).unwrap()).unwrap();

        let report = app.compliance_report(&operator, "pci-dss", &facts("http://localhost:8080")).unwrap();
        assert_eq!(report.template, "pci-dss");
        assert_eq!(status(&report, "issuer_https").0, Status::Fail);
        assert_eq!(status(&report, "pkce_public_clients"), (Status::Pass, "1 public clients, all require PKCE with S256".into()));
        let (tokens, evidence) = status(&report, "access_token_lifetime");
        assert_eq!(tokens, Status::Fail, "{evidence}");
        assert!(evidence.contains("7200"));
        let (secrets, evidence) = status(&report, "client_secrets_expire");
        assert_eq!(secrets, Status::Fail);
        assert!(evidence.contains("2 of 2"), "{evidence}");
        assert_eq!(status(&report, "audit_retention").0, Status::Pass);
        assert_eq!(status(&report, "audit_chain_verified"), (Status::Fail, "never verified".into()));
        assert_eq!(status(&report, "signing_key_age").0, Status::Warn, "no automatic rotation");
        let mfa = report.controls.iter().find(|c| c.control == "8.4.2").unwrap();
        assert_eq!(mfa.status, Status::NotApplicable, "no admin users");
        assert!(report.summary.fail >= 4);

        app.verify_audit_log(&operator).unwrap();
        let soc2 = app.compliance_report(&operator, "soc2", &facts("https://id.example")).unwrap();
        let (mfa, evidence) = status(&soc2, "admin_mfa");
        assert_eq!(mfa, Status::NotApplicable, "{evidence}");
        let (verified, evidence) = status(&soc2, "audit_chain_verified");
        assert_eq!(verified, Status::Pass, "{evidence}");
        assert!(evidence.contains("3 entries intact, up to #3"), "{evidence}");
        assert_eq!(status(&soc2, "issuer_https").0, Status::Pass);
        let gdpr = app.compliance_report(&operator, "gdpr", &facts("https://id.example")).unwrap();
        assert_eq!(gdpr.controls.len(), 5);

        let username = portcullis_core::Username::parse("root").unwrap();
        let claims = portcullis_core::StandardClaims::default();
        let root = app.create_user(&operator, &username, None, &claims).unwrap().user.user_id;
        app.set_admin_role(&operator, &root, portcullis_app::Permission::Keys, true).unwrap();
        let gdpr = app.compliance_report(&operator, "gdpr", &facts("https://id.example")).unwrap();
        let (mfa, evidence) = status(&gdpr, "admin_mfa");
        assert_eq!(mfa, Status::Warn, "an admin with a password only, until enrolled: {evidence}");
        assert!(evidence.contains("0 of 1 enrolled"), "{evidence}");
    }

    #[test]
    fn the_fapi2_template_checks_the_profile_clients_their_keys_and_the_par_lifetime(db) {
        let app = App::with_defaults(db.connect());
        let operator = Actor::operator();
        let report = app.compliance_report(&operator, "fapi2", &facts("https://id.example")).unwrap();
        assert_eq!(status(&report, "fapi2_clients").0, Status::NotApplicable);
        assert_eq!(status(&report, "fapi2_signing_keys").0, Status::NotApplicable);
        let jwks = json!({"keys": [{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                                    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]});
        let bank = json!({"client_name": "bank", "profile": "fapi2", "grant_types": ["authorization_code"],
                          "redirect_uris": ["https://bank.example/cb"], "jwks": jwks, "id_token_signed_response_alg": "EdDSA"});
        app.create_client(&operator, portcullis_core::ClientMetadata::parse(bank.as_object().unwrap().clone()).unwrap()).unwrap();
        let report = app.compliance_report(&operator, "fapi2", &facts("https://id.example")).unwrap();
        assert_eq!(report.template, "fapi2");
        let (clients, evidence) = status(&report, "fapi2_clients");
        assert_eq!(clients, Status::Pass, "{evidence}");
        assert!(evidence.starts_with("1 clients, each with private_key_jwt"), "{evidence}");
        let (keys, evidence) = status(&report, "fapi2_signing_keys");
        assert_eq!((keys, evidence.as_str()), (Status::Fail, "no active key for PS256, EdDSA"), "none installed here");
        assert_eq!(status(&report, "pushed_request_lifetime"), (Status::Pass, "a request_uri lives 60 s (--par-lifetime)".into()));
        let long = Facts { pushed_request_lifetime: Duration::from_secs(600), ..facts("https://id.example") };
        let report = app.compliance_report(&operator, "fapi2", &long).unwrap();
        assert_eq!(status(&report, "pushed_request_lifetime").0, Status::Fail);
    }

    #[test]
    fn a_broken_chain_fails_its_check_and_templates_are_checked(db) {
        let app = App::with_defaults(db.connect());
        let operator = Actor::operator();
        app.create_client(&operator, portcullis_core::ClientMetadata::parse(json!({"client_name": "billing"}).as_object().unwrap().clone()).unwrap()).unwrap();
        app.database().get().unwrap().batch_execute("UPDATE audit_log SET target = 'other' WHERE seq = 1").unwrap();
        assert!(app.verify_audit_log(&operator).is_err());
        let report = app.compliance_report(&operator, "soc2", &facts("https://id.example")).unwrap();
        let (broken, evidence) = status(&report, "audit_chain_verified");
        assert_eq!(broken, Status::Fail);
        assert!(evidence.contains("does not verify"), "{evidence}");

        assert!(matches!(app.compliance_report(&operator, "iso27001", &facts("https://x")), Err(AppError::NotFound(_))));
        let auditor = Actor::AdminClient { client_id: "a".into(), scope: Scope::parse("admin:audit").unwrap(), address: None };
        assert!(matches!(app.compliance_report(&auditor, "soc2", &facts("https://x")), Err(AppError::Forbidden(_))));
    }
}
