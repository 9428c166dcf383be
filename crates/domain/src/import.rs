//! Imports as plain data: what a file's reader hands the store, and what the
//! store tells a person before and after committing.
//!
//! Every record of a file becomes one row of the preview, classified as:
//! * `new` — nothing in the catalogue matches; committing adds the title and
//!   its copies;
//! * `update` — it matches a catalogued title (by Shelfkeeper id, ISBN, an
//!   earlier import of the same source record, or exactly the same title and
//!   first author when neither has an ISBN) and brings different field values
//!   or copies the catalogue lacks; committing merges them, leaving locked
//!   fields alone;
//! * `duplicate` — it matches and brings nothing new; committing skips it;
//! * `error` — it cannot be imported, and the reason names the field.

use crate::ids::TitleId;
use crate::model::{CopyDraft, ReadingState, TitleDraft};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One record of an import file, as a reader understood it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportItem {
    /// Shelfkeeper's own exports carry the title's id.
    pub title_id: Option<TitleId>,
    pub title: TitleDraft,
    pub copies: Vec<CopyDraft>,
    /// The source program's own id for the record (Goodreads Book Id,
    /// Calibre uuid, MARC 001), used to find what an earlier import of the
    /// same file made.
    pub source_key: Option<String>,
    pub reading: Option<ReadingState>,
    pub rating: Option<u8>,
    pub review: Option<String>,
}

/// A record as read from the file: where it was, the row as written when
/// the reader keeps it, and what the reader made of it.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceRecord {
    /// "line 14", "record 3 (byte 4521)".
    pub position: String,
    pub raw: Option<String>,
    pub item: std::result::Result<ImportItem, String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    New,
    Update,
    Duplicate,
    Error,
}

impl RowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RowKind::New => "new",
            RowKind::Update => "update",
            RowKind::Duplicate => "duplicate",
            RowKind::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "new" => RowKind::New,
            "update" => RowKind::Update,
            "duplicate" => RowKind::Duplicate,
            "error" => RowKind::Error,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ImportState {
    /// Parsed and classified; nothing written to the catalogue yet.
    Staged,
    /// Committing, or stopped part-way (cancelled, or the program ended):
    /// committing again carries on.
    Committing,
    Committed,
    Discarded,
    Undone,
}

impl ImportState {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportState::Staged => "staged",
            ImportState::Committing => "committing",
            ImportState::Committed => "committed",
            ImportState::Discarded => "discarded",
            ImportState::Undone => "undone",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "staged" => ImportState::Staged,
            "committing" => ImportState::Committing,
            "committed" => ImportState::Committed,
            "discarded" => ImportState::Discarded,
            "undone" => ImportState::Undone,
            _ => return None,
        })
    }
}

/// An import and its counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ImportSummary {
    pub id: String,
    pub source_name: String,
    pub format: String,
    pub state: ImportState,
    pub staged_at: DateTime<Utc>,
    pub committed_at: Option<DateTime<Utc>>,
    pub total: i64,
    pub new: i64,
    pub update: i64,
    pub duplicate: i64,
    pub error: i64,
    /// Rows committed so far (every row once committed).
    pub done: i64,
    /// After commit: titles created, titles updated, copies added.
    pub created_titles: i64,
    pub updated_titles: i64,
    pub created_copies: i64,
}

/// One row of an import's preview or report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ImportRow {
    pub n: i64,
    pub position: String,
    pub kind: RowKind,
    pub title: Option<String>,
    /// Why an error; what a duplicate matched; what an update changes.
    pub reason: Option<String>,
    pub matched_title: Option<TitleId>,
    pub done: bool,
    /// After commit: "created", "updated", "skipped", or why it failed.
    pub outcome: Option<String>,
}

/// A row that could not be imported, to be fixed and imported again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct FailedRow {
    pub position: String,
    /// The row as written in the file, when the reader kept it.
    pub raw: Option<String>,
    pub reason: String,
}
