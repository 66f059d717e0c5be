//! Client authentication at the token, introspection and revocation
//! endpoints, as HTTP sees it: the engine's [`ClientAuthenticator`] given
//! what a request presents (its form, its `Authorization` header, the
//! caller's address as the trusted proxies say), and the client it names
//! noted for the usage counts.

use crate::client_address::TrustedProxies;
use crate::form::FormParams;
use crate::{headers, usage};
use actix_web::HttpRequest;
use portcullis_core::OAuthError;
use portcullis_oauth::client_auth::{ClientAuthenticator, Presented};
use portcullis_oauth::clients::{ClientRegistry, RegisteredClient};
use std::net::IpAddr;
use std::sync::Arc;

/// The engine's authenticator behind the endpoints' proxies.
pub struct HttpClientAuthenticator {
    /// What decides.
    pub engine: ClientAuthenticator,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub proxies: TrustedProxies,
}

impl HttpClientAuthenticator {
    /// Authenticates the client of `req`, whose body is `form`.
    pub async fn authenticate(
        &self,
        req: &HttpRequest,
        form: &FormParams,
    ) -> Result<Arc<RegisteredClient>, OAuthError> {
        let presented = Presented {
            params: form,
            authorization: headers::authorization(req),
            source: self.client_ip(req),
        };
        match self.engine.authenticate(&presented).await {
            Ok(client) => {
                usage::attribute(req, client.id.as_str());
                Ok(client)
            }
            Err(refused) => {
                if let Some(client_id) = &refused.client_id {
                    usage::attribute(req, client_id);
                }
                Err(refused.error)
            }
        }
    }

    /// The caller's address, as the trusted proxies say.
    pub fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        self.proxies.client_ip(req)
    }

    /// The registered clients.
    pub fn clients(&self) -> &ClientRegistry {
        self.engine.clients()
    }
}
