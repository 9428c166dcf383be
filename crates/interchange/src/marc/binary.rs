//! ISO 2709 (MARC 21 "binary"): the reader, with resynchronisation after a
//! broken record, and the writer.

use super::{MarcField, MarcRecord, map, marc8};
use crate::{FileError, FileErrorCode, ImportRecord, Position, RecordError, WriteError};
use shelfkeeper_domain::model::{Copy, Title};
use std::borrow::Cow;
use std::io::Write;

const RECORD_END: u8 = 0x1D;
const FIELD_END: u8 = 0x1E;
const SUBFIELD: u8 = 0x1F;

/// Whether the bytes start like a MARC leader: a five-digit length, "22" at
/// 10–11 and a five-digit base address.
pub fn looks_like_leader(b: &[u8]) -> bool {
    b.len() >= 24 && b[..5].iter().all(u8::is_ascii_digit) && b[12..17].iter().all(u8::is_ascii_digit) && &b[10..12] == b"22"
}

fn number(bytes: &[u8]) -> Option<usize> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    bytes.iter().try_fold(0usize, |acc, &b| acc.checked_mul(10)?.checked_add(usize::from(b - b'0')))
}

fn shown(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Coding {
    Utf8,
    Marc8,
}

/// Names the field holding the first byte that is not UTF-8.
fn utf8_problem(directory: &[u8], data: &[u8], at: usize) -> String {
    for entry in directory.chunks_exact(12) {
        let (Some(flen), Some(start)) = (number(&entry[3..7]), number(&entry[7..12])) else { continue };
        if (start..start + flen).contains(&at) {
            let tag = shown(&entry[..3]);
            let sub = data[start..at].iter().rposition(|&b| b == SUBFIELD).and_then(|i| data.get(start + i + 1)).map(|&c| c as char);
            return match sub {
                Some(c) if c.is_ascii_graphic() => format!("leader/09 says UTF-8 but field {tag} ${c} is not UTF-8"),
                _ => format!("leader/09 says UTF-8 but field {tag} is not UTF-8"),
            };
        }
    }
    format!("leader/09 says UTF-8 but byte {at} of the data is not UTF-8")
}

/// Parses one record at the start of `buf`; returns it and its length.
pub fn parse_record(buf: &[u8]) -> Result<(MarcRecord<'_>, usize), String> {
    if buf.len() < 24 {
        return Err(format!("only {} bytes remain, too few for a leader (24 bytes)", buf.len()));
    }
    let len = number(&buf[..5]).ok_or_else(|| format!("the leader's record length '{}' is not a number", shown(&buf[..5])))?;
    if len < 26 {
        return Err(format!("the leader says {len} bytes, too few for a record"));
    }
    if len > buf.len() {
        return Err(format!("leader says {len} bytes but only {} remain", buf.len()));
    }
    if buf[len - 1] != RECORD_END {
        return Err(format!("leader says {len} bytes but the record does not end there with a record terminator (0x1D)"));
    }
    let base = number(&buf[12..17]).ok_or_else(|| format!("the leader's base address '{}' is not a number", shown(&buf[12..17])))?;
    if base < 25 || base > len - 1 {
        return Err(format!("the leader's base address {base} is outside the record ({len} bytes)"));
    }
    if buf[base - 1] != FIELD_END {
        return Err("the directory does not end with a field terminator (0x1E)".into());
    }
    let leader = std::str::from_utf8(&buf[..24]).ok().filter(|l| l.is_ascii()).ok_or("the leader is not ASCII")?;
    let directory = &buf[24..base - 1];
    if !directory.len().is_multiple_of(12) {
        return Err(format!("the directory is {} bytes long, not a multiple of 12", directory.len()));
    }
    let data = &buf[base..len - 1];
    let coding = match buf[9] {
        b'a' => Coding::Utf8,
        b' ' => Coding::Marc8,
        // Unknown: UTF-8 if it is, else MARC-8.
        _ if std::str::from_utf8(data).is_ok() => Coding::Utf8,
        _ => Coding::Marc8,
    };
    // A UTF-8 record is validated once; values are then slices of it (the
    // delimiters are ASCII, so every slice falls on a character boundary).
    let text: Option<&str> = match coding {
        Coding::Utf8 => match std::str::from_utf8(data) {
            Ok(t) => Some(t),
            Err(e) => return Err(utf8_problem(directory, data, e.valid_up_to())),
        },
        Coding::Marc8 => None,
    };
    let decode = |start: usize, end: usize, tag: &str, code: Option<char>| -> Result<Cow<'_, str>, String> {
        match text {
            Some(t) => t.get(start..end).map(Cow::Borrowed).ok_or_else(|| format!("field {tag}: the directory points inside a character")),
            None => marc8::to_utf8(&data[start..end]).map_err(|e| match code {
                Some(c) => format!("field {tag} ${c} {e}"),
                None => format!("field {tag} {e}"),
            }),
        }
    };
    let mut fields = Vec::with_capacity(directory.len() / 12);
    for (k, entry) in directory.chunks_exact(12).enumerate() {
        let tag_b = &entry[..3];
        if !tag_b.iter().all(u8::is_ascii_alphanumeric) {
            return Err(format!("directory entry {} has tag '{}', which is not a MARC tag", k + 1, shown(tag_b)));
        }
        let tag = std::str::from_utf8(tag_b).unwrap_or("???");
        let flen = number(&entry[3..7]).ok_or_else(|| format!("field {tag}: the length '{}' is not a number", shown(&entry[3..7])))?;
        let start = number(&entry[7..12]).ok_or_else(|| format!("field {tag}: the start '{}' is not a number", shown(&entry[7..12])))?;
        if flen == 0 || start + flen > data.len() {
            return Err(format!(
                "field {tag}: the directory points beyond the record (start {start}, length {flen}, data {} bytes)",
                data.len()
            ));
        }
        let bytes = &data[start..start + flen];
        if bytes[flen - 1] != FIELD_END {
            return Err(format!("field {tag} does not end with a field terminator (0x1E)"));
        }
        let bytes = &bytes[..flen - 1];
        let field_start = start;
        let tag_arr = [tag_b[0], tag_b[1], tag_b[2]];
        if tag_b[0] == b'0' && tag_b[1] == b'0' {
            fields.push(MarcField {
                tag: tag_arr,
                ind1: ' ',
                ind2: ' ',
                value: Some(decode(field_start, field_start + bytes.len(), tag, None)?),
                subfields: Vec::new(),
            });
            continue;
        }
        if bytes.len() < 2 {
            return Err(format!("field {tag} is too short for its two indicators"));
        }
        let (ind1, ind2) = (bytes[0], bytes[1]);
        if !ind1.is_ascii() || !ind2.is_ascii() || ind1 == SUBFIELD || ind2 == SUBFIELD {
            return Err(format!("field {tag} has no indicators"));
        }
        let body = &bytes[2..];
        if body.first().is_some_and(|&b| b != SUBFIELD) {
            return Err(format!("field {tag} has data before its first subfield"));
        }
        let mut subfields = Vec::with_capacity(4);
        let mut pos = 0;
        while pos < body.len() {
            // body[pos] is a delimiter.
            let end = body[pos + 1..].iter().position(|&b| b == SUBFIELD).map_or(body.len(), |i| pos + 1 + i);
            if end > pos + 1 {
                let code = body[pos + 1];
                if !code.is_ascii_graphic() {
                    return Err(format!("field {tag} has a subfield with code byte 0x{code:02X}"));
                }
                let at = field_start + 2 + pos + 2;
                subfields.push((code as char, decode(at, field_start + 2 + end, tag, Some(code as char))?));
            }
            pos = end;
        }
        fields.push(MarcField { tag: tag_arr, ind1: ind1 as char, ind2: ind2 as char, value: None, subfields });
    }
    Ok((MarcRecord { leader: Cow::Borrowed(leader), fields }, len))
}

