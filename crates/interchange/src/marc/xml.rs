//! MARCXML (`http://www.loc.gov/MARC21/slim`): a streaming reader that never
//! expands entities beyond XML's five and character references (no DTD is
//! read, so no external entity is ever fetched), with caps on value and
//! record sizes; and the writer.

use super::{MarcField, MarcRecord, map};
use crate::{FileError, FileErrorCode, ImportRecord, Position, RecordError, WriteError};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use shelfkeeper_domain::model::{Copy, Title};
use std::borrow::Cow;
use std::io::Write;

/// The longest value (leader, control field, subfield) accepted.
pub const MAX_VALUE_BYTES: usize = 1 << 20;
/// The most fields in one record.
pub const MAX_FIELDS: usize = 10_000;

fn new_reader(input: &[u8]) -> Reader<&[u8]> {
    let mut r = Reader::from_reader(input);
    let c = r.config_mut();
    c.trim_text(false);
    c.expand_empty_elements = true;
    c.check_end_names = true;
    c.allow_unmatched_ends = true;
    r
}

fn local(e: &BytesStart<'_>) -> Vec<u8> {
    e.local_name().as_ref().as_bytes().to_vec()
}

fn attr(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, String> {
    match e.try_get_attribute(name) {
        Ok(Some(a)) => a.normalized_value(quick_xml::XmlVersion::Implicit1_0).map(|v| Some(v.into_owned())).map_err(|e| e.to_string()),
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// Finds the next `<record` or `<prefix:record` start tag at or after `from`.
fn find_record_start(input: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < input.len() {
        let lt = i + input[i..].iter().position(|&b| b == b'<')?;
        let rest = &input[lt + 1..];
        let name_end = rest.iter().position(|&b| b.is_ascii_whitespace() || b == b'>' || b == b'/').unwrap_or(rest.len());
        let name = &rest[..name_end];
        let local = name.rsplit(|&b| b == b':').next().unwrap_or(name);
        if local == b"record" && name_end < rest.len() {
            return Some(lt);
        }
        i = lt + 1;
    }
    None
}

/// Reads MARCXML records one at a time (an iterator).
pub struct MarcXmlReader<'a> {
    input: &'a [u8],
    reader: Reader<&'a [u8]>,
    base: usize,
    record: u64,
    done: bool,
}

enum Target {
    None,
    Leader,
    Control([u8; 3]),
    Sub(char),
}

impl<'a> MarcXmlReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<Self, FileError> {
        let input = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if input.iter().all(u8::is_ascii_whitespace) {
            return Err(FileError::new(FileErrorCode::Empty, "the file is empty"));
        }
        let mut reader = new_reader(input);
        loop {
            let before = reader.buffer_position() as usize;
            match reader.read_event() {
                Ok(Event::Start(e)) => {
                    let name = local(&e);
                    if name == b"collection" {
                        return Ok(MarcXmlReader { input, reader, base: 0, record: 0, done: false });
                    }
                    if name == b"record" {
                        let at = before + input[before..].iter().position(|&b| b == b'<').unwrap_or(0);
                        // Re-read from the record's start so one code path parses it.
                        let reader = new_reader(&input[at..]);
                        return Ok(MarcXmlReader { input, reader, base: at, record: 0, done: false });
                    }
                    return Err(FileError::new(
                        FileErrorCode::NotMarcXml,
                        format!(
                            "this is not MARCXML: the root element is <{}>, not <collection> or <record>",
                            String::from_utf8_lossy(&name)
                        ),
                    ));
                }
                Ok(Event::Eof) => return Err(FileError::new(FileErrorCode::NotMarcXml, "this is not MARCXML: it has no root element")),
                Ok(Event::Text(t)) if !t.xml10_content().trim().is_empty() => {
                    return Err(FileError::new(FileErrorCode::NotMarcXml, "this is not MARCXML: it has text before the root element"));
                }
                Ok(_) => {}
                Err(e) => return Err(FileError::new(FileErrorCode::NotMarcXml, format!("this is not MARCXML: {e}"))),
            }
        }
    }

    fn resync(&mut self, after: usize) {
        match find_record_start(self.input, after) {
            Some(at) => {
                self.reader = new_reader(&self.input[at..]);
                self.base = at;
            }
            None => self.done = true,
        }
    }

    /// The next raw record, before mapping.
    pub fn next_raw(&mut self) -> Option<Result<(Position, MarcRecord<'static>), RecordError>> {
        while !self.done {
            let before = self.base + self.reader.buffer_position() as usize;
            match self.reader.read_event() {
                Ok(Event::Start(e)) if local(&e) == b"record" => {
                    self.record += 1;
                    let position = Position::at_byte(self.record, before as u64);
                    return Some(match self.read_record() {
                        Ok(rec) => Ok((position, rec)),
                        Err((message, fatal)) => {
                            if fatal {
                                let at = self.base + self.reader.buffer_position() as usize;
                                self.resync(at.max(before + 1));
                            }
                            Err(RecordError::new(position, message))
                        }
                    });
                }
                Ok(Event::Eof) => self.done = true,
                Ok(_) => {}
                Err(e) => {
                    self.record += 1;
                    let at = self.base + self.reader.error_position() as usize;
                    let position = Position::at_byte(self.record, at as u64);
                    self.resync(at + 1);
                    return Some(Err(RecordError::new(position, format!("is not well-formed XML: {e}"))));
                }
            }
        }
        None
    }

    /// Reads up to the record's end. `Err((message, fatal))`: fatal when the
    /// XML itself is broken and the reader must resynchronise.
    fn read_record(&mut self) -> Result<MarcRecord<'static>, (String, bool)> {
        let mut rec = MarcRecord { leader: Cow::Borrowed(""), fields: Vec::new() };
        let mut problem: Option<String> = None;
        let mut target = Target::None;
        let mut text = String::new();
        let mut field: Option<MarcField<'static>> = None;
        let mut depth = 0usize;
        loop {
            let ev = self.reader.read_event().map_err(|e| (format!("is not well-formed XML: {e}"), true))?;
            match ev {
                Event::Start(e) => {
                    depth += 1;
                    let name = local(&e);
                    match name.as_slice() {
                        b"leader" => target = Target::Leader,
                        b"controlfield" | b"datafield" => {
                            let tag = attr(&e, "tag").map_err(|m| (m, true))?.unwrap_or_default();
                            let tag = tag.trim();
                            if tag.len() != 3 || !tag.is_ascii() {
                                problem.get_or_insert(format!(
                                    "a {} has tag '{tag}', which is not a MARC tag",
                                    String::from_utf8_lossy(&name)
                                ));
                            }
                            let t = super::tag_bytes(tag);
                            if rec.fields.len() >= MAX_FIELDS {
                                problem.get_or_insert(format!("has more than {MAX_FIELDS} fields"));
                            }
                            if name == b"controlfield" {
                                target = Target::Control(t);
                            } else {
                                let ind = |n: &str| -> Result<char, (String, bool)> {
                                    let v = attr(&e, n).map_err(|m| (m, true))?.unwrap_or_else(|| " ".into());
                                    Ok(v.chars().next().unwrap_or(' '))
                                };
                                field =
                                    Some(MarcField { tag: t, ind1: ind("ind1")?, ind2: ind("ind2")?, value: None, subfields: Vec::new() });
                            }
                        }
                        b"subfield" => {
                            let code = attr(&e, "code").map_err(|m| (m, true))?.unwrap_or_default();
                            let mut chars = code.chars();
                            match (chars.next(), chars.next(), &field) {
                                (Some(c), None, Some(_)) => target = Target::Sub(c),
                                (_, _, None) => {
                                    problem.get_or_insert("has a subfield outside a datafield".into());
                                }
                                _ => {
                                    problem.get_or_insert(format!("has a subfield with code '{code}'; a code is one character"));
                                }
                            }
                        }
                        _ => {}
                    }
                    text.clear();
                }
                Event::Text(t) if !matches!(target, Target::None) => text.push_str(&t.xml10_content()),
                Event::CData(t) if !matches!(target, Target::None) => text.push_str(&t.xml10_content()),
                Event::GeneralRef(r) if !matches!(target, Target::None) => match r.resolve_char_ref() {
                    Ok(Some(c)) => text.push(c),
                    Ok(None) => match &*r {
                        "amp" => text.push('&'),
                        "lt" => text.push('<'),
                        "gt" => text.push('>'),
                        "quot" => text.push('"'),
                        "apos" => text.push('\''),
                        other => {
                            problem.get_or_insert(format!("uses the entity &{other};, which is not expanded"));
                        }
                    },
                    Err(e) => {
                        problem.get_or_insert(format!("has a bad character reference: {e}"));
                    }
                },
                Event::End(e) => {
                    let name = e.local_name().as_ref().as_bytes().to_vec();
                    if text.len() > MAX_VALUE_BYTES {
                        problem.get_or_insert(format!("has a value longer than {MAX_VALUE_BYTES} bytes"));
                        text.clear();
                    }
                    match (name.as_slice(), std::mem::replace(&mut target, Target::None)) {
                        (b"leader", Target::Leader) => rec.leader = Cow::Owned(std::mem::take(&mut text)),
                        (b"controlfield", Target::Control(t)) => rec.fields.push(MarcField {
                            tag: t,
                            ind1: ' ',
                            ind2: ' ',
                            value: Some(Cow::Owned(std::mem::take(&mut text))),
                            subfields: Vec::new(),
                        }),
                        (b"subfield", Target::Sub(c)) => {
                            if let Some(f) = &mut field {
                                f.subfields.push((c, Cow::Owned(std::mem::take(&mut text))));
                            }
                        }
                        (b"datafield", _) => {
                            if let Some(f) = field.take()
                                && rec.fields.len() < MAX_FIELDS
                            {
                                rec.fields.push(f);
                            }
                        }
                        (b"record", _) if depth == 0 => break,
                        _ => {}
                    }
                    target = Target::None;
                    text.clear();
                    depth = depth.saturating_sub(1);
                }
                Event::Eof => return Err((format!("the file ends inside record {}", self.record), true)),
                _ => {}
            }
        }
        match problem {
            Some(p) => Err((p, false)),
            None => Ok(rec),
        }
    }
}

