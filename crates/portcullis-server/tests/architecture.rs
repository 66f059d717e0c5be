//! The layers of DESIGN.md, checked (issue 10): the server crate is
//! adapters (the protocol endpoints, the admin REST API, the CLI), which
//! never use the store or open a transaction themselves, and the
//! application layer knows no HTTP.
//!
//! The few server modules that do touch the store are the instance's own
//! machinery, listed in [`NOT_ADAPTERS`] with why; the list may only
//! shrink: a listed file that no longer uses the store fails the test
//! until it is taken off.

use std::path::{Path, PathBuf};

/// What an adapter must not write: a use of the store, or a transaction.
const FORBIDDEN: [&str; 4] = ["portcullis_store", "in_transaction", "atomically(", ".transaction("];

/// Server modules that are not adapters and use the store, and why.
const NOT_ADAPTERS: [(&str, &str); 7] = [
    ("src/startup.rs", "the composition root: opens the database and loads the mirrors from it"),
    ("src/config.rs", "settings: the database URL and pool options"),
    ("src/storage.rs", "runs operations off the async workers within the database timeout"),
    ("src/clients.rs", "the instance's mirror of the clients, loaded from and following the store"),
    ("src/key_ring.rs", "the instance's mirror of the signing keys, loaded (or generated) at start"),
    ("src/mirror.rs", "follows the change log into the instance's mirrors"),
    ("src/test_support.rs", "fixtures for tests, which set up databases"),
];

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn adapters_use_operations_never_the_store() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    for path in files {
        let name = path.strip_prefix(root).unwrap().to_str().unwrap().to_owned();
        let code = std::fs::read_to_string(&path).unwrap();
        let uses = FORBIDDEN.iter().find(|pattern| code.contains(**pattern));
        let listed = NOT_ADAPTERS.iter().any(|(file, _)| *file == name);
        match (uses, listed) {
            (Some(pattern), false) => {
                panic!("{name} uses `{pattern}`: call an operation of portcullis-app instead")
            }
            (None, true) => panic!("{name} no longer uses the store: take it off NOT_ADAPTERS"),
            _ => {}
        }
    }
}

#[test]
fn the_application_layer_knows_no_http() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../portcullis-app/Cargo.toml");
    let manifest = std::fs::read_to_string(manifest).unwrap();
    for web in ["actix", "reqwest", "http"] {
        assert!(!manifest.lines().any(|line| line.starts_with(web)), "portcullis-app depends on {web}");
    }
}
