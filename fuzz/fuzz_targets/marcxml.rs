//! The MARCXML reader: no panic; every record or error has a record number
//! and a byte offset inside the file.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shelfkeeper_interchange::MarcXmlReader;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = MarcXmlReader::new(data) else { return };
    for r in reader.take(100_000) {
        let position = match &r {
            Ok(rec) => rec.position,
            Err(e) => e.position,
        };
        assert!(position.record > 0);
        assert!(position.byte.expect("a MARCXML position has a byte offset") <= data.len() as u64);
    }
});
