//! MARC record ↔ Shelfkeeper: the mapping described in the module docs.

use super::{MarcField, MarcRecord};
use crate::values::{self, strip_isbd};
use crate::{ImportRecord, Position, WriteError};
use shelfkeeper_domain::model::{Contributor, Copy, CopyDraft, Title};
use std::borrow::Cow;

fn relator(code: &str) -> String {
    let c = code.trim().trim_end_matches('.').to_lowercase();
    match c.as_str() {
        "aut" => "author",
        "edt" => "editor",
        "trl" => "translator",
        "ill" => "illustrator",
        "nrt" => "narrator",
        "com" => "compiler",
        "ctb" => "contributor",
        "cmp" => "composer",
        "pht" => "photographer",
        "adp" => "adapter",
        "art" => "artist",
        "aui" | "win" => "author of introduction",
        "aft" => "author of afterword",
        "cre" => "creator",
        "prf" => "performer",
        "pbl" => "publisher",
        "ed" => "editor",
        _ => return c,
    }
    .to_string()
}

fn role_text(s: &str) -> String {
    let r = s.trim().trim_end_matches([',', ';', ':']).trim().to_lowercase();
    match r.as_str() {
        "ill." | "illus." => "illustrator".into(),
        "ed." | "eds." => "editor".into(),
        "tr." | "trans." => "translator".into(),
        "comp." => "compiler".into(),
        _ => r.trim_end_matches('.').to_string(),
    }
}

/// Appends `s` without ISBD punctuation, after `sep` if `out` has text.
fn join_clean(out: &mut String, s: &str, sep: &str) {
    let s = strip_isbd(s);
    if s.is_empty() {
        return;
    }
    if !out.is_empty() {
        out.push_str(sep);
    }
    out.push_str(s);
}

fn non_empty(s: String) -> Option<String> {
    if s.trim().is_empty() { None } else { Some(s) }
}

/// The number before "p." / "pages" in a 300 $a ("xii, 310 p." → 310).
fn pages_of(extent: &str) -> Option<i64> {
    let words: Vec<&str> = extent.split_whitespace().collect();
    let mut found = None;
    for w in 1..words.len() {
        let lw = words[w].to_lowercase();
        if lw.starts_with('p')
            && (lw.starts_with("p.") || lw == "p" || lw.starts_with("pages") || lw.starts_with("pp") || lw.starts_with("page"))
        {
            let n = words[w - 1].trim_matches(|c: char| c == '[' || c == ']' || c == ',');
            if let Ok(v) = n.parse::<i64>()
                && v > 0
            {
                found = Some(v);
            }
        }
    }
    found
}

