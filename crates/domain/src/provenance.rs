//! Where each field of a title came from, and which fields a person has
//! locked against being overwritten by a look-up or an import.
//!
//! A title carries a map from field to [`FieldSource`]. Every write that
//! changes a field records who changed it (`manual`, a provider such as
//! `open_library`, or `import:goodreads`) and when. A locked field keeps its
//! value whatever a look-up or an import brings; only a person editing the
//! title changes it.

use crate::model::TitleDraft;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The descriptive fields of a title that a source can fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum TitleField {
    Title,
    Subtitle,
    Contributors,
    Subjects,
    Tags,
    Series,
    SeriesNumber,
    Language,
    Publisher,
    Published,
    Pages,
    Isbn,
    Lccn,
    CallNumber,
    Notes,
    Cover,
}

impl TitleField {
    pub const ALL: [TitleField; 16] = [
        TitleField::Title,
        TitleField::Subtitle,
        TitleField::Contributors,
        TitleField::Subjects,
        TitleField::Tags,
        TitleField::Series,
        TitleField::SeriesNumber,
        TitleField::Language,
        TitleField::Publisher,
        TitleField::Published,
        TitleField::Pages,
        TitleField::Isbn,
        TitleField::Lccn,
        TitleField::CallNumber,
        TitleField::Notes,
        TitleField::Cover,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TitleField::Title => "title",
            TitleField::Subtitle => "subtitle",
            TitleField::Contributors => "contributors",
            TitleField::Subjects => "subjects",
            TitleField::Tags => "tags",
            TitleField::Series => "series",
            TitleField::SeriesNumber => "series_number",
            TitleField::Language => "language",
            TitleField::Publisher => "publisher",
            TitleField::Published => "published",
            TitleField::Pages => "pages",
            TitleField::Isbn => "isbn",
            TitleField::Lccn => "lccn",
            TitleField::CallNumber => "call_number",
            TitleField::Notes => "notes",
            TitleField::Cover => "cover",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        TitleField::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The field's value in a draft, as one comparable, displayable string;
    /// `None` when the field is empty.
    pub fn value(self, d: &TitleDraft) -> Option<String> {
        fn opt(s: &Option<String>) -> Option<String> {
            s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
        }
        fn list(v: &[String]) -> Option<String> {
            if v.is_empty() { None } else { Some(v.join("; ")) }
        }
        match self {
            TitleField::Title => Some(d.title.trim().to_string()).filter(|s| !s.is_empty()),
            TitleField::Subtitle => opt(&d.subtitle),
            TitleField::Contributors => {
                let names: Vec<String> = d
                    .contributors
                    .iter()
                    .map(|c| if c.role == "author" { c.name.clone() } else { format!("{} ({})", c.name, c.role) })
                    .collect();
                list(&names)
            }
            TitleField::Subjects => list(&d.subjects),
            TitleField::Tags => list(&d.tags),
            TitleField::Series => opt(&d.series),
            TitleField::SeriesNumber => opt(&d.series_number),
            TitleField::Language => opt(&d.language),
            TitleField::Publisher => opt(&d.publisher),
            TitleField::Published => opt(&d.published),
            TitleField::Pages => d.pages.map(|p| p.to_string()),
            TitleField::Isbn => opt(&d.isbn),
            TitleField::Lccn => opt(&d.lccn),
            TitleField::CallNumber => opt(&d.call_number),
            TitleField::Notes => opt(&d.notes),
            TitleField::Cover => opt(&d.cover_ref),
        }
    }

    /// Copies this field from `from` into `into`.
    pub fn copy(self, from: &TitleDraft, into: &mut TitleDraft) {
        match self {
            TitleField::Title => into.title = from.title.clone(),
            TitleField::Subtitle => into.subtitle = from.subtitle.clone(),
            TitleField::Contributors => into.contributors = from.contributors.clone(),
            TitleField::Subjects => into.subjects = from.subjects.clone(),
            TitleField::Tags => into.tags = from.tags.clone(),
            TitleField::Series => into.series = from.series.clone(),
            TitleField::SeriesNumber => into.series_number = from.series_number.clone(),
            TitleField::Language => into.language = from.language.clone(),
            TitleField::Publisher => into.publisher = from.publisher.clone(),
            TitleField::Published => into.published = from.published.clone(),
            TitleField::Pages => into.pages = from.pages,
            TitleField::Isbn => into.isbn = from.isbn.clone(),
            TitleField::Lccn => into.lccn = from.lccn.clone(),
            TitleField::CallNumber => into.call_number = from.call_number.clone(),
            TitleField::Notes => into.notes = from.notes.clone(),
            TitleField::Cover => into.cover_ref = from.cover_ref.clone(),
        }
    }
}

/// Who last set a field, when, and whether a person locked it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct FieldSource {
    /// `manual`, a provider (`open_library`, `google_books`, `loc`), or
    /// `import:<format>`.
    pub source: String,
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub locked: bool,
}

