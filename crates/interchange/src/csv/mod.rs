//! CSV: decoding, delimiter sniffing, column mappings and presets, the
//! streaming reader, and the writer of Shelfkeeper's own CSV.

mod mapping;
mod writer;

pub use mapping::{ColumnMapping, Field, Mapping, Preset};
pub use writer::{CsvWriter, SHELFKEEPER_COLUMNS};

use crate::values;
use crate::{FileError, FileErrorCode, Format, ImportRecord, Position, RecordError};
use serde::{Deserialize, Serialize};
use shelfkeeper_domain::model::{Contributor, CopyDraft, TitleDraft};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Cursor;

/// The separator between values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Delimiter {
    Comma,
    Semicolon,
    Tab,
}

impl Delimiter {
    pub fn byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Semicolon => b';',
            Delimiter::Tab => b'\t',
        }
    }
}

/// How to read a CSV file. Everything is detected when left `None`: the
/// encoding from a BOM (else UTF-8), the delimiter from the header line, the
/// preset from the header's columns. An explicit `mapping` wins over a
/// `preset`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct CsvOptions {
    /// Any encoding_rs label: "utf-8", "windows-1252", "latin1",
    /// "utf-16le", "shift_jis", …
    pub encoding: Option<String>,
    pub delimiter: Option<Delimiter>,
    pub preset: Option<Preset>,
    pub mapping: Option<Mapping>,
}

/// How many copies one row may stand for.
const MAX_COPIES_PER_ROW: u32 = 1000;

struct Column {
    index: usize,
    name: String,
    field: Field,
}

/// Reads CSV records one at a time (an iterator).
pub struct CsvReader<'a> {
    rdr: csv::Reader<Cursor<Cow<'a, [u8]>>>,
    headers: Vec<String>,
    columns: Vec<Column>,
    mapping: Mapping,
    preset: Option<Preset>,
    delimiter: Delimiter,
    encoding: &'static str,
    row: csv::StringRecord,
    records: u64,
    /// Line counting: the csv crate does not count newlines inside quoted
    /// values, so lines are counted from byte offsets.
    counted_to: usize,
    lines_before: u64,
    group_by_title_id: bool,
    pending: Option<ImportRecord>,
    queued_error: Option<RecordError>,
    seen: HashMap<uuid::Uuid, u64>,
    done: bool,
}

fn utf8_error(bytes: &[u8], valid_up_to: usize, base: usize) -> FileError {
    let line = bytes[..valid_up_to].iter().filter(|&&b| b == b'\n').count() + 1;
    FileError::new(
        FileErrorCode::Encoding,
        format!(
            "line {line}: byte 0x{:02X} at offset {} is not UTF-8. The file is probably in another encoding, \
             such as windows-1252 (Excel on Windows) or latin1: choose the file's encoding explicitly",
            bytes[valid_up_to],
            valid_up_to + base
        ),
    )
}

/// Decodes the file to UTF-8 text; returns the text and the encoding's name.
fn decode<'a>(bytes: &'a [u8], label: Option<&str>) -> Result<(Cow<'a, str>, &'static str), FileError> {
    if let Some(label) = label {
        let enc = encoding_rs::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
            FileError::new(
                FileErrorCode::Encoding,
                format!("'{label}' is not an encoding Shelfkeeper knows; use a name like utf-8, windows-1252, latin1 or utf-16le"),
            )
        })?;
        if enc == encoding_rs::UTF_8 && encoding_rs::Encoding::for_bom(bytes).is_none() {
            return std::str::from_utf8(bytes).map(|s| (Cow::Borrowed(s), "UTF-8")).map_err(|e| utf8_error(bytes, e.valid_up_to(), 0));
        }
        let (text, used, errors) = enc.decode(bytes);
        if errors {
            return Err(FileError::new(
                FileErrorCode::Encoding,
                format!("the file is not valid {}: some bytes have no meaning in it; choose another encoding", used.name()),
            ));
        }
        return Ok((text, used.name()));
    }
    match encoding_rs::Encoding::for_bom(bytes) {
        Some((enc, bom)) if enc == encoding_rs::UTF_8 => std::str::from_utf8(&bytes[bom..])
            .map(|s| (Cow::Borrowed(s), "UTF-8"))
            .map_err(|e| utf8_error(&bytes[bom..], e.valid_up_to(), bom)),
        Some((enc, bom)) => match enc.decode_without_bom_handling_and_without_replacement(&bytes[bom..]) {
            Some(text) => Ok((text, enc.name())),
            None => {
                Err(FileError::new(FileErrorCode::Encoding, format!("the file starts with a {} mark but is not valid {0}", enc.name())))
            }
        },
        None => std::str::from_utf8(bytes).map(|s| (Cow::Borrowed(s), "UTF-8")).map_err(|e| utf8_error(bytes, e.valid_up_to(), 0)),
    }
}

