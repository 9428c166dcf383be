//! Online backup and verification.
//!
//! `VACUUM INTO` writes a consistent, compacted copy of the live store from
//! a read transaction: the desk keeps working while it runs. The copy is
//! then opened on its own and checked (integrity, schema, row counts)
//! before it is reported good.

use crate::{Store, db_err};
use serde::Serialize;
use shelfkeeper_domain::{Error, Result};
use sqlx::Connection;
use sqlx::sqlite::SqliteConnectOptions;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct BackupReport {
    pub path: String,
    pub bytes: u64,
    pub titles: i64,
    pub copies: i64,
    pub members: i64,
    pub events: i64,
}

/// A backup file found in a backup folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct BackupFile {
    pub path: String,
    pub name: String,
    pub bytes: u64,
    /// When the file was last written (the backup's time).
    pub modified: chrono::DateTime<chrono::Utc>,
}

/// Where backups of the store at `store_path` go unless the user picks
/// another place: a `backups` folder beside the store file.
pub fn backup_dir(store_path: &Path) -> PathBuf {
    store_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).join("backups")
}

/// A file name in `dir` not taken yet, for a backup made at `at`:
/// `shelfkeeper-backup-2026-11-23-195412.sqlite3`, then `…-2.sqlite3`, ...
pub fn new_backup_path(dir: &Path, at: chrono::DateTime<chrono::Utc>) -> PathBuf {
    let stem = format!("shelfkeeper-backup-{}", at.format("%Y-%m-%d-%H%M%S"));
    let mut path = dir.join(format!("{stem}.sqlite3"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{stem}-{n}.sqlite3"));
        n += 1;
    }
    path
}

/// The `.sqlite3` files in `dir`, newest first. A folder that does not
/// exist yet holds no backups.
pub fn list_backups(dir: &Path) -> Result<Vec<BackupFile>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::Backup(format!("cannot list {}: {e}", dir.display()))),
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() || path.extension().is_none_or(|e| e != "sqlite3") {
            continue;
        }
        let modified = meta.modified().map(chrono::DateTime::<chrono::Utc>::from).unwrap_or_default();
        files.push(BackupFile {
            name: entry.file_name().to_string_lossy().into_owned(),
            path: path.display().to_string(),
            bytes: meta.len(),
            modified,
        });
    }
    files.sort_by(|a, b| b.modified.cmp(&a.modified).then_with(|| b.name.cmp(&a.name)));
    Ok(files)
}

impl Store {
    /// Writes a verified backup into the store's backup folder (see
    /// [`backup_dir`]), under a new dated name.
    pub async fn backup_to_folder(&self) -> Result<BackupReport> {
        let dir = backup_dir(&self.path);
        std::fs::create_dir_all(&dir).map_err(|e| Error::Backup(format!("cannot create {}: {e}", dir.display())))?;
        self.backup_to(new_backup_path(&dir, chrono::Utc::now())).await
    }

    /// Writes a verified backup to `dest` (which must not exist yet).
    pub async fn backup_to(&self, dest: impl AsRef<Path>) -> Result<BackupReport> {
        let dest = dest.as_ref();
        if dest.exists() {
            return Err(Error::Backup(format!("{} already exists; choose a new file name", dest.display())));
        }
        let dest_str = dest.to_str().ok_or_else(|| Error::Backup("the backup path is not valid UTF-8".into()))?;
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        sqlx::query("VACUUM INTO ?").bind(dest_str).execute(&mut *conn).await.map_err(|e| Error::Backup(e.to_string()))?;
        drop(conn);
        let report = verify_backup(dest).await;
        if report.is_err() {
            let _ = std::fs::remove_file(dest);
        }
        report
    }
}

/// Opens a backup file read-only and checks that it is a whole, healthy
/// Shelfkeeper store. Used after writing a backup and before restoring one.
pub async fn verify_backup(path: &Path) -> Result<BackupReport> {
    let opts = SqliteConnectOptions::new().filename(path).read_only(true);
    let mut conn =
        sqlx::SqliteConnection::connect_with(&opts).await.map_err(|e| Error::Backup(format!("cannot open {}: {e}", path.display())))?;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| Error::Backup(format!("{} is not a readable store: {e}", path.display())))?;
    if check != "ok" {
        return Err(Error::Backup(format!("{} is damaged: {check}", path.display())));
    }
    let counts: std::result::Result<(i64, i64, i64, i64), _> = sqlx::query_as(
        "SELECT (SELECT count(*) FROM titles), (SELECT count(*) FROM copies), (SELECT count(*) FROM members),
                (SELECT count(*) FROM circulation_events)",
    )
    .fetch_one(&mut conn)
    .await;
    let (titles, copies, members, events) = counts.map_err(|_| Error::Backup(format!("{} is not a Shelfkeeper store", path.display())))?;
    let _ = conn.close().await;
    Ok(BackupReport {
        path: path.display().to_string(),
        bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        titles,
        copies,
        members,
        events,
    })
}

/// Puts a verified backup in place of the store file at `target`, which must
/// be closed. The replaced file is kept beside it as
/// `<name>.before-restore` so a wrong restore can itself be undone; a
/// backup that fails verification changes nothing.
pub async fn restore_backup(backup: &Path, target: &Path) -> Result<BackupReport> {
    let report = verify_backup(backup).await?;
    let io = |what: &str, e: std::io::Error| Error::Backup(format!("{what}: {e}"));
    let staging = target.with_extension("restoring");
    std::fs::copy(backup, &staging).map_err(|e| io("cannot copy the backup next to the store", e))?;
    std::fs::File::open(&staging).and_then(|f| f.sync_all()).map_err(|e| io("cannot flush the copy", e))?;
    if target.exists() {
        let kept = target.with_extension("before-restore");
        std::fs::rename(target, &kept).map_err(|e| io("cannot move the current store aside", e))?;
        // A store that was not closed cleanly has its last transactions in
        // its WAL: keep that with the kept file (SQLite finds `<file>-wal`).
        let wal = PathBuf::from(format!("{}-wal", target.display()));
        if wal.exists() {
            let _ = std::fs::rename(&wal, format!("{}-wal", kept.display()));
        }
        let _ = std::fs::remove_file(format!("{}-shm", target.display()));
        let _ = std::fs::remove_file(format!("{}-shm", kept.display()));
    }
    std::fs::rename(&staging, target).map_err(|e| io("cannot put the backup in place", e))?;
    Ok(report)
}
