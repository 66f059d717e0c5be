//! Choosing the backend from the database URL.

use crate::StoreError;
use std::fmt;
use std::path::PathBuf;

/// The storage backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL, for production and for several instances.
    Postgres,
    /// An embedded SQLite file, the zero-setup default.
    Sqlite,
}

impl Backend {
    /// The backend's name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "PostgreSQL",
            Backend::Sqlite => "SQLite",
        }
    }
}

/// A parsed database URL: `postgres://…` / `postgresql://…` (handed to libpq
/// as is), or `sqlite://PATH`, `sqlite:PATH` or a bare file path.
///
/// The backend is chosen here from the scheme rather than by trying each
/// backend in turn, so a bad PostgreSQL URL reports libpq's own error instead
/// of silently becoming a SQLite file name.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A libpq connection URI.
    Postgres(String),
    /// A SQLite database file.
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    /// Parses a database URL.
    pub fn parse(raw: &str) -> Result<Self, StoreError> {
        let unsupported = |reason| StoreError::UnsupportedUrl { url: redact(raw), reason };
        let sqlite = |path: &str| match path {
            "" => Err(unsupported("the SQLite URL names no file")),
            ":memory:" => {
                Err(unsupported("an in-memory SQLite database cannot be shared by a pool; name a file"))
            }
            path => Ok(DatabaseUrl::Sqlite(PathBuf::from(path))),
        };
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(raw.to_owned()))
        } else if let Some(path) = raw.strip_prefix("sqlite://").or_else(|| raw.strip_prefix("sqlite:")) {
            sqlite(path)
        } else if raw.contains("://") || raw.trim().is_empty() {
            Err(unsupported("use postgres://USER:PASSWORD@HOST:PORT/DB or sqlite://PATH"))
        } else {
            sqlite(raw)
        }
    }

    /// The backend this URL selects.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Postgres(_) => Backend::Postgres,
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Shows the URL with any password replaced by `***`.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Postgres(url) => f.write_str(&redact(url)),
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// Hides the password of `scheme://user:password@host/…` and of a
/// `password=` query parameter.
fn redact(url: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((main, query)) => (main, Some(query)),
        None => (url, None),
    };
    let mut out = match main.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            let authority = match authority.rsplit_once('@') {
                Some((userinfo, host)) => match userinfo.split_once(':') {
                    Some((user, _password)) => format!("{user}:***@{host}"),
                    None => format!("{userinfo}@{host}"),
                },
                None => authority.to_owned(),
            };
            format!("{scheme}://{authority}{path}")
        }
        None => main.to_owned(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out = format!("{out}?{}", pairs.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_backend_from_the_scheme() {
        assert_eq!(DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(), Backend::Postgres);
        assert_eq!(DatabaseUrl::parse("postgresql://h/db").unwrap().backend(), Backend::Postgres);
        for (raw, path) in
            [("sqlite://data/p.db", "data/p.db"), ("sqlite:/tmp/p.db", "/tmp/p.db"), ("p.db", "p.db")]
        {
            assert_eq!(DatabaseUrl::parse(raw).unwrap(), DatabaseUrl::Sqlite(PathBuf::from(path)), "{raw}");
        }
    }

    #[test]
    fn refuses_unknown_schemes_and_unusable_sqlite_urls() {
        for raw in ["mysql://u:secret@h/db", "postgre://h/db", "", "  ", "sqlite://", "sqlite::memory:"] {
            let err = DatabaseUrl::parse(raw).unwrap_err();
            assert!(matches!(err, StoreError::UnsupportedUrl { .. }), "{raw}: {err}");
            assert!(!err.to_string().contains("secret"), "{err}");
        }
    }

    #[test]
    fn display_hides_passwords() {
        let shown = |raw: &str| DatabaseUrl::parse(raw).unwrap().to_string();
        assert_eq!(shown("postgres://app:s3cr3t@db:5432/p"), "postgres://app:***@db:5432/p");
        assert_eq!(shown("postgres://app:p@ss@db/p"), "postgres://app:***@db/p");
        assert_eq!(
            shown("postgres://app@db/p?password=s3cr3t&sslmode=require"),
            "postgres://app@db/p?password=***&sslmode=require"
        );
        assert_eq!(shown("postgres://db/p"), "postgres://db/p");
        assert_eq!(shown("sqlite://data/p.db"), "sqlite://data/p.db");
    }
}
