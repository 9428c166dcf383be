//! Staged imports: read → stage and classify → preview → commit in batches.
//!
//! Staging writes every record of the file into `import_rows` with its
//! classification (see `shelfkeeper_domain::import`) and touches nothing in
//! the catalogue. Records of one file that are the same book (same
//! Shelfkeeper id, ISBN, source id, or title and first author without ISBN)
//! are merged into the first of them, so committing never meets the same
//! book twice. Committing takes the rows not yet done in batches; each batch
//! re-classifies its rows against the catalogue as it is now (the desk may
//! have added a copy since the preview), writes them, and marks them done in
//! the same transaction. A crash or a cancel leaves whole batches: commit
//! again and it carries on; re-importing the same file finds everything as
//! a duplicate.

use crate::bulk::Batch;
use crate::catalogue::{TITLE_COLUMNS, save_title, title_from_row};
use crate::generate::Progress;
use crate::rows::{RowExt, date, parse_ts};
use crate::{Store, WriteTx, db_err};
use shelfkeeper_domain::access::{Action, Actor};
use shelfkeeper_domain::ids::TitleId;
use shelfkeeper_domain::import::{FailedRow, ImportItem, ImportRow, ImportState, ImportSummary, RowKind, SourceRecord};
use shelfkeeper_domain::model::{CopyDraft, StoreMode, Title, TitleDraft, ValidTitle};
use shelfkeeper_domain::provenance::{self, FieldSources, TitleField};
use shelfkeeper_domain::{Error, Result};
use sqlx::{AssertSqlSafe, Row, SqliteConnection};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use uuid::Uuid;

/// Rows written per staging statement and committed per transaction: small
/// enough that the desk waits at most a fraction of a second for the write
/// lock, large enough that per-transaction costs vanish.
const BATCH: usize = 1000;

/// What a file's records are, for people and for provenance
/// (`import:<format>`).
#[derive(Clone, Debug)]
pub struct ImportSpec {
    pub source_name: String,
    pub format: String,
    /// What the reader made of the file (kept as given, for the caller).
    pub source_info: Option<String>,
}

/// A row's record after validation, with the keys that find its book.
struct Keyed {
    item: ImportItem,
    valid: ValidTitle,
    isbn13: Option<String>,
    /// sort title + first author's sort key, for records without ISBN.
    name_key: Option<(String, String)>,
}

fn keyed(mut item: ImportItem) -> std::result::Result<Keyed, String> {
    let valid = item.title.validate().map_err(|e| e.to_string())?;
    // A copy without a barcode in the file (Goodreads "Owned Copies") gets
    // one when it is created; it is validated with a stand-in.
    let mut copies = Vec::with_capacity(item.copies.len());
    for c in &item.copies {
        if c.barcode.trim().is_empty() {
            let mut probe = c.clone();
            probe.barcode = "UNASSIGNED".into();
            let mut valid = probe.validate().map_err(|e| format!("copy without barcode: {e}"))?;
            valid.barcode = String::new();
            copies.push(valid);
        } else {
            copies.push(c.validate().map_err(|e| format!("copy {}: {e}", c.barcode.trim()))?);
        }
    }
    let mut seen = HashSet::new();
    for c in copies.iter().filter(|c| !c.barcode.is_empty()) {
        if !seen.insert(c.barcode.clone()) {
            return Err(format!("barcode {} appears twice in this record", c.barcode));
        }
    }
    item.copies = copies;
    if let Some(r) = item.rating
        && !(1..=5).contains(&r)
    {
        return Err(format!("rating {r} is not between 1 and 5"));
    }
    let isbn13 = valid.isbn.as_ref().map(|i| i.to_string());
    let name_key = match (&isbn13, valid.author_sort()) {
        (None, Some(author)) => Some((valid.sort_title.clone(), author)),
        _ => None,
    };
    Ok(Keyed { item, valid, isbn13, name_key })
}

/// Fills `into`'s empty fields from `from` and adds copies it lacks; true if
/// anything was added.
fn merge_into(into: &mut ImportItem, from: &ImportItem) -> bool {
    let mut changed = false;
    for field in TitleField::ALL {
        if field.value(&into.title).is_none() && field.value(&from.title).is_some() {
            field.copy(&from.title, &mut into.title);
            changed = true;
        }
    }
    for c in from.copies.iter().filter(|c| !c.barcode.is_empty()) {
        if !into.copies.iter().any(|x| x.barcode == c.barcode) {
            into.copies.push(c.clone());
            changed = true;
        }
    }
    for (a, b) in [(&mut into.reading, from.reading)] {
        if a.is_none() && b.is_some() {
            *a = b;
        }
    }
    if into.rating.is_none() && from.rating.is_some() {
        into.rating = from.rating;
    }
    if into.review.is_none() && from.review.is_some() {
        into.review = from.review.clone();
    }
    changed
}