/// Reads ISO 2709 records one at a time (an iterator). After a broken
/// record it goes on after the next record terminator.
pub struct MarcReader<'a> {
    data: &'a [u8],
    pos: usize,
    record: u64,
}

impl<'a> MarcReader<'a> {
    pub fn new(data: &'a [u8]) -> Result<Self, FileError> {
        let start =
            data.iter().position(|b| !b.is_ascii_whitespace()).ok_or_else(|| FileError::new(FileErrorCode::Empty, "the file is empty"))?;
        if !looks_like_leader(&data[start..]) {
            return Err(FileError::new(FileErrorCode::NotMarc, "this is not a MARC21 file: it does not start with a record leader"));
        }
        Ok(MarcReader { data, pos: start, record: 0 })
    }

    /// The next raw record, before mapping.
    pub fn next_raw(&mut self) -> Option<Result<(Position, MarcRecord<'a>), RecordError>> {
        let data = self.data;
        while self.pos < data.len() && (data[self.pos].is_ascii_whitespace() || data[self.pos] == 0x1A || data[self.pos] == 0) {
            self.pos += 1;
        }
        if self.pos >= data.len() {
            return None;
        }
        self.record += 1;
        let start = self.pos;
        let position = Position::at_byte(self.record, start as u64);
        match parse_record(&data[start..]) {
            Ok((rec, len)) => {
                self.pos = start + len;
                Some(Ok((position, rec)))
            }
            Err(message) => {
                self.pos = match data[start..].iter().position(|&b| b == RECORD_END) {
                    Some(i) => start + i + 1,
                    None => data.len(),
                };
                Some(Err(RecordError::new(position, message)))
            }
        }
    }
}

