//! What the suite runs against: a live server, the clients registered on it
//! for the suite and a user who can log in. Read from a JSON file by the
//! `conformance` binary, built by the test harness for its own server.

use serde::Deserialize;

/// A registered client and its secret.
#[derive(Clone, Debug, Deserialize)]
pub struct ClientCredentials {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: String,
}

/// A user with a password; the scope scenarios expect every standard claim
/// (name, email, address, phone) to have a value.
#[derive(Clone, Debug, Deserialize)]
pub struct User {
    /// What the login form takes as the username.
    pub username: String,
    /// The password.
    pub password: String,
}

/// The clients the suite uses. Each is registered with `redirect_uri`, the
/// scopes `openid profile email address phone`, and PKCE required unless
/// said otherwise.
#[derive(Clone, Debug, Deserialize)]
pub struct Clients {
    /// `client_secret_basic`, grants `authorization_code` and
    /// `refresh_token`, consent not skipped.
    pub basic: ClientCredentials,
    /// `client_secret_post`, grant `authorization_code`.
    pub post: ClientCredentials,
    /// A second `client_secret_basic` client, for the checks that a code or
    /// a refresh token is bound to the client it was issued to.
    pub second: ClientCredentials,
    /// A client that does not require PKCE (`require_pkce: false`), for the
    /// PKCE downgrade check (RFC 9700 §4.8.2); that check is skipped without it.
    pub without_pkce: Option<ClientCredentials>,
}

/// A live server and what the suite needs of it.
#[derive(Clone, Debug, Deserialize)]
pub struct Target {
    /// The issuer; discovery is read from it.
    pub issuer: String,
    /// The redirect URI registered for every client. Nothing needs to listen
    /// there: the user agent stops at the redirect and hands it to the RP.
    pub redirect_uri: String,
    /// The clients.
    pub clients: Clients,
    /// The user who logs in.
    pub user: User,
    /// How long `oidcc-codereuse-30seconds` waits before replaying the code
    /// (the plan's 30 seconds unless set).
    #[serde(default = "thirty")]
    pub code_reuse_delay_secs: u64,
    /// An initial access token for the dynamic plan's registrations (RFC
    /// 7591 §3), whose policy admits `private_key_jwt` code-flow clients;
    /// none for a server whose registration is open.
    #[serde(default)]
    pub registration_token: Option<String>,
    /// A client-credentials client holding the `admin:keys` scope, for
    /// `oidcc-server-rotate-keys` (not applicable without one).
    #[serde(default)]
    pub admin: Option<ClientCredentials>,
    /// A post-logout redirect URI registered for the basic client, for the
    /// RP-initiated logout plan (not applicable without one).
    #[serde(default)]
    pub post_logout_redirect_uri: Option<String>,
}

fn thirty() -> u64 {
    30
}
