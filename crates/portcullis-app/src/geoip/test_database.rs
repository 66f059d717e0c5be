//! Place databases for tests, written in MaxMind's format.

/// A network and where a test database places it.
#[derive(Clone, Copy, Debug)]
pub struct TestPlace<'a> {
    /// An IPv4 network, such as `81.2.69.0/24`.
    pub network: &'a str,
    /// Its country code, such as `GB`.
    pub country: &'a str,
    /// Latitude, longitude and accuracy radius (km), as a City database has them.
    pub location: Option<(f64, f64, u16)>,
}

impl<'a> TestPlace<'a> {
    /// `network` in `country`, at `latitude`, `longitude`, give or take `radius_km`.
    pub fn at(network: &'a str, country: &'a str, latitude: f64, longitude: f64, radius_km: u16) -> Self {
        Self { network, country, location: Some((latitude, longitude, radius_km)) }
    }
}

/// Writes a small MaxMind-format country database mapping each network,
/// such as `81.2.69.0/24`, to a country code, such as `GB`; for tests of
/// `--geoip-db`, which cannot ship MaxMind's own files.
pub fn write_country_db(path: &std::path::Path, networks: &[(&str, &str)]) -> anyhow::Result<()> {
    let places: Vec<TestPlace<'_>> =
        networks.iter().map(|&(network, country)| TestPlace { network, country, location: None }).collect();
    write_place_db(path, &places)
}

/// Writes a small MaxMind-format database (IPv4, 24-bit records, as the
/// format's specification lays out) of `places`: a City database where
/// they have locations. The networks must not overlap, and each must be
/// narrower than `/0`.
pub fn write_place_db(path: &std::path::Path, places: &[TestPlace<'_>]) -> anyhow::Result<()> {
    // The search tree: node 0 is the root; `None` leads nowhere yet.
    let mut nodes: Vec<[Option<Record>; 2]> = vec![[None, None]];
    let mut data = Vec::new();
    for place in places {
        let network: ipnet::Ipv4Net = place.network.parse()?;
        anyhow::ensure!(network.prefix_len() > 0, "{network}: a /0 has no record to hold it");
        let offset = data.len();
        mmdb::map(&mut data, 1 + usize::from(place.location.is_some()));
        mmdb::string(&mut data, "country");
        mmdb::map(&mut data, 1);
        mmdb::string(&mut data, "iso_code");
        mmdb::string(&mut data, place.country);
        if let Some((latitude, longitude, radius)) = place.location {
            mmdb::string(&mut data, "location");
            mmdb::map(&mut data, 3);
            mmdb::string(&mut data, "accuracy_radius");
            mmdb::unsigned(&mut data, 5, u64::from(radius));
            mmdb::string(&mut data, "latitude");
            mmdb::double(&mut data, latitude);
            mmdb::string(&mut data, "longitude");
            mmdb::double(&mut data, longitude);
        }
        let bits = u32::from(network.network());
        let mut node = 0;
        for depth in 0..network.prefix_len() {
            let side = usize::from(bits >> (31 - depth) & 1 == 1);
            if depth + 1 == network.prefix_len() {
                nodes[node][side] = Some(Record::Data(offset));
            } else {
                node = match nodes[node][side] {
                    Some(Record::Node(next)) => next,
                    _ => {
                        nodes.push([None, None]);
                        nodes[node][side] = Some(Record::Node(nodes.len() - 1));
                        nodes.len() - 1
                    }
                };
            }
        }
    }
    let count = nodes.len();
    let mut file = Vec::new();
    for node in &nodes {
        for record in node {
            // §"Search Tree Section": a node, "no data" (the node count), or
            // a data pointer (node count + 16 + offset into the data section).
            let value = match record {
                Some(Record::Node(next)) => *next,
                None => count,
                Some(Record::Data(offset)) => count + 16 + offset,
            };
            anyhow::ensure!(value < 1 << 24, "a record of 24 bits cannot hold {value}");
            file.extend_from_slice(&u32::try_from(value)?.to_be_bytes()[1..]);
        }
    }
    file.extend_from_slice(&[0; 16]);
    file.extend_from_slice(&data);
    file.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    let mut metadata = Vec::new();
    mmdb::map(&mut metadata, 9);
    for (key, value) in [("binary_format_major_version", 2), ("binary_format_minor_version", 0)] {
        mmdb::string(&mut metadata, key);
        mmdb::unsigned(&mut metadata, 5, value);
    }
    mmdb::string(&mut metadata, "build_epoch");
    mmdb::unsigned(&mut metadata, 9, 1_800_000_000);
    mmdb::string(&mut metadata, "database_type");
    mmdb::string(&mut metadata, "Portcullis-Test-City");
    mmdb::string(&mut metadata, "description");
    mmdb::map(&mut metadata, 0);
    mmdb::string(&mut metadata, "ip_version");
    mmdb::unsigned(&mut metadata, 5, 4);
    mmdb::string(&mut metadata, "languages");
    mmdb::control(&mut metadata, 11, 0);
    mmdb::string(&mut metadata, "node_count");
    mmdb::unsigned(&mut metadata, 6, u64::try_from(count)?);
    mmdb::string(&mut metadata, "record_size");
    mmdb::unsigned(&mut metadata, 5, 24);
    file.extend_from_slice(&metadata);
    std::fs::write(path, file)?;
    Ok(())
}

/// Where a search-tree record leads.
#[derive(Clone, Copy)]
enum Record {
    Node(usize),
    Data(usize),
}

/// The data section's encoding (MaxMind DB format §"Data Section").
mod mmdb {
    /// A field's control byte(s): its type (extended past 7) and size (< 29).
    pub fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
        let size = u8::try_from(size).ok().filter(|s| *s < 29).expect("a short field");
        if kind <= 7 {
            out.push(kind << 5 | size);
        } else {
            out.extend_from_slice(&[size, kind - 7]);
        }
    }

    pub fn string(out: &mut Vec<u8>, text: &str) {
        control(out, 2, text.len());
        out.extend_from_slice(text.as_bytes());
    }

    pub fn double(out: &mut Vec<u8>, value: f64) {
        control(out, 3, 8);
        out.extend_from_slice(&value.to_be_bytes());
    }

    pub fn map(out: &mut Vec<u8>, pairs: usize) {
        control(out, 7, pairs);
    }

    /// An unsigned integer of type `kind` (5: 16 bits, 6: 32, 9: 64), in as
    /// few big-endian bytes as it needs.
    pub fn unsigned(out: &mut Vec<u8>, kind: u8, value: u64) {
        let bytes = value.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        control(out, kind, 8 - skip);
        out.extend_from_slice(&bytes[skip..]);
    }
}
