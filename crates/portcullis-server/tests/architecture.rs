//! The layers of DESIGN.md, checked (issue 10): adapters (the admin REST
//! API, the protocol endpoints, the CLI) never use the store or open a
//! transaction themselves, and the application layer knows no HTTP.
//!
//! The protocol endpoints that still reach the store are listed in
//! [`NOT_YET_MOVED`], each with why; the list may only shrink: a listed file
//! that no longer uses the store fails the test until it is taken off.

use std::path::{Path, PathBuf};

/// What an adapter must not write: a use of the store, or a transaction.
const FORBIDDEN: [&str; 4] = ["portcullis_store", "in_transaction", "atomically(", ".transaction("];

/// Adapters that still use the store directly, and why.
const NOT_YET_MOVED: [(&str, &str); 7] = [
    ("src/main.rs", "opens the database the CLI's operations run on, and migrates it"),
    ("src/routes/health.rs", "pings the database for /readyz"),
    ("src/routes/token.rs", "hands the database to the grants, which are not yet operations"),
    ("src/routes/revoke.rs", "RFC 7009 revocation: a protocol flow not yet behind the application layer"),
    ("src/routes/login.rs", "sessions and users: a protocol flow not yet behind the application layer"),
    ("src/routes/consent.rs", "consents: a protocol flow not yet behind the application layer"),
    ("src/routes/logout.rs", "sessions: a protocol flow not yet behind the application layer"),
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
    let mut adapters = vec![root.join("src/main.rs")];
    sources(&root.join("src/admin"), &mut adapters);
    sources(&root.join("src/routes"), &mut adapters);
    for path in adapters {
        let name = path.strip_prefix(root).unwrap().to_str().unwrap().to_owned();
        let code = std::fs::read_to_string(&path).unwrap();
        let uses = FORBIDDEN.iter().find(|pattern| code.contains(**pattern));
        let listed = NOT_YET_MOVED.iter().any(|(file, _)| *file == name);
        match (uses, listed) {
            (Some(pattern), false) => {
                panic!("{name} uses `{pattern}`: call an operation of portcullis-app instead")
            }
            (None, true) => panic!("{name} no longer uses the store: take it off NOT_YET_MOVED"),
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