/// Counts the candidate delimiters outside quotes on the header line.
fn sniff_delimiter(text: &str) -> Delimiter {
    let (mut comma, mut semi, mut tab) = (0usize, 0usize, 0usize);
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => break,
            ',' if !quoted => comma += 1,
            ';' if !quoted => semi += 1,
            '\t' if !quoted => tab += 1,
            _ => {}
        }
    }
    if tab > comma && tab >= semi {
        Delimiter::Tab
    } else if semi > comma {
        Delimiter::Semicolon
    } else {
        Delimiter::Comma
    }
}

fn short(v: &str) -> String {
    let v = v.trim();
    if v.chars().count() > 60 { format!("{}…", v.chars().take(60).collect::<String>()) } else { v.to_string() }
}

impl<'a> CsvReader<'a> {
    /// Opens a CSV file: decodes it, reads the header and resolves the
    /// mapping. File-level problems are a `FileError`.
    pub fn new(bytes: &'a [u8], options: &CsvOptions) -> Result<Self, FileError> {
        let content_start = bytes.iter().position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0xEF | 0xBB | 0xBF | 0xFE | 0xFF | 0));
        if content_start.is_none() {
            return Err(FileError::new(FileErrorCode::Empty, "the file is empty"));
        }
        if options.encoding.is_none() {
            match Format::sniff(bytes) {
                Format::Marc21 => return Err(FileError::new(FileErrorCode::NotCsv, "this is not CSV: it looks like a MARC21 file")),
                Format::MarcXml if bytes.starts_with(b"<?xml") || bytes.starts_with(b"\xEF\xBB\xBF<?xml") => {
                    return Err(FileError::new(FileErrorCode::NotCsv, "this is not CSV: it looks like an XML file"));
                }
                _ => {}
            }
        }
        let (text, encoding) = decode(bytes, options.encoding.as_deref())?;
        let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        if first_line.contains('\0') {
            return Err(FileError::new(FileErrorCode::NotCsv, "this is not CSV: it holds binary data (NUL bytes)"));
        }
        let delimiter = options.delimiter.unwrap_or_else(|| sniff_delimiter(text.trim_start_matches(['\r', '\n'])));
        let data: Cow<'a, [u8]> = match text {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        };
        let mut rdr = csv::ReaderBuilder::new().delimiter(delimiter.byte()).has_headers(true).flexible(true).from_reader(Cursor::new(data));
        let headers: Vec<String> = match rdr.headers() {
            Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
            Err(e) => return Err(FileError::new(FileErrorCode::NoHeader, format!("the header line cannot be read: {e}"))),
        };
        if headers.iter().all(String::is_empty) {
            return Err(FileError::new(FileErrorCode::NoHeader, "the first line must be a header naming the columns, and it names none"));
        }
        let find = |name: &str| -> Option<usize> {
            headers.iter().position(|h| h == name).or_else(|| headers.iter().position(|h| h.eq_ignore_ascii_case(name.trim())))
        };
        let (mapping, preset, strict) = match (&options.mapping, options.preset) {
            (Some(m), _) => (m.clone(), None, true),
            (None, Some(p)) => (p.mapping(), Some(p), false),
            (None, None) => match Preset::detect(&headers) {
                Some(p) => (p.mapping(), Some(p), false),
                None => (Mapping::suggest(&headers), None, false),
            },
        };
        let mut columns = Vec::new();
        for c in &mapping.columns {
            if c.field == Field::Ignore {
                continue;
            }
            match find(&c.column) {
                Some(index) => columns.push(Column { index, name: headers[index].clone(), field: c.field.clone() }),
                None if strict => {
                    return Err(FileError::new(
                        FileErrorCode::Mapping,
                        format!(
                            "the mapping names column '{}', which the file does not have; its columns are: {}",
                            c.column,
                            headers.join(", ")
                        ),
                    ));
                }
                None => {}
            }
        }
        if !columns.iter().any(|c| matches!(c.field, Field::Title { .. })) {
            let what = match preset {
                Some(p) => format!("this looks like a {} but has no title column", p.label()),
                None => "no column is recognised as the title".to_string(),
            };
            return Err(FileError::new(
                FileErrorCode::Mapping,
                format!("{what}; the columns are: {}. Choose a preset or map the columns", headers.join(", ")),
            ));
        }
        let group_by_title_id = columns.iter().any(|c| c.field == Field::TitleId);
        Ok(CsvReader {
            rdr,
            headers,
            columns,
            mapping,
            preset,
            delimiter,
            encoding,
            row: csv::StringRecord::new(),
            records: 0,
            counted_to: 0,
            lines_before: 0,
            group_by_title_id,
            pending: None,
            queued_error: None,
            seen: HashMap::new(),
            done: false,
        })
    }

    /// The header's column names.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The preset in use (given or detected), if any.
    pub fn preset(&self) -> Option<Preset> {
        self.preset
    }

    /// The mapping in use (explicit, a preset's, or suggested).
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    pub fn delimiter(&self) -> Delimiter {
        self.delimiter
    }

    /// The encoding the file was read in ("UTF-8", "UTF-16LE", "windows-1252").
    pub fn encoding(&self) -> &'static str {
        self.encoding
    }

    /// Header columns that no mapping entry reads.
    pub fn unmapped_columns(&self) -> Vec<String> {
        self.headers
            .iter()
            .enumerate()
            .filter(|(i, h)| !h.is_empty() && !self.columns.iter().any(|c| c.index == *i))
            .map(|(_, h)| h.clone())
            .collect()
    }

    /// The 1-based line of a byte offset in the decoded text (offsets only
    /// grow, so counting resumes where it stopped).
    fn line_at(&mut self, byte: usize) -> u64 {
        let data: &[u8] = self.rdr.get_ref().get_ref();
        // After CRLF the csv crate's offset points at the '\n'; skipped
        // blank lines are not the record either.
        let mut byte = byte.min(data.len());
        while matches!(data.get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        if byte < self.counted_to {
            self.counted_to = 0;
            self.lines_before = 0;
        }
        // A line ends with LF, CRLF or a lone CR (old Macintosh files).
        let breaks = data[self.counted_to..byte]
            .iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && data.get(self.counted_to + i + 1) != Some(&b'\n')))
            .count();
        self.lines_before += breaks as u64;
        self.counted_to = byte;
        self.lines_before + 1
    }

    /// The next row as a record (not yet grouped by title id).
    fn next_row(&mut self) -> Option<Result<ImportRecord, RecordError>> {
        loop {
            match self.rdr.read_record(&mut self.row) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(e) => {
                    self.records += 1;
                    let line = match e.position() {
                        Some(p) => self.line_at(p.byte() as usize),
                        None => 0,
                    };
                    return Some(Err(RecordError::new(Position::line(self.records, line), format!("cannot be read as CSV: {e}"))));
                }
            }
            if self.row.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            self.records += 1;
            let line = match self.row.position() {
                Some(p) => self.line_at(p.byte() as usize),
                None => 0,
            };
            let position = Position::line(self.records, line);
            if self.row.len() > self.headers.len() && self.row.iter().skip(self.headers.len()).any(|f| !f.trim().is_empty()) {
                return Some(Err(RecordError::new(
                    position,
                    format!(
                        "has {} values but the header names {} columns (is there an unquoted delimiter or quote in a value?)",
                        self.row.len(),
                        self.headers.len()
                    ),
                )));
            }
            return Some(build_record(&self.columns, &self.row, position).map_err(|m| RecordError::new(position, m)));
        }
    }
}

