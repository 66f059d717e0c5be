//! Starting: keys generated once, reused after, guarded by the key-encryption key.

use crate::helpers::{new_kek, settings, spawn_with};
use portcullis_core::{KeyState, SigningAlgorithm};
use portcullis_jose::KeyEncryptionKey;
use portcullis_oauth::endpoints;
use portcullis_server::Application;
use portcullis_store::keys;
use portcullis_store::test_support::TestDb;
use portcullis_store::{backend_tests, Database};

fn stored_keys(db: &Database) -> Vec<keys::SigningKeyRecord> {
    keys::all(&mut db.get().unwrap()).unwrap()
}

async fn published_kids(app: &crate::helpers::TestApp) -> Vec<String> {
    let jwks = app.get_json(endpoints::JWKS).await;
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

backend_tests! {
    #[tokio::test]
    async fn first_start_generates_and_seals_one_active_key_per_algorithm(db) {
        let kek = new_kek();
        let app = spawn_with(settings(&db, &kek));
        let stored = stored_keys(&db.connect());
        let mut algs: Vec<_> = stored.iter().map(|k| k.alg).collect();
        algs.sort();
        assert_eq!(algs, SigningAlgorithm::ALL);
        let kek_id = KeyEncryptionKey::from_base64(&kek).unwrap().id().to_owned();
        for key in &stored {
            assert_eq!(key.state, KeyState::Active);
            assert_eq!(key.kek_id, kek_id);
            assert!(key.activated_at.is_some());
            // Sealed: format byte 1, then nonce and ciphertext; never a DER SEQUENCE.
            assert_eq!(key.private_key_sealed[0], 1);
            assert!(!key.public_jwk.contains("\"d\""));
        }
        let mut kids: Vec<_> = stored.iter().map(|k| k.kid.clone()).collect();
        let mut published = published_kids(&app).await;
        kids.sort();
        published.sort();
        assert_eq!(kids, published);
    }

    #[tokio::test]
    async fn a_restart_reuses_the_stored_keys(db) {
        let kek = new_kek();
        let first = published_kids(&spawn_with(settings(&db, &kek))).await;
        let second = published_kids(&spawn_with(settings(&db, &kek))).await;
        assert_eq!(first, second);
        assert_eq!(stored_keys(&db.connect()).len(), SigningAlgorithm::ALL.len());
    }

    #[tokio::test]
    async fn a_wrong_key_encryption_key_refuses_to_start_and_changes_nothing(db) {
        spawn_with(settings(&db, &new_kek()));
        let before = stored_keys(&db.connect());
        let error = Application::build(settings(&db, &new_kek())).err().expect("a wrong key must not start");
        let message = format!("{error:#}");
        assert!(message.contains("wrong key-encryption key"), "{message}");
        assert!(!message.contains('\n'), "{message}");
        assert_eq!(stored_keys(&db.connect()), before);
    }
}

#[tokio::test]
async fn instances_starting_together_on_one_empty_postgres_database_share_one_key_per_algorithm() {
    let db = TestDb::postgres();
    let kek = new_kek();
    let starts: Vec<_> = (0..3)
        .map(|_| {
            let settings = settings(&db, &kek);
            std::thread::spawn(move || {
                Application::build(settings).map(|app| app.port()).map_err(|e| format!("{e:#}"))
            })
        })
        .collect();
    for start in starts {
        start.join().unwrap().expect("every instance starts");
    }
    let stored = stored_keys(&db.connect());
    assert_eq!(stored.len(), SigningAlgorithm::ALL.len(), "{stored:?}");
}
