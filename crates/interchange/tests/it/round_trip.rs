//! Write titles and copies, read them back: the records equal the drafts.
//! Fixed varied sets for every writer, and property tests with arbitrary
//! strings (control characters included) for CSV, JSON and MARCXML.

use proptest::prelude::*;
use shelfkeeper_domain::ids::TitleId;
use shelfkeeper_domain::model::{Contributor, Copy, CopyDraft, Title, TitleDraft};
use shelfkeeper_interchange::samples::{catalogue, make_copy, make_title};
use shelfkeeper_interchange::{CsvReader, CsvWriter, ImportOptions, ImportRecord, JsonWriter, Marc21Writer, MarcXmlWriter, WriteError};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fmt {
    Csv,
    Json,
    MarcXml,
    Marc21,
}

fn write(fmt: Fmt, items: &[(Title, Vec<Copy>)]) -> Result<Vec<u8>, WriteError> {
    Ok(match fmt {
        Fmt::Csv => {
            let mut w = CsvWriter::new(Vec::new())?;
            for (t, c) in items {
                w.write(t, c)?;
            }
            w.finish()?
        }
        Fmt::Json => {
            let mut w = JsonWriter::new(Vec::new());
            for (t, c) in items {
                w.write(t, c)?;
            }
            w.finish()?
        }
        Fmt::MarcXml => {
            let mut w = MarcXmlWriter::new(Vec::new());
            for (t, c) in items {
                w.write(t, c)?;
            }
            w.finish()?
        }
        Fmt::Marc21 => {
            let mut w = Marc21Writer::new(Vec::new());
            for (t, c) in items {
                w.write(t, c)?;
            }
            w.finish()?
        }
    })
}

fn read(bytes: &[u8]) -> Vec<ImportRecord> {
    shelfkeeper_interchange::open(bytes, &ImportOptions::default()).expect("opens").map(|r| r.unwrap_or_else(|e| panic!("{e}"))).collect()
}

fn copy_draft(c: &Copy) -> CopyDraft {
    CopyDraft {
        barcode: c.barcode.clone(),
        location: c.location.clone(),
        shelf: c.shelf.clone(),
        condition: c.condition.clone(),
        acquired_on: c.acquired_on,
        price_cents: c.price_cents,
        currency: c.currency.clone(),
        provenance: c.provenance.clone(),
        notes: c.notes.clone(),
    }
}

/// What a reader must give back for a title: its draft (covers travel only
/// in JSON).
fn expected(fmt: Fmt, t: &Title) -> TitleDraft {
    let mut d = t.draft();
    if fmt != Fmt::Json {
        d.cover_ref = None;
    }
    d
}

fn assert_round_trip(fmt: Fmt, items: &[(Title, Vec<Copy>)]) {
    let bytes = write(fmt, items).unwrap();
    let recs = read(&bytes);
    assert_eq!(recs.len(), items.len(), "{fmt:?}");
    for ((t, copies), r) in items.iter().zip(&recs) {
        assert_eq!(r.title_id, Some(t.id.0), "{fmt:?}");
        assert_eq!(r.title, expected(fmt, t), "{fmt:?} {}", r.position);
        assert_eq!(r.copies, copies.iter().map(copy_draft).collect::<Vec<_>>(), "{fmt:?} {}", r.position);
    }
}

fn special_titles() -> Vec<(Title, Vec<Copy>)> {
    let when = chrono::Utc::now();
    let mut out = Vec::new();
    let d = TitleDraft {
        title: "Ünïcödé 東京 «quotes» \"double\" 'single', commas; semis (parens) \\ backslash".into(),
        subtitle: Some("Line one\nLine two\r\nLine three\ttab".into()),
        contributors: vec![
            Contributor::author("Le Guin, Ursula K."),
            Contributor { name: "Doe (Jr.); Jane \\ x".into(), role: "translator".into() },
            Contributor { name: "Ørsted".into(), role: "author of introduction (and notes)".into() },
        ],
        subjects: vec!["Magic -- Fiction".into(), "a; b".into()],
        tags: vec!["to-read".into(), "x\\;y".into(), "Ωmega".into()],
        series: Some("Earthsea, the \"cycle\"".into()),
        series_number: Some("1.5".into()),
        language: Some("eng".into()),
        publisher: Some("Faber & Faber <UK>".into()),
        published: Some("1968-11".into()),
        pages: Some(205),
        isbn: Some("9780547773742".into()),
        lccn: Some("68021192".into()),
        call_number: Some("PZ7.L5215 Wi".into()),
        notes: Some("=\"not a formula\"\n\n  indented, with \"quotes\", commas, and a trailing space ".into()),
        cover_ref: Some("cover:0190a2b4-6f1c-7d3e-8a9b-0c1d2e3f4a5b".into()),
    };
    let id = TitleId::new();
    let many: Vec<Copy> = (0..40)
        .map(|k| {
            make_copy(
                id,
                &CopyDraft {
                    barcode: format!("MANY{k:03}"),
                    location: (k % 2 == 0).then(|| "Main, 2nd floor".into()),
                    shelf: (k % 3 == 0).then(|| format!("S;{k}")),
                    condition: Some("fine".into()),
                    acquired_on: chrono::NaiveDate::from_ymd_opt(2020, 1 + (k % 12) as u32, 1),
                    price_cents: Some(k * 101),
                    currency: (k % 4 == 0).then(|| "GBP".into()),
                    provenance: (k == 7).then(|| "Estate of \"M. X\"".into()),
                    notes: (k == 9).then(|| "multi\nline".into()),
                },
                when,
            )
        })
        .collect();
    out.push((make_title(id, &d, many.len() as i64, when), many));
    let bare = TitleDraft { title: "No copies, no contributors".into(), ..Default::default() };
    out.push((make_title(TitleId::new(), &bare, 0, when), Vec::new()));
    out
}

