//! Library of Congress SRU:
//! `GET {base}?version=1.1&operation=searchRetrieve&query=bath.isbn={isbn}&maximumRecords=1&recordSchema=marcxml`.
//!
//! The answer is an SRU `searchRetrieveResponse` whose record holds a
//! MARCXML `record`. Only the fields Shelfkeeper uses are read, by a small
//! pull parser: no DTD is processed and no entity other than XML's five and
//! character references is expanded (so no XXE). The record must carry the
//! ISBN asked for in an 020 $a, else the answer is not found.

use super::{encode, found};
use crate::language;
use crate::model::{BookFields, Provider, ProviderOutcome};
use crate::text::{clean, clean_isbd, leading_isbn, pages_from_extent, published, series_number};
use chrono::{DateTime, Utc};
use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use shelfkeeper_domain::isbn::Isbn;
use shelfkeeper_domain::model::Contributor;

/// The ISBN-10 where one exists: older catalogue records carry only it.
pub fn url(base: &str, isbn: &Isbn) -> String {
    let key = isbn.isbn10().unwrap_or_else(|| isbn.isbn13().to_string());
    format!(
        "{base}?version=1.1&operation=searchRetrieve&query={}&maximumRecords=1&recordSchema=marcxml",
        encode(&format!("bath.isbn={key}"))
    )
}

#[derive(Debug, Default)]
pub(crate) struct MarcRecord {
    pub control: Vec<(String, String)>,
    pub data: Vec<DataField>,
}

#[derive(Debug, Default)]
pub(crate) struct DataField {
    pub tag: String,
    pub ind2: String,
    pub subfields: Vec<(String, String)>,
}

impl DataField {
    fn sub(&self, code: &str) -> Option<&str> {
        self.subfields.iter().find(|(c, _)| c == code).map(|(_, v)| v.as_str())
    }
}

impl MarcRecord {
    fn fields<'a>(&'a self, tag: &str) -> impl Iterator<Item = &'a DataField> + use<'a> {
        let tag = tag.to_string();
        self.data.iter().filter(move |f| f.tag == tag)
    }

    fn first(&self, tag: &str, code: &str) -> Option<&str> {
        self.fields(tag).find_map(|f| f.sub(code))
    }
}

/// The SRU answer: how many records matched, the first MARC record, and
/// any diagnostic.
#[derive(Debug, Default)]
pub(crate) struct SruAnswer {
    pub number_of_records: Option<u64>,
    pub record: Option<MarcRecord>,
    pub diagnostic: Option<String>,
}