impl Iterator for MarcReader<'_> {
    type Item = Result<ImportRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(match self.next_raw()? {
            Ok((position, rec)) => map::to_import(&rec, position).map_err(|m| RecordError::new(position, m)),
            Err(e) => Err(e),
        })
    }
}

/// Appends one record in ISO 2709. Fails on values the format cannot carry
/// (terminator bytes, a field over 9,999 bytes, a record over 99,999).
pub fn write_record(rec: &MarcRecord<'_>, out: &mut Vec<u8>) -> Result<(), String> {
    let mut directory = Vec::with_capacity(rec.fields.len() * 12);
    let mut data = Vec::with_capacity(256);
    for f in &rec.fields {
        let start = data.len();
        let check = |s: &str| -> Result<(), String> {
            if s.bytes().any(|b| b == RECORD_END || b == FIELD_END || b == SUBFIELD) {
                Err(format!("field {} holds a MARC terminator character", f.tag_str()))
            } else {
                Ok(())
            }
        };
        match &f.value {
            Some(v) => {
                check(v)?;
                data.extend_from_slice(v.as_bytes());
            }
            None => {
                if !f.ind1.is_ascii() || !f.ind2.is_ascii() {
                    return Err(format!("field {} has non-ASCII indicators", f.tag_str()));
                }
                data.push(f.ind1 as u8);
                data.push(f.ind2 as u8);
                for (code, v) in &f.subfields {
                    check(v)?;
                    data.push(SUBFIELD);
                    let mut buf = [0u8; 4];
                    data.extend_from_slice(code.encode_utf8(&mut buf).as_bytes());
                    data.extend_from_slice(v.as_bytes());
                }
            }
        }
        data.push(FIELD_END);
        let flen = data.len() - start;
        if flen > 9999 {
            return Err(format!("field {} is {flen} bytes long; MARC allows 9,999", f.tag_str()));
        }
        directory.extend_from_slice(&f.tag);
        directory.extend_from_slice(format!("{flen:04}{start:05}").as_bytes());
    }
    let base = 24 + directory.len() + 1;
    let total = base + data.len() + 1;
    if total > 99_999 {
        return Err(format!("the record is {total} bytes long; MARC allows 99,999"));
    }
    let mut leader: Vec<u8> = rec.leader.bytes().take(24).collect();
    leader.resize(24, b' ');
    leader[..5].copy_from_slice(format!("{total:05}").as_bytes());
    leader[10..12].copy_from_slice(b"22");
    leader[12..17].copy_from_slice(format!("{base:05}").as_bytes());
    leader[20..24].copy_from_slice(b"4500");
    out.extend_from_slice(&leader);
    out.extend_from_slice(&directory);
    out.push(FIELD_END);
    out.extend_from_slice(&data);
    out.push(RECORD_END);
    Ok(())
}

/// Writes titles as MARC 21 records in ISO 2709 (UTF-8).
pub struct Marc21Writer<W: Write> {
    out: W,
    buf: Vec<u8>,
}

impl<W: Write> Marc21Writer<W> {
    pub fn new(out: W) -> Self {
        Marc21Writer { out, buf: Vec::with_capacity(4096) }
    }

    pub fn write(&mut self, title: &Title, copies: &[Copy]) -> Result<(), WriteError> {
        map::check_representable(title, copies)?;
        let rec = map::to_marc(title, copies);
        self.buf.clear();
        write_record(&rec, &mut self.buf).map_err(|message| WriteError::Unrepresentable {
            title_id: title.id.to_string(),
            field: "record".into(),
            message,
        })?;
        self.out.write_all(&self.buf)?;
        Ok(())
    }

    pub fn finish(mut self) -> Result<W, WriteError> {
        self.out.flush()?;
        Ok(self.out)
    }
}
