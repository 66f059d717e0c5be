//! Secret values that cannot be logged or copied by accident.

use std::fmt;

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Its `Debug` prints `[redacted]`, and it has no `Clone` and no
        /// `Display`: the value leaves only through [`expose`](Self::expose).
        pub struct $name(String);

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let secret = ClientSecret::new("hunter2".to_owned());
        assert_eq!(format!("{secret:?}"), "ClientSecret([redacted])");
        assert_eq!(secret.expose(), "hunter2");
    }
}
