//! Shelfkeeper's file formats: reading CSV (with presets for other programs'
//! exports), MARC21 and MARCXML into import records, and writing the
//! catalogue as CSV, JSON and MARCXML. Pure: bytes in, records out; no
//! store, no network.
//!
//! # Module map
//!
//! - this module — the shared vocabulary: [`ImportRecord`], [`Position`],
//!   [`RecordError`] (one bad record), [`FileError`] (the whole file is
//!   unreadable), [`WriteError`], [`Format`] sniffing and [`open`], which
//!   picks a reader.
//! - [`csv`] — [`CsvReader`]: encodings (UTF-8 with or without BOM, UTF-16
//!   with BOM, any `encoding_rs` label given explicitly), delimiter sniffing,
//!   explicit column [`Mapping`]s onto [`Field`]s and [`Preset`]s
//!   (Shelfkeeper, Goodreads, LibraryThing, Libib, Calibre) detected from the
//!   header; [`CsvWriter`] writes Shelfkeeper's own CSV.
//! - [`marc`] — [`MarcReader`] (ISO 2709, MARC-8 and UTF-8), [`MarcXmlReader`],
//!   the MARC → record mapping, and the writers [`MarcXmlWriter`] and
//!   [`Marc21Writer`].
//! - [`json`] — [`JsonWriter`] (an array of titles with nested copies, every
//!   field, in declaration order) and [`JsonReader`].
//! - [`samples`] — deterministic generated inputs (a Goodreads CSV, MARC21,
//!   MARCXML, catalogue titles) for benchmarks and tests.
//! - `values` (private) — parsing of dates, page counts, prices, ratings,
//!   reading states, language names and Shelfkeeper's list encodings.
//!
//! # Readers
//!
//! Every reader is an iterator of `Result<ImportRecord, RecordError>`: one bad
//! record is reported with its [`Position`] (CSV line, MARC record number and
//! byte offset, MARCXML record number and byte offset, JSON element number)
//! and the reader goes on with the next one; a record is never guessed.
//! Values are parsed, not validated: `TitleDraft::validate` runs later in the
//! store. A value that cannot be mapped at all (a rating of "abc", a page
//! count of "12x") is a [`RecordError`] naming the column.
//!
//! A copy without a barcode in the source (Goodreads "Owned Copies", Libib
//! "copies", a Koha item without barcode) is a `CopyDraft` with an empty
//! `barcode`: the importer must assign one before `CopyDraft::validate`.
//!
//! # Shelfkeeper's CSV
//!
//! One row per copy; the title's columns repeat on each of its rows, and a
//! title without copies has one row with an empty barcode. Rows with the same
//! `title_id` must be consecutive and are read as one record; a `title_id`
//! seen again later, or rows of one title whose title columns differ, is a
//! [`RecordError`]. Columns: see [`csv::SHELFKEEPER_COLUMNS`].
//!
//! Lists (`subjects`, `tags`) are written `a; b; c`. `contributors` is written
//! `Ursula K. Le Guin (author); Jane Doe (translator)`: entries are separated
//! by `;`, each is a name followed by its role in parentheses (a missing role
//! reads as `author`). In names, roles and list items a backslash escapes the
//! next character, and the writer escapes `\`, `;`, `(` and `)`, so any name
//! survives (`Smith \(Jr.\) (author)`). Whitespace around entries is not
//! kept (the domain trims it anyway); empty entries are skipped.
//!
//! Cells: an empty (or all-space) cell is an absent value; otherwise free text
//! is kept exactly, including newlines, quotes, tabs and control characters.
//! Spreadsheet-style `="0439023483"` is unwrapped in identifier, number and
//! date columns (never in free text).
//!
//! # Control characters
//!
//! CSV and JSON carry every character. XML 1.0 cannot carry U+0000–U+0008,
//! U+000B, U+000C, U+000E–U+001F, U+FFFE or U+FFFF (not even as character
//! references), and ISO 2709 reserves 0x1D–0x1F: the MARCXML and MARC21
//! writers refuse such a title with [`WriteError::Unrepresentable`] naming the
//! title and field, rather than dropping or replacing the character. A
//! carriage return is written as `&#13;` so XML end-of-line handling keeps it.
//!
//! # Presets
//!
//! [`Preset::detect`] recognises an export by its header: Shelfkeeper
//! (`title_id`, `contributors`, `barcode`), Goodreads (`Book Id` with
//! `Exclusive Shelf`), LibraryThing CSV or TSV (`Primary Author` with
//! `Book Id`/`Sort Character`), Libib (`ean_isbn13`), Calibre's CSV catalogue
//! (`authors` with `author_sort`/`series_index`/`identifiers`/`uuid`). A file
//! that matches none is read with [`Mapping::suggest`] (columns named
//! `title`, `author`, `isbn`, …) if that finds a title column, else it is a
//! [`FileError`] asking for a mapping. [`Preset::mapping`] gives the rules
//! (see `csv/mapping.rs`); the notable value rules: Goodreads' `Title
//! (Series, #1)` fills the series, `My Rating` 0 is no rating, `Exclusive
//! Shelf` is the reading state (a custom exclusive shelf becomes a tag),
//! `Bookshelves` are tags, `Owned Copies` copies; LibraryThing's `[ISBN]`,
//! `Secondary Author` with `Secondary Author Roles` (`|`-separated), `Tags`
//! and `Collections` as tags, `Publication` → publisher, half-star ratings
//! rounded up; Libib's `creators`, `status` as reading state, `copies`;
//! Calibre's ` & `-separated authors, `identifiers` (`isbn:…`), series index
//! `1.0` → `1`, `0101-01-01` as no date.
//!
//! # Benchmarks and fuzzing
//!
//! `cargo bench -p shelfkeeper-interchange --bench parse` prints records/s
//! for 100k-record generated files ([`samples`]). `scripts/fuzz.sh [seconds]`
//! runs the cargo-fuzz targets in `fuzz/` (CSV with each preset and auto,
//! MARC21, MARCXML, format sniffing); inputs it found are regression tests
//! in `tests/it/fuzz_regressions.rs`.
//!
//! # MARC
//!
//! See [`marc`] for the field mapping. Records written by Shelfkeeper (003 is
//! `Shelfkeeper`) are read verbatim: no ISBD punctuation is stripped, so they
//! round-trip exactly. Cover references are carried only by JSON (a cover is
//! a blob in the store, not part of a MARC record or a CSV row).

