//! Classifying records against the catalogue: new, update, duplicate or
//! error, and what an update would change.

use crate::catalogue::{TITLE_COLUMNS, title_from_row};
use crate::db_err;
use crate::rows::RowExt;
use shelfkeeper_domain::import::{ImportItem, RowKind};
use shelfkeeper_domain::model::{CopyDraft, Title, TitleDraft, ValidTitle};
use shelfkeeper_domain::provenance::{self, FieldSources};
use shelfkeeper_domain::{Error, Result};
use sqlx::{AssertSqlSafe, SqliteConnection};
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// A row's record after validation, with the keys that find its book.
pub(super) struct Keyed {
    pub(super) item: ImportItem,
    pub(super) valid: ValidTitle,
    pub(super) isbn13: Option<String>,
    /// sort title + first author's sort key, for records without ISBN.
    pub(super) name_key: Option<(String, String)>,
}

pub(super) fn keyed(mut item: ImportItem) -> std::result::Result<Keyed, String> {
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

/// How one record relates to the catalogue.
pub(super) struct Verdict {
    pub(super) kind: RowKind,
    pub(super) reason: Option<String>,
    pub(super) matched: Option<Title>,
    /// For an update: the merged draft and sources.
    pub(super) merged: Option<(TitleDraft, FieldSources)>,
    pub(super) new_copies: Vec<CopyDraft>,
    /// The title a duplicate matched at staging (when `matched` is not
    /// loaded again).
    pub(super) known_match: Option<Uuid>,
}

impl Verdict {
    /// A row staged as new, while nothing else has written since: it is
    /// still new, with every copy it brings.
    pub(super) fn still_new(k: &Keyed) -> Verdict {
        Verdict { kind: RowKind::New, reason: None, matched: None, merged: None, new_copies: k.item.copies.clone(), known_match: None }
    }

    /// A row staged as a duplicate of `title`, while nothing else has
    /// written since.
    pub(super) fn still_duplicate(title: Option<Uuid>) -> Verdict {
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
pub(super) async fn classify(conn: &mut SqliteConnection, format: &str, records: &[&Keyed]) -> Result<Vec<Verdict>> {
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
        if let std::collections::hash_map::Entry::Vacant(slot) = by_name.entry(key) {
            slot.insert(title_from_row(&r)?);
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

pub(super) fn source_key(format: &str, key: &str) -> String {
    format!("{format}:{key}")
}

pub(super) fn import_source(format: &str) -> String {
    format!("import:{format}")
}