#[test]
fn every_writer_round_trips_a_varied_catalogue() {
    let mut items = catalogue(80);
    items.extend(special_titles());
    for fmt in [Fmt::Csv, Fmt::Json, Fmt::MarcXml, Fmt::Marc21] {
        assert_round_trip(fmt, &items);
    }
    for (t, _) in &items {
        t.draft().validate().unwrap();
    }
}

#[test]
fn the_csv_writer_writes_the_documented_columns() {
    let bytes = write(Fmt::Csv, &special_titles()).unwrap();
    let reader = CsvReader::new(&bytes, &Default::default()).unwrap();
    assert_eq!(reader.headers(), shelfkeeper_interchange::csv::SHELFKEEPER_COLUMNS);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("Le Guin, Ursula K. (author); Doe \\(Jr.\\)\\; Jane \\\\ x (translator)"), "{text}");
}

#[test]
fn marcxml_refuses_control_characters_naming_the_field() {
    let mut items = special_titles();
    items[0].0.notes = Some("bell \u{7} here".into());
    let err = write(Fmt::MarcXml, &items).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("notes") && msg.contains("U+0007") && msg.contains(&items[0].0.id.to_string()), "{msg}");
    assert!(write(Fmt::Marc21, &items).is_err());
    // CSV and JSON carry it.
    assert_round_trip(Fmt::Csv, &items);
    assert_round_trip(Fmt::Json, &items);
}

// ------------------------------------------------------------ properties --

/// Free text: anything, control characters included; blank is absent.
fn text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(any::<String>()).prop_map(|s| s.filter(|s| !s.trim().is_empty()))
}

/// Names, roles and list items: trimmed and non-empty (the domain trims).
fn item() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|s| s.trim().to_string()).prop_filter("non-empty", |s| !s.is_empty())
}

fn title_strategy() -> impl Strategy<Value = (Title, Vec<Copy>)> {
    let draft = (
        (item(), text(), proptest::collection::vec((item(), item()), 0..4), proptest::collection::vec(item(), 0..4)),
        (proptest::collection::vec(item(), 0..4), text(), text(), proptest::option::of("[a-z]{2,3}"), text()),
        (
            proptest::option::of((1900i32..2100, 1u32..13, 1u32..29, 0..3u8)),
            proptest::option::of(1i64..100_000),
            proptest::option::of(prop_oneof!["[0-9]{13}", "[0-9]{9}[0-9X]"]),
            proptest::option::of("[0-9a-z]{1,12}"),
            text(),
            text(),
        ),
    )
        .prop_map(
            |(
                (title, subtitle, contributors, subjects),
                (tags, series, series_number, language, publisher),
                (date, pages, isbn, lccn, call_number, notes),
            )| TitleDraft {
                title,
                subtitle,
                contributors: contributors.into_iter().map(|(name, role)| Contributor { name, role }).collect(),
                subjects,
                tags,
                series,
                series_number,
                language,
                publisher,
                published: date.map(|(y, m, d, p)| match p {
                    0 => format!("{y}"),
                    1 => format!("{y}-{m:02}"),
                    _ => format!("{y}-{m:02}-{d:02}"),
                }),
                pages,
                isbn,
                lccn,
                call_number,
                notes,
                cover_ref: None,
            },
        );
    let copy = (
        "[A-Z0-9]{1,12}",
        (text(), text(), text()),
        proptest::option::of((2000i32..2030, 1u32..13, 1u32..29)),
        proptest::option::of(0i64..1_000_000_000),
        proptest::option::of("[A-Z]{3}"),
        (text(), text()),
    )
        .prop_map(|(barcode, (location, shelf, condition), acquired, price_cents, currency, (provenance, notes))| CopyDraft {
            barcode,
            location,
            shelf,
            condition,
            acquired_on: acquired.and_then(|(y, m, d)| chrono::NaiveDate::from_ymd_opt(y, m, d)),
            price_cents,
            currency,
            provenance,
            notes,
        });
    (draft, proptest::collection::vec(copy, 0..4)).prop_map(|(draft, copies)| {
        let id = TitleId::new();
        let when = chrono::Utc::now();
        let copies: Vec<Copy> = copies.iter().map(|c| make_copy(id, c, when)).collect();
        (make_title(id, &draft, copies.len() as i64, when), copies)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn csv_and_json_lose_nothing(items in proptest::collection::vec(title_strategy(), 1..4)) {
        assert_round_trip(Fmt::Csv, &items);
        assert_round_trip(Fmt::Json, &items);
    }

    /// MARCXML carries every character XML can; a title holding one it
    /// cannot is refused whole, never written with the character dropped.
    #[test]
    fn marcxml_loses_nothing_or_refuses(items in proptest::collection::vec(title_strategy(), 1..4)) {
        match write(Fmt::MarcXml, &items) {
            Ok(_) => assert_round_trip(Fmt::MarcXml, &items),
            Err(WriteError::Unrepresentable { title_id, field, .. }) => {
                let (t, c) = items.iter().find(|(t, _)| t.id.to_string() == title_id).expect("names a title");
                let json = serde_json::to_string(&(t, c)).unwrap();
                prop_assert!(json.chars().any(|ch| (ch as u32) < 0x20 && !matches!(ch, '\t' | '\n' | '\r')) || json.contains("\\u0") || json.contains('\u{FFFE}') || json.contains('\u{FFFF}'), "{field}");
            }
            Err(e) => panic!("{e}"),
        }
    }
}