use serde::{Deserialize, Serialize};
use shelfkeeper_domain::model::{CopyDraft, ReadingState, TitleDraft};
use std::fmt;

pub mod csv;
pub mod json;
pub mod marc;
pub mod samples;
pub mod source;
mod values;

pub use crate::csv::{ColumnMapping, CsvOptions, CsvReader, CsvWriter, Delimiter, Field, Mapping, Preset};
pub use crate::json::{JsonReader, JsonWriter};
pub use crate::marc::{Marc21Writer, MarcReader, MarcXmlReader, MarcXmlWriter};

/// Where a record is in its file.
///
/// CSV: `line` is the 1-based line where the record starts (the header is
/// line 1) and `record` the 1-based data record number. MARC21: `record` is
/// the 1-based record number and `byte` the offset where it starts. MARCXML:
/// `record` and the byte offset of its `<record>` element. JSON: `record` is
/// the 1-based array element and `byte` where it starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
pub struct Position {
    #[ts(type = "number")]
    pub record: u64,
    #[ts(type = "number | null")]
    pub line: Option<u64>,
    #[ts(type = "number | null")]
    pub byte: Option<u64>,
}

impl Position {
    pub fn line(record: u64, line: u64) -> Self {
        Position { record, line: Some(line), byte: None }
    }

    pub fn at_byte(record: u64, byte: u64) -> Self {
        Position { record, line: None, byte: Some(byte) }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.byte) {
            (Some(line), _) => write!(f, "line {line}"),
            (None, Some(byte)) => write!(f, "record {} at byte {byte}", self.record),
            (None, None) => write!(f, "record {}", self.record),
        }
    }
}

/// One record of an import file, as a reader understood it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ImportRecord {
    pub position: Position,
    /// Only Shelfkeeper's own exports carry it.
    pub title_id: Option<uuid::Uuid>,
    pub title: TitleDraft,
    /// A copy's `barcode` is empty when the source has none (see the crate
    /// docs).
    pub copies: Vec<CopyDraft>,
    /// The source program's own id: Goodreads "Book Id", Calibre uuid,
    /// LibraryThing "Book Id", Libib ISBN-less items have none, MARC 001.
    pub source_key: Option<String>,
    pub reading: Option<ReadingState>,
    /// 1..=5.
    pub rating: Option<u8>,
    pub review: Option<String>,
}

