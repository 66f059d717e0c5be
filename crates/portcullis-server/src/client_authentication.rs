//! Client authentication at the token, introspection and revocation
//! endpoints, as HTTP sees it: the engine's [`ClientAuthenticator`] given
//! what a request presents (its form, its `Authorization` header, the
//! caller's address as the trusted proxies say), and the client it names
//! noted for the usage counts.

use crate::client_address::TrustedProxies;
use crate::form::FormParams;
use crate::{headers, usage};
use actix_web::HttpRequest;
use portcullis_app::rate_limits::{address_key, Decision, Limit};
use portcullis_app::App;
use portcullis_core::{OAuthError, TokenEndpointAuthMethod};
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
        let source = self.client_ip(req);
        let presented = Presented { params: form, authorization: headers::authorization(req), source };
        match self.engine.authenticate(&presented).await {
            Ok(client) => {
                usage::attribute_authenticated(req, client.id.as_str(), source);
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

    /// Refuses `client` over its allowance of token requests a minute (its
    /// own limit, else `default`), which pushed requests count towards too.
    /// Per authenticated client: a stranger with a client's id cannot spend
    /// its allowance. A public client proves nothing by its id: counted per address.
    pub fn within_rate_limit(
        &self,
        req: &HttpRequest,
        client: &RegisteredClient,
        default: u32,
        app: &App,
    ) -> Result<(), OAuthError> {
        let limit = client.metadata.token_rate_limit.unwrap_or(default);
        let subject = match client.metadata.token_endpoint_auth_method {
            TokenEndpointAuthMethod::None => {
                format!("{}@{}", client.id.as_str(), address_key(self.client_ip(req)))
            }
            _ => client.id.as_str().to_owned(),
        };
        match app.rate_limit(Limit::Token, &subject, limit) {
            Decision::Limited { retry_after } => {
                let description = format!("over this client's limit of {limit} token requests a minute");
                Err(OAuthError::slow_down(description, retry_after))
            }
            _ => Ok(()),
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
