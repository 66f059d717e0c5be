//! Where the server may send a request on someone's behalf (a webhook, a
//! client's `jwks_uri`, a metadata document): to public addresses over
//! https, and to the networks an operator names (`--outbound-allow`) over
//! http or https. Everything else is refused before a connection is made,
//! so that whoever names a URL (an admin with a monitoring role, a client
//! registering itself) cannot reach the server's own network, loopback
//! services or a cloud's metadata endpoint (RFC 9700 §4.16 and the OWASP
//! SSRF prevention guidance).
//!
//! The rules here are pure; the application's outbound client applies them
//! to every address a name resolves to, and connects only to those.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What every refusal says, whatever the address was: a caller learns
/// nothing about the network behind it.
pub const NOT_PUBLIC: &str = "refused: not a public address";

/// Which addresses outbound requests may reach.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    allowed: Vec<IpNet>,
}

/// Why a URL may not be requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OutboundRefusal {
    /// Neither https nor http.
    #[error("refused: only https (or http to a network --outbound-allow names)")]
    Scheme,
    /// http to an address the operator did not name.
    #[error("refused: http only to a network --outbound-allow names")]
    PlainHttp,
    /// An address that is not public and not allowed.
    #[error("{}", NOT_PUBLIC)]
    NotPublic,
}

impl OutboundPolicy {
    /// Public addresses, and those in `allowed` (which may reach inside).
    pub fn new(allowed: Vec<IpNet>) -> Self {
        Self { allowed }
    }

    /// The networks the operator named.
    pub fn allowed(&self) -> &[IpNet] {
        &self.allowed
    }

    /// Whether a request may connect to `ip`, over http when `plain_http`.
    pub fn admits(&self, ip: IpAddr, plain_http: bool) -> Result<(), OutboundRefusal> {
        let ip = ip.to_canonical();
        if self.allowed.iter().any(|network| network.contains(&ip)) {
            Ok(())
        } else if !is_public(ip) {
            Err(OutboundRefusal::NotPublic)
        } else if plain_http {
            Err(OutboundRefusal::PlainHttp)
        } else {
            Ok(())
        }
    }

    /// What can be told of `url` before resolving its host: its scheme, and
    /// its address when it is one (or a `localhost` name, RFC 6761 §6.3).
    /// A name is checked again on every address it resolves to.
    pub fn check_url(&self, url: &url::Url) -> Result<(), OutboundRefusal> {
        let plain_http = match url.scheme() {
            "https" => false,
            "http" => true,
            _ => return Err(OutboundRefusal::Scheme),
        };
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.admits(IpAddr::V4(ip), plain_http),
            Some(url::Host::Ipv6(ip)) => self.admits(IpAddr::V6(ip), plain_http),
            Some(url::Host::Domain(name)) if is_localhost(name) => {
                self.admits(IpAddr::V4(Ipv4Addr::LOCALHOST), plain_http)
            }
            // A name reaches over http only what the operator named.
            Some(url::Host::Domain(_)) if plain_http && self.allowed.is_empty() => {
                Err(OutboundRefusal::PlainHttp)
            }
            Some(url::Host::Domain(_)) => Ok(()),
            None => Err(OutboundRefusal::Scheme),
        }
    }
}

