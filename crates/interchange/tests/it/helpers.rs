use shelfkeeper_interchange::{CsvOptions, ImportOptions, ImportRecord, RecordError};

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Reads every record, split into the good and the bad.
pub fn read_all(bytes: &[u8], options: &ImportOptions) -> (Vec<ImportRecord>, Vec<RecordError>) {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    for r in shelfkeeper_interchange::open(bytes, options).expect("file opens") {
        match r {
            Ok(rec) => ok.push(rec),
            Err(e) => bad.push(e),
        }
    }
    (ok, bad)
}

pub fn read_csv(bytes: &[u8], csv: CsvOptions) -> (Vec<ImportRecord>, Vec<RecordError>) {
    read_all(bytes, &ImportOptions { format: Some(shelfkeeper_interchange::Format::Csv), csv })
}

/// The record passes the domain's validation (copies without a barcode get
/// one, as the importer would).
pub fn assert_valid(rec: &ImportRecord) {
    if let Err(e) = rec.title.validate() {
        panic!("{}: title does not validate: {e}: {:#?}", rec.position, rec.title);
    }
    for (i, c) in rec.copies.iter().enumerate() {
        let mut c = c.clone();
        if c.barcode.is_empty() {
            c.barcode = format!("ASSIGNED{i}");
        }
        if let Err(e) = c.validate() {
            panic!("{}: copy does not validate: {e}: {c:#?}", rec.position);
        }
    }
    if let Some(r) = rec.rating {
        assert!((1..=5).contains(&r), "{}: rating {r}", rec.position);
    }
}
