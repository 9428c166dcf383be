//! Inputs the fuzz targets (`fuzz/`, `scripts/fuzz.sh`) found; each once
//! broke a reader. Every reader must only ever yield records or errors with
//! a position.

use shelfkeeper_interchange::{CsvOptions, ImportOptions, Preset};

pub fn exercise(bytes: &[u8]) {
    for format in [
        None,
        Some(shelfkeeper_interchange::Format::Csv),
        Some(shelfkeeper_interchange::Format::Marc21),
        Some(shelfkeeper_interchange::Format::MarcXml),
        Some(shelfkeeper_interchange::Format::Json),
    ] {
        let mut presets: Vec<Option<Preset>> = vec![None];
        if format == Some(shelfkeeper_interchange::Format::Csv) {
            presets.extend(Preset::ALL.iter().copied().map(Some));
        }
        for preset in presets {
            let options = ImportOptions { format, csv: CsvOptions { preset, ..Default::default() } };
            if let Ok(records) = shelfkeeper_interchange::open(bytes, &options) {
                for r in records.take(10_000) {
                    let position = match &r {
                        Ok(rec) => rec.position,
                        Err(e) => e.position,
                    };
                    assert!(position.record > 0, "{position}");
                    if let Some(line) = position.line {
                        assert!(line >= 2, "records start after the header: {position}");
                    }
                }
            }
        }
    }
}

/// The csv target found a header ended by a lone CR (and a backspace):
/// records were placed on line 1. Lines now end at LF, CRLF or a lone CR.
#[test]
fn lone_carriage_returns_end_lines() {
    let (recs, errors) = crate::helpers::read_csv(b"Title,Author\r\x081,Good\rB,C\r\n\rD,E\n", CsvOptions::default());
    assert!(errors.is_empty());
    let lines: Vec<_> = recs.iter().map(|r| r.position.line).collect();
    assert_eq!(lines, [Some(2), Some(3), Some(5)]);
    exercise(&std::fs::read(format!("{}/tests/fixtures/fuzz/csv-lone-cr", env!("CARGO_MANIFEST_DIR"))).unwrap());
}

#[test]
fn crash_inputs_stay_fixed() {
    let cases: &[&[u8]] = &[b"", b"\xEF\xBB\xBF", b"<", b"[", b"00000"];
    for case in cases {
        exercise(case);
    }
}