impl Iterator for CsvReader<'_> {
    type Item = Result<ImportRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.queued_error.take() {
            return Some(Err(e));
        }
        if self.done {
            return None;
        }
        loop {
            let rec = match self.next_row() {
                None => {
                    self.done = true;
                    return self.pending.take().map(Ok);
                }
                Some(Err(e)) => {
                    if let Some(p) = self.pending.take() {
                        self.queued_error = Some(e);
                        return Some(Ok(p));
                    }
                    return Some(Err(e));
                }
                Some(Ok(rec)) => rec,
            };
            let id = match (self.group_by_title_id, rec.title_id) {
                (true, Some(id)) => id,
                (false, _) => return Some(Ok(rec)),
                (true, None) => {
                    if let Some(p) = self.pending.replace(rec) {
                        return Some(Ok(p));
                    }
                    continue;
                }
            };
            if let Some(p) = &mut self.pending
                && p.title_id == Some(id)
            {
                if p.title != rec.title {
                    let field = first_difference(&p.title, &rec.title);
                    let first_line = p.position.line.unwrap_or(0);
                    return Some(Err(RecordError::new(
                        rec.position,
                        format!(
                            "title_id {id}: column '{field}' differs from line {first_line}, where this title's rows begin; each row of a title must repeat the same title columns"
                        ),
                    )));
                }
                p.copies.extend(rec.copies);
                continue;
            }
            if let Some(first) = self.seen.get(&id) {
                return Some(Err(RecordError::new(
                    rec.position,
                    format!("title_id {id} was already read at line {first}; the rows of one title must be next to each other"),
                )));
            }
            self.seen.insert(id, rec.position.line.unwrap_or(0));
            if let Some(p) = self.pending.replace(rec) {
                return Some(Ok(p));
            }
        }
    }
}