impl Iterator for MarcXmlReader<'_> {
    type Item = Result<ImportRecord, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(match self.next_raw()? {
            Ok((position, rec)) => map::to_import(&rec, position).map_err(|m| RecordError::new(position, m)),
            Err(e) => Err(e),
        })
    }
}

/// Escapes text for an element or a double-quoted attribute; `\r` becomes
/// `&#13;` so XML's end-of-line handling keeps it.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// Appends one `<record>` element.
pub fn write_record_xml(rec: &MarcRecord<'_>, out: &mut String) {
    out.push_str("  <record>\n    <leader>");
    escape_into(out, &rec.leader);
    out.push_str("</leader>\n");
    for f in &rec.fields {
        match &f.value {
            Some(v) => {
                out.push_str("    <controlfield tag=\"");
                escape_into(out, f.tag_str());
                out.push_str("\">");
                escape_into(out, v);
                out.push_str("</controlfield>\n");
            }
            None => {
                out.push_str("    <datafield tag=\"");
                escape_into(out, f.tag_str());
                out.push_str("\" ind1=\"");
                escape_into(out, &f.ind1.to_string());
                out.push_str("\" ind2=\"");
                escape_into(out, &f.ind2.to_string());
                out.push_str("\">\n");
                for (code, v) in &f.subfields {
                    out.push_str("      <subfield code=\"");
                    escape_into(out, &code.to_string());
                    out.push_str("\">");
                    escape_into(out, v);
                    out.push_str("</subfield>\n");
                }
                out.push_str("    </datafield>\n");
            }
        }
    }
    out.push_str("  </record>\n");
}

