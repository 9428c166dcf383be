//! CSV files: encodings, delimiters, quoting, spreadsheet values, mappings
//! and the errors that name the line.

use crate::helpers::{assert_valid, fixture, read_csv};
use shelfkeeper_interchange::{ColumnMapping, CsvOptions, CsvReader, Delimiter, Field, FileErrorCode, Mapping};

fn quirks_expectations(recs: &[shelfkeeper_interchange::ImportRecord]) {
    assert_eq!(recs.len(), 2);
    let a = &recs[0];
    assert_eq!(a.title.title, "Commas, \"quotes\" and\nnewlines");
    assert_eq!(a.title.contributors[0].name, "Jane Doe");
    assert_eq!(a.title.isbn.as_deref(), Some("9780441172719"));
    assert_eq!(a.title.published.as_deref(), Some("2001"));
    assert_eq!(a.title.notes.as_deref(), Some("line one\nline two"));
    assert_eq!(a.position.line, Some(2));
    let b = &recs[1];
    assert_eq!(b.title.title, "Plain");
    assert_eq!(b.title.published.as_deref(), Some("1999"));
    assert_eq!(b.title.isbn, None);
    assert_eq!(b.position.line, Some(5));
    for r in recs {
        assert_valid(r);
    }
}

#[test]
fn quotes_commas_newlines_and_spreadsheet_values() {
    let (recs, errors) = read_csv(&fixture("quirks.csv"), CsvOptions::default());
    assert!(errors.is_empty(), "{errors:?}");
    quirks_expectations(&recs);
}

#[test]
fn crlf_and_a_utf8_bom() {
    let text = String::from_utf8(fixture("quirks.csv")).unwrap().replace('\n', "\r\n");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(text.as_bytes());
    let (recs, errors) = read_csv(&bytes, CsvOptions::default());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(recs[0].title.title, "Commas, \"quotes\" and\r\nnewlines");
    assert_eq!(recs[0].title.notes.as_deref(), Some("line one\r\nline two"));
    assert_eq!(recs[1].title.title, "Plain");
}

#[test]
fn utf16_with_a_bom_either_way() {
    let text = String::from_utf8(fixture("quirks.csv")).unwrap();
    let mut le = vec![0xFF, 0xFE];
    let mut be = vec![0xFE, 0xFF];
    for u in text.encode_utf16() {
        le.extend_from_slice(&u.to_le_bytes());
        be.extend_from_slice(&u.to_be_bytes());
    }
    for (bytes, name) in [(le, "UTF-16LE"), (be, "UTF-16BE")] {
        let reader = CsvReader::new(&bytes, &CsvOptions::default()).unwrap();
        assert_eq!(reader.encoding(), name);
        let recs: Vec<_> = reader.map(Result::unwrap).collect();
        quirks_expectations(&recs);
    }
}

#[test]
fn windows_1252_needs_its_encoding_named() {
    let bytes = fixture("windows1252_semicolon.csv");
    let err = CsvReader::new(&bytes, &CsvOptions::default()).err().expect("not UTF-8");
    assert_eq!(err.code, FileErrorCode::Encoding);
    assert!(err.message.contains("line 2"), "{}", err.message);
    assert!(err.message.contains("windows-1252"), "{}", err.message);
    assert!(err.message.contains("0xDC"), "{}", err.message);
    for label in ["windows-1252", "latin1", "ISO-8859-1", "cp1252"] {
        let options = CsvOptions { encoding: Some(label.into()), ..Default::default() };
        let reader = CsvReader::new(&bytes, &options).unwrap();
        assert_eq!(reader.delimiter(), Delimiter::Semicolon);
        let recs: Vec<_> = reader.map(Result::unwrap).collect();
        assert_eq!(recs[0].title.title, "Der Zauberberg");
        assert_eq!(recs[0].title.notes.as_deref(), Some("Über édition, schön"));
        assert_eq!(recs[1].title.title, "Café society");
        assert_eq!(recs[1].title.contributors[0].name, "José Pérez");
        recs.iter().for_each(assert_valid);
    }
    let unknown = CsvOptions { encoding: Some("klingon-8".into()), ..Default::default() };
    let err = CsvReader::new(&bytes, &unknown).err().unwrap();
    assert_eq!(err.code, FileErrorCode::Encoding);
    assert!(err.message.contains("klingon-8"));
}

