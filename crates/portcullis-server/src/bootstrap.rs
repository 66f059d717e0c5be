//! `portcullis bootstrap`: the first admin client, created once. Run again
//! it refuses and changes nothing, unless told to replace that client's
//! secret.

use crate::clients;
use crate::secrets;
use anyhow::{bail, Context};
use chrono::Utc;
use portcullis_core::{ClientMetadata, ClientSecret};
use portcullis_store::clients::{self as stored, SecretRecord};
use portcullis_store::{server_settings, Database};

/// The setting that names the bootstrap admin client.
pub const ADMIN_CLIENT_SETTING: &str = "bootstrap_admin_client";

/// The admin client's credentials, to be shown once.
pub struct AdminCredentials {
    /// Its `client_id`.
    pub client_id: String,
    /// Its new `client_secret`.
    pub client_secret: ClientSecret,
}

/// The bootstrap admin client's configuration: client credentials with the
/// `admin` scope, which covers every admin scope.
fn admin_metadata() -> ClientMetadata {
    serde_json::from_value(serde_json::json!({
        "client_name": "Portcullis admin",
        "grant_types": ["client_credentials"],
        "scope": crate::admin::auth::ADMIN,
    }))
    .expect("the admin client's metadata is valid")
}

/// Creates the admin client, or with `rotate_secret` replaces the secret of
/// the one created before (its old secrets stop working at once).
pub fn bootstrap(db: &Database, rotate_secret: bool) -> anyhow::Result<AdminCredentials> {
    let existing = server_settings::get(&mut *db.get()?, ADMIN_CLIENT_SETTING)?;
    match existing {
        Some(client_id) if rotate_secret => {
            let client_secret = ClientSecret::new(secrets::random_token());
            let record = SecretRecord {
                secret_id: uuid::Uuid::new_v4().to_string(),
                secret_hash: secrets::hash(client_secret.expose()).to_vec(),
                created_at: Utc::now(),
                expires_at: None,
            };
            if !stored::replace_secrets(&mut *db.get()?, &client_id, &record)? {
                bail!("the bootstrap admin client {client_id} no longer exists");
            }
            Ok(AdminCredentials { client_id, client_secret })
        }
        Some(client_id) => bail!(
            "already bootstrapped: the admin client is {client_id}. Nothing was changed; \
             run `portcullis bootstrap --rotate-secret` to replace its secret"
        ),
        None => {
            let (client_id, secret) = clients::create(db, &admin_metadata(), "bootstrap")?;
            if !server_settings::set_once(&mut *db.get()?, ADMIN_CLIENT_SETTING, client_id.as_str())? {
                // Another bootstrap won the race: take ours back.
                stored::delete(&mut *db.get()?, client_id.as_str())?;
                bail!("another bootstrap ran at the same time; run `portcullis bootstrap` again to see its result");
            }
            let client_secret = secret.context("a client_secret_basic client has a secret")?;
            Ok(AdminCredentials { client_id: client_id.as_str().to_owned(), client_secret })
        }
    }
}
