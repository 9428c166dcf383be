//! The generated benchmark inputs read without errors and validate.

use crate::helpers::{assert_valid, read_all};
use shelfkeeper_interchange::{ImportOptions, samples};

#[test]
fn generated_files_read_cleanly_and_validate() {
    for (name, bytes, expected) in
        [("goodreads", samples::goodreads_csv(500), 500), ("marc21", samples::marc21(300), 300), ("marcxml", samples::marcxml(300), 300)]
    {
        let (recs, errors) = read_all(&bytes, &ImportOptions::default());
        assert!(errors.is_empty(), "{name}: {errors:?}");
        assert_eq!(recs.len(), expected, "{name}");
        recs.iter().for_each(assert_valid);
    }
}

#[test]
fn marc21_and_marcxml_samples_hold_the_same_records() {
    let a = read_all(&samples::marc21(50), &ImportOptions::default()).0;
    let b = read_all(&samples::marcxml(50), &ImportOptions::default()).0;
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.title, y.title);
        assert_eq!(x.copies, y.copies);
    }
}