pub const XML_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<collection xmlns=\"http://www.loc.gov/MARC21/slim\">\n";
pub const XML_TAIL: &str = "</collection>\n";

/// Writes titles as a MARCXML collection (UTF-8).
pub struct MarcXmlWriter<W: Write> {
    out: W,
    buf: String,
    started: bool,
}

impl<W: Write> MarcXmlWriter<W> {
    pub fn new(out: W) -> Self {
        MarcXmlWriter { out, buf: String::with_capacity(4096), started: false }
    }

    fn start(&mut self) -> Result<(), WriteError> {
        if !self.started {
            self.out.write_all(XML_HEAD.as_bytes())?;
            self.started = true;
        }
        Ok(())
    }

    /// Writes one title; refuses characters XML cannot carry (see the crate
    /// docs) with `WriteError::Unrepresentable`.
    pub fn write(&mut self, title: &Title, copies: &[Copy]) -> Result<(), WriteError> {
        map::check_representable(title, copies)?;
        self.start()?;
        self.buf.clear();
        write_record_xml(&map::to_marc(title, copies), &mut self.buf);
        self.out.write_all(self.buf.as_bytes())?;
        Ok(())
    }

    /// Closes the collection and returns the output.
    pub fn finish(mut self) -> Result<W, WriteError> {
        self.start()?;
        self.out.write_all(XML_TAIL.as_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}
