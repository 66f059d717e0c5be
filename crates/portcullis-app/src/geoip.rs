//! Where an address is, from a MaxMind-format database (`--geoip-db`:
//! GeoLite2 or GeoIP2 Country or City): its country, for clients restricted
//! to `allowed_countries` (and the `outside_countries` alert rule) and for a
//! client's first use from a country; and, from a City database, its
//! location, for impossible travel of tokens (see [`crate::sightings`]).
//!
//! Read with `maxminddb`, the format's maintained Rust reader (by MaxMind's
//! own maintainer). The file is read into memory once at start; a country
//! lookup walks its search tree and decodes one string, without allocating,
//! and happens on a request path only for clients that set
//! `allowed_countries`. Locations are looked up by background jobs only.

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
    locates: bool,
}

impl Countries {
    /// Opens the database at `path`: refused unless it is a MaxMind DB.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let reader = Reader::open_readfile(path)
            .with_context(|| format!("{}: not a readable MaxMind country database", path.display()))?;
        // GeoLite2-City, GeoIP2-City: only City databases hold locations.
        let locates = reader.metadata().database_type.contains("City");
        Ok(Self { reader, locates })
    }

    /// Whether it places addresses within their countries (a City
    /// database), as impossible travel needs.
    pub fn locates(&self) -> bool {
        self.locates
    }

    /// The country of `ip`; `None` when the database does not know it
    /// (private and loopback addresses, say).
    pub fn country(&self, ip: IpAddr) -> Option<Country> {
        let found = self.reader.lookup(ip.to_canonical()).ok()?;
        let code: &str = found.decode_path(&path!["country", "iso_code"]).ok()??;
        Country::parse(code).ok()
    }

    /// The country of `ip` and, from a City database, where in it (`None`
    /// without a country).
    pub fn place(&self, ip: IpAddr) -> Option<Place> {
        let found = self.reader.lookup(ip.to_canonical()).ok()?;
        let code: &str = found.decode_path(&path!["country", "iso_code"]).ok()??;
        let country = Country::parse(code).ok()?;
        let degrees = |key: &str| found.decode_path::<f64>(&path!["location", key]).ok().flatten();
        let location = match (degrees("latitude"), degrees("longitude")) {
            (Some(latitude), Some(longitude)) => {
                let radius: Option<u16> =
                    found.decode_path(&path!["location", "accuracy_radius"]).ok().flatten();
                Some(Location { latitude, longitude, radius_km: f64::from(radius.unwrap_or(0)) })
            }
            _ => None,
        };
        Some(Place { country, location })
    }
}

/// Where an address is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Place {
    /// Its country.
    pub country: Country,
    /// Where in it, from a City database.
    pub location: Option<Location>,
}

/// A point on the earth, as a database places an address.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Location {
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
    /// How far from the point the address may be, in kilometres.
    pub radius_km: f64,
}

impl Location {
    /// The great-circle distance to `other` in kilometres (the haversine
    /// formula over a sphere of the earth's mean radius).
    pub fn distance_km(&self, other: &Location) -> f64 {
        const EARTH_RADIUS_KM: f64 = 6_371.0;
        let (a, b) = (self.latitude.to_radians(), other.latitude.to_radians());
        let north = b - a;
        let east = (other.longitude - self.longitude).to_radians();
        let h = (north / 2.0).sin().powi(2) + a.cos() * b.cos() * (east / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
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
    use test_database::{write_country_db, write_place_db, TestPlace};

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
        assert_eq!(countries.place("81.2.69.142".parse().unwrap()).unwrap().location, None);
        std::fs::write(&file, b"not a database").unwrap();
        assert!(Countries::open(&file).is_err());
    }

    #[test]
    fn a_city_database_places_addresses_and_distances_are_great_circles() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cities.mmdb");
        let berlin = TestPlace::at("81.2.69.0/24", "DE", 52.52, 13.405, 20);
        let sydney = TestPlace::at("89.160.0.0/16", "AU", -33.8688, 151.2093, 50);
        write_place_db(&file, &[berlin, sydney]).unwrap();
        let places = Countries::open(&file).unwrap();
        let place = |ip: &str| places.place(ip.parse().unwrap()).unwrap();
        let (from, to) = (place("81.2.69.7"), place("89.160.1.1"));
        assert_eq!((from.country.code(), to.country.code()), ("DE", "AU"));
        let (from, to) = (from.location.unwrap(), to.location.unwrap());
        assert_eq!((from.radius_km, to.radius_km), (20.0, 50.0));
        let km = from.distance_km(&to);
        assert!((16_000.0..16_200.0).contains(&km), "Berlin to Sydney is about 16,090 km: {km}");
        assert!(from.distance_km(&from) < 1e-9);
    }
}
