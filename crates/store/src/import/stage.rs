//! Staging: every record of a file into `import_rows`, records of the same
//! book merged into the first, then classified. The catalogue is not
//! touched.

use super::classify::{classify, keyed, source_key};
use super::pending::{RowMarks, parse_record, pending_records, rekey, still_quiet};
use super::{BATCH, ImportSpec};
use crate::bulk::Batch;
use crate::generate::Progress;
use crate::{Store, WriteTx, db_err};
use shelfkeeper_domain::access::{Action, Actor};
use shelfkeeper_domain::import::{ImportItem, ImportSummary, RowKind, SourceRecord};
use shelfkeeper_domain::provenance::TitleField;
use shelfkeeper_domain::{Error, Result};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use uuid::Uuid;

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
}