/// Maps one MARC record to an import record.
pub fn to_import(rec: &MarcRecord<'_>, position: Position) -> Result<ImportRecord, String> {
    let own = rec.control("003").map(str::trim) == Some("Shelfkeeper");
    let txt = |s: &str| -> String { if own { s.to_string() } else { strip_isbd(s).to_string() } };
    let mut r = ImportRecord { position, ..Default::default() };
    let d = &mut r.title;

    if let Some(id) = rec.control("001").map(str::trim).filter(|s| !s.is_empty()) {
        if own {
            r.title_id = Some(uuid::Uuid::parse_str(id).map_err(|_| format!("001 '{id}' is not a Shelfkeeper title id"))?);
        } else {
            r.source_key = Some(id.to_string());
        }
    }
    d.lccn =
        rec.fields("010").find_map(|f| f.first('a')).map(|a| if own { a.to_string() } else { a.trim().to_string() }).and_then(non_empty);
    d.isbn = rec
        .fields("020")
        .filter_map(|f| f.first('a'))
        .map(|a| if own { a.to_string() } else { values::strip_isbn_qualifier(a).to_string() })
        .find(|a| !a.trim().is_empty());
    d.language = match rec.fields("041").find_map(|f| f.first('a')) {
        Some(a) if own => Some(a.to_string()),
        Some(a) => {
            let t = a.trim();
            Some(if t.len() > 3 && t.len() % 3 == 0 && t.is_ascii() { t[..3].to_string() } else { t.to_string() })
        }
        None => rec.control("008").and_then(|f| f.get(35..38)).filter(|l| l.chars().all(|c| c.is_ascii_alphabetic())).map(str::to_string),
    }
    .and_then(non_empty);

    for tag in ["090", "092", "099", "050", "082"] {
        if let Some(f) = rec.fields(tag).find(|f| f.first('a').is_some()) {
            let a = f.first('a').unwrap_or_default();
            d.call_number = if own {
                Some(a.to_string())
            } else {
                let mut parts = vec![a.trim().to_string()];
                parts.extend(f.first('b').map(|b| b.trim().to_string()));
                let joined = parts.join(" ");
                Some(if tag == "082" { joined.replace('/', "") } else { joined })
            };
            break;
        }
    }

    // Contributors: main entries, then added entries.
    for main in [true, false] {
        for f in &rec.fields {
            let tags: &[&str] = if main { &["100", "110", "111"] } else { &["700", "710", "711"] };
            if !tags.iter().any(|t| f.is(t)) || (!main && f.first('t').is_some()) {
                continue;
            }
            let meeting = f.tag[1] == b'1' && f.tag[2] == b'1';
            let (name, role) = if own {
                (f.first('a').unwrap_or_default().to_string(), f.first('e').map(str::to_string))
            } else {
                let mut name = String::new();
                let sep = if f.tag[1] == b'1' && f.tag[2] == b'0' { ". " } else { " " };
                for p in f.first('a').into_iter().chain(f.all('b')) {
                    join_clean(&mut name, p, sep);
                }
                let name = strip_isbd(&name).to_string();
                let role =
                    f.first(if meeting { 'j' } else { 'e' }).map(role_text).filter(|r| !r.is_empty()).or_else(|| f.first('4').map(relator));
                (name, role)
            };
            if name.trim().is_empty() {
                continue;
            }
            d.contributors.push(Contributor { name, role: role.unwrap_or_else(|| "author".into()) });
        }
    }

    if let Some(f) = rec.field("245") {
        if own {
            d.title = f.first('a').unwrap_or_default().to_string();
            d.subtitle = f.first('b').map(str::to_string);
        } else {
            let mut title = String::new();
            for (_, v) in f.subfields.iter().filter(|(c, _)| matches!(c, 'a' | 'n' | 'p')) {
                join_clean(&mut title, v, ". ");
            }
            d.title = title;
            d.subtitle = f.first('b').map(|b| strip_isbd(b).to_string()).and_then(non_empty);
        }
    }

    let mut notes: Vec<String> = Vec::new();
    if !own && let Some(ed) = rec.fields("250").find_map(|f| f.first('a')) {
        notes.push(format!("Edition: {}", strip_isbd(ed)));
    }

    let imprint = rec.field("260").or_else(|| rec.fields("264").find(|f| f.ind2 == '1')).or_else(|| rec.field("264"));
    if let Some(f) = imprint {
        d.publisher = f.first('b').map(&txt).and_then(non_empty);
        let c = f.first('c');
        d.published = if own { c.map(str::to_string) } else { c.and_then(|c| values::published(c, false).ok().flatten()) };
    }
    if d.published.is_none() && !own {
        d.published = rec.control("008").and_then(|f| f.get(7..11)).filter(|y| y.chars().all(|c| c.is_ascii_digit())).map(str::to_string);
    }
    d.pages = rec.fields("300").find_map(|f| f.first('a')).and_then(pages_of);

    if let Some(f) = rec.field("490").or_else(|| rec.field("830")) {
        d.series = f.first('a').map(&txt).and_then(non_empty);
        d.series_number = f.first('v').map(&txt).and_then(non_empty);
    }
    for tag in ["500", "520"] {
        if own && tag == "520" {
            continue;
        }
        for f in rec.fields(tag) {
            for a in f.all('a') {
                let n = if own { a.to_string() } else { a.trim().to_string() };
                if !n.trim().is_empty() {
                    notes.push(n);
                }
            }
        }
    }
    if !notes.is_empty() {
        d.notes = Some(notes.join("\n\n"));
    }

    for f in &rec.fields {
        if !["600", "610", "611", "630", "650", "651"].iter().any(|t| f.is(t)) {
            continue;
        }
        let subject = if own {
            f.first('a').unwrap_or_default().to_string()
        } else {
            let mut subject = String::new();
            for (_, v) in f.subfields.iter().filter(|(c, _)| "abcdqt".contains(*c)) {
                join_clean(&mut subject, v, " ");
            }
            for (_, v) in f.subfields.iter().filter(|(c, _)| "vxyz".contains(*c)) {
                join_clean(&mut subject, v, " -- ");
            }
            let end = strip_isbd(&subject).len();
            subject.truncate(end);
            subject
        };
        if !subject.trim().is_empty() {
            d.subjects.push(subject);
        }
    }
    for f in rec.fields("653") {
        for a in f.all('a') {
            let t = if own { a.to_string() } else { a.trim().to_string() };
            if !t.trim().is_empty() {
                d.tags.push(t);
            }
        }
    }

    // Copies.
    let text =
        |s: Option<&str>| -> Option<String> { s.map(|v| if own { v.to_string() } else { v.trim().to_string() }).and_then(non_empty) };
    let mut links: Vec<Option<String>> = Vec::new();
    let mut holding_call: Option<String> = None;
    for f in rec.fields("852") {
        if holding_call.is_none() {
            let parts: Vec<&str> = f.subfields.iter().filter(|(c, _)| *c == 'h' || *c == 'i').map(|(_, v)| v.trim()).collect();
            if !parts.is_empty() {
                holding_call = Some(parts.join(" "));
            }
        }
        let Some(barcode) = f.first('p') else { continue };
        let notes: Vec<&str> = f.all('z').collect();
        r.copies.push(CopyDraft {
            barcode: if own { barcode.to_string() } else { barcode.trim().to_string() },
            location: text(f.first('b')),
            shelf: text(f.first('c')),
            notes: if notes.is_empty() { None } else { non_empty(notes.join("\n\n")) },
            ..Default::default()
        });
        links.push(f.first('8').map(|l| l.split('.').next().unwrap_or(l).to_string()));
    }
    for f in rec.fields("876") {
        let link = f.first('8').map(|l| l.split('.').next().unwrap_or(l).to_string());
        let idx = match &link {
            Some(l) => links.iter().position(|x| x.as_deref() == Some(l.as_str())),
            None => f.first('p').and_then(|p| r.copies.iter().position(|c| c.barcode.trim() == p.trim())),
        };
        let Some(i) = idx else { continue };
        let c = &mut r.copies[i];
        if let Some(cost) = f.first('c') {
            let (amount, currency) = match cost.trim().rsplit_once(' ') {
                Some((a, cur)) if cur.len() == 3 && cur.chars().all(|x| x.is_ascii_alphabetic()) => (a.trim(), Some(cur)),
                _ if cost.trim().len() == 3 && cost.trim().chars().all(|x| x.is_ascii_alphabetic()) => ("", Some(cost.trim())),
                _ => (cost.trim(), None),
            };
            if !amount.is_empty() {
                let (cents, cur) = values::price(amount).map_err(|e| format!("876 $c '{cost}' {e}"))?.unwrap_or((0, None));
                c.price_cents = Some(cents);
                c.currency = currency.map(str::to_string).or(cur);
            } else {
                c.currency = currency.map(str::to_string);
            }
        }
        if let Some(date) = f.first('d') {
            c.acquired_on = values::full_date(date, false).map_err(|e| format!("876 $d '{date}' {e}"))?;
        }
        c.provenance = text(f.first('e'));
        c.condition = text(f.first('j'));
    }
    for f in rec.fields("952") {
        if holding_call.is_none() {
            holding_call = f.first('o').map(|o| o.trim().to_string()).and_then(non_empty);
        }
        let price = match f.first('g') {
            Some(g) => values::price(g).map_err(|e| format!("952 $g '{g}' {e}"))?,
            None => None,
        };
        let acquired = match f.first('d') {
            Some(dd) => values::full_date(dd, false).map_err(|e| format!("952 $d '{dd}' {e}"))?,
            None => None,
        };
        let notes: Vec<&str> = f.all('z').collect();
        r.copies.push(CopyDraft {
            barcode: f.first('p').map(|p| p.trim().to_string()).unwrap_or_default(),
            location: text(f.first('a')).or_else(|| text(f.first('b'))),
            shelf: text(f.first('c')),
            acquired_on: acquired,
            price_cents: price.as_ref().map(|p| p.0),
            currency: price.and_then(|p| p.1),
            provenance: text(f.first('e')),
            notes: if notes.is_empty() { None } else { non_empty(notes.join("\n\n")) },
            ..Default::default()
        });
    }
    if d.call_number.is_none() && !own {
        d.call_number = holding_call;
    }
    Ok(r)
}

