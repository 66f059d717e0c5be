//! `portcullis bootstrap`: the first admin client, created once. Run again
//! it refuses and changes nothing, unless told to replace that client's
//! secret.

use crate::actor::ADMIN;
use crate::client_secrets::new_secret;
use crate::transaction::Attempt;
use crate::{Actor, App, AppError, Event, Permission};
use portcullis_core::{ClientMetadata, ClientSecret};
use portcullis_store::clients as stored;
use portcullis_store::server_settings;

/// The setting that names the bootstrap admin client.
pub const ADMIN_CLIENT_SETTING: &str = "bootstrap_admin_client";

/// The admin client's credentials, to be shown once.
#[derive(Debug)]
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
        "scope": ADMIN,
    }))
    .expect("the admin client's metadata is valid")
}

impl App {
    /// Creates the admin client, or with `rotate_secret` replaces the secret
    /// of the one created before (its old secrets stop working at once).
    pub fn bootstrap(&self, actor: &Actor, rotate_secret: bool) -> Result<AdminCredentials, AppError> {
        let attempt = Attempt { permission: Permission::Clients, action: "admin.bootstrapped", target: "" };
        self.change(actor, attempt, |tx| match server_settings::get(tx.conn, ADMIN_CLIENT_SETTING)? {
            Some(client_id) if rotate_secret => {
                let (client_secret, record) = new_secret(tx.now, None);
                if !stored::replace_secrets(tx.conn, &client_id, &record)? {
                    return Err(AppError::NotFound(format!(
                        "the bootstrap admin client {client_id} no longer exists"
                    )));
                }
                tx.emit(Event::AdminBootstrapped { client_id: client_id.clone(), rotated: true });
                Ok(AdminCredentials { client_id, client_secret })
            }
            Some(client_id) => Err(AppError::Conflict(format!(
                "already bootstrapped: the admin client is {client_id}. Nothing was changed; \
                 run `portcullis bootstrap --rotate-secret` to replace its secret"
            ))),
            None => {
                let created = self.register(tx, actor, &admin_metadata(), crate::clients::changes::new_client_id(), None, None)?;
                let client_id = created.client.client_id;
                if !server_settings::set_once(tx.conn, ADMIN_CLIENT_SETTING, &client_id)? {
                    // Another bootstrap won the race; this one is rolled back.
                    return Err(AppError::Conflict(
                        "another bootstrap ran at the same time; run `portcullis bootstrap` again to see its result"
                            .into(),
                    ));
                }
                tx.emit(Event::AdminBootstrapped { client_id: client_id.clone(), rotated: false });
                let client_secret = created.secret.ok_or_else(|| {
                    AppError::unavailable(anyhow::anyhow!("a client_secret_basic client has a secret"))
                })?;
                Ok(AdminCredentials { client_id, client_secret })
            }
        })
    }
}