#[test]
fn file_level_errors_are_clear() {
    let code = |bytes: &[u8]| CsvReader::new(bytes, &CsvOptions::default()).err().map(|e| (e.code, e.message));
    assert_eq!(code(b"").unwrap().0, FileErrorCode::Empty);
    assert_eq!(code(b"\xEF\xBB\xBF\r\n\r\n").unwrap().0, FileErrorCode::Empty);
    assert_eq!(code(b"\x00\x01\x02binary\x00,stuff\n").unwrap().0, FileErrorCode::NotCsv);
    let (c, m) = code(b"colour,size\nred,10\n").unwrap();
    assert_eq!(c, FileErrorCode::Mapping);
    assert!(m.contains("colour, size"), "{m}");
    assert_eq!(code(b",,,\n1,2,3\n").unwrap().0, FileErrorCode::NoHeader);
    // A header and nothing else is a file with no records.
    assert_eq!(CsvReader::new(b"Title,Author\n", &CsvOptions::default()).unwrap().count(), 0);
}

#[test]
fn explicit_mapping_and_delimiter() {
    let bytes = b"Name|Who|Code|Shelf mark|Stock\nThe Book|A. Person; B. Other|0441172717|QA76|X1\n";
    let mapping = Mapping {
        columns: vec![
            ColumnMapping { column: "Name".into(), field: Field::Title { series_in_parentheses: false } },
            ColumnMapping { column: "who".into(), field: Field::Contributor { role: "editor".into(), separator: Some(";".into()) } },
            ColumnMapping { column: "Code".into(), field: Field::Isbn10 },
            ColumnMapping { column: "Shelf mark".into(), field: Field::CallNumber },
            ColumnMapping { column: "Stock".into(), field: Field::Barcode },
        ],
    };
    // '|' is not sniffed: without a delimiter the file is one column.
    let options = CsvOptions { mapping: Some(mapping.clone()), ..Default::default() };
    assert_eq!(CsvReader::new(bytes, &options).err().unwrap().code, FileErrorCode::Mapping);
    let text = String::from_utf8(bytes.to_vec()).unwrap().replace('|', "\t");
    let options = CsvOptions { mapping: Some(mapping), delimiter: Some(Delimiter::Tab), ..Default::default() };
    let (recs, errors) = read_csv(text.as_bytes(), options);
    assert!(errors.is_empty());
    let r = &recs[0];
    assert_eq!(
        r.title.contributors.iter().map(|c| (c.name.as_str(), c.role.as_str())).collect::<Vec<_>>(),
        [("A. Person", "editor"), ("B. Other", "editor")]
    );
    assert_eq!(r.title.isbn.as_deref(), Some("0441172717"));
    assert_eq!(r.title.call_number.as_deref(), Some("QA76"));
    assert_eq!(r.copies.len(), 1);
    assert_eq!(r.copies[0].barcode, "X1");
    // A mapping survives JSON (the desktop sends it).
    let json = serde_json::to_string(&CsvOptions::default()).unwrap();
    assert!(json.contains("mapping"));
    let m: Mapping = serde_json::from_str(
        r#"{"columns":[{"column":"T","field":{"to":"title"}},{"column":"A","field":{"to":"authors","separator":";"}}]}"#,
    )
    .unwrap();
    assert_eq!(m.columns[0].field, Field::Title { series_in_parentheses: false });
}

#[test]
fn bad_values_name_the_line_and_column_and_later_rows_still_read() {
    let (recs, errors) = read_csv(&fixture("goodreads_bad_rows.csv"), CsvOptions::default());
    let titles: Vec<_> = recs.iter().map(|r| r.title.title.as_str()).collect();
    assert_eq!(titles, ["Good", "After errors"]);
    assert_eq!(recs[1].position.line, Some(7));
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "line 3: column 'My Rating' = 'abc' is not a rating",
            "line 4: column 'Number of Pages' = '12x' is not a page count",
            "line 5: column 'Year Published' = 'soon' is not a date",
        ]
    );
}

#[test]
fn a_row_with_too_many_values_is_an_error_for_that_row() {
    let (recs, errors) = read_csv(b"Title,Author\nA,B\nC,D,E\nF,G,\n", CsvOptions::default());
    assert_eq!(recs.len(), 2);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].to_string().starts_with("line 3: has 3 values but the header names 2 columns"), "{}", errors[0]);
}

#[test]
fn short_rows_read_as_empty_cells() {
    let (recs, errors) = read_csv(b"Title,Author,ISBN\nA\nB,C\n", CsvOptions::default());
    assert!(errors.is_empty());
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[1].title.contributors[0].name, "C");
}
