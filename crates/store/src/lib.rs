//! Shelfkeeper's embedded store: SQLite through sqlx, in WAL mode, with the
//! schema in `migrations/` applied on open.
//!
//! The desktop's only SQL (the server has its own, in its `db` layer). Every command runs in one
//! transaction: it loads what the domain rules need, asks them, and writes
//! the outcome. Writes go through [`WriteTx`], which ticks the hybrid
//! logical clock; the schema's triggers stamp each replicated row with that
//! clock and append a change-log row, and refuse any write made outside a
//! [`WriteTx`] — no write path can skip the change log.

mod accounts;
mod backup;
mod bulk;
mod catalogue;
mod circulation;
mod db;
pub mod generate;
mod import;
mod lookups;
mod members;
mod migrations;
mod reviews;
mod rows;
mod search;
mod sync;

pub use backup::{BackupFile, BackupReport, backup_dir, list_backups, new_backup_path, restore_backup, verify_backup};
pub use catalogue::{CataloguePage, CoverImage};
pub use circulation::{CheckinReceipt, CheckoutReceipt, CirculationEvent, HoldNotice, RenewReceipt};
pub use db::StoreStats;
pub use generate::{GenerateReport, GenerateSpec, Progress};
pub use import::ImportSpec;
pub use lookups::CachedLookup;
pub use sync::{
    ApplyReport, ConflictAction, OutboxPage, SnapshotPart, SnapshotStream, SyncConflict, SyncError, SyncPhase, SyncProgress, SyncRun,
    SyncSetting, SyncStatus, SyncTransport,
};

use shelfkeeper_domain::clock::Hlc;
use shelfkeeper_domain::ids::SiteId;
use shelfkeeper_domain::model::StoreMode;
use shelfkeeper_domain::{Error, Result};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// An open store file.
#[derive(Clone)]
pub struct Store {
    /// Readers: WAL lets them run beside the writer.
    read: SqlitePool,
    /// One connection: SQLite has one writer at a time anyway, and queueing
    /// here is cheaper and fairer than retrying on SQLITE_BUSY.
    write: SqlitePool,
    path: PathBuf,
    site_id: SiteId,
    mode: StoreMode,
    /// Keeps the background checkpointer alive while any clone is.
    _alive: std::sync::Arc<()>,
    /// Counts committed write transactions: the desktop's sync loop
    /// listens to send local changes at once ([`Store::watch_writes`]).
    writes: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).field("mode", &self.mode).finish()
    }
}

pub(crate) fn db_err(e: sqlx::Error) -> Error {
    if let sqlx::Error::Database(d) = &e {
        let msg = d.message();
        if msg.contains("database is locked") || msg.contains("database is busy") {
            return Error::StoreBusy;
        }
    }
    Error::Storage(e.to_string())
}

/// How much memory an open store may use to read fast. Memory-mapped pages
/// are file-backed (the kernel can drop them at will) but still count in the
/// process's resident size; the page cache is private memory, per connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryBudget {
    /// `PRAGMA mmap_size`: how much of the file readers map instead of copying.
    pub mmap_bytes: u64,
    /// `PRAGMA cache_size` of each connection, in KiB.
    pub cache_kib_per_connection: u32,
    /// Reader connections (searches, lists) beside the one writer.
    pub readers: u32,
}

impl MemoryBudget {
    /// For the CLI, benchmarks and a one-box server: a library's whole hot
    /// set mapped, generous caches.
    pub const GENEROUS: MemoryBudget = MemoryBudget { mmap_bytes: 4 << 30, cache_kib_per_connection: 64 << 10, readers: 4 };
    /// For the desktop, which shares the machine with everything else a
    /// person runs: no map (every mapped page a search touches would count
    /// in the program's memory), small caches; the kernel's page cache
    /// keeps the hot pages anyway. Measured on the 1M-copy store, this is
    /// as fast for search as a 64 or 256 MiB map (BENCHMARKS.md).
    pub const DESKTOP: MemoryBudget = MemoryBudget { mmap_bytes: 0, cache_kib_per_connection: 8 << 10, readers: 2 };
}

impl Default for MemoryBudget {
    fn default() -> Self {
        MemoryBudget::GENEROUS
    }
}