fn first_difference(a: &TitleDraft, b: &TitleDraft) -> &'static str {
    if a.title != b.title {
        "title"
    } else if a.subtitle != b.subtitle {
        "subtitle"
    } else if a.contributors != b.contributors {
        "contributors"
    } else if a.subjects != b.subjects {
        "subjects"
    } else if a.tags != b.tags {
        "tags"
    } else if a.series != b.series {
        "series"
    } else if a.series_number != b.series_number {
        "series_number"
    } else if a.language != b.language {
        "language"
    } else if a.publisher != b.publisher {
        "publisher"
    } else if a.published != b.published {
        "published"
    } else if a.pages != b.pages {
        "pages"
    } else if a.isbn != b.isbn {
        "isbn13"
    } else if a.lccn != b.lccn {
        "lccn"
    } else if a.call_number != b.call_number {
        "call_number"
    } else {
        "notes"
    }
}

fn set(slot: &mut Option<String>, value: impl Into<String>) {
    if slot.is_none() {
        *slot = Some(value.into());
    }
}

fn list(value: &str, separator: &Option<String>, escaped: bool) -> Vec<String> {
    if escaped { values::split_escaped_list(value) } else { values::split_plain(value, separator.as_deref()) }
}

#[derive(Default)]
struct Builder {
    draft: TitleDraft,
    authors: Vec<String>,
    author_roles: Vec<String>,
    additional: Vec<String>,
    additional_roles: Vec<String>,
    others: Vec<Contributor>,
    isbn13: Option<String>,
    isbn: Option<String>,
    isbn10: Option<String>,
    notes: Vec<String>,
    copy: CopyDraft,
    copy_notes: Vec<String>,
    copy_present: bool,
    count: Option<u32>,
    record: ImportRecord,
    review: Vec<String>,
}

