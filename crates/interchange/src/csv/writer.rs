//! Shelfkeeper's own CSV: one row per copy (see the crate docs).

use crate::WriteError;
use crate::values;
use shelfkeeper_domain::model::{Copy, Title};
use std::io::Write;

/// The columns of Shelfkeeper's CSV, in order.
pub const SHELFKEEPER_COLUMNS: [&str; 25] = [
    "title_id",
    "title",
    "subtitle",
    "contributors",
    "subjects",
    "tags",
    "series",
    "series_number",
    "language",
    "publisher",
    "published",
    "pages",
    "isbn13",
    "lccn",
    "call_number",
    "notes",
    "barcode",
    "location",
    "shelf",
    "condition",
    "acquired_on",
    "price_cents",
    "currency",
    "provenance",
    "copy_notes",
];

/// Writes titles and their copies as Shelfkeeper's CSV (UTF-8, no BOM,
/// comma, CRLF-free: rows end with `\n`, values quoted when needed).
pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

impl<W: Write> CsvWriter<W> {
    pub fn new(out: W) -> Result<Self, WriteError> {
        let mut inner = csv::WriterBuilder::new().from_writer(out);
        inner.write_record(SHELFKEEPER_COLUMNS)?;
        Ok(CsvWriter { inner })
    }

    /// Writes one title: a row per copy, or one row without copy values.
    pub fn write(&mut self, title: &Title, copies: &[Copy]) -> Result<(), WriteError> {
        let id = title.id.to_string();
        let contributors = values::join_contributors(&title.contributors);
        let subjects = values::join_escaped_list(&title.subjects);
        let tags = values::join_escaped_list(&title.tags);
        let pages = title.pages.map(|p| p.to_string()).unwrap_or_default();
        let head: [&str; 16] = [
            &id,
            &title.title,
            opt(&title.subtitle),
            &contributors,
            &subjects,
            &tags,
            opt(&title.series),
            opt(&title.series_number),
            opt(&title.language),
            opt(&title.publisher),
            opt(&title.published),
            &pages,
            opt(&title.isbn13),
            opt(&title.lccn),
            opt(&title.call_number),
            opt(&title.notes),
        ];
        if copies.is_empty() {
            self.inner.write_record(head.iter().copied().chain(std::iter::repeat_n("", 9)))?;
            return Ok(());
        }
        for c in copies {
            let acquired = c.acquired_on.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
            let price = c.price_cents.map(|p| p.to_string()).unwrap_or_default();
            let tail: [&str; 9] = [
                &c.barcode,
                opt(&c.location),
                opt(&c.shelf),
                opt(&c.condition),
                &acquired,
                &price,
                opt(&c.currency),
                opt(&c.provenance),
                opt(&c.notes),
            ];
            self.inner.write_record(head.iter().chain(tail.iter()).copied())?;
        }
        Ok(())
    }

    /// Flushes and returns the output.
    pub fn finish(self) -> Result<W, WriteError> {
        self.inner.into_inner().map_err(|e| WriteError::Io(std::io::Error::other(e.to_string())))
    }
}
