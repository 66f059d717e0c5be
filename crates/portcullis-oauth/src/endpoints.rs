//! The path of every endpoint, in one place: routing and discovery both read
//! them, so discovery cannot advertise a path that is not routed.

/// OpenID Connect Discovery 1.0 §4.
pub const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";
/// RFC 8414 §3.
pub const OAUTH_AUTHORIZATION_SERVER: &str = "/.well-known/oauth-authorization-server";
/// The authorization endpoint (RFC 6749 §3.1).
pub const AUTHORIZE: &str = "/authorize";
/// The pushed authorization request endpoint (RFC 9126 §2).
pub const PUSHED_AUTHORIZATION_REQUEST: &str = "/par";
/// The token endpoint (RFC 6749 §3.2).
pub const TOKEN: &str = "/token";
/// The device authorization endpoint (RFC 8628 §3.1).
pub const DEVICE_AUTHORIZATION: &str = "/device_authorization";
/// The device verification page, where users type their device's code (RFC 8628 §3.3).
pub const DEVICE_VERIFICATION: &str = "/device";
/// The UserInfo endpoint (OpenID Connect Core §5.3).
pub const USERINFO: &str = "/userinfo";
/// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2).
pub const END_SESSION: &str = "/logout";
/// Token introspection (RFC 7662).
pub const INTROSPECT: &str = "/introspect";
/// Token revocation (RFC 7009).
pub const REVOKE: &str = "/revoke";
/// Dynamic client registration (RFC 7591 §3); a client's configuration is
/// under it, at `/register/{client_id}` (RFC 7592 §2).
pub const REGISTER: &str = "/register";
/// The JWK Set of the signing keys.
pub const JWKS: &str = "/jwks";
/// Liveness: the process is up.
pub const HEALTHZ: &str = "/healthz";
/// Readiness: the database answers.
pub const READYZ: &str = "/readyz";
