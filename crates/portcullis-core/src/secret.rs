//! Secret values that cannot be logged or copied by accident.

use std::fmt;

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Its `Debug` prints `[redacted]`, it has no `Clone` and no
        /// `Display`, and its memory is wiped when it is dropped: the value
        /// leaves only through [`expose`](Self::expose).
        pub struct $name(String);

        impl Drop for $name {
            fn drop(&mut self) {
                zeroize::Zeroize::zeroize(&mut self.0);
            }
        }

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: String) -> Self {
                Self(value)
            }

            /// The secret itself, for hashing or for showing it once.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_type!(
    /// A client secret, as presented by a client or shown once on creation.
    ClientSecret
);

secret_type!(
    /// A user's password, as typed at the login page or given on creation.
    Password
);

secret_type!(
    /// An authorization code (RFC 6749 §4.1.2), sent once to the client.
    AuthorizationCode
);

secret_type!(
    /// A refresh token (RFC 6749 §1.5), given to a client once per rotation.
    RefreshToken
);

secret_type!(
    /// The value of a browser's session cookie.
    SessionToken
);

secret_type!(
    /// A CSRF token, in a cookie and in the forms of the pages.
    CsrfToken
);

secret_type!(
    /// The id of a pending sign-in interaction, in the pages' URLs.
    InteractionId
);

secret_type!(
    /// A PKCE code verifier (RFC 7636 §4.1), as presented at the token endpoint.
    CodeVerifier
);

secret_type!(
    /// An initial access token (RFC 7591 §3) or a registration access token
    /// (RFC 7592 §3), shown to its holder once.
    RegistrationToken
);

secret_type!(
    /// A secret shown to its user once: a second factor's key or key-URI, a
    /// recovery code.
    ShownOnce
);

/// A refresh token is written into the token response, and only there.
impl serde::Serialize for RefreshToken {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let secret = ClientSecret::new("hunter2".to_owned());
        assert_eq!(format!("{secret:?}"), "ClientSecret([redacted])");
        assert_eq!(secret.expose(), "hunter2");
        let code = AuthorizationCode::new("abc123".to_owned());
        assert_eq!(format!("{code:?}"), "AuthorizationCode([redacted])");
        let token = RefreshToken::new("r1".to_owned());
        assert_eq!(serde_json::to_string(&token).unwrap(), "\"r1\"", "a response carries it");
    }
}
