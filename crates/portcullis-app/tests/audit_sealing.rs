//! Audit details and sources sealed at rest, on both backends: stored
//! sealed, read back opened, unreadable without the key, and the chain
//! still catches a change to a sealed part.

use diesel::connection::SimpleConnection;
use portcullis_app::audit::Query;
use portcullis_app::{Actor, App};
use portcullis_core::Scope;
use portcullis_jose::KeyEncryptionKey;
use portcullis_store::audit::{self, Filter};
use portcullis_store::backend_tests;
use serde_json::json;
use std::sync::Arc;

backend_tests! {
    #[test]
    fn details_and_sources_are_sealed_at_rest_and_opened_when_read(db) {
        let kek = Arc::new(KeyEncryptionKey::generate());
        let app = App::with_defaults(db.connect()).with_kek(kek);
        let admin = Actor::AdminClient {
            client_id: "admin-client".into(),
            scope: Scope::parse("admin").unwrap(),
            address: Some("192.0.2.44".parse().unwrap()),
        };
        let created = app.create_client(&admin, portcullis_core::ClientMetadata::parse(json!({"client_name": "payroll-export"}).as_object().unwrap().clone()).unwrap()).unwrap();

        let conn = &mut *app.database().get().unwrap();
        let stored = audit::entries(conn, &Filter::default(), 0, 10).unwrap();
        assert_eq!(stored.len(), 1);
        let row = &stored[0];
        assert!(row.details.starts_with("sealed:v1:") && row.source.starts_with("sealed:v1:"), "{row:?}");
        assert!(!row.details.contains("payroll") && !row.source.contains("192.0.2.44"));
        // The searched columns stay clear.
        assert_eq!((row.actor.as_str(), row.action.as_str(), row.target.as_str()), ("admin-client", "client.created", created.client.client_id.as_str()));

        let query = Query { limit: 10, ..Query::default() };
        let read = app.audit_entries(&Actor::operator(), query.clone()).unwrap().entries;
        assert_eq!((read[0].details["client_name"].as_str(), read[0].source.as_str()), (Some("payroll-export"), "192.0.2.44"));

        let elsewhere = App::with_defaults(db.connect()).with_kek(Arc::new(KeyEncryptionKey::generate()));
        let unreadable = elsewhere.audit_entries(&Actor::operator(), query.clone()).unwrap().entries;
        assert_eq!(unreadable[0].details, json!({"sealed": "sealed under another key-encryption key"}));
        assert!(unreadable[0].details.to_string().find("payroll").is_none());

        assert!(app.verify_audit_log(&Actor::operator()).is_ok(), "verifying needs no key");
        // One byte of the sealed details changed: the chain no longer verifies.
        let altered = format!("{}A", &row.details[..row.details.len() - 1]);
        let altered = if altered == row.details { format!("{}B", &row.details[..row.details.len() - 1]) } else { altered };
        conn.batch_execute(&format!("UPDATE audit_log SET details = '{altered}' WHERE seq = {}", row.seq)).unwrap();
        assert!(App::with_defaults(db.connect()).verify_audit_log(&Actor::operator()).is_err());
        let tampered = app.audit_entries(&Actor::operator(), query).unwrap().entries;
        assert!(tampered[0].details["sealed"].is_string(), "an altered seal does not open: {}", tampered[0].details);
    }
}