fn connect_options(path: &Path, create: bool, budget: MemoryBudget) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL in WAL mode: a power cut can lose the last transactions but
        // never corrupts the file; FULL would fsync every scan at the desk.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        .pragma("cache_size", format!("-{}", budget.cache_kib_per_connection))
        .pragma("temp_store", "memory")
        .pragma("mmap_size", budget.mmap_bytes.to_string())
        // Checkpoints run in the background (see `spawn_checkpointer`), not
        // in whichever commit happens to cross the threshold: that commit
        // would take ten times longer than the others.
        .pragma("wal_autocheckpoint", "0")
}

/// How often the checkpointer looks at the WAL.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(1000);
/// A checkpoint waits until no write has happened for this long, so it
/// does not compete with a desk that is scanning...
const CHECKPOINT_QUIET: Duration = Duration::from_millis(500);
/// ...unless the WAL has grown this large (a bulk load, a busy day).
const CHECKPOINT_WAL_LIMIT: u64 = 64 * 1024 * 1024;
/// Beyond this the writer is made to wait for a full checkpoint.
const CHECKPOINT_WAL_RESTART: u64 = 256 * 1024 * 1024;

/// Checkpoints the WAL from its own connection until the store is dropped.
/// PASSIVE never blocks the writer or readers.
fn spawn_checkpointer(path: &Path, alive: std::sync::Weak<()>) {
    // Checkpoints copy pages from the WAL; they need no cache or map.
    let options = connect_options(path, false, MemoryBudget { mmap_bytes: 0, cache_kib_per_connection: 512, readers: 0 });
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    tokio::spawn(async move {
        let Ok(pool) = SqlitePoolOptions::new().max_connections(1).connect_with(options).await else { return };
        let mut checkpointed_at = None;
        loop {
            tokio::time::sleep(CHECKPOINT_EVERY).await;
            if alive.upgrade().is_none() || pool.is_closed() {
                break;
            }
            let Ok(meta) = std::fs::metadata(&wal) else { continue };
            let modified = meta.modified().ok();
            let quiet = modified.and_then(|m| m.elapsed().ok()).is_some_and(|age| age >= CHECKPOINT_QUIET);
            if meta.len() > CHECKPOINT_WAL_RESTART {
                // A writer that never pauses (a bulk load) outruns PASSIVE
                // checkpoints and the WAL grows without end. RESTART waits
                // for the current transaction, copies everything back and
                // makes the next writer start the WAL from its beginning.
                let _ = sqlx::query("PRAGMA wal_checkpoint(RESTART)").execute(&pool).await;
                checkpointed_at = modified;
            } else if modified != checkpointed_at && (quiet || meta.len() > CHECKPOINT_WAL_LIMIT) {
                let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await;
                checkpointed_at = modified;
            }
        }
        pool.close().await;
    });
}

impl Store {
    /// Creates a new store file (refusing to overwrite one) in `mode`.
    pub async fn create(path: impl AsRef<Path>, mode: StoreMode) -> Result<Store> {
        Self::create_with(path, mode, MemoryBudget::default()).await
    }

