//! Committing a staged import into the catalogue, batch by batch.

use super::classify::{Keyed, Verdict, classify, import_source};
use super::pending::{Pending, RowMarks, pending_records, rekey, still_quiet};
use crate::bulk::Batch;
use crate::catalogue::save_title;
use crate::generate::Progress;
use crate::rows::date;
use crate::{Store, WriteTx, db_err};
use shelfkeeper_domain::access::{Action, Actor};
use shelfkeeper_domain::ids::TitleId;
use shelfkeeper_domain::import::{ImportItem, ImportState, ImportSummary, RowKind};
use shelfkeeper_domain::model::{CopyDraft, StoreMode, ValidTitle};
use shelfkeeper_domain::provenance::{self, FieldSources};
use shelfkeeper_domain::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use uuid::Uuid;

impl Store {
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