pub(crate) fn parse_sru(xml: &str) -> Result<SruAnswer, String> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut answer = SruAnswer::default();
    let mut saw_root = false;
    let mut record: Option<MarcRecord> = None;
    let mut text = String::new();
    // (tag, ind2, subfields) of the datafield being read; tag of a controlfield; code of a subfield.
    let mut datafield: Option<DataField> = None;
    let mut controlfield: Option<String> = None;
    let mut subfield: Option<String> = None;
    loop {
        let event = reader.read_event().map_err(|e| format!("malformed XML at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_string();
                if stack.is_empty() {
                    if name != "searchRetrieveResponse" {
                        return Err(format!("not an SRU answer (root element <{name}>)"));
                    }
                    saw_root = true;
                }
                let attr = |key: &str| -> Result<String, String> {
                    Ok(match e.try_get_attribute(key).map_err(|e| format!("malformed XML: {e}"))? {
                        Some(a) => a.normalized_value(XmlVersion::Implicit1_0).map_err(|e| format!("malformed XML: {e}"))?.into_owned(),
                        None => String::new(),
                    })
                };
                let parent = stack.last().map(String::as_str);
                if name == "record" && parent == Some("recordData") && answer.record.is_none() {
                    record = Some(MarcRecord::default());
                } else if record.is_some() {
                    match name.as_str() {
                        "controlfield" => controlfield = Some(attr("tag")?),
                        "datafield" => datafield = Some(DataField { tag: attr("tag")?, ind2: attr("ind2")?, subfields: Vec::new() }),
                        "subfield" => subfield = Some(attr("code")?),
                        _ => {}
                    }
                }
                text.clear();
                stack.push(name);
            }
            Event::Empty(_) => {}
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::CData(t) => text.push_str(&t.into_inner()),
            Event::GeneralRef(r) => {
                if let Some(c) = r.resolve_char_ref().map_err(|e| format!("malformed XML: {e}"))? {
                    text.push(c);
                } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(&r.xml10_content()) {
                    text.push_str(s);
                }
                // Any other entity is left out: never expanded.
            }
            Event::End(e) => {
                let name = e.local_name().as_ref().to_string();
                stack.pop();
                let parent = stack.last().map(String::as_str);
                match name.as_str() {
                    "numberOfRecords" if record.is_none() => {
                        answer.number_of_records = Some(text.trim().parse().map_err(|_| format!("numberOfRecords is '{}'", text.trim()))?);
                    }
                    "message" if answer.diagnostic.is_none() && stack.iter().any(|n| n == "diagnostic") => {
                        answer.diagnostic = clean(&text);
                    }
                    "subfield" => {
                        if let (Some(code), Some(df)) = (subfield.take(), datafield.as_mut()) {
                            df.subfields.push((code, text.clone()));
                        }
                    }
                    "datafield" => {
                        if let (Some(df), Some(r)) = (datafield.take(), record.as_mut()) {
                            r.data.push(df);
                        }
                    }
                    "controlfield" => {
                        if let (Some(tag), Some(r)) = (controlfield.take(), record.as_mut()) {
                            r.control.push((tag, text.clone()));
                        }
                    }
                    "record" if parent == Some("recordData") && answer.record.is_none() => {
                        answer.record = record.take();
                    }
                    _ => {}
                }
                text.clear();
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !saw_root {
        return Err("not an SRU answer (no root element)".into());
    }
    if !stack.is_empty() {
        return Err(format!("malformed XML: <{}> is never closed", stack.last().map(String::as_str).unwrap_or("")));
    }
    Ok(answer)
}

pub fn parse(body: &[u8], isbn: &Isbn, fetched_at: DateTime<Utc>) -> ProviderOutcome {
    let xml = match std::str::from_utf8(body) {
        Ok(s) => s,
        Err(_) => return ProviderOutcome::ProviderError("the Library of Congress's answer is not UTF-8".into()),
    };
    let answer = match parse_sru(xml) {
        Ok(a) => a,
        Err(e) => return ProviderOutcome::ProviderError(format!("Library of Congress: {e}")),
    };
    if let Some(d) = answer.diagnostic {
        return ProviderOutcome::ProviderError(format!("Library of Congress: {d}"));
    }
    let Some(n) = answer.number_of_records else {
        return ProviderOutcome::ProviderError("Library of Congress: the answer has no numberOfRecords".into());
    };
    let Some(record) = answer.record else {
        return if n == 0 {
            ProviderOutcome::not_found()
        } else {
            ProviderOutcome::ProviderError(format!("Library of Congress: {n} records matched but none was sent"))
        };
    };
    if !record.fields("020").filter_map(|f| f.sub("a")).filter_map(leading_isbn).any(|i| i == *isbn) {
        return ProviderOutcome::NotFound {
            note: Some("the Library of Congress returned a record that does not carry this ISBN; it was not taken".into()),
        };
    }
    let (fields, cover) = fields_of(&record, isbn);
    found(Provider::LibraryOfCongress, fetched_at, fields, cover)
}

fn contributor(f: &DataField) -> Option<Contributor> {
    let name = clean_isbd(f.sub("a")?)?;
    let role = f.sub("e").and_then(clean_isbd).map(|r| r.to_lowercase()).unwrap_or_else(|| "author".into());
    Some(Contributor { name, role })
}

fn fields_of(r: &MarcRecord, isbn: &Isbn) -> (BookFields, Option<String>) {
    let imprint = r.fields("264").find(|f| f.ind2 == "1").or_else(|| r.fields("260").next());
    let language = r
        .control
        .iter()
        .find(|(t, _)| t == "008")
        .and_then(|(_, v)| v.get(35..38))
        .and_then(language::normalise)
        .or_else(|| r.first("041", "a").and_then(language::normalise));
    let call_number = r
        .fields("050")
        .next()
        .and_then(|f| clean(&[f.sub("a"), f.sub("b")].into_iter().flatten().collect::<Vec<_>>().join(" ")))
        .or_else(|| r.first("082", "a").and_then(clean));
    let subjects = r
        .fields("650")
        .filter_map(|f| {
            let parts: Vec<String> = f
                .subfields
                .iter()
                .filter(|(c, _)| matches!(c.as_str(), "a" | "v" | "x" | "y" | "z"))
                .filter_map(|(_, v)| clean_isbd(v))
                .collect();
            (!parts.is_empty()).then(|| parts.join(" -- "))
        })
        .collect();
    let series = r.fields("490").next();
    let fields = BookFields {
        title: r.first("245", "a").and_then(clean_isbd),
        subtitle: r.first("245", "b").and_then(clean_isbd),
        contributors: r.fields("100").chain(r.fields("700")).filter_map(contributor).collect(),
        publisher: imprint.and_then(|f| f.sub("b")).and_then(clean_isbd),
        published: imprint.and_then(|f| f.sub("c")).and_then(published),
        pages: r.first("300", "a").and_then(pages_from_extent),
        language,
        subjects,
        lccn: r.first("010", "a").map(|s| s.split_whitespace().collect::<String>()).filter(|s| !s.is_empty()),
        call_number,
        series: series.and_then(|f| f.sub("a")).and_then(clean_isbd),
        series_number: series.and_then(|f| f.sub("v")).and_then(series_number),
        isbn: Some(isbn.isbn13().to_string()),
        notes: None,
    };
    (fields, None)
}