/// Maps one row to a record.
fn build_record(columns: &[Column], row: &csv::StringRecord, position: Position) -> Result<ImportRecord, String> {
    let mut b = Builder::default();
    for col in columns {
        let raw = match row.get(col.index) {
            Some(v) if !v.trim().is_empty() => v,
            _ => continue,
        };
        apply(&mut b, &col.field, raw).map_err(|reason| format!("column '{}' = '{}' {reason}", col.name, short(raw)))?;
    }
    Ok(b.finish(position))
}

fn apply(b: &mut Builder, field: &Field, raw: &str) -> Result<(), String> {
    let d = &mut b.draft;
    if field.is_copy_field() {
        b.copy_present = true;
    }
    match field {
        Field::Title { series_in_parentheses } => {
            if *series_in_parentheses && let Some((title, series, number)) = values::split_series_from_title(raw) {
                if d.title.is_empty() {
                    d.title = title;
                }
                set(&mut d.series, series);
                set(&mut d.series_number, number);
            } else if d.title.is_empty() {
                d.title = raw.to_string();
            }
        }
        Field::Subtitle => set(&mut d.subtitle, raw),
        Field::Authors { separator } => b.authors.extend(values::split_plain(raw, separator.as_deref())),
        Field::AdditionalAuthors { separator } => b.additional.extend(values::split_plain(raw, separator.as_deref())),
        Field::AuthorRoles { separator } => b.author_roles.extend(split_roles(raw, separator.as_deref())),
        Field::AdditionalAuthorRoles { separator } => b.additional_roles.extend(split_roles(raw, separator.as_deref())),
        Field::Contributor { role, separator } => {
            b.others.extend(values::split_plain(raw, separator.as_deref()).into_iter().map(|name| Contributor { name, role: role.clone() }))
        }
        Field::Contributors => b.others.extend(values::split_contributors(raw)?),
        Field::Isbn => {
            if let Some(i) = values::isbn_cell(raw) {
                set(&mut b.isbn, i)
            }
        }
        Field::Isbn13 => {
            if let Some(i) = values::isbn_cell(raw) {
                set(&mut b.isbn13, i)
            }
        }
        Field::Isbn10 => {
            if let Some(i) = values::isbn_cell(raw) {
                set(&mut b.isbn10, i)
            }
        }
        Field::Identifiers => {
            if let Some(i) = values::identifier(raw, "isbn") {
                set(&mut b.isbn, i)
            }
        }
        Field::Publisher => set(&mut d.publisher, raw),
        Field::PublicationStatement => {
            let end = raw.find(" (").or_else(|| raw.find(',')).unwrap_or(raw.len());
            let p = raw[..end].trim();
            if !p.is_empty() {
                set(&mut d.publisher, p)
            }
        }
        Field::Published { day_first } => {
            if let Some(p) = values::published(raw, *day_first)? {
                set(&mut d.published, p)
            }
        }
        Field::Pages => {
            if d.pages.is_none() {
                d.pages = values::pages(raw)?;
            }
        }
        Field::Language => {
            if let Some(l) = values::language(raw) {
                set(&mut d.language, l)
            }
        }
        Field::Series => set(&mut d.series, raw),
        Field::SeriesNumber => set(&mut d.series_number, raw),
        Field::SeriesIndex => {
            if d.series.is_some()
                && let Some(n) = values::series_index(raw)
            {
                set(&mut d.series_number, n)
            }
        }
        Field::Subjects { separator, escaped } => d.subjects.extend(list(raw, separator, *escaped)),
        Field::Tags { separator, escaped, skip } => {
            d.tags.extend(list(raw, separator, *escaped).into_iter().filter(|t| !skip.iter().any(|s| s.eq_ignore_ascii_case(t))))
        }
        Field::Lccn => set(&mut d.lccn, values::unformula(raw)),
        Field::CallNumber => set(&mut d.call_number, raw),
        Field::Notes => b.notes.push(raw.to_string()),
        Field::Barcode => {
            if b.copy.barcode.is_empty() {
                b.copy.barcode = values::unformula(raw).to_string();
            }
        }
        Field::Location => set(&mut b.copy.location, raw),
        Field::Shelf => set(&mut b.copy.shelf, raw),
        Field::Condition => set(&mut b.copy.condition, raw),
        Field::AcquiredOn { day_first } => {
            if b.copy.acquired_on.is_none() {
                b.copy.acquired_on = values::full_date(raw, *day_first)?;
            }
        }
        Field::Price => {
            if let Some((cents, currency)) = values::price(raw)? {
                b.copy.price_cents.get_or_insert(cents);
                if let Some(c) = currency {
                    set(&mut b.copy.currency, c);
                }
            }
        }
        Field::PriceCents => {
            let v: i64 = values::unformula(raw).parse().map_err(|_| "is not a whole number of cents".to_string())?;
            b.copy.price_cents.get_or_insert(v);
        }
        Field::Currency => set(&mut b.copy.currency, raw),
        Field::Provenance => set(&mut b.copy.provenance, raw),
        Field::CopyNotes => b.copy_notes.push(raw.to_string()),
        Field::CopiesCount => {
            let n = values::count(raw)?;
            if let Some(n) = n
                && n > MAX_COPIES_PER_ROW
            {
                return Err(format!("is more copies than one row may stand for ({MAX_COPIES_PER_ROW})"));
            }
            if b.count.is_none() {
                b.count = n;
            }
        }
        Field::ReadingState { other_as_tag } => match values::reading_state(raw) {
            Some(s) => {
                b.record.reading.get_or_insert(s);
            }
            None if *other_as_tag => d.tags.push(raw.trim().to_string()),
            None => return Err("is not a reading state (to read, reading, read, abandoned)".into()),
        },
        Field::Rating { out_of } => {
            if let Some(r) = values::rating(raw, out_of.unwrap_or(5))? {
                b.record.rating.get_or_insert(r);
            }
        }
        Field::Review => b.review.push(raw.to_string()),
        Field::SourceKey => set(&mut b.record.source_key, values::unformula(raw)),
        Field::TitleId => {
            let id = uuid::Uuid::parse_str(values::unformula(raw)).map_err(|_| "is not a Shelfkeeper title id (a UUID)".to_string())?;
            b.record.title_id.get_or_insert(id);
        }
        Field::Ignore => {}
    }
    Ok(())
}

