//! End users: their login name and their OpenID Connect standard claims
//! (OpenID Connect Core §5.1).

use serde::{Deserialize, Serialize};

/// A login name: 1 to 254 characters without control characters or
/// surrounding spaces, compared without regard to case (it is kept in
/// lower case).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);

/// Why a string is not a username.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a username is 1 to 254 characters, without control characters or surrounding spaces")]
pub struct UsernameError;

impl Username {
    /// Parses a username, folding it to lower case.
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let valid = (1..=254).contains(&raw.chars().count())
            && raw.trim() == raw
            && !raw.chars().any(char::is_control);
        valid.then(|| Self(raw.to_lowercase())).ok_or(UsernameError)
    }
}

parsed_string!(Username);

/// The postal address claim (OpenID Connect Core §5.1.1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// The full mailing address, formatted for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    /// Street, house number, and so on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    /// City or locality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// State, province or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Zip or postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Country name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// The standard claims kept for a user (OpenID Connect Core §5.1). `sub`
/// and `updated_at` are not stored here: the server derives them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandardClaims {
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Given name(s) or first name(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Surname(s) or last name(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Middle name(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// Casual name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// The name the user wishes to be referred to by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// Profile page URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Picture URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// Web page or blog URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// Preferred e-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the e-mail address was verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// Gender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// Birthday, `YYYY-MM-DD` or `YYYY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    /// Time zone, e.g. `Europe/Paris`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoneinfo: Option<String>,
    /// Locale, a BCP 47 language tag such as `en-US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Preferred telephone number, E.164 recommended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Whether the telephone number was verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number_verified: Option<bool>,
    /// Preferred postal address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

impl StandardClaims {
    /// Checks the claims whose format OpenID Connect Core §5.1 fixes.
    pub fn validate(&self) -> Result<(), crate::MetadataError> {
        let invalid = |field: &'static str, message: &str| crate::MetadataError::new(field, message);
        if let Some(email) = &self.email {
            let (local, domain) = email.split_once('@').unwrap_or_default();
            if local.is_empty()
                || domain.is_empty()
                || email.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(invalid("email", "must be an e-mail address"));
            }
        }
        if let Some(birthdate) = &self.birthdate {
            let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
            let parts: Vec<&str> = birthdate.split('-').collect();
            let ok = match parts.as_slice() {
                [year] => digits(year, 4),
                [year, month, day] => digits(year, 4) && digits(month, 2) && digits(day, 2),
                _ => false,
            };
            if !ok {
                return Err(invalid("birthdate", "must be YYYY-MM-DD or YYYY"));
            }
        }
        for (field, url) in
            [("profile", &self.profile), ("picture", &self.picture), ("website", &self.website)]
        {
            if url.as_deref().is_some_and(|url| url::Url::parse(url).is_err()) {
                return Err(invalid(field, "must be an absolute URL"));
            }
        }
        Ok(())
    }
}

/// The claims each scope releases (OpenID Connect Core §5.4).
pub const CLAIMS_BY_SCOPE: [(&str, &[&str]); 4] = [
    (
        "profile",
        &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
    ),
    ("email", &["email", "email_verified"]),
    ("address", &["address"]),
    ("phone", &["phone_number", "phone_number_verified"]),
];

impl StandardClaims {
    /// The claims the granted `scope` releases (OpenID Connect Core §5.4),
    /// as a JSON object; `sub` is the caller's to add.
    pub fn released_for(&self, scope: &crate::Scope) -> serde_json::Map<String, serde_json::Value> {
        let serde_json::Value::Object(all) = serde_json::to_value(self).expect("claims serialise") else {
            unreachable!("claims serialise to an object")
        };
        let released: Vec<&str> = CLAIMS_BY_SCOPE
            .iter()
            .filter(|(name, _)| scope.contains(name))
            .flat_map(|(_, claims)| claims.iter().copied())
            .collect();
        all.into_iter().filter(|(name, _)| released.contains(&name.as_str())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_folded_to_lower_case_and_trimmed_names_refused() {
        assert_eq!(Username::parse("Alice@Example.COM").unwrap().as_str(), "alice@example.com");
        for bad in ["", " alice", "alice ", "al\nice", &"a".repeat(255)] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(serde_json::from_str::<Username>(r#""Bob""#).unwrap().to_string(), "bob", "serde parses");
        assert!(serde_json::from_str::<Username>(r#"" bob""#).is_err());
    }

    #[test]
    fn claims_round_trip_with_their_oidc_names() {
        let json = serde_json::json!({
            "name": "Alice Liddell", "given_name": "Alice", "family_name": "Liddell",
            "email": "alice@example.com", "email_verified": true, "birthdate": "1852-05-04",
            "locale": "en-GB", "phone_number": "+44 20 7946 0000", "phone_number_verified": false,
            "address": {"street_address": "Christ Church", "locality": "Oxford", "country": "UK"}
        });
        let claims: StandardClaims = serde_json::from_value(json.clone()).unwrap();
        claims.validate().unwrap();
        assert_eq!(serde_json::to_value(&claims).unwrap(), json);
    }

    #[test]
    fn a_scope_releases_only_its_claims() {
        let claims: StandardClaims = serde_json::from_value(serde_json::json!({
            "name": "Alice", "locale": "en", "email": "alice@example.com", "email_verified": true,
            "phone_number": "+1 555", "address": {"country": "UK"}
        }))
        .unwrap();
        let released = |scope: &str| {
            let mut names: Vec<String> =
                claims.released_for(&crate::Scope::parse(scope).unwrap()).keys().cloned().collect();
            names.sort();
            names
        };
        assert!(released("openid").is_empty());
        assert_eq!(released("openid profile"), ["locale", "name"]);
        assert_eq!(released("openid email"), ["email", "email_verified"]);
        assert_eq!(released("openid address phone"), ["address", "phone_number"]);
        assert_eq!(released("profile email address phone").len(), 6);
    }

    #[test]
    fn refuses_unknown_and_malformed_claims() {
        assert!(
            serde_json::from_value::<StandardClaims>(serde_json::json!({"sub": "x"})).is_err(),
            "sub is not stored"
        );
        assert!(
            serde_json::from_value::<StandardClaims>(serde_json::json!({"email_verified": "yes"})).is_err()
        );
        for (json, field) in [
            (serde_json::json!({"email": "not-an-address"}), "email"),
            (serde_json::json!({"email": "a b@c"}), "email"),
            (serde_json::json!({"birthdate": "4 May 1852"}), "birthdate"),
            (serde_json::json!({"website": "example.com"}), "website"),
        ] {
            let claims: StandardClaims = serde_json::from_value(json).unwrap();
            assert_eq!(claims.validate().unwrap_err().field, field);
        }
        let year_only: StandardClaims =
            serde_json::from_value(serde_json::json!({"birthdate": "1852"})).unwrap();
        assert!(year_only.validate().is_ok());
    }
}
