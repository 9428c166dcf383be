//! Deterministic generated inputs for benchmarks and tests: a Goodreads
//! export, MARC 21 (ISO 2709) and MARCXML files shaped like library records
//! (ISBD punctuation, relators, subdivided subjects, holdings, one record in
//! ten in MARC-8 with diacritics), and catalogue titles with copies.
//!
//! ```text
//! let csv = samples::goodreads_csv(100_000);   // ~100k rows, ~30 MB
//! let marc = samples::marc21(100_000);         // ~100k records
//! ```
//!
//! Every generated record reads without error and passes
//! `TitleDraft::validate` / `CopyDraft::validate` (Goodreads copies have no
//! barcode; the importer assigns one).

use crate::marc::binary::write_record;
use crate::marc::xml::{XML_HEAD, XML_TAIL, write_record_xml};
use crate::marc::{MarcField, MarcRecord, marc8};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use shelfkeeper_domain::ids::{CopyId, TitleId};
use shelfkeeper_domain::model::{Contributor, Copy, CopyStatus, Title, TitleDraft};
use std::borrow::Cow;

/// splitmix64: small, fast, deterministic.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const GIVEN: [&str; 16] = [
    "Ursula",
    "José",
    "Søren",
    "Zoë",
    "François",
    "Łukasz",
    "Margaret",
    "Haruki",
    "Chinua",
    "Agnès",
    "Björn",
    "Wisława",
    "Jorge Luis",
    "Toni",
    "Italo",
    "Dorothy",
];
const FAMILY: [&str; 16] = [
    "Le Guin",
    "Saramago",
    "Kierkegaard",
    "Müller",
    "Mauriac",
    "Orbán",
    "Atwood",
    "Murakami",
    "Achebe",
    "Varda",
    "Ærø",
    "Szymborska",
    "Borges",
    "Morrison",
    "Calvino",
    "Sayers",
];
const WORDS: [&str; 24] = [
    "shadow",
    "river",
    "garden",
    "night",
    "city",
    "winter",
    "stone",
    "light",
    "house",
    "sea",
    "island",
    "memory",
    "letters",
    "mountain",
    "forest",
    "silence",
    "journey",
    "mirror",
    "clock",
    "harbour",
    "café",
    "déjà vu",
    "Zürich",
    "fjord",
];
const PUBLISHERS: [&str; 8] =
    ["Penguin Books", "Gallimard", "Vintage", "Ace Books", "Faber & Faber", "Suhrkamp", "HarperCollins", "Scholastic Press"];
const SHELVES: [&str; 6] = ["fiction", "favorites", "book-club", "classics", "sci-fi", "owned"];

fn words(rng: &mut Rng, n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        let w = *rng.pick(&WORDS);
        if i == 0 {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                out.extend(f.to_uppercase());
                out.push_str(c.as_str());
            }
        } else {
            out.push_str(w);
        }
    }
    out
}

fn isbn13_check(d12: &str) -> char {
    let sum: u32 = d12.chars().enumerate().map(|(i, c)| c.to_digit(10).unwrap_or(0) * if i % 2 == 0 { 1 } else { 3 }).sum();
    char::from_digit((10 - sum % 10) % 10, 10).unwrap_or('0')
}

fn isbn10_check(d9: &str) -> char {
    let sum: u32 = d9.chars().enumerate().map(|(i, c)| c.to_digit(10).unwrap_or(0) * (10 - i as u32)).sum();
    match (11 - sum % 11) % 11 {
        10 => 'X',
        n => char::from_digit(n, 10).unwrap_or('0'),
    }
}

/// A valid ISBN-13 and its ISBN-10 for a number.
pub fn isbn_pair(n: u64) -> (String, String) {
    let body = format!("{:09}", n % 1_000_000_000);
    let d12 = format!("978{body}");
    (format!("{d12}{}", isbn13_check(&d12)), format!("{body}{}", isbn10_check(&body)))
}

