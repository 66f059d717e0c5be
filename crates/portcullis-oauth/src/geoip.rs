//! The country an address is in, for clients restricted to
//! `allowed_countries` (for the `outside_countries` alert rule), from a
//! MaxMind-format database (`--geoip-db`: GeoLite2 or GeoIP2 Country or City).
//!
//! Read with `maxminddb`, the format's maintained Rust reader (by MaxMind's
//! own maintainer). The file is read into memory once at start; a lookup
//! walks its search tree and decodes one string, without allocating, and
//! happens only for clients that set `allowed_countries`.

use anyhow::Context;
use maxminddb::{path, Reader};
use portcullis_core::country::Country;
use std::net::IpAddr;
use std::path::Path;

#[cfg(any(test, feature = "test-support"))]
pub mod test_database;

/// A country database.
pub struct Countries {
    reader: Reader<Vec<u8>>,
}

impl Countries {
    /// Opens the database at `path`: refused unless it is a MaxMind DB.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let reader = Reader::open_readfile(path)
            .with_context(|| format!("{}: not a readable MaxMind country database", path.display()))?;
        Ok(Self { reader })
    }

    /// The country of `ip`; `None` when the database does not know it
    /// (private and loopback addresses, say).
    pub fn country(&self, ip: IpAddr) -> Option<Country> {
        let found = self.reader.lookup(ip.to_canonical()).ok()?;
        let code: &str = found.decode_path(&path!["country", "iso_code"]).ok()??;
        Country::parse(code).ok()
    }
}

impl std::fmt::Debug for Countries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Countries").field("database_type", &self.reader.metadata().database_type).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_database::write_country_db;

    #[test]
    fn addresses_are_found_in_their_networks() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("countries.mmdb");
        write_country_db(
            &file,
            &[("81.2.69.0/24", "GB"), ("89.160.0.0/16", "SE"), ("2.125.160.216/29", "DE")],
        )
        .unwrap();
        let countries = Countries::open(&file).unwrap();
        let of = |ip: &str| countries.country(ip.parse().unwrap()).map(Country::code);
        assert_eq!(of("81.2.69.142"), Some("GB"));
        assert_eq!(of("89.160.20.128"), Some("SE"));
        assert_eq!(of("2.125.160.219"), Some("DE"));
        assert_eq!(of("2.125.160.224"), None, "just outside the /29");
        assert_eq!(of("127.0.0.1"), None);
        assert_eq!(of("::ffff:81.2.69.1"), Some("GB"), "IPv4-mapped addresses are IPv4");
        assert_eq!(of("2001:db8::1"), None, "an IPv4 database knows no IPv6 address");
        std::fs::write(&file, b"not a database").unwrap();
        assert!(Countries::open(&file).is_err());
    }
}