/// How one record relates to the catalogue.
struct Verdict {
    kind: RowKind,
    reason: Option<String>,
    matched: Option<Title>,
    /// For an update: the merged draft and sources.
    merged: Option<(TitleDraft, FieldSources)>,
    new_copies: Vec<CopyDraft>,
    /// The title a duplicate matched at staging (when `matched` is not
    /// loaded again).
    known_match: Option<Uuid>,
}

impl Verdict {
    /// A row staged as new, while nothing else has written since: it is
    /// still new, with every copy it brings.
    fn still_new(k: &Keyed) -> Verdict {
        Verdict { kind: RowKind::New, reason: None, matched: None, merged: None, new_copies: k.item.copies.clone(), known_match: None }
    }

    /// A row staged as a duplicate of `title`, while nothing else has
    /// written since.
    fn still_duplicate(title: Option<Uuid>) -> Verdict {
        Verdict { kind: RowKind::Duplicate, reason: None, matched: None, merged: None, new_copies: vec![], known_match: title }
    }
}

/// Rows of `sql`, whose one parameter is the JSON array of `values` (read
/// with `json_each`): one statement however many values, no chunking.
async fn rows_in<V: serde::Serialize>(conn: &mut SqliteConnection, sql: &str, values: &[V]) -> Result<Vec<sqlx::sqlite::SqliteRow>> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let list = serde_json::to_string(values).map_err(|e| Error::Storage(e.to_string()))?;
    sqlx::query(AssertSqlSafe(sql.to_string())).bind(list).fetch_all(conn).await.map_err(db_err)
}

