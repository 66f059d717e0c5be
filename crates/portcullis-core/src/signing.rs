//! Signing algorithms and the signing-key lifecycle.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A value read from configuration or storage that names no known variant.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownValue {
    /// What was being parsed, e.g. "signing algorithm".
    pub kind: &'static str,
    /// The value that did not match.
    pub value: String,
}

/// A JWS algorithm this server signs with (RFC 7518 §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256: the OpenID Connect default (Core §15.1).
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// RSASSA-PSS with SHA-256 and MGF1 with SHA-256 (FAPI 2.0 §5.4.1).
    Ps256,
    /// EdDSA on Ed25519 (RFC 8037 §3.1).
    EdDsa,
}

impl SigningAlgorithm {
    /// Every supported algorithm, in the order they are advertised.
    pub const ALL: [SigningAlgorithm; 4] =
        [SigningAlgorithm::Rs256, SigningAlgorithm::Es256, SigningAlgorithm::Ps256, SigningAlgorithm::EdDsa];
    /// The JOSE names of [`SigningAlgorithm::ALL`], as discovery lists them.
    pub const NAMES: [&'static str; 4] = [
        SigningAlgorithm::Rs256.as_str(),
        SigningAlgorithm::Es256.as_str(),
        SigningAlgorithm::Ps256.as_str(),
        SigningAlgorithm::EdDsa.as_str(),
    ];

    /// The JOSE `alg` name.
    pub const fn as_str(self) -> &'static str {
        match self {
            SigningAlgorithm::Rs256 => "RS256",
            SigningAlgorithm::Es256 => "ES256",
            SigningAlgorithm::Ps256 => "PS256",
            SigningAlgorithm::EdDsa => "EdDSA",
        }
    }

    /// The algorithms a JWK without `alg` may be used with, by its `kty` and
    /// `crv` (RFC 7517 §4.4 leaves the choice to the application): RSA keys
    /// for RS256 and PS256, P-256 keys for ES256, Ed25519 keys for EdDSA.
    pub fn for_key(kty: &str, crv: Option<&str>) -> &'static [SigningAlgorithm] {
        match (kty, crv) {
            ("RSA", _) => &[SigningAlgorithm::Rs256, SigningAlgorithm::Ps256],
            ("EC", Some("P-256")) => &[SigningAlgorithm::Es256],
            ("OKP", Some("Ed25519")) => &[SigningAlgorithm::EdDsa],
            _ => &[],
        }
    }
}

impl FromStr for SigningAlgorithm {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.as_str() == s)
            .ok_or_else(|| UnknownValue { kind: "signing algorithm", value: s.to_owned() })
    }
}

impl Serialize for SigningAlgorithm {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SigningAlgorithm {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a signing key is in its lifecycle: `next` -> `active` -> `retired`,
/// or `revoked` at any point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyState {
    /// Published in the JWKS so verifiers can cache it, but not yet signing.
    Next,
    /// The one key that signs for its algorithm.
    Active,
    /// No longer signs; published until every token it signed has expired.
    Retired,
    /// Withdrawn at once: not published, its tokens no longer verify.
    Revoked,
}

impl KeyState {
    const ALL: [KeyState; 4] = [KeyState::Next, KeyState::Active, KeyState::Retired, KeyState::Revoked];

    /// The name stored in the database and shown to admins.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Active => "active",
            KeyState::Retired => "retired",
            KeyState::Revoked => "revoked",
        }
    }
}

impl FromStr for KeyState {
    type Err = UnknownValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownValue { kind: "key state", value: s.to_owned() })
    }
}

impl fmt::Display for KeyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_round_trip_through_their_jose_names() {
        for alg in SigningAlgorithm::ALL {
            assert_eq!(alg.as_str().parse::<SigningAlgorithm>().unwrap(), alg);
        }
        assert_eq!("rs256".parse::<SigningAlgorithm>().unwrap_err().value, "rs256");
        assert!("none".parse::<SigningAlgorithm>().is_err());
        assert!("HS256".parse::<SigningAlgorithm>().is_err());
        assert_eq!(
            SigningAlgorithm::NAMES.map(|name| name.parse::<SigningAlgorithm>().unwrap()),
            SigningAlgorithm::ALL
        );
    }

    #[test]
    fn a_key_without_alg_serves_each_algorithm_of_its_type() {
        use SigningAlgorithm::*;
        assert_eq!(SigningAlgorithm::for_key("RSA", None), [Rs256, Ps256]);
        assert_eq!(SigningAlgorithm::for_key("EC", Some("P-256")), [Es256]);
        assert_eq!(SigningAlgorithm::for_key("OKP", Some("Ed25519")), [EdDsa]);
        assert!(SigningAlgorithm::for_key("EC", Some("P-384")).is_empty());
        assert!(SigningAlgorithm::for_key("OKP", Some("Ed448")).is_empty());
        assert!(SigningAlgorithm::for_key("oct", None).is_empty());
    }

    #[test]
    fn key_states_round_trip_through_their_names() {
        for state in KeyState::ALL {
            assert_eq!(state.as_str().parse::<KeyState>().unwrap(), state);
        }
        assert!("Active".parse::<KeyState>().is_err());
    }
}
