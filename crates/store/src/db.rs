//! Store metadata: the site id, the mode, the clock row, and counts.

use crate::{Store, db_err};
use serde::Serialize;
use shelfkeeper_domain::ids::SiteId;
use shelfkeeper_domain::model::StoreMode;
use shelfkeeper_domain::{Error, Result};
use sqlx::SqlitePool;
use uuid::Uuid;

/// On first open, records the site id and mode and starts the clock; on
/// later opens, reads them back.
pub(crate) async fn init_meta(write: &SqlitePool, create: Option<StoreMode>) -> Result<(SiteId, StoreMode)> {
    let mut tx = write.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
    let site: Option<String> =
        sqlx::query_scalar("SELECT value FROM store_meta WHERE key = 'site_id'").fetch_optional(&mut *tx).await.map_err(db_err)?;
    let result = match site {
        Some(site) => {
            let mode: String =
                sqlx::query_scalar("SELECT value FROM store_meta WHERE key = 'mode'").fetch_one(&mut *tx).await.map_err(db_err)?;
            let site_id = Uuid::parse_str(&site).map_err(|e| Error::Storage(format!("bad site id: {e}")))?;
            let mode = StoreMode::parse(&mode).ok_or_else(|| Error::Storage(format!("bad store mode '{mode}'")))?;
            // A crash can never leave in_write committed (it is reset before
            // every commit), but an older build or a hand edit might have.
            sqlx::query("UPDATE clock SET in_write = 0, origin = 0 WHERE in_write <> 0 OR origin <> 0")
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            (SiteId(site_id), mode)
        }
        None => {
            let mode = create.unwrap_or(StoreMode::Collection);
            let site_id = SiteId::new();
            for (k, v) in
                [("site_id", site_id.to_string()), ("mode", mode.as_str().to_string()), ("created_at", crate::rows::ts(chrono::Utc::now()))]
            {
                sqlx::query("INSERT INTO store_meta(key, value) VALUES (?, ?)").bind(k).bind(v).execute(&mut *tx).await.map_err(db_err)?;
            }
            sqlx::query("INSERT INTO sites(no, id) VALUES (1, ?)").bind(site_id.0).execute(&mut *tx).await.map_err(db_err)?;
            sqlx::query("INSERT INTO clock(singleton, hlc, site_no) VALUES (1, 0, 1)").execute(&mut *tx).await.map_err(db_err)?;
            (site_id, mode)
        }
    };
    tx.commit().await.map_err(db_err)?;
    if create.is_some() {
        // Seeded in a normal write transaction, so the defaults replicate
        // like any other row.
        crate::members::seed_member_types_if_empty(write).await?;
    }
    Ok(result)
}

/// Row counts, for the status bar and `info`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct StoreStats {
    pub titles: i64,
    pub copies: i64,
    pub members: i64,
    pub accounts: i64,
    pub open_loans: i64,
    pub overdue_loans: i64,
    /// Counted only by [`Store::stats_in_full`]: these tables hold millions
    /// of rows in a large library and the status bar does not show them.
    pub loans_ever: Option<i64>,
    pub events: Option<i64>,
    pub active_holds: i64,
    pub pending_changes: i64,
    pub file_bytes: u64,
}

impl Store {
    /// The counts a status bar shows, cheap enough to refresh after every
    /// scan at the desk (about 15 ms at a million copies).
    pub async fn stats(&self) -> Result<StoreStats> {
        let today = crate::rows::date(chrono::Utc::now().date_naive());
        // The change log is append-only and sync trims it from the front
        // (entries are cleared in order once the server has them), so its
        // length is the distance between its ends: two index probes
        // instead of counting millions of rows.
        let row: (i64, i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM titles), (SELECT count(*) FROM copies), (SELECT count(*) FROM members),
                    (SELECT count(*) FROM accounts),
                    (SELECT count(*) FROM loans WHERE returned_at IS NULL AND lost_at IS NULL),
                    (SELECT count(*) FROM loans WHERE returned_at IS NULL AND lost_at IS NULL AND due_on < ?),
                    (SELECT count(*) FROM holds WHERE status IN ('waiting', 'ready')),
                    (SELECT coalesce(max(seq) - min(seq) + 1, 0) FROM change_log)",
        )
        .bind(today)
        .fetch_one(&self.read)
        .await
        .map_err(db_err)?;
        let file_bytes = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0)
            + std::fs::metadata(format!("{}-wal", self.path.display())).map(|m| m.len()).unwrap_or(0);
        Ok(StoreStats {
            titles: row.0,
            copies: row.1,
            members: row.2,
            accounts: row.3,
            open_loans: row.4,
            overdue_loans: row.5,
            loans_ever: None,
            events: None,
            active_holds: row.6,
            pending_changes: row.7,
            file_bytes,
        })
    }

    /// [`Store::stats`] plus the loans and events ever recorded.
    pub async fn stats_in_full(&self) -> Result<StoreStats> {
        let mut stats = self.stats().await?;
        let (loans, events): (i64, i64) = sqlx::query_as("SELECT (SELECT count(*) FROM loans), (SELECT count(*) FROM circulation_events)")
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        stats.loans_ever = Some(loans);
        stats.events = Some(events);
        Ok(stats)
    }
}

impl Store {
    /// Every row of every table (search index internals excepted), in a
    /// canonical text form. Tests compare dumps to prove a failed command
    /// changed nothing; sync tests compare replicas with it.
    pub async fn debug_dump(&self) -> Result<String> {
        let mut conn = self.write.acquire().await.map_err(db_err)?;
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
               AND name NOT LIKE 'title_fts%' AND name <> '_sqlx_migrations' ORDER BY name",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
        let mut out = String::new();
        for table in tables {
            let cols: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                .bind(&table)
                .fetch_all(&mut *conn)
                .await
                .map_err(db_err)?;
            let line = cols.iter().map(|c| format!("quote(\"{c}\")")).collect::<Vec<_>>().join(" || '|' || ");
            // Table and column names come from the schema itself.
            let sql = format!("SELECT {line} FROM \"{table}\" ORDER BY 1");
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *conn).await.map_err(db_err)?;
            out.push_str(&format!("## {table} ({} rows)\n", rows.len()));
            for r in rows {
                out.push_str(&r);
                out.push('\n');
            }
        }
        Ok(out)
    }
}
