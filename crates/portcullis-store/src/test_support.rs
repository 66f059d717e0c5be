//! Real databases for tests, on both backends.
//!
//! PostgreSQL comes from `DATABASE_URL` when it is a `postgres://` URL, or
//! else from a throwaway cluster started once per test process with
//! `initdb`/`pg_ctl` on a free port (as the `postgres` user when running as
//! root, since PostgreSQL refuses to run as root). A watcher process stops
//! the cluster and deletes it when the test process exits. Each [`TestDb`]
//! is a fresh database (or SQLite file) of its own.
//!
//! PostgreSQL tests never skip: without a server they fail and say why.

use crate::{Database, DatabaseUrl, PoolOptions};
use diesel::{Connection, PgConnection, RunQueryDsl};
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// Declares each test once and runs it on both backends: the expansion holds
/// a `sqlite` and a `postgres` module, each with every test, which receives
/// a fresh [`TestDb`] under the name given in its parameter list.
///
/// ```text
/// backend_tests! {
///     #[test]
///     fn keys_round_trip(db) { let database = db.connect(); /* ... */ }
///     #[tokio::test]
///     async fn serves_jwks(db) { /* ... */ }
/// }
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($($tests:tt)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $crate::__backend_test_items!(sqlite; $($tests)*);
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $crate::__backend_test_items!(postgres; $($tests)*);
        }
    };
}

/// Implementation detail of [`backend_tests!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __backend_test_items {
    ($backend:ident;) => {};
    ($backend:ident; $(#[$attr:meta])* async fn $name:ident($db:ident) $body:block $($rest:tt)*) => {
        $(#[$attr])*
        async fn $name() {
            let $db = $crate::test_support::TestDb::$backend();
            $body
        }
        $crate::__backend_test_items!($backend; $($rest)*);
    };
    ($backend:ident; $(#[$attr:meta])* fn $name:ident($db:ident) $body:block $($rest:tt)*) => {
        $(#[$attr])*
        fn $name() {
            let $db = $crate::test_support::TestDb::$backend();
            $body
        }
        $crate::__backend_test_items!($backend; $($rest)*);
    };
}

/// A fresh, empty database of one backend, removed when dropped.
pub struct TestDb {
    url: String,
    postgres_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A new SQLite file in a temporary directory.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("portcullis.db").display());
        Self { url, postgres_name: None, _dir: Some(dir) }
    }

    /// A new database on the test PostgreSQL server.
    pub fn postgres() -> Self {
        let admin = admin_url();
        let name = format!("portcullis_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn =
            PgConnection::establish(admin).unwrap_or_else(|e| panic!("connect to test PostgreSQL: {e}"));
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("create test database: {e}"));
        let mut url = url::Url::parse(admin).expect("the admin URL parses");
        url.set_path(&name);
        Self { url: url.to_string(), postgres_name: Some(name), _dir: None }
    }

    /// The database URL, as a user would configure it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The parsed URL.
    pub fn database_url(&self) -> DatabaseUrl {
        DatabaseUrl::parse(&self.url).expect("test URLs parse")
    }

    /// A small pool on this database, migrated.
    pub fn connect(&self) -> Database {
        let options = PoolOptions { max_size: 4, connection_timeout: Duration::from_secs(10) };
        let db = Database::connect(&self.database_url(), &options).expect("connect to the test database");
        db.migrate().expect("migrate the test database");
        db
    }

    /// Drops a PostgreSQL test database now, disconnecting its users, so a
    /// test can watch the server lose its database.
    ///
    /// # Panics
    /// On a SQLite database, or if the drop fails.
    pub fn drop_postgres_database(&self) {
        let name = self.postgres_name.as_deref().expect("only PostgreSQL databases can be dropped");
        drop_database(name).expect("drop the test database");
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.postgres_name {
            let _ = drop_database(name);
        }
    }
}

fn drop_database(name: &str) -> Result<(), String> {
    let mut conn = PgConnection::establish(admin_url()).map_err(|e| e.to_string())?;
    diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut conn)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// The URL of a PostgreSQL database with the right to create databases.
fn admin_url() -> &'static str {
    static ADMIN_URL: OnceLock<Result<String, String>> = OnceLock::new();
    let url = ADMIN_URL.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => Ok(url),
        _ => ThrowawayCluster::start(),
    });
    match url {
        Ok(url) => url,
        Err(why) => panic!(
            "PostgreSQL tests need a server and do not skip: {why}. Install PostgreSQL's server \
             binaries (Debian: apt-get install postgresql) or set DATABASE_URL=postgres://…"
        ),
    }
}

