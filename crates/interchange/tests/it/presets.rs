//! Each preset on a real-shaped export.

use crate::helpers::{assert_valid, fixture, read_csv};
use shelfkeeper_domain::model::{Contributor, ReadingState};
use shelfkeeper_interchange::{CsvOptions, CsvReader, Preset};

fn names(r: &shelfkeeper_interchange::ImportRecord) -> Vec<(String, String)> {
    r.title.contributors.iter().map(|c| (c.name.clone(), c.role.clone())).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn goodreads_export() {
    let bytes = fixture("goodreads_library_export.csv");
    assert_eq!(CsvReader::new(&bytes, &CsvOptions::default()).unwrap().preset(), Some(Preset::Goodreads));
    let (recs, errors) = read_csv(&bytes, CsvOptions::default());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(recs.len(), 4);
    recs.iter().for_each(assert_valid);

    let hg = &recs[0];
    assert_eq!(hg.source_key.as_deref(), Some("2767052"));
    assert_eq!(hg.title.title, "The Hunger Games");
    assert_eq!(hg.title.series.as_deref(), Some("The Hunger Games"));
    assert_eq!(hg.title.series_number.as_deref(), Some("1"));
    assert_eq!(names(hg), pairs(&[("Suzanne Collins", "author")]));
    assert_eq!(hg.title.isbn.as_deref(), Some("9780439023481"));
    assert_eq!(hg.title.pages, Some(374));
    assert_eq!(hg.title.published.as_deref(), Some("2008"));
    assert_eq!(hg.title.publisher.as_deref(), Some("Scholastic Press"));
    assert_eq!(hg.rating, Some(4));
    assert_eq!(hg.reading, Some(ReadingState::Read));
    assert_eq!(hg.review.as_deref(), Some("Gripping.\nRead it in one night, \"couldn't stop\"."));
    assert_eq!(hg.title.notes.as_deref(), Some("Lent to Sam"));
    assert_eq!(hg.title.tags, ["young-adult", "favorites"]);
    assert_eq!(hg.copies.len(), 1);
    assert_eq!(hg.copies[0].barcode, "");

    let dune = &recs[1];
    assert_eq!(dune.rating, None);
    assert_eq!(dune.reading, Some(ReadingState::WantToRead));
    assert!(dune.title.tags.is_empty(), "reading shelves are not tags");
    assert!(dune.copies.is_empty());
    assert_eq!(dune.position.line, Some(4));

    let wok = &recs[2];
    assert_eq!(names(wok), pairs(&[("Brandon Sanderson", "author"), ("Kate Reading", "author"), ("Michael Kramer", "author")]));
    assert_eq!(wok.title.isbn, None);
    assert_eq!(wok.reading, Some(ReadingState::Reading));
    assert_eq!(wok.copies.len(), 2);

    let martian = &recs[3];
    assert_eq!(martian.reading, None);
    assert_eq!(martian.title.tags, ["sci-fi", "owned", "did-not-finish-yet"], "a custom exclusive shelf is kept as a tag");
    assert_eq!(martian.title.isbn.as_deref(), Some("9780553418026"));
}

fn check_librarything(recs: &[shelfkeeper_interchange::ImportRecord]) {
    assert_eq!(recs.len(), 2);
    recs.iter().for_each(assert_valid);
    let road = &recs[0];
    assert_eq!(road.source_key.as_deref(), Some("84761911"));
    assert_eq!(road.title.title, "On the Road");
    assert_eq!(names(road), pairs(&[("Kerouac, Jack", "author")]));
    assert_eq!(road.title.publisher.as_deref(), Some("Library of America"));
    assert_eq!(road.title.published.as_deref(), Some("2007"));
    assert_eq!(road.rating, Some(5), "4.5 stars round up");
    assert_eq!(road.title.notes.as_deref(), Some("Shelved with the Beats"));
    assert_eq!(road.title.pages, Some(864));
    assert_eq!(road.title.lccn.as_deref(), Some("2007060744"));
    assert_eq!(road.title.tags, ["beat", "travel", "Favorites"]);
    assert_eq!(road.title.language.as_deref(), Some("eng"));
    assert_eq!(road.title.call_number.as_deref(), Some("PS3521 .E735"));
    assert_eq!(road.title.isbn.as_deref(), Some("1598530127"));
    assert_eq!(road.copies.len(), 1);
    let c = &road.copies[0];
    assert_eq!(c.barcode, "00012345");
    assert_eq!(c.acquired_on.map(|d| d.to_string()).as_deref(), Some("2015-06-02"));
    assert_eq!((c.price_cents, c.currency.as_deref()), (Some(3500), Some("USD")));
    assert_eq!(c.condition.as_deref(), Some("good"));
    assert_eq!(c.provenance.as_deref(), Some("Strand Bookstore"));

    let zb = &recs[1];
    assert_eq!(names(zb), pairs(&[("Mann, Thomas", "author"), ("Woods, John E.", "translator"), ("Lowe-Porter, H. T.", "translator")]));
    assert_eq!(zb.title.language.as_deref(), Some("eng"));
    assert_eq!(zb.title.tags, ["Wishlist"]);
    assert_eq!(zb.title.call_number.as_deref(), Some("833.912"));
    assert!(zb.copies.is_empty());
}

#[test]
fn librarything_tsv_csv_and_utf16() {
    let tsv = fixture("librarything_export.tsv");
    let reader = CsvReader::new(&tsv, &CsvOptions::default()).unwrap();
    assert_eq!(reader.preset(), Some(Preset::LibraryThing));
    let (recs, errors) = read_csv(&tsv, CsvOptions::default());
    assert!(errors.is_empty(), "{errors:?}");
    check_librarything(&recs);

    // The same export as CSV.
    let mut rdr = csv::ReaderBuilder::new().delimiter(b'\t').has_headers(false).from_reader(tsv.as_slice());
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rdr.records() {
        w.write_record(&row.unwrap()).unwrap();
    }
    let as_csv = w.into_inner().unwrap();
    let (recs, errors) = read_csv(&as_csv, CsvOptions::default());
    assert!(errors.is_empty(), "{errors:?}");
    check_librarything(&recs);

    // LibraryThing's older TSV is UTF-16 with a BOM.
    let mut utf16 = vec![0xFF, 0xFE];
    for u in String::from_utf8(tsv).unwrap().encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let (recs, errors) = read_csv(&utf16, CsvOptions::default());
    assert!(errors.is_empty(), "{errors:?}");
    check_librarything(&recs);
}

#[test]
fn libib_export() {
    let bytes = fixture("libib_export.csv");
    assert_eq!(CsvReader::new(&bytes, &CsvOptions::default()).unwrap().preset(), Some(Preset::Libib));
    let (recs, errors) = read_csv(&bytes, CsvOptions::default());
    assert!(errors.is_empty(), "{errors:?}");
    recs.iter().for_each(assert_valid);
    let w = &recs[0];
    assert_eq!(names(w), pairs(&[("Ursula K. Le Guin", "author")]));
    assert_eq!(w.title.isbn.as_deref(), Some("9780547773742"));
    assert_eq!(
        w.title.notes.as_deref(),
        Some("Ged, the greatest sorcerer in all Earthsea, was called Sparrowhawk in his reckless youth.\n\nFirst of the cycle")
    );
    assert_eq!(w.title.series.as_deref(), Some("Earthsea Cycle"));
    assert_eq!(w.title.tags, ["fantasy", "classics"]);
    assert_eq!(w.title.pages, Some(183));
    assert_eq!(w.title.published.as_deref(), Some("2012-09-11"));
    assert_eq!(w.rating, Some(5));
    assert_eq!(w.reading, Some(ReadingState::Read));
    assert_eq!(w.review.as_deref(), Some("A quiet, deep book."));
    assert_eq!(w.copies.len(), 1);
    assert_eq!((w.copies[0].price_cents, w.copies[0].currency.as_deref()), (Some(999), Some("USD")));
    let g = &recs[1];
    assert_eq!(names(g), pairs(&[("Terry Pratchett", "author"), ("Neil Gaiman", "author")]));
    assert_eq!(g.reading, Some(ReadingState::WantToRead));
    assert_eq!(g.rating, None);
    assert_eq!(g.copies.len(), 2);
}

#[test]
fn calibre_catalogue() {
    let bytes = fixture("calibre_catalog.csv");
    assert_eq!(CsvReader::new(&bytes, &CsvOptions::default()).unwrap().preset(), Some(Preset::Calibre));
    let (recs, errors) = read_csv(&bytes, CsvOptions::default());
    assert!(errors.is_empty(), "{errors:?}");
    recs.iter().for_each(assert_valid);
    let go = &recs[0];
    assert_eq!(go.source_key.as_deref(), Some("3a7e1c30-5c9b-4d1a-9d57-1e1e9d0b0f41"));
    assert_eq!(names(go), pairs(&[("Terry Pratchett", "author"), ("Neil Gaiman", "author")]));
    assert_eq!(go.title.isbn.as_deref(), Some("9780060853983"));
    assert_eq!(go.title.published.as_deref(), Some("2006-11-28"));
    assert_eq!(go.title.language.as_deref(), Some("eng"));
    assert_eq!(go.rating, Some(5));
    assert_eq!(go.title.series, None);
    assert_eq!(go.title.series_number, None, "Calibre's index 1.0 without a series is no series number");
    assert_eq!(go.title.tags, ["Fantasy", "Humor"]);
    assert!(go.copies.is_empty());
    let dune = &recs[1];
    assert_eq!(dune.title.isbn.as_deref(), Some("9780441172719"), "from identifiers");
    assert_eq!(dune.title.published, None, "0101-01-01 is Calibre's 'no date'");
    assert_eq!(dune.title.series.as_deref(), Some("Dune Chronicles"));
    assert_eq!(dune.title.series_number.as_deref(), Some("1"));
    assert_eq!(dune.rating, None);
}

#[test]
fn shelfkeeper_csv_groups_rows_by_title() {
    let bytes = fixture("shelfkeeper.csv");
    assert_eq!(CsvReader::new(&bytes, &CsvOptions::default()).unwrap().preset(), Some(Preset::Shelfkeeper));
    let (recs, errors) = read_csv(&bytes, CsvOptions::default());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(recs.len(), 2);
    recs.iter().for_each(assert_valid);
    let w = &recs[0];
    assert_eq!(w.title_id.map(|u| u.to_string()).as_deref(), Some("0190a2b4-6f1c-7d3e-8a9b-0c1d2e3f4a5b"));
    assert_eq!(names(w), pairs(&[("Ursula K. Le Guin", "author"), ("Ruth Robbins", "illustrator")]));
    assert_eq!(w.title.subjects, ["Wizards -- Fiction", "Magic -- Fiction"]);
    assert_eq!(w.title.tags, ["fantasy", "classics; must read"]);
    assert_eq!(w.title.notes.as_deref(), Some("First edition.\nSigned, \"for Ged\"."));
    assert_eq!(w.copies.len(), 2);
    assert_eq!(w.copies[0].barcode, "B0001");
    assert_eq!((w.copies[0].price_cents, w.copies[0].currency.as_deref()), (Some(999), Some("EUR")));
    assert_eq!(w.copies[1].notes.as_deref(), Some("Spine cracked"));
    let n = &recs[1];
    assert_eq!(n.title.contributors, vec![Contributor { name: "Smith (Jr.)".into(), role: "editor".into() }]);
    assert_eq!(n.title.subtitle.as_deref(), Some("Essays"));
    assert!(n.copies.is_empty());
    assert_eq!(n.position.line, Some(6));
}

#[test]
fn shelfkeeper_csv_rows_of_a_title_apart_or_different_are_errors() {
    let text = String::from_utf8(fixture("shelfkeeper.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Rows: header, copy 1 (2 lines), copy 2 (2 lines), other title.
    let apart = [lines[0], lines[1], lines[2], lines[5], lines[3], lines[4]].join("\n");
    let (recs, errors) = read_csv(apart.as_bytes(), CsvOptions::default());
    assert_eq!(recs.len(), 2);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].to_string().contains("line 5: title_id 0190a2b4-6f1c-7d3e-8a9b-0c1d2e3f4a5b was already read at line 2"),
        "{}",
        errors[0]
    );
    let differ = text.replacen("Earthsea Cycle,1", "Earthsea Cycle,2", 2).replacen("Earthsea Cycle,2", "Earthsea Cycle,1", 1);
    let (recs, errors) = read_csv(differ.as_bytes(), CsvOptions::default());
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].copies.len(), 1);
    assert!(errors[0].to_string().contains("column 'series_number' differs from line 2"), "{}", errors[0]);
}
