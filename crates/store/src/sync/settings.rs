//! The sync cursor, the status a status bar shows, and the sync settings
//! kept in the store.

use super::bad;
use super::conflicts::COVERING_RESOLUTION;
use crate::{Store, db_err};
use serde::Serialize;
use shelfkeeper_domain::Result;
use sqlx::{AssertSqlSafe, SqliteConnection};

/// Sync state for a status bar.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SyncStatus {
    /// Local changes not yet acknowledged by the server.
    pub pending_changes: i64,
    /// The last server sequence applied.
    #[ts(type = "number")]
    pub cursor: u64,
    /// Conflicts no one resolved yet.
    pub open_conflicts: i64,
}

pub(super) const CURSOR_KEY: &str = "sync_cursor";

/// Sync settings kept in the store itself, so they travel with the file
/// (a restored backup knows its server) and stay out of the change log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncSetting {
    /// The server connection (JSON, written by the desktop's sync client).
    Connection,
    /// The last sync run's outcome (JSON).
    LastRun,
    /// The library whose server sequence the cursor counts.
    CursorLibrary,
}

impl SyncSetting {
    fn key(self) -> &'static str {
        match self {
            SyncSetting::Connection => "sync.connection",
            SyncSetting::LastRun => "sync.last_run",
            SyncSetting::CursorLibrary => "sync.cursor_library",
        }
    }
}

pub(super) async fn read_cursor(conn: &mut SqliteConnection) -> Result<u64> {
    let v: Option<String> = sqlx::query_scalar("SELECT value FROM store_meta WHERE key = ?")
        .bind(CURSOR_KEY)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    v.map(|v| v.parse::<u64>().map_err(|e| bad(format!("bad cursor '{v}': {e}")))).transpose().map(|c| c.unwrap_or(0))
}

impl Store {
    /// The last server sequence applied.
    pub async fn sync_cursor(&self) -> Result<u64> {
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        read_cursor(&mut conn).await
    }

    pub async fn sync_status(&self) -> Result<SyncStatus> {
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        let sql = format!(
            "SELECT (SELECT coalesce(max(seq) - min(seq) + 1, 0) FROM change_log),
                    (SELECT count(*) FROM sync_conflicts c
                     WHERE NOT EXISTS (SELECT 1 FROM conflict_resolutions r WHERE {COVERING_RESOLUTION}))"
        );
        let (pending, open): (i64, i64) = sqlx::query_as(AssertSqlSafe(sql)).fetch_one(&mut *conn).await.map_err(db_err)?;
        Ok(SyncStatus { pending_changes: pending, cursor: read_cursor(&mut conn).await?, open_conflicts: open })
    }

    /// Starts pulling from the beginning again (another library). What
    /// was applied stays; applying it again changes nothing.
    pub async fn reset_sync_cursor(&self) -> Result<()> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
        sqlx::query("DELETE FROM store_meta WHERE key = ?").bind(CURSOR_KEY).execute(&mut *tx).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    /// A piece of this store's sync settings (`sync.*` in `store_meta`):
    /// local to this replica, never synced.
    pub async fn sync_setting(&self, key: SyncSetting) -> Result<Option<String>> {
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        sqlx::query_scalar("SELECT value FROM store_meta WHERE key = ?").bind(key.key()).fetch_optional(&mut *conn).await.map_err(db_err)
    }

    /// Sets (or, with `None`, removes) a sync setting.
    pub async fn set_sync_setting(&self, key: SyncSetting, value: Option<&str>) -> Result<()> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
        match value {
            Some(v) => {
                sqlx::query("INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                    .bind(key.key())
                    .bind(v)
            }
            None => sqlx::query("DELETE FROM store_meta WHERE key = ?").bind(key.key()),
        }
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }
}
