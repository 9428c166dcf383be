//! The schema's migrations (`migrations/`), applied on open.
//!
//! A migration that has shipped is never edited: sqlx records each applied
//! migration's checksum and refuses to open a store whose recorded checksum
//! differs from the build's. `tests/it/migrations.rs` pins every checksum so
//! an edit fails CI; a change of schema is a new migration.

use sqlx::SqlitePool;
use sqlx::migrate::MigrateError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// The migrations this build applies on open: those in `migrations/`.
pub(crate) fn migrator() -> &'static sqlx::migrate::Migrator {
    &MIGRATOR
}

/// Applies the migrations the store lacks, after repairing the record of
/// a store made by one of the unreleased builds that carried an edited 0003.
pub(crate) async fn run(pool: &SqlitePool) -> Result<(), MigrateError> {
    repair_edited_0003(pool).await?;
    migrator().run(pool).await
}

/// The checksum (SHA-384) of `0003_imports_and_lookups.sql` as the builds
/// between commit 33a6692 and the restore shipped it: the released text
/// plus the `imports.quiet_hlc` column, which now comes from 0006.
const EDITED_0003_CHECKSUM: &str = "028cee8ffd99990a4034eeb9fbedc5638fe2c8e7068e55582fae4ff331c0c73ec1789491de025d4f21ef47224172cb0f";
const IMPORTS_QUIET_HLC: i64 = 6;

/// A store made by such a build has the released 0003 plus `quiet_hlc`, that
/// is exactly what 0003 followed by 0006 makes. Its record says so once
/// 0003's checksum is the released one and 0006 is marked applied; without
/// this, sqlx would refuse the store (checksum mismatch) or 0006 would fail
/// (duplicate column). One transaction: a crash leaves the record as it was.
async fn repair_edited_0003(pool: &SqlitePool) -> Result<(), MigrateError> {
    let mut tx = pool.begin().await?;
    let recorded: Option<Vec<u8>> =
        match sqlx::query_scalar("SELECT checksum FROM _sqlx_migrations WHERE version = 3").fetch_optional(&mut *tx).await {
            Ok(found) => found,
            Err(_) => return Ok(()), // a new store: no record yet
        };
    if recorded.is_none_or(|c| hex(&c) != EDITED_0003_CHECKSUM) {
        return Ok(());
    }
    let released = |version: i64| MIGRATOR.iter().find(|m| m.version == version).expect("migrations 3 and 6 exist");
    sqlx::query("UPDATE _sqlx_migrations SET checksum = ? WHERE version = 3").bind(released(3).checksum.as_ref()).execute(&mut *tx).await?;
    let quiet = released(IMPORTS_QUIET_HLC);
    sqlx::query(
        "INSERT OR IGNORE INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (?, ?, TRUE, ?, 0)",
    )
    .bind(quiet.version)
    .bind(quiet.description.as_ref())
    .bind(quiet.checksum.as_ref())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
