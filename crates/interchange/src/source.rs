//! A file as the store's import sees it: [`read_source`] opens any format,
//! describes it ([`SourceInfo`]), and yields one
//! `shelfkeeper_domain::import::SourceRecord` per record, each with its
//! position and, for CSV, the row exactly as the file had it (re-quoted), so
//! rows that fail can be saved, fixed in a spreadsheet and imported again
//! ([`failed_rows_csv`]).

use crate::csv::Delimiter;
use crate::{FileError, Format, ImportOptions, ImportRecord, Mapping, Preset, Records, open};
use serde::{Deserialize, Serialize};
use shelfkeeper_domain::ids::TitleId;
use shelfkeeper_domain::import::{FailedRow, ImportItem, SourceRecord};
use std::collections::HashMap;

/// What a file turned out to be.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct SourceInfo {
    pub format: Format,
    /// CSV: the preset in use (given or recognised from the header).
    pub preset: Option<Preset>,
    /// CSV: the encoding the file was read in.
    pub encoding: Option<String>,
    /// CSV: the header's columns, and those nothing reads.
    pub headers: Vec<String>,
    pub unmapped: Vec<String>,
    /// CSV: the header as written, for the failed-rows file.
    pub raw_header: Option<String>,
    pub delimiter: Option<Delimiter>,
    /// CSV: which column feeds which field (the preset's, the one given, or
    /// one suggested from the header names), to show and to edit.
    pub mapping: Option<Mapping>,
}

impl SourceInfo {
    /// What is known of a file before (or without) reading its header.
    pub fn of_format(format: Format) -> Self {
        SourceInfo {
            format,
            preset: None,
            encoding: None,
            headers: vec![],
            unmapped: vec![],
            raw_header: None,
            delimiter: None,
            mapping: None,
        }
    }

    /// The name provenance and re-import matching use: the preset's id, or
    /// the format's.
    pub fn format_id(&self) -> &'static str {
        match self.preset {
            Some(p) => p.as_str(),
            None => self.format.as_str(),
        }
    }
}

impl From<ImportRecord> for ImportItem {
    fn from(r: ImportRecord) -> Self {
        ImportItem {
            title_id: r.title_id.map(TitleId),
            title: r.title,
            copies: r.copies,
            source_key: r.source_key,
            reading: r.reading,
            rating: r.rating,
            review: r.review,
        }
    }
}

/// Opens a file and returns what it is and its records.
pub fn read_source<'a>(
    bytes: &'a [u8],
    options: &ImportOptions,
) -> Result<(SourceInfo, impl Iterator<Item = SourceRecord> + 'a), FileError> {
    let records = open(bytes, options)?;
    let mut info = SourceInfo::of_format(records.format());
    let mut raw_rows: HashMap<u64, String> = HashMap::new();
    if let Records::Csv(r) = &records {
        info.preset = r.preset();
        info.encoding = Some(r.encoding().to_string());
        info.headers = r.headers().to_vec();
        info.unmapped = r.unmapped_columns();
        info.delimiter = Some(r.delimiter());
        info.mapping = Some(r.mapping().clone());
        let (header, rows) = raw_csv_rows(bytes, r.encoding(), r.delimiter());
        info.raw_header = header;
        raw_rows = rows;
    }
    let iter = records.map(move |rec| match rec {
        Ok(r) => SourceRecord {
            position: r.position.to_string(),
            raw: r.position.line.and_then(|l| raw_rows.get(&l).cloned()),
            item: Ok(r.into()),
        },
        Err(e) => SourceRecord {
            position: e.position.to_string(),
            raw: e.position.line.and_then(|l| raw_rows.get(&l).cloned()),
            item: Err(e.message),
        },
    });
    Ok((info, iter))
}

/// Every CSV record of the file re-written as one CSV line (quoted where
/// needed, so embedded newlines stay inside their field), keyed by the line
/// it starts on; and the header the same way.
fn raw_csv_rows(bytes: &[u8], encoding: &str, delimiter: Delimiter) -> (Option<String>, HashMap<u64, String>) {
    let Some(enc) = encoding_rs::Encoding::for_label(encoding.as_bytes()) else { return (None, HashMap::new()) };
    let (text, _, _) = enc.decode(bytes);
    let mut rdr = ::csv::ReaderBuilder::new().delimiter(delimiter.byte()).has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut header = None;
    let mut rows = HashMap::new();
    let mut record = ::csv::StringRecord::new();
    // Lines are counted from byte offsets: the csv crate's own line count
    // skips newlines inside quoted values.
    let text_bytes = text.as_bytes();
    let (mut counted_to, mut line) = (0usize, 1u64);
    while let Ok(true) = rdr.read_record(&mut record) {
        let at = record.position().map(|p| p.byte() as usize).unwrap_or(0).min(text_bytes.len());
        if at > counted_to {
            line += text_bytes[counted_to..at].iter().filter(|&&b| b == b'\n').count() as u64;
            counted_to = at;
        }
        let raw = one_line(&record, delimiter);
        if header.is_none() {
            header = Some(raw);
        } else {
            rows.insert(line, raw);
        }
    }
    (header, rows)
}