/// Classifies records against the catalogue as `conn` sees it, with a
/// handful of set-wise queries per call.
async fn classify(conn: &mut SqliteConnection, format: &str, records: &[&Keyed]) -> Result<Vec<Verdict>> {
    let ids: Vec<Uuid> = records.iter().filter_map(|k| k.item.title_id.map(|t| t.0)).collect();
    let isbns: Vec<&str> = records.iter().filter_map(|k| k.isbn13.as_deref()).collect();
    let keys: Vec<String> = records.iter().filter_map(|k| k.item.source_key.as_ref().map(|s| source_key(format, s))).collect();
    let sort_titles: Vec<&str> = records.iter().filter_map(|k| k.name_key.as_ref().map(|(t, _)| t.as_str())).collect();
    let barcodes: Vec<&str> =
        records.iter().flat_map(|k| k.item.copies.iter().map(|c| c.barcode.as_str())).filter(|b| !b.is_empty()).collect();

    let mut by_id: HashMap<Uuid, Title> = HashMap::new();
    let mut by_isbn: HashMap<String, Title> = HashMap::new();
    let mut by_key: HashMap<String, Title> = HashMap::new();
    let mut by_name: HashMap<(String, String), Title> = HashMap::new();
    let mut barcode_owner: HashMap<String, (Uuid, String)> = HashMap::new();

    let ids: Vec<String> = ids.iter().map(|id| id.simple().to_string()).collect();
    for r in rows_in(conn, &format!("SELECT {TITLE_COLUMNS} FROM titles WHERE id IN (SELECT unhex(value) FROM json_each(?))"), &ids).await?
    {
        let t = title_from_row(&r)?;
        by_id.insert(t.id.0, t);
    }
    for r in rows_in(conn, &format!("SELECT {TITLE_COLUMNS} FROM titles WHERE isbn13 IN (SELECT value FROM json_each(?))"), &isbns).await? {
        let t = title_from_row(&r)?;
        if let Some(i) = t.isbn13.clone() {
            by_isbn.insert(i, t);
        }
    }
    let cols = TITLE_COLUMNS.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT r.source_key AS source_key, {cols} FROM import_rows r JOIN titles t ON t.id = r.title_id
         WHERE r.source_key IN (SELECT value FROM json_each(?)) AND r.title_id IS NOT NULL"
    );
    for r in rows_in(conn, &sql, &keys).await? {
        by_key.insert(r.text("source_key")?, title_from_row(&r)?);
    }
    let sql = format!(
        "SELECT author_sort AS a_sort, sort_title AS s_title, {TITLE_COLUMNS} FROM titles
         WHERE sort_title IN (SELECT value FROM json_each(?)) AND isbn13 IS NULL"
    );
    for r in rows_in(conn, &sql, &sort_titles).await? {
        let key = (r.text("s_title")?, r.text("a_sort")?);
        if let std::collections::hash_map::Entry::Vacant(e) = by_name.entry(key) {
            e.insert(title_from_row(&r)?);
        }
    }
    let sql = "SELECT c.barcode, c.title_id, t.title FROM copies c JOIN titles t ON t.id = c.title_id
               WHERE c.barcode IN (SELECT value FROM json_each(?))";
    for r in rows_in(conn, sql, &barcodes).await? {
        barcode_owner.insert(r.text("barcode")?, (r.uuid("title_id")?, r.text("title")?));
    }

    let source = import_source(format);
    let now = chrono::Utc::now();
    Ok(records
        .iter()
        .map(|k| {
            let (matched, how) = if let Some(t) = k.item.title_id.and_then(|id| by_id.get(&id.0)) {
                (Some(t.clone()), "its Shelfkeeper id")
            } else if let Some(t) = k.isbn13.as_ref().and_then(|i| by_isbn.get(i)) {
                (Some(t.clone()), "ISBN")
            } else if let Some(t) = k.item.source_key.as_ref().and_then(|s| by_key.get(&source_key(format, s))) {
                (Some(t.clone()), "an earlier import of the same record")
            } else if let Some(t) = k.name_key.as_ref().and_then(|n| by_name.get(n)) {
                (Some(t.clone()), "the same title and author, neither with an ISBN")
            } else {
                (None, "")
            };
            let mut new_copies = Vec::new();
            // Copies without barcodes count: a title that already has as
            // many copies gets none of them again.
            let blanks: Vec<&CopyDraft> = k.item.copies.iter().filter(|c| c.barcode.is_empty()).collect();
            let have = matched.as_ref().map_or(0, |t| t.copy_count.max(0) as usize);
            new_copies.extend(blanks.iter().skip(have).map(|c| (*c).clone()));
            for c in k.item.copies.iter().filter(|c| !c.barcode.is_empty()) {
                match barcode_owner.get(&c.barcode) {
                    Some((owner, _)) if matched.as_ref().is_some_and(|m| m.id.0 == *owner) => {}
                    Some((_, other)) => {
                        return Verdict {
                            kind: RowKind::Error,
                            reason: Some(format!("barcode {} already belongs to '{other}'", c.barcode)),
                            matched: None,
                            merged: None,
                            new_copies: vec![],
                            known_match: None,
                        };
                    }
                    None => new_copies.push(c.clone()),
                }
            }
            let Some(t) = matched else {
                return Verdict { kind: RowKind::New, reason: None, matched: None, merged: None, new_copies, known_match: None };
            };
            let m = provenance::merge(&t.draft(), &t.field_sources, &k.valid.draft(), &BTreeMap::new(), &source, now);
            let mut what: Vec<String> = Vec::new();
            if !m.changes.is_empty() {
                what.push(format!("changes {}", m.changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>().join(", ")));
            }
            if !new_copies.is_empty() {
                what.push(match new_copies.len() {
                    1 => "adds 1 copy".to_string(),
                    n => format!("adds {n} copies"),
                });
            }
            if !m.kept_locked.is_empty() {
                what.push(format!("keeps locked {}", m.kept_locked.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")));
            }
            let kind = if m.changes.is_empty() && new_copies.is_empty() { RowKind::Duplicate } else { RowKind::Update };
            let reason = match kind {
                RowKind::Duplicate => format!("already catalogued as '{}' (matched by {how})", t.title),
                _ => format!("matches '{}' by {how}; {}", t.title, what.join("; ")),
            };
            Verdict { kind, reason: Some(reason), merged: Some((m.draft, m.sources)), matched: Some(t), new_copies, known_match: None }
        })
        .collect())
}

fn source_key(format: &str, key: &str) -> String {
    format!("{format}:{key}")
}

fn import_source(format: &str) -> String {
    format!("import:{format}")
}

/// One staged row before it is written.
struct StagedRow {
    n: i64,
    position: String,
    raw: Option<String>,
    kind: RowKind,
    item: Option<ImportItem>,
    title: Option<String>,
    reason: Option<String>,
    source_key: Option<String>,
}

const ROW_COLS: &[&str] = &["import_id", "n", "position", "kind", "has_record", "title", "reason", "source_key"];
const RECORD_COLS: &[&str] = &["import_id", "n", "record", "raw"];

async fn write_staged(w: &mut WriteTx, import_id: &str, format: &str, rows: &mut Vec<StagedRow>) -> Result<()> {
    let mut batch = Batch::new("import_rows", ROW_COLS);
    let mut records = Batch::new("import_records", RECORD_COLS);
    for r in rows.drain(..) {
        records.push(import_id.to_string());
        records.push(r.n);
        records.push(r.item.as_ref().map(|i| serde_json::to_string(i).unwrap_or_default()));
        records.push(r.raw);
        records.end_row(w).await?;
        batch.push(import_id.to_string());
        batch.push(r.n);
        batch.push(r.position);
        batch.push(r.kind.as_str());
        batch.push(i64::from(r.item.is_some()));
        batch.push(r.title);
        batch.push(r.reason);
        batch.push(r.source_key.map(|k| source_key(format, &k)));
        batch.end_row(w).await?;
    }
    records.flush(w).await?;
    batch.flush(w).await
}

impl Store {
    /// Reads every record into a new staged import and classifies it. The
    /// catalogue is not touched; [`Store::commit_import`] writes it.
    pub async fn stage_import(
        &self,
        actor: &Actor,
        spec: &ImportSpec,
        records: impl IntoIterator<Item = SourceRecord>,
        mut progress: impl FnMut(Progress),
        cancel: &AtomicBool,
    ) -> Result<ImportSummary> {
        actor.require(Action::ManageCatalogue)?;
        let id = Uuid::now_v7().to_string();
        {
            let mut w = self.write_tx().await?;
            sqlx::query("INSERT INTO imports (id, source_name, format, source_info, state, staged_at) VALUES (?, ?, ?, ?, 'staged', ?)")
                .bind(&id)
                .bind(&spec.source_name)
                .bind(&spec.format)
                .bind(&spec.source_info)
                .bind(w.now_text())
                .execute(w.conn())
                .await
                .map_err(db_err)?;
            w.commit().await?;
        }
        let result = self.stage_rows(&id, spec, records, &mut progress, cancel).await;
        if let Err(e) = result {
            // Nothing of a failed or cancelled staging is kept.
            let mut w = self.write_tx().await?;
            sqlx::query("DELETE FROM imports WHERE id = ?").bind(&id).execute(w.conn()).await.map_err(db_err)?;
            w.commit().await?;
            return Err(e);
        }
        self.import_summary(&id).await
    }

    async fn stage_rows(
        &self,
        id: &str,
        spec: &ImportSpec,
        records: impl IntoIterator<Item = SourceRecord>,
        progress: &mut impl FnMut(Progress),
        cancel: &AtomicBool,
    ) -> Result<()> {
        // Pass 1: validate, merge records of the same book into the first,
        // write every row as new, error or (merged) duplicate.
        let mut first_by: HashMap<String, i64> = HashMap::new();
        let mut barcode_row: HashMap<String, i64> = HashMap::new();
        let mut positions: HashMap<i64, String> = HashMap::new();
        let mut pending: Vec<StagedRow> = Vec::with_capacity(BATCH);
        let mut late_merges: Vec<(i64, ImportItem)> = Vec::new();
        let mut n: i64 = 0;
        let mut flushed_up_to: i64 = 0;
        for rec in records {
            n += 1;
            let mut row = StagedRow {
                n,
                position: rec.position,
                raw: rec.raw,
                kind: RowKind::New,
                item: None,
                title: None,
                reason: None,
                source_key: None,
            };
            match rec.item.and_then(keyed) {
                Err(reason) => {
                    row.kind = RowKind::Error;
                    row.reason = Some(reason);
                }
                Ok(k) => {
                    row.title = Some(k.valid.title.clone());
                    row.source_key = k.item.source_key.clone();
                    let mut keys: Vec<String> = Vec::new();
                    if let Some(t) = k.item.title_id {
                        keys.push(format!("id:{t}"));
                    }
                    if let Some(i) = &k.isbn13 {
                        keys.push(format!("isbn:{i}"));
                    }
                    if let Some(s) = &k.item.source_key {
                        keys.push(format!("key:{s}"));
                    }
                    if let Some((t, a)) = &k.name_key {
                        keys.push(format!("name:{t}\u{1f}{a}"));
                    }
                    let first = keys.iter().find_map(|key| first_by.get(key).copied());
                    // A barcode on two different books of the file.
                    let clash = k.item.copies.iter().filter(|c| !c.barcode.is_empty()).find_map(|c| {
                        barcode_row.get(&c.barcode).filter(|&&other| Some(other) != first).map(|&other| (c.barcode.clone(), other))
                    });
                    if let Some((barcode, other)) = clash {
                        row.kind = RowKind::Error;
                        row.reason = Some(format!("barcode {barcode} is also on {}", positions.get(&other).cloned().unwrap_or_default()));
                    } else if let Some(first) = first {
                        let at = positions.get(&first).cloned().unwrap_or_default();
                        let added = match pending.iter_mut().find(|p| p.n == first) {
                            Some(target) => target.item.as_mut().is_some_and(|t| merge_into(t, &k.item)),
                            None => {
                                late_merges.push((first, k.item.clone()));
                                true
                            }
                        };
                        for c in k.item.copies.iter().filter(|c| !c.barcode.is_empty()) {
                            barcode_row.insert(c.barcode.clone(), first);
                        }
                        row.kind = RowKind::Duplicate;
                        row.reason = Some(if added { format!("same book as {at}; merged into it") } else { format!("repeats {at}") });
                    } else {
                        for key in keys {
                            first_by.insert(key, n);
                        }
                        for c in k.item.copies.iter().filter(|c| !c.barcode.is_empty()) {
                            barcode_row.insert(c.barcode.clone(), n);
                        }
                        positions.insert(n, row.position.clone());
                        row.item = Some(k.item);
                    }
                }
            }
            pending.push(row);
            if pending.len() >= BATCH {
                if cancel.load(Ordering::Relaxed) {
                    return Err(Error::Cancelled);
                }
                let mut w = self.write_tx().await?;
                write_staged(&mut w, id, &spec.format, &mut pending).await?;
                w.commit().await?;
                flushed_up_to = n;
                progress(Progress { phase: "reading", done: n as u64, total: 0 });
            }
        }
        let total = n;
        let mut w = self.write_tx().await?;
        write_staged(&mut w, id, &spec.format, &mut pending).await?;
        for (target, item) in late_merges {
            debug_assert!(target <= flushed_up_to);
            let record: Option<String> = sqlx::query_scalar("SELECT record FROM import_records WHERE import_id = ? AND n = ?")
                .bind(id)
                .bind(target)
                .fetch_one(w.conn())
                .await
                .map_err(db_err)?;
            let mut into: ImportItem = parse_record(record)?;
            merge_into(&mut into, &item);
            sqlx::query("UPDATE import_records SET record = ? WHERE import_id = ? AND n = ?")
                .bind(serde_json::to_string(&into).map_err(|e| Error::Storage(e.to_string()))?)
                .bind(id)
                .bind(target)
                .execute(w.conn())
                .await
                .map_err(db_err)?;
        }
        sqlx::query("UPDATE imports SET total_rows = ? WHERE id = ?").bind(total).bind(id).execute(w.conn()).await.map_err(db_err)?;
        w.commit().await?;

        // Pass 2: classify the surviving records against the catalogue.
        let mut after = 0i64;
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            let mut w = self.write_tx().await?;
            let rows = pending_records(w.conn(), id, "r.kind = 'new'", after).await?;
            let Some(last) = rows.last().map(|r| r.n) else { break };
            still_quiet(&mut w, id, after == 0).await?;
            let (ns, keyed, errors) = rekey(rows);
            let verdicts = classify(w.conn(), &spec.format, &keyed.iter().collect::<Vec<_>>()).await?;
            let mut marks = RowMarks::default();
            for (n, reason) in errors {
                marks.kind(n, RowKind::Error, Some(&reason), None);
            }
            for ((n, _, _), v) in ns.iter().zip(&verdicts) {
                if v.kind != RowKind::New {
                    marks.kind(*n, v.kind, v.reason.as_deref(), v.matched.as_ref().map(|t| t.id.0));
                }
            }
            marks.write_kinds(w.conn(), id).await?;
            w.commit().await?;
            after = last;
            progress(Progress { phase: "checking", done: after as u64, total: total as u64 });
        }
        Ok(())
    }

    /// Writes a staged import into the catalogue, batch by batch. Cancelling
    /// stops after the batch in hand; what was written stays, and committing
    /// again carries on from there (as it does after a crash).
    pub async fn commit_import(
        &self,
        actor: &Actor,
        id: &str,
        mut progress: impl FnMut(Progress),
        cancel: &AtomicBool,
    ) -> Result<ImportSummary> {
        actor.require(Action::ManageCatalogue)?;
        let summary = self.import_summary(id).await?;
        if !matches!(summary.state, ImportState::Staged | ImportState::Committing) {
            return Err(Error::ImportState { id: id.into(), state: summary.state.as_str().into(), action: "committing" });
        }
        let source = import_source(&summary.format);
        let total = summary.total as u64;
        let mut done = summary.done as u64;
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            let mut w = self.write_tx().await?;
            sqlx::query("UPDATE imports SET state = 'committing' WHERE id = ?").bind(id).execute(w.conn()).await.map_err(db_err)?;
            let quiet = still_quiet(&mut w, id, false).await?;
            let rows = pending_records(w.conn(), id, "r.done = 0", 0).await?;
            if rows.is_empty() {
                sqlx::query("UPDATE imports SET state = 'committed', committed_at = ? WHERE id = ?")
                    .bind(w.now_text())
                    .bind(id)
                    .execute(w.conn())
                    .await
                    .map_err(db_err)?;
                w.commit().await?;
                break;
            }
            let batch_len = rows.len() as u64;
            self.commit_batch(&mut w, id, &summary.format, &source, rows, quiet).await?;
            w.commit().await?;
            done += batch_len;
            progress(Progress { phase: "importing", done, total });
        }
        self.import_summary(id).await
    }

    /// Commits one batch of rows. `quiet`: nothing else has written since
    /// the rows were classified, so rows staged as new are still new and
    /// duplicates still duplicates; only updates are worked out again (their
    /// merge and copies). Otherwise every row is classified afresh.
    async fn commit_batch(&self, w: &mut WriteTx, id: &str, format: &str, source: &str, rows: Vec<Pending>, quiet: bool) -> Result<()> {
        let last_n = rows.last().map(|r| r.n).unwrap_or(0);
        let (ns, keyed, errors) = rekey(rows);
        let mut marks = RowMarks::default();
        for (n, reason) in errors {
            marks.done(n, &format!("failed: {reason}"), None, None, 0);
        }
        // Rows staged as errors or merged duplicates carry no record.
        sqlx::query("UPDATE import_rows SET done = 1, outcome = CASE kind WHEN 'error' THEN 'failed: ' || reason ELSE 'skipped' END WHERE import_id = ? AND done = 0 AND has_record = 0 AND n <= ?")
            .bind(id)
            .bind(last_n)
            .execute(w.conn())
            .await
            .map_err(db_err)?;
        if keyed.is_empty() {
            return marks.write_outcomes(w.conn(), id).await;
        }
        let verdicts = if quiet {
            let updates: Vec<&Keyed> = ns.iter().zip(&keyed).filter(|((_, kind, _), _)| *kind == RowKind::Update).map(|(_, k)| k).collect();
            let mut updated = classify(w.conn(), format, &updates).await?.into_iter();
            let mut verdicts = Vec::with_capacity(keyed.len());
            for ((_, kind, match_id), k) in ns.iter().zip(&keyed) {
                verdicts.push(match kind {
                    RowKind::Update => updated.next().expect("one verdict per update"),
                    RowKind::Duplicate => Verdict::still_duplicate(*match_id),
                    _ => Verdict::still_new(k),
                });
            }
            verdicts
        } else {
            classify(w.conn(), format, &keyed.iter().collect::<Vec<_>>()).await?
        };
        let now = w.now;
        let now_text = w.now_text();
        let collection = self.mode() == StoreMode::Collection;

        // Updates first, through the ordinary path (logged, re-indexed).
        for ((n, _, _), v) in ns.iter().zip(&verdicts) {
            match v.kind {
                RowKind::Update => {
                    let t = v.matched.as_ref().expect("an update has a match");
                    let (draft, sources) = v.merged.clone().expect("an update has a merge");
                    let valid = match draft.validate() {
                        Ok(valid) => valid,
                        Err(e) => {
                            marks.done(*n, &format!("failed: {e}"), None, None, 0);
                            continue;
                        }
                    };
                    if valid.isbn.as_ref().map(|i| i.to_string()) != t.isbn13 {
                        // The merged ISBN must not collide with another title.
                        let other: Option<Uuid> = sqlx::query_scalar("SELECT id FROM titles WHERE isbn13 = ? AND id <> ?")
                            .bind(valid.isbn.as_ref().map(|i| i.to_string()))
                            .bind(t.id.0)
                            .fetch_optional(w.conn())
                            .await
                            .map_err(db_err)?;
                        if other.is_some() {
                            marks.done(*n, "failed: its ISBN belongs to another title", None, None, 0);
                            continue;
                        }
                    }
                    let before = serde_json::to_string(&t.draft()).map_err(|e| Error::Storage(e.to_string()))?;
                    if draft != t.draft() {
                        save_title(w, t.id, &valid, &sources).await?;
                    }
                    let outcome = match v.new_copies.len() {
                        0 => "updated".to_string(),
                        1 => "updated, 1 copy added".to_string(),
                        c => format!("updated, {c} copies added"),
                    };
                    marks.done(*n, &outcome, Some(t.id), Some(&before), v.new_copies.len());
                }
                RowKind::Duplicate => {
                    marks.done(*n, "skipped (already catalogued)", v.matched.as_ref().map(|t| t.id).or(v.known_match.map(TitleId)), None, 0)
                }
                RowKind::Error => marks.done(*n, &format!("failed: {}", v.reason.clone().unwrap_or_default()), None, None, 0),
                RowKind::New => {}
            }
        }

        // New titles and every new copy, set-wise.
        let bulk = w.begin_bulk().await?;
        let (hlc, site) = w.stamp();
        let mut titles = Batch::new("titles", IMPORT_TITLE_COLS);
        let mut copies = Batch::new("copies", IMPORT_COPY_COLS);
        let mut created: Vec<(i64, TitleId, &Keyed, usize)> = Vec::new();
        for (((n, _, _), k), v) in ns.iter().zip(&keyed).zip(&verdicts) {
            let title_id = match v.kind {
                RowKind::New => {
                    let tid = k.item.title_id.unwrap_or_else(TitleId::new);
                    let sources = provenance::sources_for_new(&k.valid.draft(), source, now);
                    push_title(&mut titles, tid, &k.valid, &sources, &now_text, hlc, site);
                    titles.end_row(w).await?;
                    created.push((*n, tid, k, v.new_copies.len()));
                    tid
                }
                RowKind::Update => match &v.matched {
                    Some(t) => t.id,
                    None => continue,
                },
                _ => continue,
            };
            for c in &v.new_copies {
                push_copy(&mut copies, title_id, c, &now_text, hlc, site);
                copies.end_row(w).await?;
            }
        }
        titles.flush(w).await?;
        copies.flush(w).await?;
        w.end_bulk(bulk).await?;

        for (n, tid, k, copies_added) in created {
            let outcome = match copies_added {
                0 => "created".to_string(),
                1 => "created with 1 copy".to_string(),
                c => format!("created with {c} copies"),
            };
            marks.done(n, &outcome, Some(tid), None, copies_added);
            if collection {
                write_reading(w, tid, &k.item, &now_text).await?;
            }
        }
        marks.write_outcomes(w.conn(), id).await
    }

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

