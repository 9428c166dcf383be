//! Bulk loading (synthetic collections now, imports later).
//!
//! Per-row triggers cost more than the rows themselves at a million rows,
//! so in bulk mode (`clock.origin = 2`) the row triggers stand aside and
//! [`WriteTx::end_bulk`] does their work set-wise for everything inserted
//! since [`WriteTx::begin_bulk`], in the same transaction: change-log rows,
//! the search index, subject/tag terms and copy counters. The guard that
//! refuses writes outside a write transaction still applies. Bulk mode is
//! for inserts only; rows must carry the transaction's stamp.

use crate::{WriteTx, db_err};
use shelfkeeper_domain::Result;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Arguments, AssertSqlSafe, Encode, Sqlite, Type};

/// The highest `seq` of each bulk-loaded table before the batch.
pub(crate) struct BulkMarks {
    titles: i64,
    copies: i64,
    members: i64,
    events: i64,
}

const LOGGED: [(&str, &str); 4] = [("members", "member"), ("titles", "title"), ("copies", "copy"), ("circulation_events", "event")];

impl WriteTx {
    pub async fn begin_bulk(&mut self) -> Result<BulkMarks> {
        sqlx::query("UPDATE clock SET origin = 2").execute(self.conn()).await.map_err(db_err)?;
        // Batches of different tables flush in any order; references are
        // checked at commit instead.
        sqlx::query("PRAGMA defer_foreign_keys = ON").execute(self.conn()).await.map_err(db_err)?;
        let (titles, copies, members, events): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT ifnull(max(seq), 0) FROM titles), (SELECT ifnull(max(seq), 0) FROM copies),
                    (SELECT ifnull(max(seq), 0) FROM members), (SELECT ifnull(max(seq), 0) FROM circulation_events)",
        )
        .fetch_one(self.conn())
        .await
        .map_err(db_err)?;
        Ok(BulkMarks { titles, copies, members, events })
    }

    /// The stamp bulk rows must carry: (hlc, site_no).
    pub fn stamp(&self) -> (i64, i64) {
        (self.hlc.as_i64(), 1)
    }

    pub async fn end_bulk(&mut self, marks: BulkMarks) -> Result<()> {
        for (table, entity) in LOGGED {
            let since = match table {
                "titles" => marks.titles,
                "copies" => marks.copies,
                "members" => marks.members,
                _ => marks.events,
            };
            // Table and entity names are the constants above.
            let sql = format!(
                "INSERT INTO change_log (entity, entity_id, op, hlc, site_no) SELECT '{entity}', id, 'insert', hlc, site_no FROM {table} WHERE seq > ? ORDER BY seq"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(since).execute(self.conn()).await.map_err(db_err)?;
        }
        sqlx::query(
            "INSERT INTO title_fts (rowid, title, people, series, subjects, other)
             SELECT key, title, people, series, subjects, other FROM title_search_doc WHERE seq > ?",
        )
        .bind(marks.titles)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        sqlx::query("INSERT OR IGNORE INTO title_terms (kind, value, title_seq) SELECT kind, value, title_seq FROM title_terms_doc WHERE title_seq > ?")
            .bind(marks.titles)
            .execute(self.conn())
            .await
            .map_err(db_err)?;
        sqlx::query(
            "UPDATE titles SET
                copy_count = copy_count + (SELECT count(*) FROM copies c WHERE c.title_id = titles.id AND c.seq > ?1),
                available_count = available_count + (SELECT count(*) FROM copies c WHERE c.title_id = titles.id AND c.seq > ?1 AND c.status = 'available')
             WHERE id IN (SELECT title_id FROM copies WHERE seq > ?1)",
        )
        .bind(marks.copies)
        .execute(self.conn())
        .await
        .map_err(db_err)?;
        sqlx::query("UPDATE clock SET origin = 0").execute(self.conn()).await.map_err(db_err)?;
        Ok(())
    }
}

/// Multi-row INSERT of `rows` rows of `cols` columns.
pub(crate) fn insert_sql(table: &str, cols: &[&str], rows: usize) -> String {
    let one = format!("({})", vec!["?"; cols.len()].join(", "));
    format!("INSERT INTO {table} ({}) VALUES {}", cols.join(", "), vec![one.as_str(); rows].join(", "))
}

/// Rows of one table, written in multi-row INSERTs.
pub(crate) struct Batch {
    table: &'static str,
    cols: &'static [&'static str],
    args: SqliteArguments,
    rows: usize,
    pub written: u64,
}

impl Batch {
    pub(crate) fn new(table: &'static str, cols: &'static [&'static str]) -> Self {
        Batch { table, cols, args: SqliteArguments::default(), rows: 0, written: 0 }
    }

    /// SQLite allows 32,766 bound parameters per statement.
    pub(crate) fn max_rows(&self) -> usize {
        (32_000 / self.cols.len()).min(1000)
    }

    /// The arguments of the rows begun, to add a row's values in place.
    pub(crate) fn args_mut(&mut self) -> &mut SqliteArguments {
        &mut self.args
    }

    pub(crate) fn push<'q, T: Encode<'q, Sqlite> + Type<Sqlite> + 'q>(&mut self, v: T) {
        let _ = self.args.add(v);
    }

    /// Ends a row; true when the batch is full and should be flushed.
    pub(crate) fn row_done(&mut self) -> bool {
        self.rows += 1;
        self.rows >= self.max_rows()
    }

    pub(crate) async fn end_row(&mut self, w: &mut WriteTx) -> Result<()> {
        if self.row_done() { self.flush(w).await } else { Ok(()) }
    }

    pub(crate) async fn flush(&mut self, w: &mut WriteTx) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let sql = insert_sql(self.table, self.cols, self.rows);
        let args = std::mem::take(&mut self.args);
        sqlx::query_with(AssertSqlSafe(sql), args).execute(w.conn()).await.map_err(db_err)?;
        self.written += self.rows as u64;
        self.rows = 0;
        Ok(())
    }
}
