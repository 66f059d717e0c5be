//! Protocol domain of Portcullis.
//!
//! Typed OAuth 2.0 / OpenID Connect values that can only be built valid
//! ("parse, don't validate"), and the rules that govern them. No I/O: every
//! function here is pure and unit-tested.

/// Gives a string newtype whose only constructor is `parse` its `as_str`,
/// `Display`, and serde that goes through `parse`, so a deserialised value is
/// as valid as a parsed one.
macro_rules! parsed_string {
    ($name:ident) => {
        impl $name {
            /// The value.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $name::parse(&String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
            }
        }
    };
}

pub mod audit;
pub mod authorization_request;
pub mod baseline;
pub mod claim_mappings;
pub mod claims_request;
pub mod client;
pub mod client_document;
pub mod client_fields;
pub mod client_profile;
pub mod country;
pub mod grant;
pub mod issuer;
pub mod oauth_error;
pub mod outbound;
pub mod pkce;
pub mod redirect_uri;
pub mod registration;
pub mod scope;
pub mod secret;
pub mod signing;
pub mod team;
pub mod token_exchange;
pub mod user;
pub mod user_attributes;

pub use client::{
    ApplicationType, ClientId, ClientMetadata, GrantType, MetadataError, TokenEndpointAuthMethod,
};
pub use client_profile::ClientProfile;
pub use issuer::{Issuer, IssuerError};
pub use oauth_error::{ErrorCode, OAuthError};
pub use pkce::{CodeChallenge, CodeChallengeMethod, PkceError};
pub use redirect_uri::{RedirectUri, RedirectUriError};
pub use registration::RegistrationPolicy;
pub use scope::{Scope, ScopeError};
pub use secret::{
    AuthorizationCode, ClientSecret, CodeVerifier, CsrfToken, InteractionId, Password, RefreshToken,
    RegistrationToken, SessionToken, ShownOnce,
};
pub use signing::{KeyState, SigningAlgorithm, UnknownValue};
pub use user::{Address, StandardClaims, Username};
