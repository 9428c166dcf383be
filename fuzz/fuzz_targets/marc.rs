//! The ISO 2709 reader: no panic; every error has a record number and a
//! byte offset inside the file.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shelfkeeper_interchange::MarcReader;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = MarcReader::new(data) else { return };
    let mut count = 0u64;
    for r in reader {
        count += 1;
        let position = match &r {
            Ok(rec) => rec.position,
            Err(e) => e.position,
        };
        assert_eq!(position.record, count);
        assert!(position.byte.expect("a MARC position has a byte offset") < data.len() as u64);
    }
});