/// A record that could not be read; the reader goes on with the next one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS, thiserror::Error)]
#[error("{position}: {message}")]
pub struct RecordError {
    pub position: Position,
    pub message: String,
}

impl RecordError {
    pub fn new(position: Position, message: impl Into<String>) -> Self {
        RecordError { position, message: message.into() }
    }
}

/// Why a whole file cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum FileErrorCode {
    Empty,
    Encoding,
    NotCsv,
    NoHeader,
    Mapping,
    NotMarc,
    NotMarcXml,
    NotJson,
    UnknownFormat,
}

/// The whole file cannot be read: empty, not the format, unknown encoding,
/// a mapping naming a column the file lacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS, thiserror::Error)]
#[error("{message}")]
pub struct FileError {
    pub code: FileErrorCode,
    pub message: String,
}

impl FileError {
    pub fn new(code: FileErrorCode, message: impl Into<String>) -> Self {
        FileError { code, message: message.into() }
    }
}

/// Why a writer stopped.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("could not write: {0}")]
    Io(#[from] std::io::Error),
    /// A value the format cannot carry (see "Control characters" in the crate
    /// docs); nothing is dropped silently.
    #[error("title {title_id}: {field} {message}")]
    Unrepresentable { title_id: String, field: String, message: String },
}

impl From<::csv::Error> for WriteError {
    fn from(e: ::csv::Error) -> Self {
        match e.into_kind() {
            ::csv::ErrorKind::Io(io) => WriteError::Io(io),
            other => WriteError::Io(std::io::Error::other(format!("{other:?}"))),
        }
    }
}

/// The file formats Shelfkeeper reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Marc21,
    MarcXml,
    Json,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Marc21 => "marc21",
            Format::MarcXml => "marcxml",
            Format::Json => "json",
        }
    }

    /// Guesses the format from the first bytes: `<` is MARCXML, `[` JSON, a
    /// MARC leader (five digits, then "22" at 10–11 and "4500"-like entry
    /// map) MARC21, anything else CSV.
    pub fn sniff(bytes: &[u8]) -> Format {
        let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
        let b = &b[start..];
        match b.first() {
            Some(b'<') => Format::MarcXml,
            Some(b'[') => Format::Json,
            _ if marc::binary::looks_like_leader(b) => Format::Marc21,
            _ => Format::Csv,
        }
    }
}

/// How to read a file: its format (sniffed when `None`) and CSV settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct ImportOptions {
    pub format: Option<Format>,
    pub csv: CsvOptions,
}

/// A reader for any of the formats.
#[allow(clippy::large_enum_variant)] // one per import; boxing buys nothing
pub enum Records<'a> {
    Csv(CsvReader<'a>),
    Marc21(MarcReader<'a>),
    MarcXml(MarcXmlReader<'a>),
    Json(JsonReader<'a>),
}

impl Records<'_> {
    pub fn format(&self) -> Format {
        match self {
            Records::Csv(_) => Format::Csv,
            Records::Marc21(_) => Format::Marc21,
            Records::MarcXml(_) => Format::MarcXml,
            Records::Json(_) => Format::Json,
        }
    }
}

impl Iterator for Records<'_> {
    type Item = Result<ImportRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Records::Csv(r) => r.next(),
            Records::Marc21(r) => r.next(),
            Records::MarcXml(r) => r.next(),
            Records::Json(r) => r.next(),
        }
    }
}

/// Opens `bytes` with the reader for its format (given or sniffed).
pub fn open<'a>(bytes: &'a [u8], options: &ImportOptions) -> Result<Records<'a>, FileError> {
    let format = options.format.unwrap_or_else(|| Format::sniff(bytes));
    Ok(match format {
        Format::Csv => Records::Csv(CsvReader::new(bytes, &options.csv)?),
        Format::Marc21 => Records::Marc21(MarcReader::new(bytes)?),
        Format::MarcXml => Records::MarcXml(MarcXmlReader::new(bytes)?),
        Format::Json => Records::Json(JsonReader::new(bytes)?),
    })
}