fn owned(s: &str) -> Cow<'static, str> {
    Cow::Owned(s.to_string())
}

/// Shelfkeeper's record for a title and its copies (see the module docs).
pub fn to_marc(title: &Title, copies: &[Copy]) -> MarcRecord<'static> {
    let mut fields: Vec<MarcField<'static>> = Vec::with_capacity(16 + copies.len() * 2);
    fields.push(MarcField::control("001", title.id.to_string()));
    fields.push(MarcField::control("003", "Shelfkeeper"));
    fields.push(MarcField::control("005", title.updated_at.format("%Y%m%d%H%M%S.0").to_string()));
    let year = title.published.as_deref().and_then(|p| p.get(..4)).filter(|y| y.chars().all(|c| c.is_ascii_digit()));
    let lang = title.language.as_deref().filter(|l| l.len() == 3 && l.chars().all(|c| c.is_ascii_lowercase())).unwrap_or("   ");
    let f008 = format!(
        "{}{}{}    xx |||||||||||||||||{lang} d",
        title.created_at.format("%y%m%d"),
        if year.is_some() { 's' } else { 'n' },
        year.unwrap_or("    ")
    );
    fields.push(MarcField::control("008", f008));
    if let Some(l) = &title.lccn {
        fields.push(MarcField::data("010", ' ', ' ').sub('a', owned(l)));
    }
    if let Some(i) = &title.isbn13 {
        fields.push(MarcField::data("020", ' ', ' ').sub('a', owned(i)));
    }
    if let Some(l) = &title.language {
        fields.push(MarcField::data("041", ' ', ' ').sub('a', owned(l)));
    }
    if let Some(c) = &title.call_number {
        fields.push(MarcField::data("090", ' ', ' ').sub('a', owned(c)));
    }
    let person = |tag: &str, c: &Contributor| MarcField::data(tag, '1', ' ').sub('a', owned(&c.name)).sub('e', owned(&c.role));
    if let Some(first) = title.contributors.first() {
        fields.push(person("100", first));
    }
    let mut f245 = MarcField::data("245", if title.contributors.is_empty() { '0' } else { '1' }, '0').sub('a', owned(&title.title));
    if let Some(s) = &title.subtitle {
        f245 = f245.sub('b', owned(s));
    }
    fields.push(f245);
    if title.publisher.is_some() || title.published.is_some() {
        let mut f = MarcField::data("264", ' ', '1');
        if let Some(p) = &title.publisher {
            f = f.sub('b', owned(p));
        }
        if let Some(p) = &title.published {
            f = f.sub('c', owned(p));
        }
        fields.push(f);
    }
    if let Some(p) = title.pages {
        fields.push(MarcField::data("300", ' ', ' ').sub('a', format!("{p} p.")));
    }
    if title.series.is_some() || title.series_number.is_some() {
        let mut f = MarcField::data("490", '0', ' ');
        if let Some(s) = &title.series {
            f = f.sub('a', owned(s));
        }
        if let Some(n) = &title.series_number {
            f = f.sub('v', owned(n));
        }
        fields.push(f);
    }
    if let Some(n) = &title.notes {
        fields.push(MarcField::data("500", ' ', ' ').sub('a', owned(n)));
    }
    for s in &title.subjects {
        fields.push(MarcField::data("650", ' ', '4').sub('a', owned(s)));
    }
    for t in &title.tags {
        fields.push(MarcField::data("653", ' ', ' ').sub('a', owned(t)));
    }
    for c in title.contributors.iter().skip(1) {
        fields.push(person("700", c));
    }
    for (k, c) in copies.iter().enumerate() {
        let mut f = MarcField::data("852", ' ', ' ').sub('8', (k + 1).to_string());
        if let Some(l) = &c.location {
            f = f.sub('b', owned(l));
        }
        if let Some(s) = &c.shelf {
            f = f.sub('c', owned(s));
        }
        f = f.sub('p', owned(&c.barcode));
        if let Some(n) = &c.notes {
            f = f.sub('z', owned(n));
        }
        fields.push(f);
    }
    for (k, c) in copies.iter().enumerate() {
        let mut f = MarcField::data("876", ' ', ' ').sub('8', format!("{}.1", k + 1)).sub('p', owned(&c.barcode));
        let cost = match (c.price_cents, &c.currency) {
            (Some(p), Some(cur)) => Some(format!("{} {cur}", values::format_cents(p))),
            (Some(p), None) => Some(values::format_cents(p)),
            (None, Some(cur)) => Some(cur.clone()),
            (None, None) => None,
        };
        if let Some(cost) = cost {
            f = f.sub('c', cost);
        }
        if let Some(d) = c.acquired_on {
            f = f.sub('d', d.format("%Y-%m-%d").to_string());
        }
        if let Some(p) = &c.provenance {
            f = f.sub('e', owned(p));
        }
        if let Some(cond) = &c.condition {
            f = f.sub('j', owned(cond));
        }
        fields.push(f);
    }
    MarcRecord { leader: Cow::Borrowed("00000nam a2200000   4500"), fields }
}