/// A PostgreSQL cluster in a temporary directory, for this process only.
struct ThrowawayCluster {
    bin: PathBuf,
    dir: PathBuf,
    /// When running as root, the server runs as this unprivileged user.
    run_as: Option<&'static str>,
}

impl ThrowawayCluster {
    fn start() -> Result<String, String> {
        let bin = find_postgres_bin()?;
        let run_as = (unsafe { libc::geteuid() } == 0).then_some("postgres");
        let dir = std::env::temp_dir().join(format!(
            "portcullis-pg-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let cluster = ThrowawayCluster { bin, dir, run_as };
        if let Some(user) = run_as {
            let (uid, gid) = user_ids(user)?;
            std::os::unix::fs::chown(&cluster.dir, Some(uid), Some(gid))
                .map_err(|e| format!("hand {} to {user}: {e}", cluster.dir.display()))?;
        }
        let data = cluster.dir.join("data");
        cluster.run(
            "initdb",
            &["-D", path(&data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
        )?;
        let port = free_port()?;
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=400",
            path(&cluster.dir)
        );
        let log = cluster.dir.join("server.log");
        cluster.watch_for_exit(&data);
        cluster.run(
            "pg_ctl",
            &["-D", path(&data), "-l", path(&log), "-w", "-t", "60", "-o", &options, "start"],
        )?;
        Ok(format!("postgres://postgres@127.0.0.1:{port}/postgres"))
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let output_path = self.dir.join(format!("{program}.out"));
        let output = File::create(&output_path).map_err(|e| e.to_string())?;
        let status = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(output.try_clone().map_err(|e| e.to_string())?)
            .stderr(output)
            .status()
            .map_err(|e| format!("run {program}: {e}"))?;
        if status.success() {
            return Ok(());
        }
        let said = std::fs::read_to_string(&output_path).unwrap_or_default();
        Err(format!("{program} failed ({status}): {}", said.trim()))
    }

    /// Starts a watcher that stops the server and deletes the cluster once
    /// this test process has exited.
    fn watch_for_exit(&self, data: &Path) {
        let run_as = self.run_as.map(|user| format!("runuser -u {user} -- ")).unwrap_or_default();
        let stop =
            format!("{run_as}'{}' -D '{}' stop -m immediate", path(&self.bin.join("pg_ctl")), path(data));
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            dir = path(&self.dir),
        );
        let _ = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
    }
}

fn path(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// `initdb` on the PATH, or else the newest of Debian's
/// `/usr/lib/postgresql/<version>/bin`.
fn find_postgres_bin() -> Result<PathBuf, String> {
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file());
    if let Some(dir) = on_path {
        return Ok(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "initdb is not on the PATH and /usr/lib/postgresql does not exist".to_owned())?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| "no initdb under /usr/lib/postgresql".to_owned())
}

fn user_ids(user: &str) -> Result<(u32, u32), String> {
    let name = std::ffi::CString::new(user).expect("no NUL in a user name");
    // SAFETY: getpwnam returns a pointer to static storage or null; it is read
    // at once, before any other call could overwrite it.
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    if entry.is_null() {
        return Err(format!("running as root, but there is no `{user}` user to run PostgreSQL as"));
    }
    // SAFETY: checked non-null above.
    Ok(unsafe { ((*entry).pw_uid, (*entry).pw_gid) })
}

fn free_port() -> Result<u16, String> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("find a free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The throwaway cluster is tested even where `DATABASE_URL` points the
    /// other tests at an existing server (as in CI).
    #[test]
    fn a_throwaway_cluster_starts_and_accepts_connections() {
        let url = ThrowawayCluster::start().expect("a throwaway cluster starts");
        let mut conn = PgConnection::establish(&url).expect("the cluster accepts connections");
        diesel::sql_query("SELECT 1").execute(&mut conn).unwrap();
    }
}
