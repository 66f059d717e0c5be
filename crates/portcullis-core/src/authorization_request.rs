//! Parameters of an OpenID Connect authentication request whose value has
//! rules of its own (OpenID Connect Core §3.1.2.1).

/// The `prompt` parameter: a set of values, where `none` stands alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prompt {
    /// `none`: no user interface at all.
    pub none: bool,
    /// `login`: authenticate again, even with a session.
    pub login: bool,
    /// `consent`: ask for consent again, even if it was given before.
    pub consent: bool,
    /// `select_account`: let the user choose an account.
    pub select_account: bool,
}

/// A `prompt` value that cannot be honoured.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PromptError {
    /// OpenID Connect Core §3.1.2.1: `none` with any other value is an error.
    #[error("prompt=none cannot be combined with other values")]
    NoneWithOthers,
    /// A value OpenID Connect does not define.
    #[error("unknown prompt value `{0}`")]
    Unknown(String),
}

impl Prompt {
    /// Parses a space-separated `prompt`.
    pub fn parse(raw: &str) -> Result<Self, PromptError> {
        let mut prompt = Prompt::default();
        for value in raw.split(' ').filter(|v| !v.is_empty()) {
            match value {
                "none" => prompt.none = true,
                "login" => prompt.login = true,
                "consent" => prompt.consent = true,
                "select_account" => prompt.select_account = true,
                other => return Err(PromptError::Unknown(other.to_owned())),
            }
        }
        if prompt.none && (prompt.login || prompt.consent || prompt.select_account) {
            return Err(PromptError::NoneWithOthers);
        }
        Ok(prompt)
    }
}

/// Parses `max_age`: a non-negative number of seconds.
pub fn parse_max_age(raw: &str) -> Option<u64> {
    raw.parse().ok().filter(|_| raw.bytes().all(|b| b.is_ascii_digit()))
}

/// The longest `state` or `nonce` accepted: they are echoed back, so they are
/// bounded, yet generously (FAPI tests send long values).
pub const MAX_OPAQUE_LEN: usize = 2048;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_is_a_set_with_none_alone() {
        assert_eq!(Prompt::parse("").unwrap(), Prompt::default());
        let both = Prompt::parse("consent login").unwrap();
        assert!(both.login && both.consent && !both.none);
        assert!(Prompt::parse("none").unwrap().none);
        assert_eq!(Prompt::parse("none login"), Err(PromptError::NoneWithOthers));
        assert_eq!(Prompt::parse("login create"), Err(PromptError::Unknown("create".into())));
    }

    #[test]
    fn max_age_is_a_non_negative_integer() {
        assert_eq!(parse_max_age("0"), Some(0));
        assert_eq!(parse_max_age("10000"), Some(10000));
        for bad in ["", "-1", "+5", "1.5", " 5", "ten", "99999999999999999999999"] {
            assert_eq!(parse_max_age(bad), None, "{bad}");
        }
    }
}
