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
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct BackupReport {
    pub path: String,
    pub bytes: u64,
    pub titles: i64,
    pub copies: i64,
    pub members: i64,
    pub events: i64,
}

impl Store {
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
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
        }
    }
    std::fs::rename(&staging, target).map_err(|e| io("cannot put the backup in place", e))?;
    Ok(report)
}