/// A staged row still to classify or commit.
struct Pending {
    n: i64,
    /// What staging found it to be, and the title it matched.
    kind: RowKind,
    match_id: Option<Uuid>,
    record: Option<String>,
}

/// Records of rows not yet classified/committed, `BATCH` at a time.
async fn pending_records(conn: &mut SqliteConnection, id: &str, filter: &str, after: i64) -> Result<Vec<Pending>> {
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
async fn still_quiet(w: &mut WriteTx, id: &str, start: bool) -> Result<bool> {
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

fn parse_record(record: Option<String>) -> Result<ImportItem> {
    let record = record.ok_or_else(|| Error::Storage("import row without a record".into()))?;
    serde_json::from_str(&record).map_err(|e| Error::Storage(format!("bad import record: {e}")))
}

/// Validated records of a page of rows; rows without a record (errors,
/// merged duplicates) are left out, rows that no longer validate come back
/// as errors.
#[allow(clippy::type_complexity)]
fn rekey(rows: Vec<Pending>) -> (Vec<(i64, RowKind, Option<Uuid>)>, Vec<Keyed>, Vec<(i64, String)>) {
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
struct RowMarks(Vec<serde_json::Value>);

impl RowMarks {
    /// A row's classification (staging).
    fn kind(&mut self, n: i64, kind: RowKind, reason: Option<&str>, matched: Option<Uuid>) {
        self.0.push(serde_json::json!({ "n": n, "k": kind.as_str(), "r": reason, "m": matched.map(|m| m.simple().to_string()) }));
    }

    /// A row's outcome (committing).
    fn done(&mut self, n: i64, outcome: &str, title: Option<TitleId>, before: Option<&str>, copies: usize) {
        self.0.push(serde_json::json!({
            "n": n, "o": outcome, "t": title.map(|t| t.0.simple().to_string()), "b": before, "c": copies,
        }));
    }

    async fn write_kinds(self, conn: &mut SqliteConnection, id: &str) -> Result<()> {
        self.write(
            conn,
            id,
            "UPDATE import_rows SET kind = v.value->>'k', reason = v.value->>'r', match_id = unhex(v.value->>'m')
             FROM json_each(?2) AS v WHERE import_rows.import_id = ?1 AND import_rows.n = v.value->>'n'",
        )
        .await
    }

    async fn write_outcomes(self, conn: &mut SqliteConnection, id: &str) -> Result<()> {
        self.write(
            conn,
            id,
            "UPDATE import_rows SET done = 1, outcome = v.value->>'o', title_id = unhex(v.value->>'t'), before = v.value->>'b',
                    copies_added = v.value->>'c'
             FROM json_each(?2) AS v WHERE import_rows.import_id = ?1 AND import_rows.n = v.value->>'n'",
        )
        .await
    }

    async fn write(self, conn: &mut SqliteConnection, id: &str, sql: &'static str) -> Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        sqlx::query(sql).bind(id).bind(serde_json::Value::Array(self.0).to_string()).execute(conn).await.map_err(db_err)?;
        Ok(())
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

const IMPORT_TITLE_COLS: &[&str] = &[
    "id",
    "title",
    "subtitle",
    "sort_title",
    "contributors",
    "author_sort",
    "subjects",
    "tags",
    "series",
    "series_number",
    "language",
    "publisher",
    "published",
    "pub_year",
    "pages",
    "isbn13",
    "lccn",
    "call_number",
    "notes",
    "field_sources",
    "created_at",
    "updated_at",
    "hlc",
    "site_no",
];

const IMPORT_COPY_COLS: &[&str] = &[
    "id",
    "title_id",
    "barcode",
    "location",
    "shelf",
    "condition",
    "acquired_on",
    "price_cents",
    "currency",
    "provenance",
    "notes",
    "created_at",
    "updated_at",
    "hlc",
    "site_no",
];

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn push_title(b: &mut Batch, id: TitleId, v: &ValidTitle, sources: &FieldSources, now: &str, hlc: i64, site: i64) {
    b.push(id.0);
    b.push(v.title.clone());
    b.push(v.subtitle.clone());
    b.push(v.sort_title.clone());
    b.push(json(&v.contributors));
    b.push(v.author_sort().unwrap_or_default());
    b.push(json(&v.subjects));
    b.push(json(&v.tags));
    b.push(v.series.clone());
    b.push(v.series_number.clone());
    b.push(v.language.clone());
    b.push(v.publisher.clone());
    b.push(v.published.clone());
    b.push(v.pub_year);
    b.push(v.pages);
    b.push(v.isbn.as_ref().map(|i| i.to_string()));
    b.push(v.lccn.clone());
    b.push(v.call_number.clone());
    b.push(v.notes.clone());
    b.push(json(sources));
    b.push(now.to_string());
    b.push(now.to_string());
    b.push(hlc);
    b.push(site);
}

fn push_copy(b: &mut Batch, title: TitleId, d: &CopyDraft, now: &str, hlc: i64, site: i64) {
    let id = Uuid::now_v7();
    b.push(id);
    b.push(title.0);
    b.push(if d.barcode.is_empty() { assigned_barcode(id) } else { d.barcode.clone() });
    b.push(d.location.clone());
    b.push(d.shelf.clone());
    b.push(d.condition.clone());
    b.push(d.acquired_on.map(date));
    b.push(d.price_cents);
    b.push(d.currency.clone());
    b.push(d.provenance.clone());
    b.push(d.notes.clone());
    b.push(now.to_string());
    b.push(now.to_string());
    b.push(hlc);
    b.push(site);
}

/// A barcode for a copy the file gave none: "AUTO-" and the copy id's
/// random tail, unique in practice (the column's UNIQUE constraint is the
/// guard).
fn assigned_barcode(copy: Uuid) -> String {
    let hex = copy.simple().to_string();
    format!("AUTO-{}", hex[hex.len() - 10..].to_uppercase())
}

/// A collector's reading state, rating and review of a new title.
async fn write_reading(w: &mut WriteTx, title: TitleId, item: &ImportItem, now: &str) -> Result<()> {
    if let Some(state) = item.reading {
        sqlx::query("INSERT INTO reading_status (id, state) VALUES (?, ?) ON CONFLICT(id) DO NOTHING")
            .bind(title.0)
            .bind(state.as_str())
            .execute(w.conn())
            .await
            .map_err(db_err)?;
    }
    if let Some(rating) = item.rating {
        sqlx::query(
            "INSERT INTO reviews (id, title_id, member_id, rating, body, created_at, updated_at) VALUES (?, ?, NULL, ?, ?, ?, ?)
             ON CONFLICT DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(title.0)
        .bind(i64::from(rating))
        .bind(&item.review)
        .bind(now)
        .bind(now)
        .execute(w.conn())
        .await
        .map_err(db_err)?;
    }
    Ok(())
}
