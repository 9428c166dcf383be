//! Format sniffing plus whichever reader it picks (CSV, MARC21, MARCXML or
//! JSON): no panic; every error has a record number.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shelfkeeper_interchange::{ImportOptions, open};

fuzz_target!(|data: &[u8]| {
    let Ok(records) = open(data, &ImportOptions::default()) else { return };
    for r in records.take(100_000) {
        if let Err(e) = r {
            assert!(e.position.record > 0);
        }
    }
});