fn person(rng: &mut Rng) -> (String, String) {
    (rng.pick(&GIVEN).to_string(), rng.pick(&FAMILY).to_string())
}

/// The header of a Goodreads library export.
pub const GOODREADS_HEADER: [&str; 24] = [
    "Book Id",
    "Title",
    "Author",
    "Author l-f",
    "Additional Authors",
    "ISBN",
    "ISBN13",
    "My Rating",
    "Average Rating",
    "Publisher",
    "Binding",
    "Number of Pages",
    "Year Published",
    "Original Publication Year",
    "Date Read",
    "Date Added",
    "Bookshelves",
    "Bookshelves with positions",
    "Exclusive Shelf",
    "My Review",
    "Spoiler",
    "Private Notes",
    "Read Count",
    "Owned Copies",
];

/// A Goodreads library export with `rows` books (UTF-8, comma, quoted like
/// Goodreads: `="…"` ISBNs, series in titles, reviews with newlines).
pub fn goodreads_csv(rows: usize) -> Vec<u8> {
    let mut rng = Rng::new(0x600D_4EAD);
    let mut w = csv::WriterBuilder::new().from_writer(Vec::with_capacity(rows * 300));
    let _ = w.write_record(GOODREADS_HEADER);
    for i in 0..rows {
        let (given, family) = person(&mut rng);
        let len = 1 + rng.below(4) as usize;
        let mut title = words(&mut rng, len);
        if rng.chance(25) {
            title = format!("{title} ({}, #{})", words(&mut rng, 2), 1 + rng.below(9));
        } else if rng.chance(10) {
            title = format!("{title}, and Other \"Stories\"");
        }
        let (i13, i10) = isbn_pair(i as u64 * 7919 + 13);
        let has_isbn = !rng.chance(10);
        let shelf = *rng.pick(&["read", "read", "to-read", "currently-reading"]);
        let rating = if shelf == "read" { rng.below(6) } else { 0 };
        let mut shelves: Vec<&str> = Vec::new();
        for _ in 0..rng.below(3) {
            let s = *rng.pick(&SHELVES);
            if !shelves.contains(&s) {
                shelves.push(s);
            }
        }
        let additional = if rng.chance(20) {
            let (g, f) = person(&mut rng);
            format!("{g} {f}")
        } else {
            String::new()
        };
        let review =
            if rng.chance(15) { format!("Loved it.\nEspecially the part about the {}, really.", rng.pick(&WORDS)) } else { String::new() };
        let year = 1950 + rng.below(75);
        let record = [
            (1000 + i).to_string(),
            title,
            format!("{given} {family}"),
            format!("{family}, {given}"),
            additional,
            if has_isbn { format!("=\"{i10}\"") } else { "=\"\"".into() },
            if has_isbn { format!("=\"{i13}\"") } else { "=\"\"".into() },
            rating.to_string(),
            format!("{}.{:02}", 3 + rng.below(2), rng.below(100)),
            rng.pick(&PUBLISHERS).to_string(),
            rng.pick(&["Paperback", "Hardcover", "Kindle Edition", "Mass Market Paperback"]).to_string(),
            if rng.chance(5) { String::new() } else { (80 + rng.below(900)).to_string() },
            year.to_string(),
            (year - rng.below(30)).to_string(),
            if shelf == "read" {
                format!("{}/{:02}/{:02}", 2010 + rng.below(15), 1 + rng.below(12), 1 + rng.below(28))
            } else {
                String::new()
            },
            format!("{}/{:02}/{:02}", 2010 + rng.below(15), 1 + rng.below(12), 1 + rng.below(28)),
            shelves.join(", "),
            shelves.iter().enumerate().map(|(k, s)| format!("{s} (#{})", k + 1)).collect::<Vec<_>>().join(", "),
            shelf.to_string(),
            review,
            String::new(),
            if rng.chance(5) { "Signed copy".into() } else { String::new() },
            if shelf == "read" { "1".into() } else { "0".into() },
            if rng.chance(30) { "1".into() } else { "0".into() },
        ];
        let _ = w.write_record(&record);
    }
    w.into_inner().unwrap_or_default()
}

