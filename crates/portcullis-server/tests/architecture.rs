//! The layers of DESIGN.md, checked: the server crate is adapters (the
//! protocol endpoints, the admin REST API, the console, the CLI), which
//! never use the store or open a transaction themselves; the protocol
//! engine (`portcullis-oauth`) knows no HTTP server; the console imports no
//! sibling adapter and only the engine's decisions; and the application
//! layer knows no HTTP.
//!
//! The few server modules that do touch the store are the composition
//! root and settings, listed in [`NOT_ADAPTERS`] with why; the list may only
//! shrink: a listed file that no longer uses the store fails the test
//! until it is taken off.

use std::path::{Path, PathBuf};

/// What an adapter must not write: a use of the store, or a transaction.
const FORBIDDEN: [&str; 4] = ["portcullis_store", "in_transaction", "atomically(", ".transaction("];

/// Server modules that are not adapters and use the store, and why.
const NOT_ADAPTERS: [(&str, &str); 4] = [
    ("src/startup.rs", "the composition root: opens the database and loads the engine's mirrors from it"),
    ("src/config.rs", "settings: the database URL and pool options"),
    (
        "src/key_encryption.rs",
        "settings: the key-encryption key the installation's database was sealed under",
    ),
    ("src/test_support.rs", "fixtures for tests, which set up databases"),
];

/// The engine's modules the console may use: its decisions and the paths
/// and keys it publishes, never its mirrors or its request machinery.
const ENGINE_FOR_THE_CONSOLE: [&str; 3] =
    ["portcullis_oauth::endpoints", "portcullis_oauth::grants", "crate::KeyRing"];

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

/// The source files under `dir`, each with its text.
fn read_sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    sources(dir, &mut files);
    files.into_iter().map(|path| (path.clone(), std::fs::read_to_string(path).unwrap())).collect()
}

#[test]
fn the_engine_knows_no_http_server() {
    let engine = Path::new(env!("CARGO_MANIFEST_DIR")).join("../portcullis-oauth");
    let manifest = std::fs::read_to_string(engine.join("Cargo.toml")).unwrap();
    assert!(!manifest.lines().any(|line| line.starts_with("actix")), "portcullis-oauth depends on actix");
    for (path, code) in read_sources(&engine.join("src")) {
        let uses = ["actix_", "HttpRequest", "HttpResponse"].into_iter().find(|web| code.contains(web));
        assert!(uses.is_none(), "{} uses {uses:?}: the engine takes typed requests", path.display());
    }
}

#[test]
fn the_console_imports_no_sibling_adapter_and_only_the_engines_decisions() {
    let console = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console");
    for (path, code) in read_sources(&console) {
        let name = path.display();
        for sibling in ["crate::admin", "crate::routes", "crate::authorization"] {
            assert!(
                !code.contains(sibling),
                "{name} imports {sibling}: shared views live below the adapters"
            );
        }
        let mut rest = code.as_str();
        while let Some(at) = rest.find("portcullis_oauth::") {
            let used = &rest[at..];
            assert!(
                ENGINE_FOR_THE_CONSOLE.iter().any(|allowed| used.starts_with(allowed)),
                "{name} uses the engine's internals: {}",
                used.lines().next().unwrap_or_default()
            );
            rest = &rest[at + 1..];
        }
    }
}
