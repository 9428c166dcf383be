//! Parse rates of the readers on generated files (100k records each):
//! `cargo bench -p shelfkeeper-interchange --bench parse`. Prints records/s.
//! `PARSE_BENCH_RECORDS=N` changes the count, `PARSE_BENCH_ONLY=marc` runs
//! the readers whose name contains the word.

use shelfkeeper_interchange::{
    CsvOptions, CsvReader, CsvWriter, ImportRecord, JsonReader, JsonWriter, MarcReader, MarcXmlReader, RecordError, samples,
};
use std::time::Instant;

fn wanted(name: &str) -> bool {
    std::env::var("PARSE_BENCH_ONLY").map_or(true, |only| name.to_lowercase().contains(&only.to_lowercase()))
}

/// This thread's CPU time in seconds (Linux), so a busy machine does not
/// hide the parser's own speed; `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse::<f64>().ok().map(|ns| ns / 1e9)
}

fn rate<I: Iterator<Item = Result<ImportRecord, RecordError>>>(name: &str, bytes: usize, make: impl Fn() -> I) {
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    let mut count = 0;
    for _ in 0..3 {
        let start = Instant::now();
        let cpu_start = cpu_seconds();
        let mut ok = 0usize;
        for r in make() {
            match r {
                Ok(rec) => {
                    ok += 1;
                    std::hint::black_box(rec);
                }
                Err(e) => panic!("{name}: {e}"),
            }
        }
        best = best.min(start.elapsed().as_secs_f64());
        if let (Some(a), Some(b)) = (cpu_start, cpu_seconds()) {
            best_cpu = best_cpu.min(b - a);
        }
        count = ok;
    }
    let cpu = if best_cpu < f64::MAX { format!("{:>8.0} records/CPU-s", count as f64 / best_cpu) } else { String::new() };
    println!(
        "{name:<22} {count:>7} records {:>6.1} MB  {:>8.0} records/s {:>6.1} MB/s  {cpu}",
        bytes as f64 / 1e6,
        count as f64 / best,
        bytes as f64 / 1e6 / best
    );
}

fn main() {
    let n: usize = std::env::var("PARSE_BENCH_RECORDS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    if wanted("Goodreads CSV") {
        let goodreads = samples::goodreads_csv(n);
        rate("Goodreads CSV", goodreads.len(), || CsvReader::new(&goodreads, &CsvOptions::default()).expect("csv"));
    }
    if wanted("MARC21") {
        let marc = samples::marc21(n);
        rate("MARC21 (10% MARC-8)", marc.len(), || MarcReader::new(&marc).expect("marc"));
    }
    if wanted("MARCXML") {
        let xml = samples::marcxml(n);
        rate("MARCXML", xml.len(), || MarcXmlReader::new(&xml).expect("marcxml"));
    }
    if wanted("Shelfkeeper CSV") || wanted("JSON") {
        let catalogue = samples::catalogue(n);
        let mut w = CsvWriter::new(Vec::new()).expect("writer");
        let mut j = JsonWriter::new(Vec::new());
        for (t, c) in &catalogue {
            w.write(t, c).expect("write");
            j.write(t, c).expect("write");
        }
        let own = w.finish().expect("finish");
        let json = j.finish().expect("finish");
        if wanted("Shelfkeeper CSV") {
            rate("Shelfkeeper CSV", own.len(), || CsvReader::new(&own, &CsvOptions::default()).expect("csv"));
        }
        if wanted("JSON") {
            rate("JSON", json.len(), || JsonReader::new(&json).expect("json"));
        }
    }
}