    /// [`Store::create`] with a memory budget.
    pub async fn create_with(path: impl AsRef<Path>, mode: StoreMode, budget: MemoryBudget) -> Result<Store> {
        let path = path.as_ref();
        if path.exists() {
            return Err(Error::StoreOpen { path: path.display().to_string(), reason: "a file already exists there".into() });
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| Error::StoreOpen { path: path.display().to_string(), reason: e.to_string() })?;
        }
        Self::open_inner(path, Some(mode), budget).await
    }

    /// Opens an existing store, applying any migrations it lacks.
    pub async fn open(path: impl AsRef<Path>) -> Result<Store> {
        Self::open_with(path, MemoryBudget::default()).await
    }

    /// [`Store::open`] with a memory budget.
    pub async fn open_with(path: impl AsRef<Path>, budget: MemoryBudget) -> Result<Store> {
        let path = path.as_ref();
        if !path.exists() {
            return Err(Error::StoreOpen { path: path.display().to_string(), reason: "no such file".into() });
        }
        Self::open_inner(path, None, budget).await
    }

    async fn open_inner(path: &Path, create: Option<StoreMode>, budget: MemoryBudget) -> Result<Store> {
        let open_err = |reason: String| Error::StoreOpen { path: path.display().to_string(), reason };
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(connect_options(path, create.is_some(), budget))
            .await
            .map_err(|e| open_err(e.to_string()))?;
        match migrations::run(&write).await {
            Ok(()) => {}
            Err(sqlx::migrate::MigrateError::VersionMissing(found)) => {
                let known = migrations::migrator().iter().map(|m| m.version).max().unwrap_or(0);
                return Err(Error::StoreTooNew { found, known });
            }
            Err(e) => return Err(open_err(format!("migration failed: {e}"))),
        }
        let read = SqlitePoolOptions::new()
            .max_connections(budget.readers.max(1))
            .connect_with(connect_options(path, false, budget).read_only(true))
            .await
            .map_err(|e| open_err(e.to_string()))?;
        let (site_id, mode) = db::init_meta(&write, create).await?;
        let alive = std::sync::Arc::new(());
        spawn_checkpointer(path, std::sync::Arc::downgrade(&alive));
        let writes = std::sync::Arc::new(tokio::sync::watch::channel(0).0);
        Ok(Store { read, write, path: path.to_path_buf(), site_id, mode, _alive: alive, writes })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn site_id(&self) -> SiteId {
        self.site_id
    }

    pub fn mode(&self) -> StoreMode {
        self.mode
    }

    /// Checkpoints the WAL into the store file and closes both pools, so
    /// the file alone holds everything.
    ///
    /// The checkpointer may be in the middle of its own (RESTART)
    /// checkpoint of a large WAL, which holds the checkpoint lock for as
    /// long as it copies: TRUNCATE then answers busy. It is tried again
    /// until it reports a complete checkpoint (a bound keeps a stuck reader
    /// from hanging the program; the WAL is then still beside the file
    /// and SQLite applies it on the next open).
    pub async fn close(self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(600);
        loop {
            let done = sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&self.write)
                .await
                .is_ok_and(|(busy, _, _)| busy == 0);
            if done || std::time::Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.read.close().await;
        self.write.close().await;
    }

    /// Begins the only kind of transaction that may write: `BEGIN IMMEDIATE`
    /// (takes the write lock up front, so it never fails half-way with
    /// SQLITE_BUSY) and ticks the clock.
    pub(crate) async fn write_tx(&self) -> Result<WriteTx> {
        let mut w = begin_write(&self.write).await?;
        w.bell = Some(self.writes.clone());
        Ok(w)
    }

    /// Changes (to a new count) after each committed write transaction of
    /// this store, local or applied from sync: a listener looks at what it
    /// cares about (say, the outbox) when it changes.
    pub fn watch_writes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.writes.subscribe()
    }
}

pub(crate) async fn begin_write(pool: &SqlitePool) -> Result<WriteTx> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
    let now = chrono::Utc::now();
    let previous: i64 = sqlx::query_scalar("SELECT hlc FROM clock").fetch_one(&mut *tx).await.map_err(db_err)?;
    // Hlc::tick in one round trip: the wall clock now, unless the last
    // stamp is already at or past it, then one more than the last.
    let wall = Hlc::from_parts(now.timestamp_millis().max(0) as u64, 0);
    let hlc: i64 = sqlx::query_scalar("UPDATE clock SET hlc = max(hlc + 1, ?), in_write = 1, origin = 0 RETURNING hlc")
        .bind(wall.as_i64())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
    let hlc = Hlc::from_i64(hlc);
    Ok(WriteTx { tx, hlc, previous: Hlc::from_i64(previous), now, bell: None })
}

/// A write transaction with its clock tick. Dropping it rolls back.
pub(crate) struct WriteTx {
    pub tx: Transaction<'static, Sqlite>,
    pub hlc: Hlc,
    /// The stamp of the write transaction before this one: a long job that
    /// remembers its own last stamp knows, by comparing, whether anything
    /// else wrote in between (see `import::Quiet`).
    pub previous: Hlc,
    pub now: chrono::DateTime<chrono::Utc>,
    /// Rung after commit ([`Store::watch_writes`]).
    bell: Option<std::sync::Arc<tokio::sync::watch::Sender<u64>>>,
}

impl WriteTx {
    pub fn conn(&mut self) -> &mut sqlx::SqliteConnection {
        &mut self.tx
    }

    pub fn now_text(&self) -> String {
        rows::ts(self.now)
    }

    pub fn today(&self) -> chrono::NaiveDate {
        self.now.date_naive()
    }

    pub async fn commit(mut self) -> Result<()> {
        sqlx::query("UPDATE clock SET in_write = 0, origin = 0").execute(&mut *self.tx).await.map_err(db_err)?;
        self.tx.commit().await.map_err(db_err)?;
        if let Some(bell) = self.bell {
            bell.send_modify(|n| *n = n.wrapping_add(1));
        }
        Ok(())
    }
}
