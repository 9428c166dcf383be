//! The CSV reader with every preset and with auto-detection. The first byte
//! picks the preset, the delimiter and whether an explicit encoding is
//! given; the rest is the file. No panic, and every record is either a
//! record or an error with a line.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shelfkeeper_interchange::{CsvOptions, CsvReader, Delimiter, Preset};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else { return };
    let preset = match sel % 6 {
        0 => None,
        k => Preset::ALL.get(usize::from(k) - 1).copied(),
    };
    let delimiter = match (sel / 6) % 4 {
        0 => None,
        1 => Some(Delimiter::Comma),
        2 => Some(Delimiter::Semicolon),
        _ => Some(Delimiter::Tab),
    };
    let encoding = (sel & 0x80 != 0).then(|| "windows-1252".to_string());
    let options = CsvOptions { encoding, delimiter, preset, mapping: None };
    let Ok(reader) = CsvReader::new(body, &options) else { return };
    let mut last_line = 0;
    for r in reader {
        let position = match &r {
            Ok(rec) => rec.position,
            Err(e) => e.position,
        };
        assert!(position.record > 0);
        let line = position.line.expect("a CSV position has a line");
        assert!(line > 1, "records start after the header");
        let _ = last_line;
        last_line = line;
    }
});
