//! JSON: an array of titles, each with every field of `Title` in
//! declaration order followed by `copies` (every field of `Copy`).

use crate::{FileError, FileErrorCode, ImportRecord, Position, RecordError, WriteError};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use shelfkeeper_domain::model::{Contributor, Copy, CopyDraft, Title, TitleDraft};
use std::io::Write;

#[derive(Serialize)]
struct TitleOut<'a> {
    #[serde(flatten)]
    title: &'a Title,
    copies: &'a [Copy],
}

/// Writes titles as a JSON array, one title per line.
pub struct JsonWriter<W: Write> {
    out: W,
    count: u64,
}

impl<W: Write> JsonWriter<W> {
    pub fn new(out: W) -> Self {
        JsonWriter { out, count: 0 }
    }

    pub fn write(&mut self, title: &Title, copies: &[Copy]) -> Result<(), WriteError> {
        self.out.write_all(if self.count == 0 { b"[\n" } else { b",\n" })?;
        serde_json::to_writer(&mut self.out, &TitleOut { title, copies }).map_err(|e| WriteError::Io(std::io::Error::other(e)))?;
        self.count += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<W, WriteError> {
        self.out.write_all(if self.count == 0 { b"[]\n" } else { b"\n]\n" })?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A title as read: every field optional, unknown fields ignored, so files
/// written by older or newer versions and by hand are read.
#[derive(Deserialize)]
#[serde(default)]
#[derive(Default)]
struct TitleIn {
    id: Option<uuid::Uuid>,
    title: String,
    subtitle: Option<String>,
    contributors: Vec<Contributor>,
    subjects: Vec<String>,
    tags: Vec<String>,
    series: Option<String>,
    series_number: Option<String>,
    language: Option<String>,
    publisher: Option<String>,
    published: Option<String>,
    pages: Option<i64>,
    isbn13: Option<String>,
    isbn10: Option<String>,
    isbn: Option<String>,
    lccn: Option<String>,
    call_number: Option<String>,
    notes: Option<String>,
    cover_ref: Option<String>,
    copies: Vec<CopyDraft>,
    source_key: Option<String>,
}

/// Reads a JSON array written by [`JsonWriter`] (or by hand), one element at
/// a time; an element that does not fit is a `RecordError`.
pub struct JsonReader<'a> {
    base: usize,
    items: std::vec::IntoIter<&'a RawValue>,
    record: u64,
}

impl<'a> JsonReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<Self, FileError> {
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if text.iter().all(u8::is_ascii_whitespace) {
            return Err(FileError::new(FileErrorCode::Empty, "the file is empty"));
        }
        let text = std::str::from_utf8(text).map_err(|e| FileError::new(FileErrorCode::NotJson, format!("this is not JSON: {e}")))?;
        let items: Vec<&'a RawValue> = serde_json::from_str(text)
            .map_err(|e| FileError::new(FileErrorCode::NotJson, format!("this is not a JSON array of titles: {e}")))?;
        Ok(JsonReader { base: text.as_ptr() as usize, items: items.into_iter(), record: 0 })
    }
}

impl Iterator for JsonReader<'_> {
    type Item = Result<ImportRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        let raw = self.items.next()?;
        self.record += 1;
        let position = Position::at_byte(self.record, (raw.get().as_ptr() as usize).saturating_sub(self.base) as u64);
        let t: TitleIn = match serde_json::from_str(raw.get()) {
            Ok(t) => t,
            Err(e) => return Some(Err(RecordError::new(position, format!("is not a title: {e}")))),
        };
        Some(Ok(ImportRecord {
            position,
            title_id: t.id,
            title: TitleDraft {
                title: t.title,
                subtitle: t.subtitle,
                contributors: t.contributors,
                subjects: t.subjects,
                tags: t.tags,
                series: t.series,
                series_number: t.series_number,
                language: t.language,
                publisher: t.publisher,
                published: t.published,
                pages: t.pages,
                isbn: t.isbn13.or(t.isbn).or(t.isbn10),
                lccn: t.lccn,
                call_number: t.call_number,
                notes: t.notes,
                cover_ref: t.cover_ref,
            },
            copies: t.copies,
            source_key: t.source_key,
            reading: None,
            rating: None,
            review: None,
        }))
    }
}