pub type FieldSources = BTreeMap<TitleField, FieldSource>;

pub const MANUAL: &str = "manual";

/// One field a refresh or an import would change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct FieldChange {
    pub field: TitleField,
    pub before: Option<String>,
    pub after: Option<String>,
    pub source: String,
}

/// What merging found values into a title gives.
#[derive(Clone, Debug, PartialEq)]
pub struct Merge {
    pub draft: TitleDraft,
    pub sources: FieldSources,
    pub changes: Vec<FieldChange>,
    /// Fields the source had a different value for, kept because locked.
    pub kept_locked: Vec<TitleField>,
}

/// The fields whose values differ between two drafts.
pub fn changed_fields(before: &TitleDraft, after: &TitleDraft) -> Vec<TitleField> {
    TitleField::ALL.into_iter().filter(|f| normalised(*f, before) != normalised(*f, after)).collect()
}

/// Compares ISBNs by their digits, so "0-441-47812-3" equals its ISBN-13.
fn normalised(field: TitleField, d: &TitleDraft) -> Option<String> {
    let v = field.value(d)?;
    if field == TitleField::Isbn
        && let Ok(isbn) = crate::isbn::Isbn::parse(&v)
    {
        return Some(isbn.to_string());
    }
    Some(v)
}

/// Records a person's edit: the fields that changed become `manual` now;
/// locks stay as they were.
pub fn record_edit(sources: &FieldSources, before: &TitleDraft, after: &TitleDraft, now: DateTime<Utc>) -> FieldSources {
    let mut out = sources.clone();
    for field in changed_fields(before, after) {
        let locked = sources.get(&field).is_some_and(|s| s.locked);
        if field.value(after).is_some() {
            out.insert(field, FieldSource { source: MANUAL.into(), at: now, locked });
        } else if locked {
            // Emptied by hand and locked: keep the lock, the empty value is
            // the person's choice.
            out.insert(field, FieldSource { source: MANUAL.into(), at: now, locked });
        } else {
            out.remove(&field);
        }
    }
    out
}

/// Merges values found by a look-up or brought by an import into a title.
/// Every non-empty found value replaces the current one unless the field is
/// locked; empty found values never erase anything. `found_sources` says
/// where each found field came from (fields missing there are credited to
/// `default_source`).
pub fn merge(
    current: &TitleDraft,
    sources: &FieldSources,
    found: &TitleDraft,
    found_sources: &BTreeMap<TitleField, String>,
    default_source: &str,
    at: DateTime<Utc>,
) -> Merge {
    let mut draft = current.clone();
    let mut out = sources.clone();
    let mut changes = Vec::new();
    let mut kept_locked = Vec::new();
    for field in TitleField::ALL {
        let Some(after) = normalised(field, found) else { continue };
        let before = normalised(field, current);
        if before.as_deref() == Some(after.as_str()) {
            continue;
        }
        if sources.get(&field).is_some_and(|s| s.locked) {
            kept_locked.push(field);
            continue;
        }
        let source = found_sources.get(&field).cloned().unwrap_or_else(|| default_source.to_string());
        field.copy(found, &mut draft);
        out.insert(field, FieldSource { source: source.clone(), at, locked: false });
        changes.push(FieldChange { field, before: field.value(current), after: field.value(found), source });
    }
    Merge { draft, sources: out, changes, kept_locked }
}

