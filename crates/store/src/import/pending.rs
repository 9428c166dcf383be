//! Staged rows worked through a batch at a time, by staging and committing
//! alike: reading them back, validating them again, and marking them.

use super::BATCH;
use super::classify::{Keyed, keyed};
use crate::rows::RowExt;
use crate::{WriteTx, db_err};
use shelfkeeper_domain::ids::TitleId;
use shelfkeeper_domain::import::{ImportItem, RowKind};
use shelfkeeper_domain::{Error, Result};
use sqlx::{AssertSqlSafe, SqliteConnection};
use uuid::Uuid;

/// A staged row still to classify or commit.
pub(super) struct Pending {
    pub(super) n: i64,
    /// What staging found it to be, and the title it matched.
    pub(super) kind: RowKind,
    pub(super) match_id: Option<Uuid>,
    pub(super) record: Option<String>,
}

/// Records of rows not yet classified/committed, `BATCH` at a time.
pub(super) async fn pending_records(conn: &mut SqliteConnection, id: &str, filter: &str, after: i64) -> Result<Vec<Pending>> {
    let sql = format!(
        "SELECT r.n, r.kind, r.match_id,
                CASE WHEN r.has_record THEN (SELECT c.record FROM import_records c WHERE c.import_id = r.import_id AND c.n = r.n) END AS record
         FROM import_rows r WHERE r.import_id = ? AND {filter} AND r.n > ? ORDER BY r.n LIMIT {BATCH}"
    );
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(id).bind(after).fetch_all(conn).await.map_err(db_err)?;
    rows.iter()
        .map(|r| {
            let kind = r.text("kind")?;
            Ok(Pending {
                n: r.int("n")?,
                kind: RowKind::parse(&kind).ok_or_else(|| Error::Storage(format!("bad import row kind '{kind}'")))?,
                match_id: r.opt_uuid("match_id")?,
                record: r.opt_text("record")?,
            })
        })
        .collect()
}

/// Keeps the record that an import's classification still holds: true
/// while nothing but the import itself has written since its rows were
/// classified (each of its transactions directly follows the one before).
/// `start` begins the chain (the first classifying transaction).
pub(super) async fn still_quiet(w: &mut WriteTx, id: &str, start: bool) -> Result<bool> {
    let sql = if start {
        "UPDATE imports SET quiet_hlc = ?1 WHERE id = ?2 RETURNING quiet_hlc"
    } else {
        "UPDATE imports SET quiet_hlc = CASE WHEN quiet_hlc = ?3 THEN ?1 END WHERE id = ?2 RETURNING quiet_hlc"
    };
    let (hlc, previous) = (w.hlc.as_i64(), w.previous.as_i64());
    let quiet: Option<Option<i64>> =
        sqlx::query_scalar(sql).bind(hlc).bind(id).bind(previous).fetch_optional(w.conn()).await.map_err(db_err)?;
    Ok(quiet.flatten().is_some())
}

pub(super) fn parse_record(record: Option<String>) -> Result<ImportItem> {
    let record = record.ok_or_else(|| Error::Storage("import row without a record".into()))?;
    serde_json::from_str(&record).map_err(|e| Error::Storage(format!("bad import record: {e}")))
}

/// Validated records of a page of rows; rows without a record (errors,
/// merged duplicates) are left out, rows that no longer validate come back
/// as errors.
#[allow(clippy::type_complexity)]
pub(super) fn rekey(rows: Vec<Pending>) -> (Vec<(i64, RowKind, Option<Uuid>)>, Vec<Keyed>, Vec<(i64, String)>) {
    let mut ns = Vec::with_capacity(rows.len());
    let mut keyed_rows = Vec::with_capacity(rows.len());
    let mut errors = Vec::new();
    for row in rows {
        let Some(record) = row.record else { continue };
        match serde_json::from_str::<ImportItem>(&record).map_err(|e| e.to_string()).and_then(keyed) {
            Ok(k) => {
                ns.push((row.n, row.kind, row.match_id));
                keyed_rows.push(k);
            }
            Err(e) => errors.push((row.n, e)),
        }
    }
    (ns, keyed_rows, errors)
}

/// Status changes of a batch's rows, written with one statement: per-row
/// UPDATEs cost more than the rest of a batch's work together.
#[derive(Default)]
pub(super) struct RowMarks(Vec<serde_json::Value>);

impl RowMarks {
    /// A row's classification (staging).
    pub(super) fn kind(&mut self, n: i64, kind: RowKind, reason: Option<&str>, matched: Option<Uuid>) {
        self.0.push(serde_json::json!({ "n": n, "k": kind.as_str(), "r": reason, "m": matched.map(|m| m.simple().to_string()) }));
    }

    /// A row's outcome (committing).
    pub(super) fn done(&mut self, n: i64, outcome: &str, title: Option<TitleId>, before: Option<&str>, copies: usize) {
        self.0.push(serde_json::json!({
            "n": n, "o": outcome, "t": title.map(|t| t.0.simple().to_string()), "b": before, "c": copies,
        }));
    }

    pub(super) async fn write_kinds(self, conn: &mut SqliteConnection, id: &str) -> Result<()> {
        self.write(
            conn,
            id,
            "UPDATE import_rows SET kind = m.j->>'k', reason = m.j->>'r', match_id = unhex(m.j->>'m')
             FROM temp.import_marks AS m WHERE import_rows.import_id = ?1 AND import_rows.n BETWEEN ?2 AND ?3 AND import_rows.n = m.n",
        )
        .await
    }

    pub(super) async fn write_outcomes(self, conn: &mut SqliteConnection, id: &str) -> Result<()> {
        self.write(
            conn,
            id,
            "UPDATE import_rows SET done = 1, outcome = m.j->>'o', title_id = unhex(m.j->>'t'), before = m.j->>'b',
                    copies_added = m.j->>'c'
             FROM temp.import_marks AS m WHERE import_rows.import_id = ?1 AND import_rows.n BETWEEN ?2 AND ?3 AND import_rows.n = m.n",
        )
        .await
    }

    /// The marks go into a temporary table keyed by row number, and one
    /// UPDATE … FROM joins it. Joining `json_each` directly lets SQLite
    /// walk all of the import's rows and scan the JSON for each (seen:
    /// minutes per batch); the range on `n` and the table's key make it
    /// one key lookup per row instead.
    async fn write(self, conn: &mut SqliteConnection, id: &str, update: &'static str) -> Result<()> {
        let (Some(first), Some(last)) =
            (self.0.iter().filter_map(|m| m["n"].as_i64()).min(), self.0.iter().filter_map(|m| m["n"].as_i64()).max())
        else {
            return Ok(());
        };
        sqlx::query("CREATE TEMP TABLE IF NOT EXISTS import_marks (n INTEGER PRIMARY KEY, j TEXT NOT NULL)")
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        sqlx::query("DELETE FROM temp.import_marks").execute(&mut *conn).await.map_err(db_err)?;
        sqlx::query("INSERT INTO temp.import_marks (n, j) SELECT value->>'n', value FROM json_each(?)")
            .bind(serde_json::Value::Array(self.0).to_string())
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        sqlx::query(update).bind(id).bind(first).bind(last).execute(&mut *conn).await.map_err(db_err)?;
        Ok(())
    }
}