/// One library-style MARC record (`marc8` selects MARC-8 encoding of the
/// text; the returned record holds UTF-8, the caller encodes).
fn library_record(rng: &mut Rng, n: u64) -> MarcRecord<'static> {
    let (given, family) = person(rng);
    let (i13, _) = isbn_pair(n * 104_729 + 7);
    let year = 1900 + rng.below(125);
    let len = 1 + rng.below(4) as usize;
    let title = words(rng, len);
    let sub = words(rng, 2);
    let lang = *rng.pick(&["eng", "eng", "fre", "ger"]);
    let o = |s: String| -> Cow<'static, str> { Cow::Owned(s) };
    let mut f = vec![
        MarcField::control("001", format!("{:09}", 100_000_000 + n)),
        MarcField::control("003", "DLC"),
        MarcField::control("005", "20240115103000.0"),
        MarcField::control("008", format!("240115s{year}    nyu           000 1 {lang} d")),
        MarcField::data("010", ' ', ' ').sub('a', format!("  {:04}{:06} ", year, n % 1_000_000)),
        MarcField::data("020", ' ', ' ').sub('a', format!("{i13} (pbk.)")),
        MarcField::data("050", '0', '0').sub('a', format!("PS{}", 3500 + rng.below(99))).sub('b', format!(".A{} {year}", 1 + rng.below(9))),
        MarcField::data("082", '0', '0').sub('a', format!("813/.{}", 50 + rng.below(9))),
        MarcField::data("100", '1', ' ').sub('a', o(format!("{family}, {given},"))).sub('d', format!("{}-", year - 40)).sub('e', "author."),
        MarcField::data("245", '1', '0')
            .sub('a', o(format!("{title} :")))
            .sub('b', o(format!("{sub} /")))
            .sub('c', o(format!("{given} {family}."))),
    ];
    if rng.chance(20) {
        f.push(MarcField::data("250", ' ', ' ').sub('a', "2nd ed."));
    }
    f.push(
        MarcField::data("264", ' ', '1')
            .sub('a', "New York :")
            .sub('b', o(format!("{},", rng.pick(&PUBLISHERS))))
            .sub('c', format!("[{year}]")),
    );
    f.push(MarcField::data("300", ' ', ' ').sub('a', format!("xii, {} pages ;", 100 + rng.below(700))).sub('c', "24 cm"));
    if rng.chance(30) {
        f.push(MarcField::data("490", '1', ' ').sub('a', o(format!("{} ;", words(rng, 2)))).sub('v', (1 + rng.below(12)).to_string()));
    }
    f.push(MarcField::data("500", ' ', ' ').sub('a', "Includes bibliographical references and index."));
    f.push(MarcField::data("650", ' ', '0').sub('a', o(words(rng, 1))).sub('x', "History").sub('y', "20th century."));
    f.push(MarcField::data("650", ' ', '0').sub('a', o(format!("{} fiction.", words(rng, 1)))));
    if rng.chance(50) {
        let (g2, f2) = person(rng);
        f.push(MarcField::data("700", '1', ' ').sub('a', o(format!("{f2}, {g2},"))).sub('e', "translator."));
    }
    for k in 0..rng.below(3) {
        f.push(
            MarcField::data("852", ' ', ' ')
                .sub('b', *rng.pick(&["Main", "Branch"]))
                .sub('h', "PS3566")
                .sub('i', ".A1")
                .sub('p', format!("B{:09}{k}", n)),
        );
    }
    MarcRecord { leader: Cow::Borrowed("00000nam a22000007a 4500"), fields: f }
}