/// Credits every non-empty field of a new title to one source.
pub fn sources_for_new(draft: &TitleDraft, source: &str, at: DateTime<Utc>) -> FieldSources {
    TitleField::ALL
        .into_iter()
        .filter(|f| f.value(draft).is_some())
        .map(|f| (f, FieldSource { source: source.to_string(), at, locked: false }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Contributor;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    fn draft(title: &str, publisher: Option<&str>) -> TitleDraft {
        TitleDraft {
            title: title.into(),
            publisher: publisher.map(Into::into),
            contributors: vec![Contributor::author("Ursula K. Le Guin")],
            ..Default::default()
        }
    }

    #[test]
    fn merge_fills_and_replaces_unlocked_fields_and_keeps_locked_ones() {
        let current = draft("The Dispossessed", Some("Harper"));
        let mut sources = FieldSources::new();
        sources.insert(TitleField::Title, FieldSource { source: MANUAL.into(), at: at(), locked: true });
        let mut found = draft("Dispossessed", Some("Gollancz"));
        found.pages = Some(387);
        let m = merge(&current, &sources, &found, &BTreeMap::new(), "open_library", at());
        assert_eq!(m.draft.title, "The Dispossessed", "locked title kept");
        assert_eq!(m.draft.publisher.as_deref(), Some("Gollancz"));
        assert_eq!(m.draft.pages, Some(387));
        assert_eq!(m.kept_locked, vec![TitleField::Title]);
        let fields: Vec<_> = m.changes.iter().map(|c| c.field).collect();
        assert_eq!(fields, vec![TitleField::Publisher, TitleField::Pages]);
        assert_eq!(m.sources[&TitleField::Pages].source, "open_library");
        assert!(m.sources[&TitleField::Title].locked);
    }

    #[test]
    fn merge_never_erases_with_an_empty_value() {
        let current = draft("A", Some("Harper"));
        let found = draft("A", None);
        let m = merge(&current, &FieldSources::new(), &found, &BTreeMap::new(), "x", at());
        assert_eq!(m.draft.publisher.as_deref(), Some("Harper"));
        assert!(m.changes.is_empty());
    }

    #[test]
    fn isbns_compare_by_their_digits() {
        let mut a = draft("A", None);
        a.isbn = Some("0-441-47812-3".into());
        let mut b = draft("A", None);
        b.isbn = Some("9780441478125".into());
        assert!(changed_fields(&a, &b).is_empty());
    }

    #[test]
    fn an_edit_marks_changed_fields_manual_and_keeps_locks() {
        let before = draft("A", Some("Harper"));
        let after = draft("A", Some("Ace"));
        let mut sources = sources_for_new(&before, "open_library", at());
        sources.get_mut(&TitleField::Publisher).unwrap().locked = true;
        let out = record_edit(&sources, &before, &after, at());
        assert_eq!(out[&TitleField::Publisher], FieldSource { source: MANUAL.into(), at: at(), locked: true });
        assert_eq!(out[&TitleField::Title].source, "open_library");
    }

    #[test]
    fn field_names_round_trip() {
        for f in TitleField::ALL {
            assert_eq!(TitleField::parse(f.as_str()), Some(f));
            let json = serde_json::to_string(&f).unwrap();
            assert_eq!(json, format!("\"{}\"", f.as_str()));
        }
    }
}
