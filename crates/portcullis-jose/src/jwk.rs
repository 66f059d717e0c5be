//! Public JSON Web Keys (RFC 7517) and their RFC 7638 thumbprints.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use portcullis_core::SigningAlgorithm;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The public part of a key, by key type (RFC 7518 §6). Private members
/// (`d`, `p`, `q`, ...) have no place in this type, so they cannot be published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kty")]
pub enum KeyMaterial {
    /// An RSA public key: modulus and exponent, base64url big-endian.
    #[serde(rename = "RSA")]
    Rsa {
        /// Modulus.
        n: String,
        /// Public exponent.
        e: String,
    },
    /// An elliptic-curve public point.
    #[serde(rename = "EC")]
    Ec {
        /// Curve name, e.g. `P-256`.
        crv: String,
        /// X coordinate, base64url.
        x: String,
        /// Y coordinate, base64url.
        y: String,
    },
    /// An octet key pair's public key (RFC 8037 §2), e.g. Ed25519.
    #[serde(rename = "OKP")]
    Okp {
        /// Curve name, e.g. `Ed25519`.
        crv: String,
        /// The public key, base64url.
        x: String,
    },
}

impl KeyMaterial {
    /// The RFC 7638 §3 thumbprint: SHA-256 over the required members in
    /// lexicographic order with no white space, base64url without padding.
    pub fn thumbprint(&self) -> String {
        let json = |s: &str| serde_json::Value::from(s).to_string();
        let canonical = match self {
            KeyMaterial::Rsa { n, e } => format!(r#"{{"e":{},"kty":"RSA","n":{}}}"#, json(e), json(n)),
            KeyMaterial::Ec { crv, x, y } => {
                format!(r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#, json(crv), json(x), json(y))
            }
            // RFC 8037 §2: the required members of an OKP key are crv, kty and x.
            KeyMaterial::Okp { crv, x } => format!(r#"{{"crv":{},"kty":"OKP","x":{}}}"#, json(crv), json(x)),
        };
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }
}

/// A published signing key: its public material plus `kid`, `alg` and `use`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    /// The RFC 7638 thumbprint of `material`.
    pub kid: String,
    /// The one JWS algorithm this key is used with.
    pub alg: String,
    /// Always `sig`: these keys only sign.
    #[serde(rename = "use")]
    pub key_use: String,
    /// The key type and its public members.
    #[serde(flatten)]
    pub material: KeyMaterial,
}

impl PublicJwk {
    /// A signing JWK whose `kid` is the thumbprint of `material`.
    pub fn new(alg: SigningAlgorithm, material: KeyMaterial) -> Self {
        Self { kid: material.thumbprint(), alg: alg.as_str().to_owned(), key_use: "sig".to_owned(), material }
    }
}

/// A JWK Set (RFC 7517 §5).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys, in the order they are published.
    pub keys: Vec<PublicJwk>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of RFC 7638 §3.1.
    #[test]
    fn thumbprint_matches_the_rfc_7638_example() {
        let material = KeyMaterial::Rsa {
            n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw".to_owned(),
            e: "AQAB".to_owned(),
        };
        assert_eq!(material.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    #[test]
    fn ec_thumbprint_uses_crv_kty_x_y_in_order() {
        let material = KeyMaterial::Ec { crv: "P-256".into(), x: "xx".into(), y: "yy".into() };
        let expected =
            URL_SAFE_NO_PAD.encode(Sha256::digest(br#"{"crv":"P-256","kty":"EC","x":"xx","y":"yy"}"#));
        assert_eq!(material.thumbprint(), expected);
    }

    /// The example of RFC 8037 §A.3.
    #[test]
    fn okp_thumbprint_matches_the_rfc_8037_example() {
        let material = KeyMaterial::Okp {
            crv: "Ed25519".into(),
            x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo".into(),
        };
        assert_eq!(material.thumbprint(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }

    #[test]
    fn serialises_as_a_flat_jwk_with_only_public_members() {
        let jwk = PublicJwk::new(
            SigningAlgorithm::Es256,
            KeyMaterial::Ec { crv: "P-256".into(), x: "a".into(), y: "b".into() },
        );
        let value = serde_json::to_value(&jwk).unwrap();
        let mut names: Vec<_> = value.as_object().unwrap().keys().cloned().collect();
        names.sort();
        assert_eq!(names, ["alg", "crv", "kid", "kty", "use", "x", "y"]);
        assert_eq!(value["kty"], "EC");
        assert_eq!(value["use"], "sig");
        assert_eq!(serde_json::from_value::<PublicJwk>(value).unwrap(), jwk);
    }
}
