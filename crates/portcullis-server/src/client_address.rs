//! The address a request comes from, and per-client address restrictions.

use crate::clients::RegisteredClient;
use actix_web::HttpRequest;
use ipnet::IpNet;
use portcullis_core::{ErrorCode, OAuthError};
use std::net::IpAddr;

/// Proxies whose `X-Forwarded-For` is believed. Empty by default: the
/// header is then ignored, since any caller can send it.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The caller's address: the peer, or when the peer is a trusted proxy,
    /// the nearest untrusted address in `X-Forwarded-For`.
    pub fn client_ip(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip().to_canonical();
        if !self.trusts(peer) {
            return Some(peer);
        }
        let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()).unwrap_or("");
        let mut nearest = peer;
        for hop in forwarded.rsplit(',') {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else { break };
            nearest = ip.to_canonical();
            if !self.trusts(nearest) {
                break;
            }
        }
        Some(nearest)
    }
}

/// Refuses a client restricted to `allowed_cidrs` when it calls from elsewhere.
pub fn ensure_allowed(client: &RegisteredClient, ip: Option<IpAddr>) -> Result<(), OAuthError> {
    let cidrs = &client.metadata.allowed_cidrs;
    if cidrs.is_empty() || ip.is_some_and(|ip| cidrs.iter().any(|net| net.contains(&ip))) {
        return Ok(());
    }
    tracing::info!(client_id = %client.id, ip = ?ip, "request from an address the client may not use");
    Err(OAuthError::new(ErrorCode::AccessDenied, "this client may not be used from this address"))
}
