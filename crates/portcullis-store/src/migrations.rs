//! The schema migrations, embedded in the binary: one set per backend.

use crate::{DbConnection, StoreError};
use diesel::RunQueryDsl;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Advisory lock that serialises migrations of instances starting together.
const POSTGRES_MIGRATION_LOCK: i64 = 0x706f_7274_6375_6c6c;

/// Runs the pending migrations of the connection's backend.
pub(crate) fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
    let versions = match conn {
        DbConnection::Postgresql(pg) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({POSTGRES_MIGRATION_LOCK})")).execute(pg)?;
            let applied =
                pg.run_pending_migrations(POSTGRES).map(|v| v.iter().map(ToString::to_string).collect());
            diesel::sql_query(format!("SELECT pg_advisory_unlock({POSTGRES_MIGRATION_LOCK})")).execute(pg)?;
            applied.map_err(failed)?
        }
        DbConnection::Sqlite(sqlite) => sqlite
            .run_pending_migrations(SQLITE)
            .map(|v| v.iter().map(ToString::to_string).collect())
            .map_err(failed)?,
    };
    Ok(versions)
}
