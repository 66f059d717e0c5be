//! Protocol domain of Portcullis.
//!
//! Typed OAuth 2.0 / OpenID Connect values that can only be built valid
//! ("parse, don't validate"), and the rules that govern them. No I/O: every
//! function here is pure and unit-tested.

pub mod client;
pub mod issuer;
pub mod oauth_error;
pub mod scope;
pub mod secret;
pub mod signing;

pub use client::{ClientId, ClientMetadata, GrantType, MetadataError, TokenEndpointAuthMethod};
pub use issuer::{Issuer, IssuerError};
pub use oauth_error::{ErrorCode, OAuthError};
pub use scope::{Scope, ScopeError};
pub use secret::ClientSecret;
pub use signing::{KeyState, SigningAlgorithm, UnknownValue};
