//! Protocol domain of Portcullis.
//!
//! Typed OAuth 2.0 / OpenID Connect values that can only be built valid
//! ("parse, don't validate"), and the rules that govern them. No I/O: every
//! function here is pure and unit-tested.

pub mod issuer;
pub mod signing;

pub use issuer::{Issuer, IssuerError};
pub use signing::{KeyState, SigningAlgorithm, UnknownValue};
