//! Looking at imports (summaries, rows, the rows that failed) and
//! discarding a staged import instead of committing it.

use crate::rows::{RowExt, parse_ts};
use crate::{Store, db_err};
use shelfkeeper_domain::access::{Action, Actor};
use shelfkeeper_domain::ids::TitleId;
use shelfkeeper_domain::import::{FailedRow, ImportRow, ImportState, ImportSummary, RowKind};
use shelfkeeper_domain::{Error, Result};
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

impl Store {
    /// An import and its counts.
    pub async fn import_summary(&self, id: &str) -> Result<ImportSummary> {
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        summary(&mut conn, id).await
    }

    /// The `source_info` an import was staged with.
    pub async fn import_source_info(&self, id: &str) -> Result<Option<String>> {
        let row: Option<Option<String>> =
            sqlx::query_scalar("SELECT source_info FROM imports WHERE id = ?").bind(id).fetch_optional(&self.read).await.map_err(db_err)?;
        row.ok_or_else(|| Error::ImportNotFound(id.into()))
    }

    /// Imports newest first, including any stopped part-way.
    pub async fn imports(&self) -> Result<Vec<ImportSummary>> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM imports ORDER BY staged_at DESC, id DESC LIMIT 50")
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(summary(&mut conn, &id).await?);
        }
        Ok(out)
    }

    /// A page of an import's rows, optionally of one kind, after row `after`.
    pub async fn import_rows(&self, id: &str, kind: Option<RowKind>, after: i64, limit: i64) -> Result<Vec<ImportRow>> {
        let rows = sqlx::query(
            "SELECT n, position, kind, title, reason, match_id, done, outcome FROM import_rows
             WHERE import_id = ?1 AND n > ?2 AND (?3 IS NULL OR kind = ?3) ORDER BY n LIMIT ?4",
        )
        .bind(id)
        .bind(after)
        .bind(kind.map(RowKind::as_str))
        .bind(limit.clamp(1, 10_000))
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let kind = r.text("kind")?;
                Ok(ImportRow {
                    n: r.int("n")?,
                    position: r.text("position")?,
                    kind: RowKind::parse(&kind).ok_or_else(|| Error::Storage(format!("bad row kind '{kind}'")))?,
                    title: r.opt_text("title")?,
                    reason: r.opt_text("reason")?,
                    matched_title: r.try_get::<Option<Uuid>, _>("match_id").map_err(db_err)?.map(TitleId),
                    done: r.int("done")? != 0,
                    outcome: r.opt_text("outcome")?,
                })
            })
            .collect()
    }

    /// The rows that failed, so they can be fixed and imported again.
    pub async fn failed_import_rows(&self, id: &str) -> Result<Vec<FailedRow>> {
        self.import_summary(id).await?;
        let rows = sqlx::query(
            "SELECT r.position, c.raw, r.reason, r.outcome FROM import_rows r
             LEFT JOIN import_records c ON c.import_id = r.import_id AND c.n = r.n
             WHERE r.import_id = ? AND (r.kind = 'error' OR r.outcome LIKE 'failed:%') ORDER BY r.n",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let failed = r.opt_text("outcome")?.and_then(|o| o.strip_prefix("failed: ").map(str::to_string));
                Ok(FailedRow {
                    position: r.text("position")?,
                    raw: r.opt_text("raw")?,
                    reason: failed.or(r.opt_text("reason")?).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Drops a staged import that was not committed.
    pub async fn discard_import(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Action::ManageCatalogue)?;
        let s = self.import_summary(id).await?;
        if s.state != ImportState::Staged {
            return Err(Error::ImportState { id: id.into(), state: s.state.as_str().into(), action: "discarding" });
        }
        let mut w = self.write_tx().await?;
        sqlx::query("DELETE FROM import_rows WHERE import_id = ?").bind(id).execute(w.conn()).await.map_err(db_err)?;
        sqlx::query("DELETE FROM import_records WHERE import_id = ?").bind(id).execute(w.conn()).await.map_err(db_err)?;
        sqlx::query("UPDATE imports SET state = 'discarded' WHERE id = ?").bind(id).execute(w.conn()).await.map_err(db_err)?;
        w.commit().await
    }
}

async fn summary(conn: &mut SqliteConnection, id: &str) -> Result<ImportSummary> {
    let head = sqlx::query("SELECT id, source_name, format, state, total_rows, staged_at, committed_at FROM imports WHERE id = ?")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?
        .ok_or_else(|| Error::ImportNotFound(id.into()))?;
    let counts = sqlx::query(
        "SELECT count(*) FILTER (WHERE kind = 'new') AS new, count(*) FILTER (WHERE kind = 'update') AS upd,
                count(*) FILTER (WHERE kind = 'duplicate') AS dup, count(*) FILTER (WHERE kind = 'error') AS err,
                count(*) FILTER (WHERE done = 1) AS done,
                count(*) FILTER (WHERE outcome LIKE 'created%') AS created,
                count(*) FILTER (WHERE outcome LIKE 'updated%') AS updated,
                ifnull(sum(copies_added), 0) AS copies
         FROM import_rows WHERE import_id = ?",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    let state = head.text("state")?;
    Ok(ImportSummary {
        id: head.text("id")?,
        source_name: head.text("source_name")?,
        format: head.text("format")?,
        state: ImportState::parse(&state).ok_or_else(|| Error::Storage(format!("bad import state '{state}'")))?,
        staged_at: parse_ts(&head.text("staged_at")?)?,
        committed_at: head.opt_text("committed_at")?.map(|t| parse_ts(&t)).transpose()?,
        total: head.int("total_rows")?,
        new: counts.int("new")?,
        update: counts.int("upd")?,
        duplicate: counts.int("dup")?,
        error: counts.int("err")?,
        done: counts.int("done")?,
        created_titles: counts.int("created")?,
        updated_titles: counts.int("updated")?,
        created_copies: counts.int("copies")?,
    })
}