/// `localhost` and the names below it (RFC 6761 §6.3), which resolve to loopback.
fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// Whether `ip` is a globally reachable unicast address: not loopback,
/// private (RFC 1918, fc00::/7), link-local (169.254/16, fe80::/10), shared
/// (CGNAT, RFC 6598), unspecified, multicast, broadcast, reserved, for
/// documentation or benchmarks, nor an IPv6 form that embeds such an IPv4
/// address (mapped, compatible, NAT64, 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => is_public_v6(ip),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0 // "this network" (RFC 791), the unspecified address
        || a == 10 // RFC 1918
        || a == 127 // loopback
        || (a == 100 && (64..128).contains(&b)) // shared address space (RFC 6598)
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b)) // RFC 1918
        || (a == 192 && b == 168) // RFC 1918
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments (RFC 6890)
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1 (RFC 5737)
        || (a == 192 && b == 88 && c == 99) // 6to4 relays (RFC 7526)
        || (a == 198 && (18..20).contains(&b)) // benchmarking (RFC 2544)
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    match s {
        // IPv4-mapped (::ffff:0:0/96) and IPv4-compatible (::/96, which
        // holds :: and ::1 too): the IPv4 address decides.
        [0, 0, 0, 0, 0, 0xffff, high, low] | [0, 0, 0, 0, 0, 0, high, low] => {
            is_public_v4(embedded(high, low))
        }
        // NAT64's well-known prefix (RFC 6052) translates to the IPv4 address.
        [0x64, 0xff9b, 0, 0, 0, 0, high, low] => is_public_v4(embedded(high, low)),
        // 6to4 (RFC 3056) carries the IPv4 address in bits 16 to 48.
        [0x2002, high, low, ..] => is_public_v4(embedded(high, low)),
        // IETF protocol assignments, Teredo among them (RFC 6890).
        [0x2001, second, ..] if second < 0x200 => false,
        // Documentation (RFC 3849, RFC 9637).
        [0x2001, 0x0db8, ..] => false,
        [first, ..] if first & 0xfff0 == 0x3ff0 => false,
        // Only global unicast (2000::/3) is public; the rest is
        // unique-local, link-local, multicast or reserved.
        [first, ..] => first & 0xe000 == 0x2000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn inside_addresses_are_not_public() {
        for inside in [
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.0.9",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            "2001::1",
            "2001:db8::1",
            "3fff::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "100::1",
        ] {
            assert!(!is_public(ip(inside)), "{inside}");
        }
    }

    #[test]
    fn outside_addresses_are_public() {
        for outside in [
            "1.1.1.1",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "198.20.0.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip(outside)), "{outside}");
        }
    }

    #[test]
    fn urls_are_refused_by_what_their_host_says() {
        let strict = OutboundPolicy::default();
        let check = |policy: &OutboundPolicy, url: &str| policy.check_url(&url::Url::parse(url).unwrap());
        for inside in [
            "http://127.0.0.1:8080/",
            "https://127.0.0.1/",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://[::1]/",
            "https://[::ffff:7f00:1]/",
            "https://169.254.169.254/latest/meta-data/",
            "https://localhost:9000/",
            "https://api.localhost./",
        ] {
            assert!(check(&strict, inside).is_err(), "{inside}");
        }
        assert_eq!(check(&strict, "https://8.8.8.8/"), Ok(()));
        assert_eq!(check(&strict, "https://hooks.example/in"), Ok(()));
        assert_eq!(check(&strict, "http://hooks.example/in"), Err(OutboundRefusal::PlainHttp));
        assert_eq!(check(&strict, "http://8.8.8.8/"), Err(OutboundRefusal::PlainHttp));
        assert_eq!(check(&strict, "ftp://hooks.example/"), Err(OutboundRefusal::Scheme));
        assert_eq!(check(&strict, "https://[fe80::1]/"), Err(OutboundRefusal::NotPublic));

        let inside =
            OutboundPolicy::new(vec!["127.0.0.0/8".parse().unwrap(), "10.1.0.0/16".parse().unwrap()]);
        for allowed in [
            "http://127.0.0.1:8080/",
            "https://localhost/",
            "http://[::ffff:10.1.2.3]/",
            "http://hooks.internal/",
        ] {
            assert_eq!(check(&inside, allowed), Ok(()), "{allowed}");
        }
        assert_eq!(check(&inside, "http://10.2.0.1/"), Err(OutboundRefusal::NotPublic));
        assert_eq!(check(&inside, "http://8.8.8.8/"), Err(OutboundRefusal::PlainHttp));
    }

    #[test]
    fn every_refusal_reads_the_same_for_inside_addresses() {
        assert_eq!(OutboundRefusal::NotPublic.to_string(), NOT_PUBLIC);
    }
}
