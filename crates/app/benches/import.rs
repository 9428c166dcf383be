//! Import benchmark: a 100k-row Goodreads-style CSV and a 100k-record MARC21
//! file imported (read, staged with dedup against the catalogue, committed)
//! into a copy of a large store. Prints a Markdown report.
//!
//!   cargo bench -p shelfkeeper-app --bench import -- [--base bench-data/bench-500000.sqlite3] [--rows 100000] [--only goodreads|marc]
//!
//! Without --base (or when it does not exist) the base store is generated
//! with --base-titles titles (default 500,000) and kept for the next run.
//! Each import runs on a fresh copy of the base, so both see the same
//! catalogue.

use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::model::StoreMode;
use shelfkeeper_interchange::ImportOptions;
use shelfkeeper_store::{GenerateSpec, Store};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

struct Opts {
    /// Only the file whose label starts with this (`--only marc`).
    only: Option<String>,
    base: PathBuf,
    base_titles: u64,
    rows: usize,
}

fn opts() -> Opts {
    let mut base = None;
    let mut base_titles = 500_000;
    let mut rows = 100_000;
    let mut only = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--base" => base = args.next().map(PathBuf::from),
            "--base-titles" => base_titles = args.next().and_then(|v| v.parse().ok()).expect("--base-titles N"),
            "--rows" => rows = args.next().and_then(|v| v.parse().ok()).expect("--rows N"),
            "--only" => only = args.next().map(|v| v.to_lowercase()),
            _ => {}
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench-data");
    Opts { only, base: base.unwrap_or_else(|| root.join(format!("bench-{base_titles}.sqlite3"))), base_titles, rows }
}

async fn base_store(o: &Opts) -> PathBuf {
    if !o.base.exists() {
        eprintln!("generating {} with {} titles…", o.base.display(), o.base_titles);
        std::fs::create_dir_all(o.base.parent().unwrap()).unwrap();
        let s = Store::create(&o.base, StoreMode::Library).await.unwrap();
        s.generate(&GenerateSpec::scaled(o.base_titles), |_| {}, &AtomicBool::new(false)).await.unwrap();
        s.close().await;
    }
    o.base.clone()
}

async fn run(label: &str, base: &Path, file: &Path, rows: usize) -> String {
    let copy = base.with_file_name(format!("import-bench-{label}.sqlite3"));
    // A run stopped part-way leaves its WAL behind, which SQLite would
    // replay onto the fresh copy.
    for stale in [copy.clone(), copy.with_extension("sqlite3-wal"), copy.with_extension("sqlite3-shm")] {
        let _ = std::fs::remove_file(stale);
    }
    std::fs::copy(base, &copy).unwrap();
    let store = Store::open(&copy).await.unwrap();
    let titles_before = store.stats().await.unwrap().titles;
    let me = &Actor::OWNER;
    let cancel = AtomicBool::new(false);

    let t0 = Instant::now();
    let staged = shelfkeeper_app::stage_file(&store, me, file, &ImportOptions::default(), |_| {}, &cancel).await.unwrap();
    let stage_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let done = store.commit_import(me, &staged.summary.id, |_| {}, &cancel).await.unwrap();
    let commit_s = t1.elapsed().as_secs_f64();
    let total_s = stage_s + commit_s;
    let s = &staged.summary;

    // The same file again: everything is found as already catalogued.
    let t2 = Instant::now();
    let again = shelfkeeper_app::stage_file(&store, me, file, &ImportOptions::default(), |_| {}, &cancel).await.unwrap();
    let again_s = t2.elapsed().as_secs_f64();
    let titles_after = store.stats().await.unwrap().titles;
    store.close().await;
    let _ = std::fs::remove_file(&copy);
    let _ = std::fs::remove_file(copy.with_extension("sqlite3-wal"));
    let _ = std::fs::remove_file(copy.with_extension("sqlite3-shm"));
    format!(
        "| {label} | {rows} | {} new / {} upd / {} dup / {} err | {:.1} s ({:.0} rows/s) | {:.1} s ({:.0} rows/s) | **{:.1} s ({:.0} rows/s)** | {} → {} titles, {} copies added | {:.1} s ({:.0} rows/s), {} new |",
        s.new,
        s.update,
        s.duplicate,
        s.error,
        stage_s,
        rows as f64 / stage_s,
        commit_s,
        rows as f64 / commit_s,
        total_s,
        rows as f64 / total_s,
        titles_before,
        titles_after,
        done.created_copies,
        again_s,
        rows as f64 / again_s,
        again.summary.new,
    )
}

#[tokio::main]
async fn main() {
    let o = opts();
    let base = base_store(&o).await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("goodreads_library_export.csv");
    std::fs::write(&csv, shelfkeeper_interchange::samples::goodreads_csv(o.rows)).unwrap();
    let marc = dir.path().join("records.mrc");
    std::fs::write(&marc, shelfkeeper_interchange::samples::marc21(o.rows)).unwrap();
    println!("Base store: {} ({} MiB)", base.display(), std::fs::metadata(&base).map(|m| m.len() >> 20).unwrap_or(0));
    println!();
    println!("| File | Rows | Preview | Read + stage + dedup | Commit | Whole import | Catalogue | Re-import (preview) |");
    println!("|---|---|---|---|---|---|---|---|");
    for (label, file) in [("Goodreads CSV", &csv), ("MARC21", &marc)] {
        if o.only.as_ref().is_none_or(|only| label.to_lowercase().starts_with(only.as_str())) {
            println!("{}", run(label, &base, file, o.rows).await);
        }
    }
}
