//! The conformance suite against a live Portcullis on SQLite and on
//! PostgreSQL: the clients and the user the target file describes are
//! registered first (and an initial access token issued for the dynamic
//! plan's registrations), then every scenario runs over HTTP and the report
//! is printed (`cargo test -p portcullis-conformance -- --nocapture` shows it).

use portcullis_app::registration::InitialAccessTokenRequest;
use portcullis_app::{Actor, App};
use portcullis_conformance::report::Outcome;
use portcullis_conformance::target::{ClientCredentials, Clients, User};
use portcullis_conformance::Target;
use portcullis_core::user::Address;
use portcullis_core::Issuer;
use portcullis_core::{Password, StandardClaims, Username};
use portcullis_oauth::registration::RegistrationMode;
use portcullis_server::test_support::{free_port, settings};
use portcullis_server::Application;
use portcullis_store::backend_tests;
use portcullis_store::test_support::TestDb;
use serde_json::json;

const REDIRECT_URI: &str = "https://rp.example/callback";
const POST_LOGOUT_URI: &str = "https://rp.example/logged-out";
const PASSWORD: &str = "correct horse battery staple";

/// The application over the test database, as the CLI has it.
fn app(db: &TestDb) -> App {
    App::with_defaults(db.connect())
}

fn register(db: &TestDb, name: &str, extra: serde_json::Value) -> ClientCredentials {
    let mut metadata = json!({"client_name": name, "redirect_uris": [REDIRECT_URI],
                              "grant_types": ["authorization_code", "refresh_token"],
                              "scope": "openid profile email address phone"});
    metadata.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let configuration = metadata.as_object().unwrap().clone();
    let created = app(db)
        .create_client(&Actor::operator(), portcullis_core::ClientMetadata::parse(configuration).unwrap())
        .unwrap();
    ClientCredentials {
        client_id: created.client.client_id,
        client_secret: created.secret.unwrap().expose().to_owned(),
    }
}

/// The user, with a value for every claim the scope scenarios look for.
fn create_user(db: &TestDb) -> User {
    let claims = StandardClaims {
        name: Some("Buffy Summers".into()),
        given_name: Some("Buffy".into()),
        email: Some("buffy@sunnydale.example".into()),
        email_verified: Some(true),
        phone_number: Some("+1 555 0100".into()),
        address: Some(Address { locality: Some("Sunnydale".into()), ..Address::default() }),
        ..StandardClaims::default()
    };
    let (username, password) = (Username::parse("buffy").unwrap(), Password::new(PASSWORD.into()));
    app(db).create_user(&Actor::operator(), &username, Some(password), &claims).unwrap();
    User { username: "buffy".into(), password: PASSWORD.into() }
}

backend_tests! {
    #[tokio::test]
    async fn every_module_and_check_passes(db) {
        let clients = Clients {
            basic: register(&db, "Conformance RP", json!({"post_logout_redirect_uris": [POST_LOGOUT_URI]})),
            post: register(&db, "Conformance RP (post)", json!({"token_endpoint_auth_method": "client_secret_post"})),
            second: register(&db, "Another RP", json!({})),
            without_pkce: Some(register(&db, "Legacy RP", json!({"require_pkce": false}))),
        };
        let user = create_user(&db);
        let admin = register(&db, "Conformance admin", json!({"grant_types": ["client_credentials"], "scope": "admin:keys",
                                                              "redirect_uris": []}));
        let request = InitialAccessTokenRequest { description: "the dynamic plan".into(), ..Default::default() };
        let issued = app(&db).issue_initial_access_token(&Actor::operator(), request).unwrap();
        let port = free_port();
        let issuer = format!("http://127.0.0.1:{port}");
        let mut at = settings(format!("127.0.0.1:{port}"), Issuer::parse(&issuer).unwrap(), db.database_url());
        at.registration = RegistrationMode::Token;
        at.rate_limits.registration = 1_000; // the dynamic plan registers a client a module
        tokio::spawn(Application::build(at).unwrap().run_until_stopped());
        let target = Target {
            issuer, redirect_uri: REDIRECT_URI.into(), clients, user, code_reuse_delay_secs: 30,
            registration_token: Some(issued.value.expose().to_owned()), admin: Some(admin),
            post_logout_redirect_uri: Some(POST_LOGOUT_URI.into()),
        };

        let report = portcullis_conformance::run(&target).await.expect("the server is discovered");
        println!("{report}");
        let failed: Vec<_> = report.failures().map(|entry| entry.name).collect();
        assert!(failed.is_empty(), "failed: {failed:?}\n{report}");
        let warned = report.entries.iter().filter(|entry| matches!(entry.outcome, Outcome::Warning(_)));
        assert_eq!(warned.count(), 0, "nothing the plans only warn about either\n{report}");
        assert_eq!(report.entries.len(), 139, "every module and check ran");
    }
}