fn split_roles(raw: &str, separator: Option<&str>) -> Vec<String> {
    match separator {
        Some(sep) if !sep.is_empty() => raw.split(sep).map(|r| r.trim().to_lowercase()).collect(),
        _ => vec![raw.trim().to_lowercase()],
    }
}

impl Builder {
    fn finish(mut self, position: Position) -> ImportRecord {
        let role = |roles: &[String], i: usize| roles.get(i).filter(|r| !r.is_empty()).cloned().unwrap_or_else(|| "author".to_string());
        let mut contributors = Vec::with_capacity(self.authors.len() + self.additional.len() + self.others.len());
        for (i, name) in self.authors.into_iter().enumerate() {
            contributors.push(Contributor { name, role: role(&self.author_roles, i) });
        }
        for (i, name) in self.additional.into_iter().enumerate() {
            contributors.push(Contributor { name, role: role(&self.additional_roles, i) });
        }
        contributors.extend(self.others);
        self.draft.contributors = contributors;
        self.draft.isbn = self.isbn13.or(self.isbn).or(self.isbn10);
        if !self.notes.is_empty() {
            self.draft.notes = Some(self.notes.join("\n\n"));
        }
        if !self.copy_notes.is_empty() {
            self.copy.notes = Some(self.copy_notes.join("\n\n"));
        }
        let n = match (self.copy_present, self.count) {
            (true, c) => c.unwrap_or(1).max(1),
            (false, c) => c.unwrap_or(0),
        };
        let mut copies = Vec::with_capacity(n as usize);
        if n > 0 {
            let mut rest = self.copy.clone();
            rest.barcode = String::new();
            copies.push(self.copy);
            for _ in 1..n {
                copies.push(rest.clone());
            }
        }
        let mut record = self.record;
        record.position = position;
        record.title = self.draft;
        record.copies = copies;
        if !self.review.is_empty() {
            record.review = Some(self.review.join("\n\n"));
        }
        record
    }
}