/// Encodes a UTF-8 record's text as MARC-8 and writes it (leader/09 blank).
fn write_marc8(rec: &MarcRecord<'_>, out: &mut Vec<u8>) {
    // Write as UTF-8 with placeholder bytes, then patch: simpler to build the
    // MARC-8 bytes field by field.
    let mut directory = Vec::new();
    let mut data = Vec::new();
    for f in &rec.fields {
        let start = data.len();
        match &f.value {
            Some(v) => data.extend(marc8::from_utf8_for_samples(v)),
            None => {
                data.push(f.ind1 as u8);
                data.push(f.ind2 as u8);
                for (c, v) in &f.subfields {
                    data.push(0x1F);
                    data.push(*c as u8);
                    data.extend(marc8::from_utf8_for_samples(v));
                }
            }
        }
        data.push(0x1E);
        directory.extend_from_slice(&f.tag);
        directory.extend_from_slice(format!("{:04}{:05}", data.len() - start, start).as_bytes());
    }
    let base = 24 + directory.len() + 1;
    let total = base + data.len() + 1;
    out.extend_from_slice(format!("{total:05}nam  22{base:05}7a 4500").as_bytes());
    out.extend_from_slice(&directory);
    out.push(0x1E);
    out.extend_from_slice(&data);
    out.push(0x1D);
}

/// `records` library-style MARC 21 records in ISO 2709; one in ten is
/// MARC-8 (leader/09 blank) with diacritics.
pub fn marc21(records: usize) -> Vec<u8> {
    let mut rng = Rng::new(0x3A4C_2109);
    let mut out = Vec::with_capacity(records * 1100);
    for n in 0..records as u64 {
        let rec = library_record(&mut rng, n);
        if n % 10 == 9 {
            write_marc8(&rec, &mut out);
        } else {
            let _ = write_record(&rec, &mut out);
        }
    }
    out
}

/// The same records as [`marc21`] (all UTF-8) as a MARCXML collection.
pub fn marcxml(records: usize) -> Vec<u8> {
    let mut rng = Rng::new(0x3A4C_2109);
    let mut out = String::with_capacity(records * 2500);
    out.push_str(XML_HEAD);
    for n in 0..records as u64 {
        write_record_xml(&library_record(&mut rng, n), &mut out);
    }
    out.push_str(XML_TAIL);
    out.into_bytes()
}

fn at(days: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 1, 1, 9, 30, 0).single().unwrap_or_default() + chrono::Duration::days(days)
}

/// A stored title with the given values (the one place that builds `Title`).
pub fn make_title(id: TitleId, draft: &TitleDraft, copy_count: i64, when: DateTime<Utc>) -> Title {
    let isbn13 = draft.isbn.clone();
    Title {
        id,
        title: draft.title.clone(),
        subtitle: draft.subtitle.clone(),
        contributors: draft.contributors.clone(),
        subjects: draft.subjects.clone(),
        tags: draft.tags.clone(),
        series: draft.series.clone(),
        series_number: draft.series_number.clone(),
        language: draft.language.clone(),
        publisher: draft.publisher.clone(),
        published: draft.published.clone(),
        pages: draft.pages,
        isbn10: None,
        isbn13,
        lccn: draft.lccn.clone(),
        call_number: draft.call_number.clone(),
        notes: draft.notes.clone(),
        cover_ref: draft.cover_ref.clone(),
        field_sources: Default::default(),
        copy_count,
        available_count: copy_count,
        created_at: when,
        updated_at: when,
    }
}

/// A stored copy of `title`.
pub fn make_copy(title: TitleId, draft: &shelfkeeper_domain::model::CopyDraft, when: DateTime<Utc>) -> Copy {
    Copy {
        id: CopyId::new(),
        title_id: title,
        barcode: draft.barcode.clone(),
        location: draft.location.clone(),
        shelf: draft.shelf.clone(),
        condition: draft.condition.clone(),
        acquired_on: draft.acquired_on,
        price_cents: draft.price_cents,
        currency: draft.currency.clone(),
        provenance: draft.provenance.clone(),
        notes: draft.notes.clone(),
        status: CopyStatus::Available,
        created_at: when,
        updated_at: when,
    }
}