fn one_line(record: &::csv::StringRecord, delimiter: Delimiter) -> String {
    let mut w = ::csv::WriterBuilder::new().delimiter(delimiter.byte()).terminator(::csv::Terminator::Any(b'\n')).from_writer(vec![]);
    let _ = w.write_record(record);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim_end_matches('\n').to_string()
}

/// The rows that failed as a CSV file shaped like the original (same
/// columns, same delimiter) with one more column, "Import error", saying
/// why: fix the rows and import the file again (the extra column is
/// ignored). Rows the reader could not keep as written (MARC records) are
/// listed by position and reason only.
pub fn failed_rows_csv(info: &SourceInfo, rows: &[FailedRow]) -> String {
    let delimiter = info.delimiter.unwrap_or(Delimiter::Comma);
    let sep = delimiter.byte() as char;
    let quote = |s: &str| {
        let mut w = ::csv::WriterBuilder::new().delimiter(delimiter.byte()).from_writer(vec![]);
        let _ = w.write_record([s]);
        String::from_utf8_lossy(&w.into_inner().unwrap_or_default()).trim_end().to_string()
    };
    let mut out = String::new();
    match &info.raw_header {
        Some(h) => {
            out.push_str(h);
            out.push(sep);
            out.push_str("Import error\n");
            for r in rows {
                match &r.raw {
                    Some(raw) => out.push_str(raw),
                    None => out.push_str(&vec![""; info.headers.len()].join(&sep.to_string())),
                }
                out.push(sep);
                out.push_str(&quote(&format!("{}: {}", r.position, r.reason)));
                out.push('\n');
            }
        }
        None => {
            out.push_str("position,reason\n");
            for r in rows {
                out.push_str(&format!("{},{}\n", quote(&r.position), quote(&r.reason)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_records_keep_their_raw_rows_and_failed_rows_make_a_fixable_file() {
        let file = "Book Id,Title,Author,ISBN13,My Rating,Exclusive Shelf\n\
                    1,\"Dune, Deluxe\",Frank Herbert,=\"9780441172719\",5,read\n\
                    2,\"Notes\nacross lines\",Someone,,abc,to-read\n";
        let (info, records) = read_source(file.as_bytes(), &ImportOptions::default()).unwrap();
        assert_eq!(info.preset, Some(Preset::Goodreads));
        let records: Vec<_> = records.collect();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].position, "line 2");
        assert_eq!(records[0].raw.as_deref(), Some("1,\"Dune, Deluxe\",Frank Herbert,\"=\"\"9780441172719\"\"\",5,read"));
        let item = records[0].item.as_ref().unwrap();
        assert_eq!(item.title.isbn.as_deref(), Some("9780441172719"));
        let err = records[1].item.as_ref().unwrap_err();
        assert!(err.contains("My Rating"), "{err}");
        assert_eq!(records[1].raw.as_deref(), Some("2,\"Notes\nacross lines\",Someone,,abc,to-read"));

        let failed = vec![FailedRow { position: records[1].position.clone(), raw: records[1].raw.clone(), reason: err.clone() }];
        let csv = failed_rows_csv(&info, &failed);
        assert!(csv.starts_with("Book Id,Title,Author,ISBN13,My Rating,Exclusive Shelf,Import error\n2,\"Notes\nacross lines\""), "{csv}");
        // The fixed file reads with the same preset; the error column is ignored.
        let fixed = csv.replace(",abc,", ",4,");
        let (info2, again) = read_source(fixed.as_bytes(), &ImportOptions::default()).unwrap();
        assert_eq!(info2.preset, Some(Preset::Goodreads));
        let again: Vec<_> = again.collect();
        assert_eq!(again[0].item.as_ref().unwrap().rating, Some(4));
    }
}
