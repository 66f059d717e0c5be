//! Obtaining the key-encryption key that seals the private signing keys.

use crate::config::{KekSource, KEK_ENV};
use anyhow::{bail, Context};
use portcullis_jose::KeyEncryptionKey;
use portcullis_oauth::KeyRing;
use portcullis_store::Database;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

/// The key-encryption key `source` names for the installation in `db`:
/// the development key is made only for a new installation.
pub fn for_installation(db: &Database, source: &KekSource) -> anyhow::Result<KeyEncryptionKey> {
    load(source, KeyRing::is_new_installation(db)?)
}

/// The key-encryption key `source` names, checked against the installation
/// in `db`: what the CLI seals its audit entries with. Like the server, it
/// makes the development key only for a new installation.
pub fn for_command(db: &Database, source: &KekSource) -> anyhow::Result<Arc<KeyEncryptionKey>> {
    if let KekSource::DevFile(path) = source {
        if !KeyRing::is_new_installation(db)? && !path.exists() {
            bail!(
                "this command writes audit entries, sealed under the key-encryption key: set {KEK_ENV} or \
                 PORTCULLIS_KEK_FILE as the server has it, or run it where the server keeps {}",
                path.display()
            );
        }
    }
    let kek = for_installation(db, source)?;
    KeyRing::check_kek(db, &kek)?;
    Ok(Arc::new(kek))
}

/// Loads the key-encryption key from `source`.
///
/// The development key file is created (mode 0600) only when `database_is_empty`:
/// when the database already holds what a key sealed, a missing key file is an
/// error, never a reason to make a new key that could not open it.
pub fn load(source: &KekSource, database_is_empty: bool) -> anyhow::Result<KeyEncryptionKey> {
    match source {
        KekSource::Value(value) => {
            KeyEncryptionKey::from_base64(value).with_context(|| format!("invalid {KEK_ENV}"))
        }
        KekSource::File(path) => read(path),
        KekSource::DevFile(path) if path.exists() => read(path),
        KekSource::DevFile(path) if database_is_empty => create(path),
        KekSource::DevFile(path) => bail!(
            "the development key-encryption key {} of this installation is missing, but the database holds \
             what it sealed (signing keys, audit entries); restore it, or point PORTCULLIS_KEK_FILE / {KEK_ENV} \
             at the right key",
            path.display()
        ),
    }
}

fn read(path: &Path) -> anyhow::Result<KeyEncryptionKey> {
    let contents = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the key-encryption key file {}", path.display()))?;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), mode = format!("{:o}", mode & 0o777), "key-encryption key file is readable by other users; chmod 600 it");
    }
    KeyEncryptionKey::from_base64(&contents)
        .with_context(|| format!("invalid key-encryption key in {}", path.display()))
}

fn create(path: &Path) -> anyhow::Result<KeyEncryptionKey> {
    let kek = KeyEncryptionKey::generate();
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create the key-encryption key file {}", path.display()))?;
    writeln!(file, "{}", kek.to_base64().as_str())?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), kek_id = kek.id(), "generated a development key-encryption key");
    Ok(kek)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_the_dev_key_once_with_mode_0600_and_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/dev.kek");
        let created = load(&KekSource::DevFile(path.clone()), true).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let again = load(&KekSource::DevFile(path.clone()), true).unwrap();
        assert_eq!(created.id(), again.id());
        assert_eq!(load(&KekSource::File(path), false).unwrap().id(), created.id());
    }

    #[test]
    fn never_creates_a_dev_key_for_a_database_that_has_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev.kek");
        let err = load(&KekSource::DevFile(path.clone()), false).unwrap_err();
        assert!(format!("{err:#}").contains("is missing"), "{err:#}");
        assert!(!path.exists());
    }

    #[test]
    fn a_configured_file_must_exist_and_hold_a_valid_key() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.kek");
        assert!(format!("{:#}", load(&KekSource::File(missing), true).unwrap_err()).contains("cannot read"));
        let bad = dir.path().join("bad.kek");
        std::fs::write(&bad, "not base64!").unwrap();
        assert!(format!("{:#}", load(&KekSource::File(bad), true).unwrap_err()).contains("32 bytes"));
        assert!(format!("{:#}", load(&KekSource::Value("short".into()), true).unwrap_err()).contains(KEK_ENV));
    }
}