/// `n` catalogue titles with 0–3 copies each: multi-byte text, quotes,
/// commas, semicolons and parentheses in names, newlines in notes.
pub fn catalogue(n: usize) -> Vec<(Title, Vec<Copy>)> {
    let mut rng = Rng::new(0xCA7A_1061);
    let mut out = Vec::with_capacity(n);
    for i in 0..n as u64 {
        let (given, family) = person(&mut rng);
        let mut contributors = vec![Contributor::author(format!("{given} {family}"))];
        if rng.chance(30) {
            let (g, f) = person(&mut rng);
            contributors.push(Contributor { name: format!("{f}, {g} (Jr.); ed"), role: "translator".into() });
        }
        let (i13, _) = isbn_pair(i * 31 + 5);
        let draft = TitleDraft {
            title: format!("{} \"{}\", {}", words(&mut rng, 2), words(&mut rng, 1), i),
            subtitle: rng.chance(40).then(|| words(&mut rng, 3)),
            contributors,
            subjects: (0..rng.below(3)).map(|_| format!("{} -- History", words(&mut rng, 1))).collect(),
            tags: (0..rng.below(3)).map(|k| format!("tag;{k}")).collect(),
            series: rng.chance(30).then(|| words(&mut rng, 2)),
            series_number: rng.chance(30).then(|| (1 + rng.below(9)).to_string()),
            language: Some(rng.pick(&["eng", "fre", "de"]).to_string()),
            publisher: Some(rng.pick(&PUBLISHERS).to_string()),
            published: Some(match rng.below(3) {
                0 => format!("{}", 1950 + rng.below(70)),
                1 => format!("{}-{:02}", 1950 + rng.below(70), 1 + rng.below(12)),
                _ => format!("{}-{:02}-{:02}", 1950 + rng.below(70), 1 + rng.below(12), 1 + rng.below(28)),
            }),
            pages: rng.chance(90).then(|| 50 + rng.below(900) as i64),
            isbn: rng.chance(90).then_some(i13),
            lccn: rng.chance(30).then(|| format!("2001{:06}", i)),
            call_number: rng.chance(50).then(|| format!("PZ7.{} {}", rng.below(99), i)),
            notes: rng.chance(30).then(|| "First line, with a comma.\nSecond line: \"quoted\"\n\nThird paragraph — ünïcödé.".to_string()),
            cover_ref: None,
        };
        let id = TitleId::new();
        let when = at(i as i64 % 300);
        let copies: Vec<Copy> = (0..rng.below(4))
            .map(|k| {
                let c = shelfkeeper_domain::model::CopyDraft {
                    barcode: format!("C{i:07}{k}"),
                    location: rng.chance(70).then(|| rng.pick(&["Main", "Annexe, 2nd floor", "Böhm room"]).to_string()),
                    shelf: rng.chance(50).then(|| format!("S-{}", rng.below(40))),
                    condition: rng.chance(30).then(|| "good; slight wear".to_string()),
                    acquired_on: rng
                        .chance(50)
                        .then(|| NaiveDate::from_ymd_opt(2000 + rng.below(24) as i32, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32))
                        .flatten(),
                    price_cents: rng.chance(40).then(|| rng.below(10_000) as i64),
                    currency: rng.chance(40).then(|| "EUR".to_string()),
                    provenance: rng.chance(20).then(|| "Gift of \"the Smiths\"".to_string()),
                    notes: rng.chance(20).then(|| "Inscribed:\n\"to A.\"".to_string()),
                };
                make_copy(id, &c, when)
            })
            .collect();
        out.push((make_title(id, &draft, copies.len() as i64, when), copies));
    }
    out
}
