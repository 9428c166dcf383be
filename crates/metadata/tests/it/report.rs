//! The report: JSON round trip, TypeScript types, overall verdicts.

use crate::fixture::*;
use crate::lookup::dune;
use chrono::Utc;
use shelfkeeper_metadata::{Client, LookupReport, Overall, Provider, ProviderOutcome};

#[tokio::test]
async fn a_report_round_trips_through_json() {
    let fx = Fixture::start(providers("openlibrary_found.json", "google_other_book.json", "loc_found.xml")).await;
    let mut config = fx.config();
    config.google_books.retries = 0;
    let report = Client::new(config).unwrap().lookup(&dune()).await;
    let json = serde_json::to_string(&report).unwrap();
    let back: LookupReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
    assert_eq!(back.merged(), report.merged());
    // The shape the store and the UI read.
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["outcomes"][0][0], "open_library");
    assert_eq!(v["outcomes"][0][1]["status"], "found");
    assert_eq!(v["outcomes"][0][1]["detail"]["title"], "Dune");
    assert_eq!(v["outcomes"][1][1]["status"], "not_found");
    assert_eq!(v["outcomes"][2][0], "loc");
}

#[test]
fn overall_says_exactly_what_happened() {
    let report = |outcomes: Vec<ProviderOutcome>| LookupReport {
        isbn13: "9780441172719".into(),
        fetched_at: Utc::now(),
        outcomes: Provider::ALL.into_iter().zip(outcomes).collect(),
    };
    let nf = || ProviderOutcome::NotFound { note: None };
    let off = || ProviderOutcome::Offline("refused".into());
    let err = || ProviderOutcome::ProviderError("HTTP 500".into());
    assert_eq!(report(vec![nf(), nf(), nf()]).overall(), Overall::NotFound);
    assert_eq!(report(vec![off(), off(), off()]).overall(), Overall::Offline);
    assert_eq!(report(vec![nf(), err(), nf()]).overall(), Overall::ProviderError);
    assert_eq!(report(vec![nf(), off(), nf()]).overall(), Overall::ProviderError);
    assert_eq!(report(vec![err(), err(), off()]).overall(), Overall::ProviderError);
    assert_eq!(Overall::Offline.code(), "offline");
}

#[test]
fn the_types_export_to_typescript() {
    use ts_rs::TS;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("metadata-bindings");
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = ts_rs::Config::new().with_large_int("number").with_out_dir(&dir);
    LookupReport::export_all(&cfg).unwrap();
    shelfkeeper_metadata::MergedRecord::export_all(&cfg).unwrap();
    Overall::export_all(&cfg).unwrap();
    let outcome = std::fs::read_to_string(dir.join("ProviderOutcome.ts")).unwrap();
    assert!(outcome.contains("\"status\": \"found\""), "{outcome}");
    let sourced = std::fs::read_to_string(dir.join("Sourced.ts")).unwrap();
    assert!(sourced.contains("Sourced<T>"), "{sourced}");
}
