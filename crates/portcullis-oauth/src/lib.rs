//! The Portcullis protocol engine: what an OAuth 2.0 / OpenID Connect
//! request decides, over typed requests, returning typed decisions. The
//! grants of the token endpoint ([`grants`]), client authentication
//! ([`client_auth`]), reading authorization requests, pushed (RFC 9126) or
//! as signed request objects (RFC 9101) ([`authorization_requests`],
//! [`request_objects`]), the authorization request's way through login,
//! second factor and consent ([`authorize`]), DPoP proofs ([`dpop`]), access-token verification
//! ([`access_tokens`]), clients' remote keys ([`remote_jwks`]), and the
//! instance's in-memory mirrors they read: the client registry
//! ([`clients`]), the key ring ([`key_ring`]), the revocation list and the
//! change-log follower ([`mirror`]).
//!
//! A crate of its own, between the HTTP adapters and the application layer
//! (DESIGN.md, "Layers"), rather than a module of `portcullis-app`: its
//! mirrors are this instance's memory and its decisions run per request,
//! while the application layer is the transactional operations every
//! adapter and job shares; and a crate boundary is one the compiler keeps.
//! It knows no HTTP server: the adapters read bytes and headers into
//! [`params::Params`] and the typed requests here, call one decision and
//! render what it returns (`tests/architecture.rs` in the server fails if
//! this crate names actix). Outbound fetches go through the guarded client
//! of `portcullis-outbound`.

pub mod access_tokens;
pub mod authorization_requests;
pub mod authorize;
pub mod client_auth;
pub mod client_documents;
pub mod client_lockout;
pub mod clients;
pub mod device_authorization;
pub mod dpop;
pub mod endpoints;
pub mod fetched_documents;
pub mod grants;
pub mod key_ring;
pub mod mirror;
pub mod params;
pub mod registration;
pub mod remote_jwks;
pub mod request_objects;
pub mod sector_identifiers;
pub mod software_statements;
pub mod storage;
pub mod subjects;

pub use key_ring::KeyRing;
