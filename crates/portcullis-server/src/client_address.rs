//! The address a request comes from, as the trusted proxies say.

use actix_web::HttpRequest;
use ipnet::IpNet;
use portcullis_app::once_every::OnceEvery;
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
            if self.0.is_empty() && req.headers().contains_key("x-forwarded-for") {
                warn_of_an_unconfigured_proxy(peer);
            }
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

/// Behind a proxy nobody named, every caller is the proxy: lockouts, rate
/// limits and remediation would act on all of them at once. Said at the
/// first such request, then every ten minutes.
fn warn_of_an_unconfigured_proxy(peer: IpAddr) {
    static RATIONED: OnceEvery = OnceEvery::new(std::time::Duration::from_secs(600));
    if RATIONED.due() {
        tracing::warn!(
            %peer,
            "requests carry X-Forwarded-For but --trusted-proxies (PORTCULLIS_TRUSTED_PROXIES) is not set: \
             the header is ignored and every caller behind {peer} shares its address for lockouts and rate limits; \
             name the proxy's network with --trusted-proxies"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_peer_is_the_caller_unless_it_is_a_trusted_proxy() {
        let none = TrustedProxies::default();
        let proxies = TrustedProxies(vec!["10.0.0.0/8".parse().unwrap()]);
        let via = |peer: &str, forwarded: &str| {
            TestRequest::default()
                .peer_addr(format!("{peer}:443").parse().unwrap())
                .insert_header(("x-forwarded-for", forwarded))
                .to_http_request()
        };
        let spoofed = via("203.0.113.9", "10.1.1.1");
        assert_eq!(none.client_ip(&spoofed), Some(ip("203.0.113.9")), "the header is ignored by default");
        assert_eq!(proxies.client_ip(&spoofed), Some(ip("203.0.113.9")), "only a trusted peer may forward");
        let proxied = via("10.0.0.2", "198.51.100.7, 10.0.0.5");
        assert_eq!(proxies.client_ip(&proxied), Some(ip("198.51.100.7")), "the nearest untrusted hop");
        let forged = via("10.0.0.2", "1.2.3.4, 198.51.100.7");
        assert_eq!(
            proxies.client_ip(&forged),
            Some(ip("198.51.100.7")),
            "hops left of it are the caller's own"
        );
        assert_eq!(proxies.client_ip(&via("10.0.0.2", "garbage")), Some(ip("10.0.0.2")));
        let mapped = via("[::ffff:192.0.2.1]", "");
        assert_eq!(none.client_ip(&mapped), Some(ip("192.0.2.1")), "IPv4-mapped addresses are canonical");
    }
}