fn xml_char_ok(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// Refuses a title that holds characters XML 1.0 (and so MARCXML, and ISO
/// 2709's terminators) cannot carry, naming the field.
pub fn check_representable(title: &Title, copies: &[Copy]) -> Result<(), WriteError> {
    let mut values: Vec<(String, &str)> = vec![("title".into(), title.title.as_str())];
    let opts = [
        ("subtitle", &title.subtitle),
        ("series", &title.series),
        ("series_number", &title.series_number),
        ("language", &title.language),
        ("publisher", &title.publisher),
        ("published", &title.published),
        ("isbn13", &title.isbn13),
        ("lccn", &title.lccn),
        ("call_number", &title.call_number),
        ("notes", &title.notes),
    ];
    values.extend(opts.iter().filter_map(|(n, v)| v.as_deref().map(|v| (n.to_string(), v))));
    for c in &title.contributors {
        values.push(("contributors".into(), &c.name));
        values.push(("contributors".into(), &c.role));
    }
    values.extend(title.subjects.iter().map(|s| ("subjects".to_string(), s.as_str())));
    values.extend(title.tags.iter().map(|s| ("tags".to_string(), s.as_str())));
    for c in copies {
        values.push((format!("copy {} barcode", c.barcode), &c.barcode));
        let opts = [
            ("location", &c.location),
            ("shelf", &c.shelf),
            ("condition", &c.condition),
            ("currency", &c.currency),
            ("provenance", &c.provenance),
            ("notes", &c.notes),
        ];
        values.extend(opts.iter().filter_map(|(n, v)| v.as_deref().map(|v| (format!("copy {} {n}", c.barcode), v))));
    }
    for (field, v) in values {
        if let Some(bad) = v.chars().find(|c| !xml_char_ok(*c)) {
            return Err(WriteError::Unrepresentable {
                title_id: title.id.to_string(),
                field,
                message: format!(
                    "contains U+{:04X}, a control character that MARCXML cannot carry; remove it or export as CSV or JSON",
                    bad as u32
                ),
            });
        }
    }
    Ok(())
}
